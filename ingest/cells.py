"""One column of a batch through its normaliser, recording every cell that changed.

Readers give Python values: text from CSV/JSON, numbers, dates and booleans from spreadsheets and JSON.
A typed value is first written as canonical text (12.0 -> "12", a datetime at midnight -> "2020-11-19");
that is not a change, it is how the source shows the cell. Text then goes through the text normaliser
and the field's normaliser; a value the normaliser cannot understand stays as it is.

A column is handled as a whole, because per-cell Python calls are what made ingest slow: the text step
finds dirty cells with whole-column searches, a column already in canonical form (ingest.canonical) skips
its normaliser, and otherwise the normaliser runs once per distinct value (columns repeat: communes, types,
dates). A CSV column whose values repeat enough is worked on its distinct values alone (pandas.factorize):
text step, normaliser and change test once per value, the results mapped back to the cells by index.
Only changed cells become `Change` records, and only up to the log's limit.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from itertools import compress
from operator import is_not, itemgetter
from typing import Any

import numpy
import pandas

from ingest.canonical import all_canonical, degrees_by_text, needing_work, phones_by_digits
from ingest.normalise.booleans import parse_boolean
from ingest.normalise.communes import match_commune, unresolved_old_units
from ingest.normalise.coordinates import format_degrees, parse_degrees
from ingest.normalise.dates import excel_serial_to_date, parse_date
from ingest.normalise.enterprise import normalise_enterprise_code
from ingest.normalise.enums import enum_index, normalise_enum
from ingest.normalise.numbers import format_number, number_style_of_counts, parse_number, reading_style
from ingest.normalise.phones import normalise_phone
from ingest.normalise.text import normalise_texts, normalise_texts_flagged

__all__ = ["Change", "ChangeLog", "Memo", "typed_text", "normalise_column", "by_codes", "REPEAT_SAMPLE"]


@dataclass(slots=True)  # up to MAX_CHANGES of them are kept per file
class Change:
    """One cell a normaliser changed."""

    row: int
    field: str
    original: str
    value: str | None
    rule: str


class ChangeLog:
    """The changes of one file, in order: the first `limit` are kept for the report, the rest counted."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept: list[Change] = []
        self.not_kept = 0

    def add(self, change: Change) -> None:
        if len(self.kept) < self.limit:
            self.kept.append(change)
        else:
            self.not_kept += 1

    def add_cells(self, field: str, rows: Sequence[int], originals: Sequence[Any], values: Sequence[Any],
                  indices: Sequence[int], rule_of: Callable[[int], str]) -> None:
        """Changes of the cells at `indices` (in row order); Change objects only for those kept."""
        room = max(self.limit - len(self.kept), 0)
        self.kept.extend(Change(rows[i], field, originals[i], values[i], rule_of(i)) for i in indices[:room])
        self.not_kept += max(len(indices) - room, 0)


class Memo:
    """What a field's normaliser made of the distinct texts it saw in earlier batches of the file, so that each
    distinct text is normalised once per file, not once per batch (dates, communes, kinds repeat across
    batches). For the rules whose result depends on the text alone (`Memo.RULES`; a number's reading depends on
    its batch's voted style). At most `limit` texts are remembered: a column of unique values stops adding."""

    RULES = frozenset({"date", "commune", "enum", "boolean"})

    def __init__(self, limit: int = 50_000) -> None:
        self.limit = limit
        self.seen: set[str] = set()  # texts normalised (or found canonical) before
        self.changed: dict[str, str] = {}  # those of them the normaliser changed: {text: value}
        self.names: dict[str, str] = {}  # rule names the normaliser gave (communes)

    def recall(self, distinct: set[str]) -> tuple[set[str], dict[str, str], dict[str, str]]:
        """(the texts of `distinct` not seen before, {text: value} and {text: rule name} for those seen)."""
        if not self.seen:
            return distinct, {}, {}
        known = distinct.intersection(self.changed)
        return (distinct.difference(self.seen), {t: self.changed[t] for t in known},
                {t: self.names[t] for t in known.intersection(self.names)})

    def keep(self, texts: set[str], changed: dict[str, str], names: dict[str, str]) -> None:
        if len(self.seen) + len(texts) > self.limit:
            return
        self.seen.update(texts)
        self.changed.update(changed)
        self.names.update(names)


