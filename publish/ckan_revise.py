"""CKAN's `package_revise` on plain dictionaries: match, filter and update a package, as CKAN 2.11 documents it
(ckan/logic/action/update.py `package_revise`, and its dictionary helpers).

Keys may be nested ("flattened") with `__`: `resources__0__name`, `resources__-1` (the last one), or a
resource picked by the start of its id (at least 5 characters, `resources__1f9ab`). `update__resources__extend`
adds items to a list. Pure functions on dictionaries, no I/O: the CKAN action (hub/ckan/write.py) reads the
package, calls `revise` and saves what comes back.
"""

from __future__ import annotations

import copy
import json
from typing import Any, cast

__all__ = ["ReviseError", "filter_globs", "revise", "split_flat_keys"]

Path = tuple[Any, ...]


class ReviseError(ValueError):
    """A key that names nothing in the package, or a value of the wrong kind. `field` is CKAN's error key."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _join(path: Path) -> str:
    return "__".join(str(p) for p in path)


def _step(current: Any, key: str, path: Path) -> tuple[Any, Any]:
    """(child, index or key) of one `__` part of a flattened key."""
    if isinstance(current, dict):
        if key not in current:
            raise ReviseError(_join(path + (key,)), f"Unmatched key {_join(path + (key,))}")
        return current[key], key
    if not isinstance(current, list):
        raise ReviseError(_join(path + (key,)), f"Unmatched key {_join(path + (key,))}")
    if len(key) >= 5:  # the start of an item's id
        for index, item in enumerate(current):
            if isinstance(item, dict) and str(item.get("id", "")).startswith(key):
                return item, index
        raise ReviseError(_join(path + (key,)), f"Unmatched key {_join(path + (key,))}")
    try:
        index = int(key)
    except ValueError:
        raise ReviseError(_join(path + (key,)), f"Unmatched key {_join(path + (key,))}") from None
    if not -len(current) <= index < len(current):
        raise ReviseError(_join(path + (key,)), f"Unmatched key {_join(path + (key,))}")
    return current[index], index if index >= 0 else len(current) + index


def resolve(data: Any, flat_key: str) -> tuple[Any, Path]:
    current, path = data, cast(Path, ())
    for part in flat_key.split("__"):
        current, key = _step(current, part, path)
        path += (key,)
    return current, path


def unmatched(have: Any, wanted: Any, path: Path = ()) -> list[Path]:
    """The paths where `have` differs from the values `wanted` gives (only the keys it names are compared)."""
    if isinstance(wanted, dict):
        if not isinstance(have, dict):
            return [path]
        return [p for k, v in sorted(wanted.items()) for p in
                ([path + (k,)] if k not in have else unmatched(have[k], v, path + (k,)))]
    if isinstance(wanted, list):
        if not isinstance(have, list):
            return [path]
        return [p for i, v in enumerate(wanted) for p in
                ([path + (i,)] if i >= len(have) else unmatched(have[i], v, path + (i,)))]
    return [] if have == wanted else [path]


def _merge(target: Any, update: Any, path: Path) -> None:
    """Dictionaries merge key by key, lists item by item (longer lists append); other values are replaced."""
    if isinstance(target, dict):
        if not isinstance(update, dict):
            raise ReviseError(_join(path) or "update", f"Expected dict for {_join(path)}")
        for key, value in update.items():
            if key in target and isinstance(target[key], (dict, list)):
                _merge(target[key], value, path + (key,))
            else:
                target[key] = value
        return
    if not isinstance(update, list):
        raise ReviseError(_join(path) or "update", f"Expected list for {_join(path)}")
    for index, value in enumerate(update):
        if index >= len(target):
            target.append(value)
        elif isinstance(target[index], (dict, list)):
            _merge(target[index], value, path + (index,))
        else:
            target[index] = value


def _update_flat(data: dict[str, Any], flat_key: str, value: Any) -> None:
    *parents, last = flat_key.split("__")
    parent, path = resolve(data, "__".join(parents)) if parents else (data, ())
    if isinstance(parent, dict):
        _merge(parent, {last: value}, path)
    elif isinstance(parent, list):
        if last == "extend":
            if not isinstance(value, list):
                raise ReviseError(flat_key, f"Expected list for {_join(path)}")
            parent.extend(value)
            return
        child, index = _step(parent, last, path)
        if isinstance(child, (dict, list)):
            _merge(child, value, path + (index,))
        else:
            parent[index] = value
    else:
        raise ReviseError(flat_key, f"Expected list or dict for {_join(path)}")


def filter_globs(data: Any, patterns: list[str]) -> None:
    """Remove keys (or list items) in place: `-key` removes, `+key` protects, `*` is everything at a level;
    the first pattern naming a key decides."""
    _filter(data, [(p.startswith("+"), p.lstrip("+-").split("__")) for p in patterns if p.strip("+-")])


def _filter(data: Any, globs: list[tuple[bool, list[str]]]) -> None:
    if isinstance(data, dict):
        decided: dict[str, bool] = {}
        deeper: dict[str, list[tuple[bool, list[str]]]] = {}
        for keep, parts in globs:
            head, rest = parts[0], parts[1:]
            names = list(data) if head == "*" else [head] if head in data else []
            for name in names:
                if rest:
                    deeper.setdefault(name, []).append((keep, rest))
                else:
                    decided.setdefault(name, keep)
        for name, keep in decided.items():
            if not keep:
                del data[name]
        for name, inner in deeper.items():
            if name in data:
                _filter(data[name], inner)
    elif isinstance(data, list):
        decided_items: dict[int, bool] = {}
        deeper_items: dict[int, list[tuple[bool, list[str]]]] = {}
        for keep, parts in globs:
            head, rest = parts[0], parts[1:]
            if head == "*":
                indexes = list(range(len(data)))
            else:
                try:
                    indexes = [_step(data, head, ())[1]]
                except ReviseError:
                    continue
            for index in indexes:
                if rest:
                    deeper_items.setdefault(index, []).append((keep, rest))
                else:
                    decided_items.setdefault(index, keep)
        for index, inner in deeper_items.items():
            if decided_items.get(index, True):
                _filter(data[index], inner)
        data[:] = [item for i, item in enumerate(data) if decided_items.get(i, True)]


def _as_json(value: Any, field: str) -> Any:
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            raise ReviseError(field, "Could not parse as valid JSON") from None
    return value


def _patterns(value: Any, field: str) -> list[str]:
    value = _as_json(value, field)
    if isinstance(value, str):
        return [p.strip() for p in value.split(",") if p.strip()]
    if isinstance(value, list) and all(isinstance(p, str) for p in value):
        return value
    raise ReviseError(field, "Must be a list of strings or a comma-separated string")


def split_flat_keys(data: dict[str, Any], prefix: str) -> dict[str, Any]:
    """`match__name=x` -> {"name": x}: the flattened keys a request gave for `prefix` (match or update)."""
    start = f"{prefix}__"
    return {k[len(start):]: _as_json(v, k) for k, v in data.items() if k.startswith(start) and len(k) > len(start)}


def revision_target(data: dict[str, Any]) -> str | None:
    """The id or name the revision is for (from `match` or `match__id` / `match__name`)."""
    match = _as_json(data.get("match"), "match") or {}
    flat = split_flat_keys(data, "match")
    for source in (flat, match if isinstance(match, dict) else {}):
        for key in ("id", "name"):
            if source.get(key):
                return str(source[key])
    return None


def revise(original: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """The package `original` revised as `data` (match, filter, update, flattened keys) asks.

    Raises ReviseError for a value that does not match (field `match`, listing every path) and for keys that
    name nothing."""
    match = _as_json(data.get("match"), "match")
    if match is not None and not isinstance(match, dict):
        raise ReviseError("match", "Must be a dict")
    misses = unmatched(original, match) if match else []
    for flat_key, value in sorted(split_flat_keys(data, "match").items()):
        current, path = resolve(original, flat_key)
        misses += unmatched(current, value, path)
    if misses:
        raise ReviseError("match", "; ".join(_join(p) for p in misses))

    revised = copy.deepcopy(original)
    revised.pop("metadata_modified", None)
    if data.get("filter") not in (None, "", []):
        filter_globs(revised, _patterns(data["filter"], "filter"))
        revised["id"] = original["id"]
    update = _as_json(data.get("update"), "update")
    if update is not None:
        _merge(revised, update, ())
    # `extend` first, so a later key can change an item it added
    flat = split_flat_keys(data, "update")
    for flat_key in sorted(flat, key=lambda k: (not k.endswith("__extend"), k)):
        _update_flat(revised, flat_key, flat[flat_key])
    return revised


def include(result: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """The answer cut down to the `include` patterns, when given."""
    if data.get("include") not in (None, "", []):
        filter_globs(result, _patterns(data["include"], "include"))
    return result
