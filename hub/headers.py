"""Response headers read and added without werkzeug's per-header look-ups: `Headers` answers "is X there?" by
raising (and building) an exception when it is not, which on the way out of a request is most of the time.
These read the list once and add what is missing."""

from __future__ import annotations

from collections.abc import Iterable

from werkzeug.datastructures import Headers

__all__ = ["add_missing", "add_vary", "present"]


def present(headers: Headers) -> dict[str, str]:
    """Header names (lower case) -> their first value."""
    out: dict[str, str] = {}
    for name, value in headers:
        out.setdefault(name.lower(), value)
    return out


def add_missing(headers: Headers, pairs: Iterable[tuple[str, str]], have: dict[str, str] | None = None) -> None:
    """Add each (name, value) whose name is not there yet."""
    have = present(headers) if have is None else have
    for name, value in pairs:
        low = name.lower()
        if low not in have:
            headers.add(name, value)
            have[low] = value


def add_vary(headers: Headers, *names: str) -> None:
    """Add `names` to the Vary header (once each, whatever their case)."""
    current, found = "", False
    for name, value in headers:
        if name.lower() == "vary":
            current, found = value, True
            break
    tokens = [t.strip() for t in current.split(",") if t.strip()] if current else []
    known = {t.lower() for t in tokens}
    missing = [n for n in names if n.lower() not in known]
    if missing and not found:
        headers.add("Vary", ", ".join(missing))  # what setting an absent header does, without its search
    elif missing:
        headers["Vary"] = ", ".join(tokens + missing)
