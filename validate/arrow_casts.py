"""Read a column with Arrow kernels: the same verdicts and values as the readers of casting.py, which are
frictionless's rules, with Python called only for the texts the kernels cannot decide alone.

- missing: null, "" and the schema's missingValues (`is_in`), and the cells a short row did not have;
- integer: ASCII `-?[0-9]{1,18}` is cast by Arrow (exactly `int()` of such a text); anything else ("+5",
  " 5", "1_000", "٣", "1.0") goes to the reader, as does every cell when bareNumber is false;
- number: ASCII `-?(digits[.digits] | .digits)` is cast to float64 by Arrow (correctly rounded, as
  float(Decimal(text))); anything else ("1e3", "NaN", " 3 ") and every cell when bareNumber, groupChar or
  decimalChar is written go to the reader. The Decimal values are made only when asked;
- email: one "@", a dot-atom local part of at most 64 characters (RE2, an ASCII class: exact) and a domain
  decided once per distinct domain by `validators`; other addresses go to `validators.email` whole;
- uri: on ASCII cells without a newline, rfc3986's parsing regex (ASCII classes: exact in RE2) tells a
  missing scheme (a type error) and a userinfo (sent to the full rfc3986 check); other cells go to the reader;
- every other reader (dates, booleans, GeoJSON, uuid...) runs once per distinct text of the batch
  (`dictionary_encode`), with the reader's own memory across batches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .casting import INVALID, Reader, reader_for
from .column import CastColumn
from .schema import FieldSpec

_INTEGER = r"^-?[0-9]{1,18}$"
_NUMBER = r"^-?(?:[0-9]{1,40}(?:\.[0-9]{0,40})?|\.[0-9]{1,40})$"
_DOT_ATOM = r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$"
_URI_SCHEME = r"^[a-zA-Z][a-zA-Z0-9+.-]*:"
_URI_USERINFO = r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^\\/?#]*@"
_DOMAIN_MEMORY = 100_000


def arrow_texts(series: pd.Series) -> pa.Array | None:
    """The column as one Arrow string array (null: a None cell), or None if it holds anything but text."""
    try:
        data = pa.array(series, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError, UnicodeError):
        return None
    if isinstance(data, pa.ChunkedArray):
        data = data.combine_chunks() if data.num_chunks != 1 else data.chunk(0)
    return data


def _np(mask: pa.Array) -> np.ndarray:
    return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)


def _take(arr: pa.Array, positions: np.ndarray) -> pa.Array:
    return arr.take(pa.array(positions, type=pa.int64()))


def _objects(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


class ArrowCaster:
    """Reads the column of one field in every batch of a file."""

    def __init__(self, field: FieldSpec, reader: Reader | None) -> None:
        self.field = field
        self.reader = reader  # casting.column_reader(field): slow readers remember what they read
        self.read_one = reader_for(field)
        extra = sorted(m for m in field.missing_values if m != "")
        self._extra_missing = pa.array(extra, type=pa.large_string()) if extra else None
        opts = field.options
        if field.type == "integer" and opts.get("bareNumber", True):
            self._kind = "integer"
        elif field.type == "number" and not any(k in opts for k in ("bareNumber", "groupChar", "decimalChar")):
            self._kind = "number"
        elif field.type == "string" and field.format in ("email", "uri"):
            self._kind = field.format
        else:
            self._kind = "distinct"
        self._domains: dict[str, bool] = {}

    def cast(self, arr: pa.Array, absent: np.ndarray | None) -> CastColumn:
        field = self.field
        missing_arr = pc.is_null(arr)
        if "" in field.missing_values:
            missing_arr = pc.or_kleene(missing_arr, pc.equal(arr, ""))
        if self._extra_missing is not None:
            missing_arr = pc.or_kleene(missing_arr, pc.is_in(arr, value_set=self._extra_missing))
        missing = _np(missing_arr)
        if absent is not None:
            missing |= absent
        n = len(arr)
        type_error = np.zeros(n, dtype=bool)
        if self.reader is None:  # plain text: every text is its value
            return CastColumn(field, None, None, missing, type_error, arrow=arr,
                              load_values=lambda: self._texts_where(arr, ~missing), value_of=lambda t: t)
        present = np.flatnonzero(~missing)
        sub = arr if len(present) == n else _take(arr, present)
        numbers: Any = None
        loader: Callable[[], np.ndarray]
        if self._kind == "integer":
            bad, numbers, loader = self._integers(sub, present, n)
        elif self._kind == "number":
            bad, numbers = self._numbers(sub)
            loader = self._distinct_loader(arr, missing, type_error)
        elif self._kind in ("email", "uri"):
            bad = self._emails(sub) if self._kind == "email" else self._uris(sub)
            loader = lambda: self._texts_where(arr, ~(missing | type_error))  # noqa: E731
        else:
            bad, loader = self._distinct(sub, present, n)
        type_error[present[bad]] = True
        read_one = self.read_one
        return CastColumn(field, None, None, missing, type_error, arrow=arr, load_values=loader,
                          numbers=numbers, value_of=read_one)

    # -- values made on demand ---------------------------------------------------------------------------

    @staticmethod
    def _texts_where(arr: pa.Array, ok: np.ndarray) -> np.ndarray:
        return np.asarray(pc.if_else(pa.array(ok), arr, None).to_numpy(zero_copy_only=False), dtype=object)

    def _distinct_loader(self, arr: pa.Array, missing: np.ndarray, type_error: np.ndarray) -> Callable[[], np.ndarray]:
        def load() -> np.ndarray:
            out = np.full(len(arr), None, dtype=object)
            ok = np.flatnonzero(~(missing | type_error))
            if len(ok):
                encoded = pc.dictionary_encode(_take(arr, ok))
                reader = self.reader
                assert reader is not None
                uniques = _objects([reader(t) for t in encoded.dictionary.to_pylist()])
                out[ok] = uniques[encoded.indices.to_numpy(zero_copy_only=False)]
            return out

        return load

    # -- the kernels ---------------------------------------------------------------------------------------

    def _slow(self, sub: pa.Array, positions: np.ndarray) -> list[Any]:
        reader = self.reader
        assert reader is not None
        return [reader(t) for t in _take(sub, positions).to_pylist()]

    def _integers(self, sub: pa.Array, present: np.ndarray, n: int) -> tuple[np.ndarray, Any, Callable[[], np.ndarray]]:
        simple = _np(pc.match_substring_regex(sub, _INTEGER))
        ints = np.zeros(len(sub), dtype=np.int64)
        if simple.any():
            ints[simple] = pc.cast(pc.filter(sub, pa.array(simple)), pa.int64()).to_numpy(zero_copy_only=False)
        bad = np.zeros(len(sub), dtype=bool)
        others: dict[int, Any] = {}
        fits = True
        rest = np.flatnonzero(~simple)
        for k, value in zip(rest.tolist(), self._slow(sub, rest), strict=True):
            if value is INVALID:
                bad[k] = True
            else:
                others[k] = value
                if -(2**63) <= value < 2**63:
                    ints[k] = value
                else:
                    fits = False
        numbers: Any = ints[~bad] if fits else False

        def load() -> np.ndarray:
            values = ints.astype(object)
            for k, value in others.items():
                values[k] = value
            values[bad] = None
            out = np.full(n, None, dtype=object)
            out[present] = values
            return out

        return bad, numbers, load

    def _numbers(self, sub: pa.Array) -> tuple[np.ndarray, Any]:
        simple = _np(pc.match_substring_regex(sub, _NUMBER))
        floats = np.zeros(len(sub), dtype=np.float64)
        if simple.any():
            floats[simple] = pc.cast(pc.filter(sub, pa.array(simple)), pa.float64()).to_numpy(zero_copy_only=False)
        bad = np.zeros(len(sub), dtype=bool)
        fits = True
        rest = np.flatnonzero(~simple)
        for k, value in zip(rest.tolist(), self._slow(sub, rest), strict=True):
            if value is INVALID:
                bad[k] = True
                continue
            try:
                floats[k] = float(value)
            except (ValueError, OverflowError):  # a signalling NaN
                fits = False
        return bad, floats[~bad] if fits else False

    def _distinct(self, sub: pa.Array, present: np.ndarray, n: int) -> tuple[np.ndarray, Callable[[], np.ndarray]]:
        reader = self.reader
        assert reader is not None
        encoded = pc.dictionary_encode(sub)
        parsed = _objects([reader(t) for t in encoded.dictionary.to_pylist()])
        codes = encoded.indices.to_numpy(zero_copy_only=False)
        invalid = np.fromiter((v is INVALID for v in parsed), dtype=bool, count=len(parsed))
        bad = invalid[codes]

        def load() -> np.ndarray:
            values = parsed.copy()
            values[invalid] = None
            out = np.full(n, None, dtype=object)
            out[present] = values[codes]
            return out

        return bad, load

    def _domain_ok(self, domain: str) -> bool:
        ok = self._domains.get(domain)
        if ok is None:
            import validators

            ok = bool(validators.email("a@" + domain))
            if len(self._domains) < _DOMAIN_MEMORY:
                self._domains[domain] = ok
        return ok

    def _emails(self, sub: pa.Array) -> np.ndarray:
        import validators

        bad = np.ones(len(sub), dtype=bool)
        one = np.flatnonzero(_np(pc.equal(pc.count_substring(sub, "@"), 1)))
        if not len(one):
            return bad
        texts = _take(sub, one)
        parts = pc.split_pattern(texts, "@")
        user, domain = pc.list_element(parts, 0), pc.list_element(parts, 1)
        plain = _np(pc.and_(pc.less_equal(pc.utf8_length(user), 64), pc.match_substring_regex(user, _DOT_ATOM)))
        simple = np.flatnonzero(plain)
        if len(simple):
            encoded = pc.dictionary_encode(_take(domain, simple))
            ok = np.array([self._domain_ok(d) for d in encoded.dictionary.to_pylist()], dtype=bool)
            bad[one[simple]] = ~ok[encoded.indices.to_numpy(zero_copy_only=False)]
        hard = np.flatnonzero(~plain)
        if len(hard):
            bad[one[hard]] = [not validators.email(t) for t in _take(texts, hard).to_pylist()]
        return bad

    def _uris(self, sub: pa.Array) -> np.ndarray:
        plain = _np(pc.and_(pc.string_is_ascii(sub), pc.invert(pc.match_substring(sub, "\n"))))
        scheme = _np(pc.match_substring_regex(sub, _URI_SCHEME))
        userinfo = _np(pc.match_substring_regex(sub, _URI_USERINFO))
        bad: np.ndarray = plain & ~scheme
        rest = np.flatnonzero(~plain | (scheme & userinfo))
        if len(rest):
            bad[rest] = [value is INVALID for value in self._slow(sub, rest)]
        return bad
