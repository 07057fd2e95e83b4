"""Unique fields, primary keys and foreign keys across the batches of one file.

frictionless's rules (frictionless/resources/table.py, row stream), reproduced here:
- Keys are compared as typed values (so "007" and "7" are the same integer). A cell with a type error or
  no value counts as None.
- unique: a None cell is skipped; a repeat names the *latest* earlier row with that value.
- primary key: if every key cell is None the row gets "cells composing the primary keys are all "None""
  and is not remembered; otherwise a repeat names the latest earlier row (None may be part of a key).
  Primary key fields are not implicitly required.
- foreign key: a tuple whose cells are all None is skipped; a reference to the same file ("resource": "")
  is looked up among the referenced fields of *every* row of the file, including later ones.

Memory: a million keys kept as Python objects in a dict cost about 150 MB. `KeyMemory` keeps, per distinct
key, its 64-bit hash, the latest row and the key itself as UTF-8 bytes in one buffer per batch (~32 bytes a
key: 32-bit references, and offsets while a batch's buffer is under 2 GB). A hash found again is confirmed by comparing the stored key, so a hash collision never makes a repeat.
Keys are encoded to text exactly (equal typed keys ⇔ equal text) for the types whose equality is their text:
strings, integers, dates, booleans; other types (numbers as Decimal, GeoJSON...) keep an exact dict.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

#: field types whose typed values are equal exactly when `_text()` of them is
_TEXT_EXACT = {"string", "integer", "date", "boolean", "year"}


def encodable(types: Sequence[str]) -> bool:
    return all(t in _TEXT_EXACT for t in types)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else value.isoformat() if hasattr(value, "isoformat") else str(value)


def encode_keys(columns: list[np.ndarray], skip: np.ndarray, *, strings: bool = False) -> np.ndarray:
    """One str per row (None where `skip`): the key's text, length-prefixed per part when composite.
    `strings`: the values are already text (string fields)."""
    n = len(columns[0])
    out = np.empty(n, dtype=object)
    keep = np.flatnonzero(~skip)
    if len(columns) == 1:
        out[keep] = columns[0][keep] if strings else [_text(v) for v in columns[0][keep].tolist()]
        return out
    parts = [c[keep].tolist() for c in columns]
    encoded = []
    for values in zip(*parts, strict=True):
        pieces = []
        for v in values:
            if v is None:
                pieces.append("N")
            else:
                t = _text(v)
                pieces.append(f"{len(t)}:{t}")
        encoded.append("".join(pieces))
    out[keep] = encoded
    return out


class _DictMemory:
    """Exact memory for keys of any hashable type (the fallback)."""

    def __init__(self) -> None:
        self._last: dict[Any, int] = {}

    def previous(self, keys: Sequence[Any], rows: Sequence[int]) -> np.ndarray:
        last = self._last
        out = np.full(len(keys), -1, dtype=np.int64)
        for i, (key, row) in enumerate(zip(keys, rows, strict=True)):
            if key is None:
                continue
            found = last.get(key)
            if found is not None:
                out[i] = found
            last[key] = row
        return out


class KeyMemory:
    """Remembers the last row number of each key: `previous()` answers "the latest earlier row with this key".

    Keys are given as text from `encode_keys` (None: skipped, not remembered), or, with `exact=True`, as any
    hashable values (kept in a dict).
    """

    def __init__(self, *, exact: bool = False, hash_function: Callable[[str], int] = hash) -> None:
        self._dict = _DictMemory() if exact else None
        self._hash = hash_function  # a poor one (tests) only makes more texts to compare
        self._hashes = np.empty(0, dtype=np.int64)  # sorted
        self._rows = np.empty(0, dtype=np.int64)  # latest row of each key, parallel to _hashes
        self._refs = np.empty(0, dtype=np.int32)  # where the key's text is stored, parallel to _hashes
        self._blobs: list[bytes] = []  # the keys' UTF-8 texts, one buffer per batch
        self._offsets: list[np.ndarray] = []
        self._starts: list[int] = []  # first ref of each buffer
        self._count = 0

    def __len__(self) -> int:
        return len(self._dict._last) if self._dict is not None else len(self._hashes)

    def previous(self, keys: Sequence[Any] | np.ndarray, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """For each key, the latest earlier row with the same key (-1 if new or None); remembers this row."""
        if self._dict is not None:
            return self._dict.previous(list(keys), list(np.asarray(rows).tolist()))
        key_array = np.asarray(keys, dtype=object) if not isinstance(keys, np.ndarray) else keys
        rows = np.asarray(rows, dtype=np.int64)
        out = np.full(len(key_array), -1, dtype=np.int64)
        idx = np.flatnonzero(pd.notna(key_array)) if len(key_array) else np.empty(0, dtype=np.int64)
        if not len(idx):
            return out
        codes, uniques = pd.factorize(key_array[idx])  # exact grouping within the batch
        order = np.argsort(codes, kind="stable")
        sorted_codes = codes[order]
        first = np.ones(len(order), dtype=bool)
        first[1:] = sorted_codes[1:] != sorted_codes[:-1]
        last = np.ones(len(order), dtype=bool)
        last[:-1] = first[1:]
        # a repeat inside the batch names the occurrence just before it
        later = np.flatnonzero(~first)
        out[idx[order[later]]] = rows[idx[order[later - 1]]]
        # the first occurrence of each key names the row remembered from earlier batches
        texts = uniques.tolist() if hasattr(uniques, "tolist") else list(uniques)
        group_first = idx[order[first]]  # in code order: code k's first position
        group_last_rows = rows[idx[order[last]]]
        hashes = np.fromiter(map(self._hash, texts), dtype=np.int64, count=len(texts))
        found = self._find(hashes, texts)
        hit = found >= 0
        out[group_first[hit]] = self._rows[found[hit]]
        self._rows[found[hit]] = group_last_rows[hit]
        new = np.flatnonzero(~hit)
        if len(new):
            self._insert(hashes[new], group_last_rows[new], [texts[k] for k in new.tolist()])
        return out

    def _find(self, hashes: np.ndarray, texts: list[str]) -> np.ndarray:
        """Position in the table of each key, -1 when absent; equal hashes are confirmed on the text."""
        table = self._hashes
        out = np.full(len(hashes), -1, dtype=np.int64)
        if not len(table):
            return out
        left = np.searchsorted(table, hashes, side="left")
        inside = left < len(table)
        candidates = np.flatnonzero(inside)
        candidates = candidates[table[left[candidates]] == hashes[candidates]]
        for k in candidates.tolist():
            pos = int(left[k])
            while pos < len(table) and table[pos] == hashes[k]:  # more than one only on a hash collision
                if self._text(int(self._refs[pos])) == texts[k]:
                    out[k] = pos
                    break
                pos += 1
        return out

    def _insert(self, hashes: np.ndarray, rows: np.ndarray, texts: list[str]) -> None:
        blob, offsets = _utf8(texts)
        self._starts.append(self._count)
        self._blobs.append(blob)
        self._offsets.append(offsets)
        refs = np.arange(self._count, self._count + len(texts), dtype=np.int32)
        self._count += len(texts)
        order = np.argsort(hashes, kind="stable")
        hashes, rows, refs = hashes[order], rows[order], refs[order]
        at = np.searchsorted(self._hashes, hashes, side="right")
        self._hashes = np.insert(self._hashes, at, hashes)
        self._rows = np.insert(self._rows, at, rows)
        self._refs = np.insert(self._refs, at, refs)

    def _text(self, ref: int) -> str:
        chunk = int(np.searchsorted(self._starts, ref, side="right")) - 1
        local = ref - self._starts[chunk]
        offsets = self._offsets[chunk]
        return self._blobs[chunk][offsets[local] : offsets[local + 1]].decode("utf-8", "surrogatepass")


def _utf8(texts: list[str]) -> tuple[bytes, np.ndarray]:
    """The texts' UTF-8 bytes in one buffer and where each starts (Arrow's string layout)."""
    try:
        arr = pa.array(texts, type=pa.large_string())
        offsets = _narrow(np.frombuffer(arr.buffers()[1], dtype=np.int64, count=len(texts) + 1))
        data = arr.buffers()[2]
        return (data.to_pybytes()[: int(offsets[-1])] if data is not None else b""), offsets
    except (pa.ArrowException, UnicodeError):  # a lone surrogate: Python's encoder keeps it
        encoded = [t.encode("utf-8", "surrogatepass") for t in texts]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=offsets[1:])
        return b"".join(encoded), _narrow(offsets)


def _narrow(offsets: np.ndarray) -> np.ndarray:
    """32-bit offsets (a copy) when the buffer is under 2 GB, as a batch's keys are."""
    return offsets.astype(np.int32) if offsets[-1] < 2**31 else offsets.copy()


def row_tuples(columns: list[np.ndarray]) -> list[tuple[Any, ...]]:
    """Row-wise tuples of several typed columns."""
    return list(zip(*(c.tolist() for c in columns), strict=True))


def all_none(columns: list[np.ndarray]) -> np.ndarray:
    out = np.ones(len(columns[0]), dtype=bool)
    for column in columns:
        # numpy compares with None cell by cell (its stubs take no None)
        out &= np.equal(column, None) if column.dtype == object else False  # type: ignore[call-overload]
    return out
