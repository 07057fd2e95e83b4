"""`pattern` constraints with Arrow's RE2 kernel, decided exactly as Python's `re` decides them.

frictionless checks a pattern with `re.compile(f"^{pattern}$").match(text)`. RE2 and Python's `re` do not read
every pattern alike ({,3}, [[:alpha:]], \\d on non-ASCII digits, $ before a final newline...), so the pattern
given to RE2 is not the schema's text: it is written back from the tree Python's own parser makes of
`^{pattern}$`, with every character as \\x{...}, every class as ranges and every group non-capturing, so RE2
runs Python's reading of it. What RE2 cannot say the same way, Python's `re` decides:
- a pattern with backreferences, lookarounds, atomic groups, possessive repeats, flags other than (?x), or
  repeats RE2 refuses (over 1000): the whole column goes to `re`;
- cells with a newline (Python's `$` also matches before a final newline);
- when the pattern uses \\d, \\w, \\s or \\b (Unicode-wide in Python, written here as their ASCII sets): the
  cells that are not ASCII.
A match must start at the first character (`match`, not `search`): the RE2 pattern starts with \\A.
"""

from __future__ import annotations

import functools
import re
from re import _constants as C  # type: ignore[attr-defined]  # the opcodes of Python's regex parser
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_MAX = 0x10FFFF
_ASCII_CATEGORIES: dict[Any, list[tuple[int, int]]] = {
    C.CATEGORY_DIGIT: [(0x30, 0x39)],
    C.CATEGORY_WORD: [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
    C.CATEGORY_SPACE: [(0x09, 0x0D), (0x1C, 0x20)],  # str.isspace() on ASCII: \t\n\v\f\r, \x1c-\x1f, space
}
_NEGATED = {C.CATEGORY_NOT_DIGIT: C.CATEGORY_DIGIT, C.CATEGORY_NOT_WORD: C.CATEGORY_WORD,
            C.CATEGORY_NOT_SPACE: C.CATEGORY_SPACE}
_ALLOWED_FLAGS = re.UNICODE | re.VERBOSE


class _Unsupported(Exception):
    pass


def _char(code: int) -> str:
    if 0xD800 <= code <= 0xDFFF:
        raise _Unsupported("a surrogate")
    return f"\\x{{{code:x}}}"


def _ranges(ranges: list[tuple[int, int]]) -> str:
    return "".join(_char(lo) if lo == hi else f"{_char(lo)}-{_char(hi)}" for lo, hi in ranges)


def _complement(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out, start = [], 0
    for lo, hi in ranges:
        if lo > start:
            out.append((start, lo - 1))
        start = hi + 1
    if start <= _MAX:
        out.append((start, _MAX))
    # a range over the surrogates is split around them (RE2 works on UTF-8, where they do not exist)
    split: list[tuple[int, int]] = []
    for lo, hi in out:
        if lo <= 0xDFFF and hi >= 0xD800:
            if lo < 0xD800:
                split.append((lo, 0xD7FF))
            if hi > 0xDFFF:
                split.append((0xE000, hi))
        else:
            split.append((lo, hi))
    return split


class _Writer:
    def __init__(self) -> None:
        self.unicode_sensitive = False  # uses \d \w \s \b: exact on ASCII cells only

    def category(self, cat: Any) -> str:
        self.unicode_sensitive = True
        if cat in _ASCII_CATEGORIES:
            return _ranges(_ASCII_CATEGORIES[cat])
        if cat in _NEGATED:
            return _ranges(_complement(_ASCII_CATEGORIES[_NEGATED[cat]]))
        raise _Unsupported(str(cat))

    def items(self, items: Any) -> str:
        return "".join(self.item(op, av) for op, av in items)

    def item(self, op: Any, av: Any) -> str:
        if op is C.LITERAL:
            return _char(av)
        if op is C.NOT_LITERAL:
            return f"[^{_char(av)}]"
        if op is C.ANY:
            return "[^\\x{a}]"
        if op is C.IN:
            negate = bool(av) and av[0][0] is C.NEGATE
            parts = []
            for sub_op, sub_av in av[1:] if negate else av:
                if sub_op is C.LITERAL:
                    parts.append(_char(sub_av))
                elif sub_op is C.RANGE:
                    parts.append(f"{_char(sub_av[0])}-{_char(sub_av[1])}")
                elif sub_op is C.CATEGORY:
                    parts.append(self.category(sub_av))
                else:
                    raise _Unsupported(str(sub_op))
            if not parts:
                raise _Unsupported("an empty class")
            return "[" + ("^" if negate else "") + "".join(parts) + "]"
        if op is C.BRANCH:
            return "(?:" + "|".join(self.items(alt) for alt in av[1]) + ")"
        if op is C.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            if add_flags or del_flags:
                raise _Unsupported("inline flags")
            return "(?:" + self.items(sub) + ")"
        if op is C.MAX_REPEAT or op is C.MIN_REPEAT:  # a match exists or not whatever the greed
            low, high, sub = av
            bound = f"{{{low},}}" if high is C.MAXREPEAT else f"{{{low},{high}}}"
            return "(?:" + self.items(sub) + ")" + bound
        if op is C.AT:
            if av in (C.AT_BEGINNING, C.AT_BEGINNING_STRING):
                return "\\A"
            if av in (C.AT_END, C.AT_END_STRING):  # no cell given to RE2 holds a newline
                return "\\z"
            if av in (C.AT_BOUNDARY, C.AT_NON_BOUNDARY):
                self.unicode_sensitive = True
                return "\\b" if av is C.AT_BOUNDARY else "\\B"
        raise _Unsupported(str(op))


@functools.lru_cache(maxsize=256)
def re2_pattern(pattern: str) -> tuple[str, bool] | None:
    """(RE2 pattern, exact only on ASCII cells) for frictionless's `^{pattern}$`, or None: use `re`."""
    try:
        parsed = sre_parse.parse(f"^{pattern}$")
        if parsed.state.flags & ~_ALLOWED_FLAGS:
            return None
        writer = _Writer()
        body = writer.items(parsed)
        out = "\\A(?:" + body + ")"
        pc.match_substring_regex(pa.array([""], type=pa.string()), out)  # RE2 refuses it: ArrowInvalid
    except (_Unsupported, re.error, pa.ArrowInvalid, RecursionError, OverflowError):
        return None
    return out, writer.unicode_sensitive


def pattern_failures(texts: pa.Array, pattern: str) -> np.ndarray | None:
    """Cells of `texts` (no nulls) that do not match, or None when Python's `re` must decide them all."""
    compiled = re2_pattern(pattern)
    if compiled is None:
        return None
    re2, ascii_only = compiled
    fails = ~pc.match_substring_regex(texts, re2).to_numpy(zero_copy_only=False)
    doubtful = pc.match_substring(texts, "\n")
    if ascii_only:
        doubtful = pc.or_(doubtful, pc.invert(pc.string_is_ascii(texts)))
    redo = np.flatnonzero(doubtful.to_numpy(zero_copy_only=False))
    if len(redo):
        match = re.compile(f"^{pattern}$").match
        cells = texts.take(pa.array(redo, type=pa.int64())).to_pylist()
        fails[redo] = [match(text) is None for text in cells]
    return np.asarray(fails, dtype=bool)
