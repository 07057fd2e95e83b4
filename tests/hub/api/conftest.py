"""Fixtures for the access tests: a catalogue with a restricted dataset, and callers of every role with keys.

`sports-venues` is made restricted in a copy of catalog.yaml (schema and source paths made absolute); `licences`
stays shared and holds the personal fields. A rejected load of the messy licences file gives the report and
rejected-row endpoints personal data to hide.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from core.config import PROJECT_ROOT, Settings
from publish import clients, pipeline
from publish.context import Hub
from tests.conftest import BACKENDS, database_url, load_all_samples
from tests.hub_copies import HubCopy, Templates

RESTRICTED = "sports-venues"
PERSONAL = "licences"
SAMPLES = PROJECT_ROOT / "samples"

# caller -> (role, grants: dataset -> purpose of a personal grant or None)
CALLERS: dict[str, tuple[str | None, dict[str, str | None]]] = {
    "anonymous": (None, {}),
    "department": ("department", {}),
    "department-granted": ("department", {RESTRICTED: None}),
    "department-personal": ("department", {PERSONAL: "Xác minh người được cấp phép / verifying licence holders",
                                           RESTRICTED: None}),
    "steward": ("steward", {}),
    "admin": ("admin", {}),
}


def restricted_catalog(tmp: Path) -> Path:
    raw = yaml.safe_load((PROJECT_ROOT / "catalog.yaml").read_text(encoding="utf-8"))
    for entry in raw["datasets"]:
        entry["schema"] = str(PROJECT_ROOT / entry["schema"])
        if entry.get("source"):
            entry["source"] = str(PROJECT_ROOT / entry["source"])
        if entry["id"] == RESTRICTED:
            entry["access"] = "restricted"
            entry["clients"] = []
    raw["reports"] = [str(PROJECT_ROOT / r) for r in raw.get("reports") or []]
    path = tmp / "catalog.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class Secured:
    """A hub with samples loaded, a restricted dataset, and a key per caller."""

    hub: Hub
    tokens: dict[str, str] = field(default_factory=dict)
    rejected_load: int | None = None

    def headers(self, caller: str) -> dict[str, str]:
        token = self.tokens.get(caller)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def app(self, **changes: object):  # noqa: ANN201 - a Flask app
        from hub.app import create_app

        hub = Hub(self.hub.settings.replace(**changes), self.hub.catalog, self.hub.store) if changes else self.hub
        app = create_app(hub.settings, hub=hub)
        app.config["TESTING"] = True
        return app


def fill_secured(hub: Hub) -> Secured:
    """Every sample, the messy licences' rejected load, and a key (and grants) per caller."""
    load_all_samples(hub)
    return secure(hub)


def secure(hub: Hub) -> Secured:
    """The messy licences' rejected load, and a key (and grants) per caller, in a hub with every sample."""
    outcome = pipeline.run(hub.store, PERSONAL, SAMPLES / "messy" / "licences.csv", user="tests")
    secured = Secured(hub, rejected_load=outcome.load.load_id if outcome.load else None)
    for caller, (role, grants) in CALLERS.items():
        if role is None:
            continue
        clients.create_client(hub.store, caller, role, actor="tests")
        secured.tokens[caller] = clients.issue_key(hub.store, caller, days=30, actor="tests").token
        for dataset, purpose in grants.items():
            clients.grant(hub.store, caller, dataset, personal=purpose is not None, purpose=purpose, granted_by="tests")
    return secured


def make_secured(backend: str, tmp: Path) -> tuple[Secured, str | None]:
    url, schema = database_url(backend, tmp)
    settings = Settings(database_url=url, storage_dir=tmp / "storage", secret_key="test-secret",
                        catalog_path=restricted_catalog(tmp), rate_limit=100_000)
    return fill_secured(Hub.open(settings, init=True)), schema


def secured_settings(templates: Templates) -> dict[str, object]:
    """The settings of the "secured" template: the restricted catalogue (written once per process)."""
    folder = templates.root / "restricted-catalog"
    if not (folder / "catalog.yaml").exists():
        folder.mkdir(parents=True, exist_ok=True)
        restricted_catalog(folder)
    return {"catalog_path": folder / "catalog.yaml", "rate_limit": 100_000}


def copy_secured(templates: Templates, backend: str, tmp: Path, name: str = "secured",
                 more: Callable[[Secured], None] | None = None) -> tuple[Secured, HubCopy]:
    """A hub of its own like `make_secured`'s, copied from a template built once per process; `name` and
    `more` make a template of its own on top of "secured" (e.g. more callers)."""

    def fill(hub: Hub) -> tuple[dict[str, str], int | None]:
        made = secure(hub)
        return made.tokens, made.rejected_load

    # the samples load the same whichever datasets the catalogue restricts: the "samples" template serves
    templates.template("samples", backend, load_all_samples)
    settings = secured_settings(templates)
    if name != "secured":
        templates.template("secured", backend, fill, base="samples", settings=settings)
        assert more is not None

        def fill_more(hub: Hub) -> tuple[dict[str, str], int | None]:
            tokens, rejected = templates.made[("secured", backend)].extra
            made = Secured(hub, dict(tokens), rejected)
            more(made)
            return made.tokens, made.rejected_load

        copy = templates.copy(name, backend, tmp, fill_more, base="secured")
    else:
        copy = templates.copy("secured", backend, tmp, fill, base="samples", settings=settings)
    tokens, rejected = copy.extra
    return Secured(copy.hub, dict(tokens), rejected), copy


@pytest.fixture(scope="session", params=BACKENDS)
def secured(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            templates: Templates) -> Iterator[Secured]:
    """Shared by read-only tests of one backend (they may add audit entries, nothing else)."""
    made, copy = copy_secured(templates, request.param, tmp_path_factory.mktemp(f"secured-{request.param}"))
    yield made
    copy.close()


@pytest.fixture(scope="session")
def secured_client(secured: Secured):  # noqa: ANN201 - a Flask test client
    return secured.app().test_client()


def personal_values() -> set[str]:
    """Values that are personal in the licences samples (clean and messy): none may reach an ungranted caller.

    Values that also appear in a non-personal place (a public field of any sample) would make the check
    meaningless, so they are left out."""
    from core.catalog import load_catalog

    catalog = load_catalog(PROJECT_ROOT / "catalog.yaml")
    schema = catalog.dataset(PERSONAL).schema
    found: set[str] = set()
    for path in (SAMPLES / "licences.csv", SAMPLES / "messy" / "licences.csv"):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                for f in schema.fields:
                    when = f.personal_when
                    if f.personal and row.get(f.name) and (not when or row.get(when["field"]) == when["equals"]):
                        found.add(row[f.name])
    public: set[str] = set()
    for ds in catalog:
        source = catalog.resolve(ds.source) if ds.source else None
        if source is None or source.suffix != ".csv":
            continue
        with source.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                public.update(v for k, v in row.items() if ds.id != PERSONAL or not schema.field(k).personal)
    return {v for v in found - public if len(v) >= 6}


def restricted_values() -> set[str]:
    """Codes and names of the restricted dataset's rows: none may reach a caller without the grant."""
    with (SAMPLES / f"{RESTRICTED}.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {r["code"] for r in rows} | {r["name"] for r in rows}
