"""CKAN's validators for what clients send: parameters of read actions and the dictionaries of write actions.

Pure functions, no I/O. Each check adds CKAN's own English sentence to an errors dict, so a client gets every
problem at once as one Validation Error, like CKAN (ckan/logic/validators.py, ckan/logic/schema).
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from core.text import input_problem
from hub.ckan.errors import ValidationError

__all__ = ["Errors", "PACKAGE_TEXT_FIELDS", "as_bool", "as_int", "as_json", "as_list", "clean_extras", "clean_tags",
           "check_email", "check_name", "natural", "valid_uuid"]

Errors = dict[str, list[str]]

NAME = re.compile(r"^[a-z0-9_\-]*$")
TAG = re.compile(r"^[\w \-.]*$", re.UNICODE)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NAME_MAX = 100
PACKAGE_TEXT_FIELDS = ("title", "author", "author_email", "maintainer", "maintainer_email", "license_id", "notes",
                       "url", "version", "type")
# top-level package keys an extra may not use (CKAN: "There is a schema field with the same name")
PACKAGE_KEYS = {*PACKAGE_TEXT_FIELDS, "id", "name", "owner_org", "private", "state", "resources", "tags", "groups",
                "extras", "organization", "metadata_created", "metadata_modified"}
TRUE = ("true", "yes", "t", "y", "1")
FALSE = ("false", "no", "f", "n", "0")


def add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def raise_if(errors: Errors) -> None:
    if errors:
        raise ValidationError(errors)


def as_bool(value: Any, field: str, errors: Errors, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return bool(value)
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    add(errors, field, "Value must be one of: true, false")
    return default


INT_LIMIT = 2**53  # larger whole numbers overflow the databases' integers (and lose digits as floats)


def as_int(value: Any, field: str, errors: Errors, default: int | None = None) -> int | None:
    """CKAN's int_validator: whole numbers, also as text ('10', '10.0')."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        add(errors, field, "Invalid integer")
        return default
    if isinstance(value, int):
        if abs(value) > INT_LIMIT:
            add(errors, field, "Invalid integer")
            return default
        return value
    try:
        number = float(str(value).strip())
    except ValueError:
        add(errors, field, "Invalid integer")
        return default
    if not number.is_integer() or abs(number) > INT_LIMIT:  # also inf and nan
        add(errors, field, "Invalid integer")
        return default
    return int(number)


def natural(value: Any, field: str, errors: Errors, default: int | None = None) -> int | None:
    """CKAN's natural_number_validator: an integer that is not negative."""
    number = as_int(value, field, errors, default)
    if number is not None and number < 0:
        add(errors, field, "Must be a natural number")
        return default
    return number


def as_json(value: Any, field: str, errors: Errors) -> Any:
    """A value that may arrive as JSON text (GET parameters) or already decoded (a JSON body)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            add(errors, field, "Could not parse as valid JSON")
            return None
    if input_problem(value):
        add(errors, field, "Could not parse as valid JSON (nested too deep, or text that is not valid)")
        return None
    return value


def as_list(value: Any) -> list[str]:
    """A list or comma-separated text, as datastore_search takes `fields` and `sort`."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(v) for v in value]


def valid_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def check_name(value: Any, field: str, errors: Errors) -> str | None:
    """CKAN's name_validator: 2-100 lowercase ASCII letters, digits, '-' and '_'."""
    if value is None or value == "":
        add(errors, field, "Missing value")
        return None
    if not isinstance(value, str):
        add(errors, field, "Names must be strings")
        return None
    if value in ("new", "edit", "search"):
        add(errors, field, "That name cannot be used")
    elif len(value) < 2:
        add(errors, field, "Must be at least 2 characters long")
    elif len(value) > NAME_MAX:
        add(errors, field, f"Name must be a maximum of {NAME_MAX} characters long")
    elif not NAME.match(value):
        add(errors, field, "Must be purely lowercase alphanumeric (ascii) characters and these symbols: -_")
    else:
        return value
    return None


def check_email(value: Any, field: str, errors: Errors) -> None:
    if value and not EMAIL.match(str(value).strip()):
        add(errors, field, f"Email {value} is not a valid format")


def clean_tags(data: dict[str, Any], errors: Errors) -> list[str]:
    """Tag names from `tags` ([{name}] or names) or `tag_string` ('a,b'), checked like CKAN's tag validators."""
    raw: list[Any] = []
    if isinstance(data.get("tags"), list):
        raw = [t.get("name") if isinstance(t, dict) else t for t in data["tags"]]
    elif isinstance(data.get("tag_string"), str):
        raw = [t.strip() for t in data["tag_string"].split(",")]
    names: list[str] = []
    for name in raw:
        if not isinstance(name, str) or not name.strip():
            continue
        name = name.strip()
        if len(name) < 2:
            add(errors, "tags", f'Tag "{name}" length is less than minimum 2')
        elif len(name) > NAME_MAX:
            add(errors, "tags", f'Tag "{name}" length is more than maximum {NAME_MAX}')
        elif not TAG.match(name):
            add(errors, "tags", f'Tag "{name}" must be alphanumeric characters or symbols: -_.')
        elif name not in names:
            names.append(name)
    return names


def clean_extras(value: Any, errors: Errors) -> list[dict[str, str]]:
    if not value:
        return []
    if not isinstance(value, list):
        add(errors, "extras", "Not a list")
        return []
    out: list[dict[str, str]] = []
    for extra in value:
        if not isinstance(extra, dict) or not extra.get("key"):
            add(errors, "extras", "Each extra needs a key")
            continue
        key = str(extra["key"])
        if key in PACKAGE_KEYS:
            add(errors, "extras", f"There is a schema field with the same name: {key}")
            continue
        if extra.get("deleted"):
            continue
        value_ = extra.get("value")
        out.append({"key": key, "value": value_ if isinstance(value_, str) else json.dumps(value_, ensure_ascii=False)})
    return out
