"""The part of Solr's query language CKAN clients and harvesters send in `q` and `fq`.

Words and "phrases" (searched in the folded full text: case, diacritics and đ/d ignored, like the rest of
the hub), `field:value`, `field:"a phrase"`, `field:(a OR b)`, `field:[from TO to]` ranges (harvesters ask
`metadata_modified:[2025-01-01T00:00:00Z TO *]`, or with Solr's date maths `[NOW-1DAY TO NOW]`,
`[NOW/DAY TO *]`: publish/solr_dates.py; `{a TO b}` leaves the ends out), `field:*`, `*:*`, wildcards `res_format:CSV*`, `+`, `-`,
`NOT`, `AND`, `OR` and parentheses. The default operator is AND, as CKAN sets `q.op=AND`.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from core.text import search_fold, search_words
from hub.ckan.errors import SearchError
from publish import solr_dates
from publish.store import utcnow

__all__ = ["Node", "folded", "matches", "parse", "words_of"]

_FIELD = re.compile(r"([A-Za-z_][\w.\-]*):")


@dataclass
class Node:
    kind: str  # or, and, not, term, all
    children: list[Node] | None = None
    field: str | None = None
    value: Any = None
    phrase: bool = False


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, why: str) -> SearchError:
        return SearchError(f"Câu truy vấn sai cú pháp ({why}): {self.text!r}", f"Query syntax error ({why}): {self.text!r}",
                           field="q")

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek_word(self) -> str:
        self.skip()
        match = re.match(r"[^\s()]+", self.text[self.pos:])
        return match.group(0) if match else ""

    def expr(self, field: str | None = None, closing: str | None = None) -> Node:
        groups = [self.conjunction(field, closing)]
        while self.peek_word() in ("OR", "||"):
            self.pos += len(self.peek_word())
            groups.append(self.conjunction(field, closing))
        return groups[0] if len(groups) == 1 else Node("or", groups)

    def conjunction(self, field: str | None, closing: str | None) -> Node:
        items: list[Node] = []
        while True:
            self.skip()
            if self.pos >= len(self.text) or (closing and self.text[self.pos] == closing):
                break
            word = self.peek_word()
            if word in ("OR", "||"):
                break
            if word in ("AND", "&&"):
                self.pos += len(word)
                continue
            items.append(self.unary(field))
        if not items:
            return Node("all")
        return items[0] if len(items) == 1 else Node("and", items)

    def unary(self, field: str | None) -> Node:
        self.skip()
        if self.text.startswith("NOT ", self.pos):
            self.pos += 4
            return Node("not", [self.unary(field)])
        char = self.text[self.pos]
        if char in "+-" and self.pos + 1 < len(self.text) and not self.text[self.pos + 1].isspace():
            self.pos += 1
            inner = self.primary(field)
            return Node("not", [inner]) if char == "-" else inner
        return self.primary(field)

    def primary(self, field: str | None) -> Node:
        self.skip()
        if self.text[self.pos] == "(":
            self.pos += 1
            inner = self.expr(field, ")")
            if self.pos >= len(self.text) or self.text[self.pos] != ")":
                raise self.fail("thiếu ')' / missing ')'")
            self.pos += 1
            return inner
        if field is None:
            match = _FIELD.match(self.text, self.pos)
            if match and self.pos + len(match.group(0)) < len(self.text):
                self.pos = match.end()
                if self.text[self.pos] in "([{" or self.text[self.pos] == '"':
                    return self.primary(match.group(1)) if self.text[self.pos] == "(" else self.value(match.group(1))
                return self.value(match.group(1))
        return self.value(field)

    def bound(self, value: str) -> str | None:
        """A range end as comparable text: None for `*`, date maths resolved to naive UTC ISO 8601."""
        if value == "*":
            return None
        if solr_dates.is_date_math(value):
            try:
                return solr_dates.resolve(value, utcnow()).isoformat(timespec="microseconds")
            except solr_dates.DateMathError as exc:
                raise self.fail(str(exc)) from None
        return value.rstrip("Z")

    def value(self, field: str | None) -> Node:
        self.skip()
        char = self.text[self.pos]
        if char == '"':
            end = self.text.find('"', self.pos + 1)
            if end < 0:
                raise self.fail("thiếu dấu \" / unclosed quote")
            text = self.text[self.pos + 1:end]
            self.pos = end + 1
            return Node("term", field=field, value=text, phrase=True)
        if char in "[{":
            close = "]" if char == "[" else "}"
            end = self.text.find(close, self.pos)
            if end < 0:
                end = max(self.text.find("]", self.pos), self.text.find("}", self.pos))
            if end < 0:
                raise self.fail("thiếu ']' / missing ']'")
            parts = self.text[self.pos + 1:end].split(" TO ")
            if len(parts) != 2:
                raise self.fail("khoảng phải là [a TO b] / a range is [a TO b]")
            inclusive = (char == "[", self.text[end] == "]")
            self.pos = end + 1
            low, high = (self.bound(part.strip()) for part in parts)
            return Node("range", field=field, value=(low, high, *inclusive))
        match = re.match(r'(?:\\.|[^\s()"])+', self.text[self.pos:])
        if not match:
            raise self.fail(f"ký tự không mong đợi «{char}» / unexpected «{char}»")
        self.pos += len(match.group(0))
        raw = re.sub(r"\\(.)", r"\1", match.group(0))
        if raw == "*" and field in (None, "*"):
            return Node("all")
        return Node("term", field=field, value=raw)


def parse(text: str | None) -> Node:
    text = (text or "").strip()
    if not text or text in ('""', "''", "*:*", "*"):
        return Node("all")
    parser = _Parser(text)
    node = parser.expr()
    parser.skip()
    if parser.pos < len(parser.text):
        raise parser.fail(f"thừa «{parser.text[parser.pos:]}» / unexpected «{parser.text[parser.pos:]}»")
    return node


def _within(value: Any, low: Any, high: Any, low_in: bool, high_in: bool) -> bool:
    above = low is None or (value >= low if low_in else value > low)
    below = high is None or (value <= high if high_in else value < high)
    return above and below


def _in_range(values: list[str], low: str | None, high: str | None, low_in: bool = True,
              high_in: bool = True) -> bool:
    for value in values:
        try:
            number, lo, hi = float(value), float(low) if low else None, float(high) if high else None
            if _within(number, lo, hi, low_in, high_in):
                return True
            continue
        except ValueError:
            pass
        if _within(value, low, high, low_in, high_in):
            return True
    return False


def words_of(node: Node) -> list[str]:
    """The free-text words of a query, for scoring."""
    if node.kind == "term" and node.field in (None, "text"):
        return search_words(node.value)
    return [w for child in node.children or [] if node.kind != "not" for w in words_of(child)]


def folded(doc: dict[str, Any], field: str) -> list[str]:
    """The folded words of a text field, computed once per document (documents are cached by search.py)."""
    key = "\0" + field
    if key not in doc:
        doc[key] = search_words(" ".join(str(v) for v in doc.get(field, []) if v is not None))
    return doc[key]


def matches(node: Node, doc: dict[str, Any], text_fields: set[str]) -> bool:
    if node.kind == "all":
        return True
    if node.kind == "and":
        return all(matches(c, doc, text_fields) for c in node.children or [])
    if node.kind == "or":
        return any(matches(c, doc, text_fields) for c in node.children or [])
    if node.kind == "not":
        return not matches((node.children or [])[0], doc, text_fields)
    field = node.field or "text"
    values = [str(v) for v in doc.get(field, []) if v is not None and v != ""]
    if node.kind == "range":
        return _in_range(values, *node.value)
    wanted = str(node.value)
    if wanted == "*":
        return bool(values)
    if field in text_fields or field.startswith("extras_"):
        found = folded(doc, field)
        if node.phrase:
            return f" {' '.join(search_words(wanted))} " in f" {' '.join(found)} "
        words = set(found)
        for part in wanted.split():
            if "*" in part or "?" in part:
                if not any(fnmatch.fnmatchcase(w, search_fold(part)) for w in words):
                    return False
            elif not all(w in words for w in search_words(part)):
                return False
        return True
    if any(ch in wanted for ch in "*?"):
        return any(fnmatch.fnmatchcase(search_fold(v), search_fold(wanted)) for v in values)
    return any(search_fold(v) == search_fold(wanted) for v in values)