def typed_text(value: Any) -> str:
    """A non-text cell value as canonical text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return format_number(value)
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, (dict, list)):  # JSON numbers come as Decimal: written as the GeoJSON reader does
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_number)
    return str(value)


def _json_number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _geojson(text: str) -> str | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) if isinstance(value, dict) else None


def _degrees(text: str) -> str | None:
    value = parse_degrees(text)
    if value is None:  # VN-2000 metres written with grouping: "1.210.000,5"
        plane = parse_number(text, "vi")
        return plane if plane is not None and abs(float(plane)) > 1000 else None
    if abs(value) > 1000:  # VN-2000 metres: keep the text, the row step converts the pair
        return text.replace(",", ".") if text.count(",") == 1 and "." not in text else None
    return format_degrees(value)


def _commune(text: str) -> tuple[str, str] | None:
    return match_commune(text)


def _rule_function(rule: str, spec: Mapping, style: str) -> Callable[[str], str | tuple[str, str] | None] | None:
    if rule == "date":
        return parse_date
    if rule in ("number", "integer"):
        return lambda t: parse_number(t, style, integer=rule == "integer")
    if rule == "boolean":
        return parse_boolean
    if rule == "phone":
        return normalise_phone
    if rule == "enterprise":
        return normalise_enterprise_code
    if rule in ("latitude", "longitude"):
        return _degrees
    if rule == "geojson":
        return _geojson
    if rule == "commune":
        return _commune
    if rule == "enum":
        index = enum_index(spec.get("constraints", {}).get("enum", []), spec.get("enumLabels"))
        return lambda t: normalise_enum(t, index)
    return None


_RULE_NAMES = {
    "number": "number",
    "integer": "number",
    "latitude": "coordinate",
    "longitude": "coordinate",
    "enterprise": "enterprise-code",
}


_NUMERIC = ("number", "integer", "latitude", "longitude")
_IN_BULK = ("latitude", "longitude", "phone")


def _texts(
    cells: Sequence[Any], missing_values: frozenset[str], texts_only: bool = False
) -> tuple[Sequence[Any], list[Any], list[int], bool]:
    """(originals, texts, indices of typed cells, whether the text step changed any cell other than an empty
    one): each cell as the source shows it, and after the text step. `texts_only`: the reader gives str or
    None only (CSV), so the cells' types need no look."""
    kinds = ({str, type(None)} if None in cells else {str}) if texts_only else set(map(type, cells))
    typed: list[int] = []
    if kinds <= {str, type(None)}:
        originals: Sequence[Any] = cells
        if type(None) in kinds:
            at = [i for i, c in enumerate(cells) if c is not None]
            texts: list[Any] = [None] * len(cells)
            found, changed = normalise_texts_flagged([cells[i] for i in at])
            for i, t in zip(at, found, strict=True):
                texts[i] = t
        else:
            texts, changed = normalise_texts_flagged(cells if isinstance(cells, list) else list(cells))
    else:  # spreadsheets and JSON: typed cells are written as text, text cells normalised
        originals = [c if c is None or isinstance(c, str) else typed_text(c) for c in cells]
        typed = [i for i, c in enumerate(cells) if c is not None and not isinstance(c, str)]
        texts = list(originals)
        at = [i for i, c in enumerate(cells) if isinstance(c, str)]
        for i, t in zip(at, normalise_texts([cells[i] for i in at]), strict=True):
            texts[i] = t
        changed = True
    if missing_values and not missing_values.isdisjoint(texts):
        texts = [None if t in missing_values else t for t in texts]
        changed = True
    return originals, texts, typed, changed


