"""Who may see what: access levels of datasets and the personal-data mark of fields.

Every output path (API, web, exports, CKAN, DCAT) asks these functions; none decides on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.catalog import Dataset


@dataclass(frozen=True)
class Viewer:
    """The caller as the access rules see it. `Viewer()` is an anonymous citizen."""

    name: str | None = None
    role: str | None = None  # department, steward, admin
    datasets: frozenset[str] = field(default_factory=frozenset)  # restricted datasets granted
    personal: frozenset[str] = field(default_factory=frozenset)  # datasets whose personal data is granted

    @property
    def authenticated(self) -> bool:
        return self.name is not None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


ANONYMOUS = Viewer()


def can_see_dataset(dataset: Dataset, viewer: Viewer) -> bool:
    if dataset.access == "open":
        return True
    if not viewer.authenticated:
        return False
    if dataset.access == "shared" or viewer.role in ("admin", "steward"):
        return True
    return dataset.id in viewer.datasets or viewer.name in dataset.clients


def owns(owner: str | None, viewer: Viewer) -> bool:
    """Whether `viewer` may see something a client made (a job, an upload and its report): its maker, and
    admins. Other stewards may not: what a steward sent may hold personal data it alone was asked to fix."""
    if not viewer.authenticated:
        return False
    return viewer.is_admin or (owner is not None and owner == viewer.name)


def sees_personal(dataset: Dataset, viewer: Viewer) -> bool:
    """Only a client granted this dataset's personal data, for a recorded purpose, sees it: not even an admin
    by role (an admin who needs it grants it to itself with a purpose, and the grant is audited)."""
    return dataset.id in viewer.personal


def visible_fields(dataset: Dataset, viewer: Viewer) -> list[str]:
    """Fields the viewer may see at all. Fields personal on every row are dropped; `personalWhen` fields stay
    and are blanked row by row (see redact)."""
    personal_ok = sees_personal(dataset, viewer)
    names = []
    for f in dataset.schema.fields:
        if f.personal and not personal_ok and not f.personal_when:
            continue
        if f.classification == "internal" and not viewer.authenticated:
            continue
        names.append(f.name)
    return names


def conditional_personal(dataset: Dataset, viewer: Viewer) -> list[tuple[str, str, Any]]:
    """(field, condition field, value) for personal-when fields the viewer must have blanked."""
    if sees_personal(dataset, viewer):
        return []
    out = []
    for f in dataset.schema.fields:
        cond = f.personal_when
        if f.personal and cond:
            out.append((f.name, cond["field"], cond.get("equals")))
    return out


def redactor(dataset: Dataset, viewer: Viewer) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A function row(dict) -> dict that blanks values personal on that row. Identity when nothing to do."""
    rules = conditional_personal(dataset, viewer)
    if not rules:
        return lambda row: row

    def redact(row: dict[str, Any]) -> dict[str, Any]:
        for name, cond_field, equals in rules:
            if name in row and row.get(cond_field) == equals:
                row[name] = None
        return row

    return redact
