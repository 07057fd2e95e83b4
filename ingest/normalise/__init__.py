"""Pure normalisers: each turns one source text into canonical text, or None when it cannot understand it
(the pipeline then keeps the text unchanged so that validation reports it)."""
