"""The ground floor: catalogue and schema model, settings, errors, text folding. Imports nothing of ours."""