def _normalise_distinct(rule: str, spec: Mapping, style: str, todo: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """({text: value} for those of the distinct texts `todo` the normaliser changes, {text: rule name} given
    by the normaliser itself)."""
    changed: dict[str, str] = {}
    names: dict[str, str] = {}  # rule names given by the normaliser itself (communes)
    if rule in _IN_BULK:  # shortcuts for the usual office forms, same results
        changed.update(degrees_by_text(todo) if rule != "phone" else phones_by_digits(todo))
    if changed:
        todo = list(set(todo).difference(changed))
    function = _rule_function(rule, spec, style)
    # every rule that gets here has a normaliser (a None function fails in map, as it always did)
    results = map(function, todo)  # type: ignore[arg-type]
    if rule == "commune":
        for text, result in zip(todo, results, strict=True):
            if isinstance(result, tuple) and result[0] != text:  # _commune: (value, rule name) or None
                changed[text], names[text] = result
    else:  # the other rules' normalisers give a text or None
        changed.update((t, r) for t, r in zip(todo, results, strict=True) if r is not None and r != t)  # type: ignore[misc]
    return changed, names


def _style(rule: str, texts: list[Any], typed: list[int], counts: Sequence[int] | None = None) -> str:
    """The number style of a column, voted by every text of it but the typed cells; `counts`: how many cells
    each of `texts` stands for (a column's distinct values), else one each."""
    if rule not in ("number", "integer"):
        return "vi"
    if counts is not None:
        votes: Counter[str] = Counter()
        for text, count in zip(texts, counts, strict=True):
            votes[text] += count
        return number_style_of_counts(votes)
    skip = set(typed)
    return number_style_of_counts(Counter([t for i, t in enumerate(texts) if i not in skip] if skip else texts))


def _apply_rule(
    rule: str, spec: Mapping, cells: Sequence[Any], texts: list[Any], typed: list[int],
    counts: Sequence[int] | None = None, memo: Memo | None = None,
) -> tuple[list[Any], dict[str, str], dict[int, str], Callable[[str], str]]:
    """(values, {text: value} for the texts the normaliser changed, {index: value} for typed cells changed
    apart, the rule name of a changed text). Typed numbers are canonical already, except that degrees get
    the seven decimals text degrees get; a typed number in a date column is an Excel serial."""
    apart: dict[int, str] = {}
    work = texts
    if typed and (rule in _NUMERIC or rule == "date"):
        work = list(texts)
        for i in typed:
            cell = cells[i]
            number = isinstance(cell, (int, float, Decimal)) and not isinstance(cell, bool)
            if rule in _NUMERIC:
                work[i] = None
                if rule in ("latitude", "longitude") and number and texts[i] is not None:
                    degrees = float(cell)
                    if math.isfinite(degrees) and abs(degrees) <= 1000:  # metres: the row step's (VN-2000)
                        text = format_degrees(degrees)
                        if text != texts[i]:
                            apart[i] = text
            elif number:
                work[i] = None
                serial = excel_serial_to_date(cell)
                if serial is not None and serial != texts[i]:
                    apart[i] = serial
    changed: dict[str, str] = {}
    names: dict[str, str] = {}  # rule names given by the normaliser itself (communes)
    style = "vi"
    if rule != "text" and not all_canonical(rule, work):
        distinct = set(work)
        distinct.discard(None)
        if memo is not None and rule in Memo.RULES:
            unseen, changed, names = memo.recall(distinct)
            found, found_names = _normalise_distinct(rule, spec, style, list(needing_work(rule, unseen)))
            memo.keep(unseen, found, found_names)
            changed.update(found)
            names.update(found_names)
        else:
            todo = list(needing_work(rule, distinct))
            if todo:
                style = _style(rule, texts, typed, counts)
            changed, names = _normalise_distinct(rule, spec, style, todo)
    values = list(map(changed.get, work, work)) if changed else work  # C-level: dict.get(text, text) per cell
    if work is not texts:
        for i in typed:
            values[i] = apart.get(i, texts[i])
    default = _RULE_NAMES.get(rule, rule)

    def name(text: str) -> str:
        if rule in ("number", "integer"):
            return f"number-{reading_style(text, style)}"
        return names.get(text, default)

    return values, changed, apart, name


def _changed_cells(values: list[Any], originals: Sequence[Any]) -> list[int]:
    """Indices of the cells whose value differs from what the source shows."""
    # unchanged cells are the very same str objects all along, so identity finds the candidates fast
    candidates = list(compress(range(len(values)), map(is_not, values, originals)))
    if len(candidates) > 1:
        pick = itemgetter(*candidates)  # C-level gathering of the candidates' values
        picked: Any = zip(candidates, pick(values), pick(originals), strict=True)
    else:
        picked = [(i, values[i], originals[i]) for i in candidates]
    # a blank cell read as None is not a change; a missing value ("-") read as None is
    return [i for i, v, o in picked if v != o and (v is not None or o.strip())]


def _unresolved(values: set[str]) -> dict[str, str]:
    values.discard(None)
    return unresolved_old_units(values)


def normalise_column(
    field: str,
    rule: str,
    spec: Mapping,
    cells: Sequence[Any],
    rows: Sequence[int],
    missing_values: frozenset[str],
    log: ChangeLog | None,
    *,
    texts_only: bool = False,
    by_dictionary: bool | None = None,
    memo: Memo | None = None,
) -> list[str | None]:
    """Canonical text for each cell of one field in a batch; changed cells go to `log` (None: not kept).
    `texts_only`: every cell is str or None (CSV). `by_dictionary` (texts only): work on the column's
    distinct values and map the results back by index (True), cell by cell (False), or the first when the
    column's values repeat enough to pay for it (None); the values and the log are the same either way."""
    # a plain text column is one C-level pass on the cell path already: the dictionary would cost more
    if texts_only and by_dictionary is not False and (by_dictionary or rule != "text" and _repeats(cells)):
        return _by_dictionary(field, rule, spec, cells, rows, missing_values, log, memo)
    originals, texts, typed, text_changed = _texts(cells, missing_values, texts_only)
    values, changed, apart, name = _apply_rule(rule, spec, cells, texts, typed, memo=memo)
    if rule == "commune" and log is not None and (unsure := _unresolved(set(values) - changed.keys())):
        # left as written for validation to refuse; the log says why (an old name shared by several units)
        at = [i for i, v in enumerate(values) if v in unsure]
        log.add_cells(field, rows, originals, values, at, lambda i: unsure[values[i]])
    if log is None or not (text_changed or changed or apart):
        return values
    if not (text_changed or typed):  # every change is the normaliser's, on a text that is the cell itself
        indices = list(compress(range(len(texts)), map(changed.__contains__, texts)))
    else:
        indices = _changed_cells(values, originals)

    def rule_of(i: int) -> str:
        if i in apart:
            return _RULE_NAMES.get(rule, rule)
        text = texts[i]
        return name(text) if text is not None and text in changed and values[i] != text else "text"

    log.add_cells(field, rows, originals, values, indices, rule_of)
    return values


REPEAT_SAMPLE = 2048  # cells looked at to tell whether a column's values repeat


def _repeats(cells: Sequence[Any]) -> bool:
    """Whether a column's values repeat enough for the dictionary path to pay: each value four times on
    average. Its first cells tell cheaply when nearly all differ (names, codes, phones, coordinates)."""
    if len(cells) < 64:
        return False
    sample = cells[:REPEAT_SAMPLE]
    if len(set(sample)) * 10 > len(sample) * 9:
        return False
    return len(set(cells)) * 4 <= len(cells)


def _by_dictionary(
    field: str,
    rule: str,
    spec: Mapping,
    cells: Sequence[str | None],
    rows: Sequence[int],
    missing_values: frozenset[str],
    log: ChangeLog | None,
    memo: Memo | None = None,
) -> list[str | None]:
    """normalise_column of a column of str/None through its distinct values (pandas.factorize)."""
    codes, found = pandas.factorize(numpy.asarray(cells, dtype=object))  # None: code -1
    return by_codes(field, rule, spec, codes, found.tolist(), rows, missing_values, log, memo)


class _Decoded(Sequence[str | None]):
    """The cells of a column given as codes into its distinct values (code -1: None), looked up one by one."""

    def __init__(self, codes: numpy.ndarray, distinct: list[str]) -> None:
        self._codes = codes
        self._distinct = distinct

    def __len__(self) -> int:
        return len(self._codes)

    def __getitem__(self, i: Any) -> Any:
        code = int(self._codes[i])
        return None if code < 0 else self._distinct[code]


def by_codes(
    field: str,
    rule: str,
    spec: Mapping,
    codes: numpy.ndarray,
    distinct: list[str],
    rows: Sequence[int],
    missing_values: frozenset[str],
    log: ChangeLog | None,
    memo: Memo | None = None,
) -> list[str | None]:
    """normalise_column of a column of str/None given as `codes` into its `distinct` values (in order of first
    appearance; code -1 for None): each value goes through the text step and the normaliser once (as the cell
    path would, the number style voted with each value's count), and values, changed cells and rule names are
    mapped back to the cells by index (numpy), so the cells cost no Python step each. Changes are logged in row
    order, as the cell path logs them."""
    counts = numpy.bincount(codes[codes >= 0], minlength=len(distinct)).tolist()
    _, texts, _, _ = _texts(distinct, missing_values, texts_only=True)
    values, changed, _, name = _apply_rule(rule, spec, distinct, texts, [], counts, memo)
    table = numpy.empty(len(distinct) + 1, dtype=object)  # the last entry is what code -1 (None) gives
    table[: len(distinct)] = values
    out: list[str | None] = table[codes].tolist()
    if log is None:
        return out
    cells = _Decoded(codes, distinct)
    if rule == "commune" and (unsure := _unresolved(set(values) - changed.keys())):
        flags = numpy.array([v in unsure for v in values] + [False])
        at = numpy.flatnonzero(flags[codes]).tolist()
        log.add_cells(field, rows, cells, out, at, lambda i: unsure[values[codes[i]]])
    # a change as _changed_cells counts one: another value, unless a blank cell became None
    flags = numpy.array([v != o and (v is not None or bool(o.strip())) for v, o in zip(values, distinct, strict=True)]
                        + [False])
    if not flags.any():
        return out
    rules = [name(t) if t is not None and t in changed and v != t else "text" for t, v in zip(texts, values, strict=True)]
    log.add_cells(field, rows, cells, out, numpy.flatnonzero(flags[codes]).tolist(), lambda i: rules[codes[i]])
    return out
