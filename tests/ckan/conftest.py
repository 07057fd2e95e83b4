"""Fixtures for the CKAN tests: a second, empty hub of another catalogue (a district's) to federate into, and a
source hub whose licences register is open data (to prove personal fields never leave).

The shared `live_hub` (tests/conftest.py) serves the read side; these hubs are only for writing into.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from core.config import PROJECT_ROOT, Settings
from publish.clients import create_client, issue_key
from publish.context import Hub
from tests.conftest import BACKENDS, LiveServer, free_port
from tests.hub_copies import Templates


def write_catalog(folder: Path, *, district: bool = False, open_licences: bool = False) -> Path:
    """A copy of the project's catalogue with absolute schema and sample paths, changed as asked."""
    raw = yaml.safe_load((PROJECT_ROOT / "catalog.yaml").read_text(encoding="utf-8"))
    for entry in raw["datasets"]:
        entry["schema"] = str(PROJECT_ROOT / entry["schema"])
        if entry.get("source"):
            entry["source"] = str(PROJECT_ROOT / entry["source"])
        if open_licences and entry["id"] == "licences":
            entry["access"], entry["licence"] = "open", "cc-by-4.0"
    raw["reports"] = [str(PROJECT_ROOT / r) for r in raw.get("reports") or []]
    if district:
        raw.pop("reports", None)  # the province's reports name datasets the district does not have
        # Biên Hòa's own hub: its own publisher and one dataset of its own, none of the province's names
        raw["site"]["title"] = {"vi": "Dữ liệu văn hóa Biên Hòa", "en": "Biên Hòa culture data"}
        raw["publishers"] = [{"id": "phong-vhtt-bien-hoa", "name": {"vi": "Phòng Văn hóa - Thông tin Biên Hòa",
                                                                 "en": "Biên Hòa Culture and Information Office"},
                              "email": "vhtt@bienhoa.dongnai.gov.vn", "url": None, "parent": None}]
        units = next(e for e in raw["datasets"] if e["id"] == "admin-units")
        raw["datasets"] = [{**units, "id": "bien-hoa-wards", "publisher": "phong-vhtt-bien-hoa",
                            "title": {"vi": "Phường của Biên Hòa", "en": "Wards of Biên Hòa"}}]
        for entry in raw["datasets"]:
            entry.pop("source", None)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "catalog.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class RunningHub:
    hub: Hub
    server: LiveServer
    key: str  # a steward's API key

    @property
    def url(self) -> str:
        return self.server.url


def load_samples(hub: Hub, datasets: tuple[str, ...]) -> None:
    from publish import pipeline

    for dataset in datasets:
        path = hub.catalog.resolve(hub.catalog.dataset(dataset).source)
        assert pipeline.run(hub.store, dataset, path, user="tests").status == "committed", dataset


def _start(settings: Settings, *, samples: tuple[str, ...] = ()) -> RunningHub:
    hub = Hub.open(settings, init=True)
    load_samples(hub, samples)
    return serve(hub)


def serve(hub: Hub) -> RunningHub:
    """`hub` live, with a steward's key."""
    from hub.app import create_app

    create_client(hub.store, "peer-steward", "steward")
    key = issue_key(hub.store, "peer-steward").token
    server = LiveServer(create_app(hub.settings, hub=hub), free_port()).start()
    return RunningHub(hub, server, key)


@pytest.fixture(params=BACKENDS)
def district_hub(request: pytest.FixtureRequest, tmp_path: Path, templates: Templates) -> Iterator[RunningHub]:
    """An empty district hub, live, with a steward key: the target of federation and of publish-ckan (a copy
    of one initialised once per process)."""
    catalog = write_catalog(templates.root / "district-catalog", district=True)
    copy = templates.copy("district", request.param, tmp_path, settings={"catalog_path": catalog})
    running = serve(copy.hub)
    yield running
    running.server.stop()
    copy.close()


@pytest.fixture(scope="session")
def open_licences_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    """A live hub whose licences register (with personal fields) is open data, loaded with its communes. The
    other open datasets are there too, empty (loading every sample again would only cost time)."""
    tmp = tmp_path_factory.mktemp("open-licences")
    settings = Settings(database_url=f"sqlite:///{tmp / 'hub.db'}", storage_dir=tmp / "storage",
                        secret_key="test-secret", catalog_path=write_catalog(tmp / "catalog", open_licences=True))
    running = _start(settings, samples=("admin-units", "licences"))
    yield running
    running.server.stop()
    running.hub.store.dispose()
