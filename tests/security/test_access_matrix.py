"""The access matrix: every method of every route the app registers (from its URL map, not a list typed by
hand) × every kind of caller; each answer's status is the one the declared access rule gives that caller
(tests/security/access_rules.py), never a 5xx, and no personal value reaches a caller without the personal-data
grant of `licences`.

URL variables are filled with real ids (the open, shared-with-personal-data and restricted datasets, a
record key of an individual's licence, loads, the granted steward's job and workspace upload, CKAN packages and
resources, reports); every CKAN action is walked on `/api/3/action/`. Write methods are sent twice: with an
empty body and with one that would succeed for an allowed caller. Reads come first, then writes, then what
destroys (DELETE, key revocation, package and resource deletion, publishing and discarding an upload; each on a
throwaway object), and signing out last, so no cell changes what a later one reads.

Callers: anonymous, a bad key, a revoked key, an expired key, a disabled client (the last three hold an admin
role and the personal grant: a broken refusal would leak), a department, a department granted the restricted
dataset, a department with the personal grant, two stewards, a steward with it, an admin, an admin with it,
and the signed-in workspace sessions of a steward, a granted steward and an admin.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from publish import clients, tables, versions, workspace
from publish.store import utcnow
from tests.hub.api.conftest import RESTRICTED
from tests.security.access_rules import CALLERS, OPEN, OWNER, Caller, Expect, Target, expect, family
from tests.security.conftest import MESSY_LICENCES, PERSONAL, SAMPLES, leaked, sign_in

OPEN_DATASET = "heritage-sites"
DATASETS = (PERSONAL, RESTRICTED, OPEN_DATASET)
QUERIES = {"changes": "?since=0"}  # what a route needs besides its URL (the change feed: from the start)
PER_DATASET = {"dataset_id", "key", "load_id", "package_id", "resource_id"}
Body = Callable[[Caller, Any], dict[str, Any]]  # (caller, its client) -> keyword arguments of the request


@dataclass
class Cell:
    rule: str
    method: str
    url: str
    kind: str
    target: Target
    body: Body | None = None
    phase: int = 0  # 0 reads, 1 writes, 2 what destroys (throwaways), 3 signing out
    note: str = ""


@dataclass
class Ids:
    """Real ids of the attacked hub, and the throwaway objects the destructive cells use."""

    access: dict[str, str]
    keys: dict[str, str]
    loads: dict[str, int]
    packages: dict[str, tuple[str, list[str]]]
    job: str
    token: str
    publish_token: str
    discard_token: str
    reports: dict[str, str]
    publisher: str
    theme: str
    tag: str
    files: dict[str, str]
    ckan: dict[str, str]
    client: str
    tokens: dict[str, str]
    counter: itertools.count = field(default_factory=itertools.count)

    def unique(self, stem: str) -> str:
        return f"mx-{stem}-{next(self.counter)}-{uuid.uuid4().hex[:4]}"


# -- filling the URL map's rules ---------------------------------------------------------------------------------

def _first_key(dataset: str, catalog) -> str:  # noqa: ANN001
    key = catalog.dataset(dataset).schema.primary_key[0]
    with (SAMPLES / f"{dataset}.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if dataset == PERSONAL:  # an individual's licence: its record holds a name, an ID number, a phone
        rows = [r for r in rows if r["holder_kind"] == "ca_nhan"]
    return rows[0][key]


def _report_access(catalog, definition) -> str:  # noqa: ANN001
    """hub/api/statistics.py: open when aggregate-only (with a minimum cell), else as its datasets."""
    if definition.aggregate_only and definition.min_cell > 0:
        return OPEN
    order = ["open", "shared", "restricted"]
    return max((catalog.dataset(ds).access for ds in definition.datasets), key=order.index)


def _first_file(folder: str | Path) -> str:
    return sorted(p.name for p in Path(folder).iterdir() if p.is_file())[0]


def _static_files(app) -> dict[str, str]:  # noqa: ANN001
    from xstatic.pkg import leaflet, leaflet_markercluster

    files = {"web.leaflet": "leaflet.js", "web.markercluster": _first_file(leaflet_markercluster.BASE_DIR)}
    assert (Path(leaflet.BASE_DIR) / "leaflet.js").is_file()
    for name, bp in app.blueprints.items():
        if bp.has_static_folder:
            files[f"{name}.static"] = _first_file(bp.static_folder)
    return files


def _names(rule: str) -> list[str]:
    return re.findall(r"<(?:[^<>:]+:)?(\w+)>", rule)


def _fmts(rule) -> list[str]:  # noqa: ANN001
    """The formats the product declares for the rule (two of DCAT's per dataset: the others share its code)."""
    from hub.web.downloads import PEOPLE_FORMATS
    from publish import dcat
    from publish.exports import FORMATS

    if rule.endpoint == "web.download":
        return sorted(FORMATS)
    if rule.endpoint == "web.download_for_people":
        return sorted(PEOPLE_FORMATS)
    return sorted(dcat.FORMATS)[:2] if "<dataset_id>" in rule.rule else sorted(dcat.FORMATS)


def _values(rule, ids: Ids, dataset: str | None) -> dict[str, list[str]]:  # noqa: ANN001
    """The real values each variable of `rule` takes (for `dataset` when the rule names one)."""
    admin = rule.rule.startswith("/api/v1/admin/")
    out: dict[str, list[str]] = {
        "dataset_id": [dataset or ""], "key": [ids.keys.get(dataset or "", "")],
        "load_id": [str(ids.loads.get(dataset or "", 0))],
        "package_id": [ids.packages[dataset][0]] if dataset else [],
        "resource_id": ids.packages[dataset][1] if dataset else [],
        "job_id": [ids.job], "ver": ["3"], "publisher_id": [ids.publisher], "report_id": sorted(ids.reports),
        "fmt": _fmts(rule),
        "name": [ids.client] if admin else ["report.json", "report.html", "rows-to-fix.xlsx"],
        "filename": [ids.files.get(rule.endpoint, "x.csv")],
        "token": [{"steward.publish": ids.publish_token, "steward.discard": ids.discard_token}.get(
            rule.endpoint, ids.token)],
    }
    if dataset == OPEN_DATASET:  # nothing personal in it: one format and one resource show it is served
        out["fmt"], out["resource_id"] = out["fmt"][:1], out["resource_id"][:1]
    return out


def _targets(rule, ids: Ids, kind: str, values: dict[str, str], dataset: str | None, good: bool = False) -> Target:  # noqa: ANN001
    literal = re.match(r"^/api/v1/datasets/([\w-]+)/", rule.rule)
    named = dataset or (literal.group(1) if literal else None)
    report = values.get("report_id")
    owned = kind == "steward-upload" or rule.rule.startswith("/api/v1/jobs/")
    return Target(dataset_access=ids.access.get(named or "", OPEN) if named else None,
                  report_access=ids.reports.get(report) if report else None, owner_only=owned, good_body=good)


def cells(app, ids: Ids) -> list[Cell]:  # noqa: ANN001
    out: list[Cell] = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, sorted(r.methods or []))):
        kind = family(rule.rule)
        names = _names(rule.rule)
        unknown = set(names) - {"dataset_id", "key", "load_id", "package_id", "resource_id", "job_id", "ver",
                                "publisher_id", "report_id", "fmt", "name", "filename", "token",
                                "logic_function"}
        assert not unknown, f"{rule.rule}: give the matrix a real value for {unknown}"
        if kind == "ckan-action":
            out += _ckan_cells(rule, ids)
            continue
        datasets = DATASETS if PER_DATASET & set(names) else (None,)
        variants: list[tuple[dict[str, str], str | None]] = []
        for dataset in datasets:
            options = _values(rule, ids, dataset)
            for combo in itertools.product(*[options[n] for n in names]):
                variants.append((dict(zip(names, combo, strict=True)), dataset))
        for index, (values, dataset) in enumerate(variants):
            url = rule.build(values, append_unknown=False)[1] + QUERIES.get(rule.rule.rsplit("/", 1)[-1], "")
            for method in sorted(rule.methods or []):
                if method in ("HEAD", "OPTIONS") and index:
                    continue  # Flask answers these for every rule alike: one URL of each rule is enough
                target = _targets(rule, ids, kind, values, dataset)
                if method in ("GET", "HEAD", "OPTIONS"):
                    out.append(Cell(rule.rule, method, url, kind, target))
                    continue
                phase = 3 if kind == "steward-logout" else 2 if method == "DELETE" or rule.endpoint in (
                    "steward.publish", "steward.discard") else 1
                out.append(Cell(rule.rule, method, url, kind, target, _empty, phase, "empty"))
                good = _good_body(rule.rule, rule.endpoint, method, dataset, ids)
                if good is not None:
                    out.append(Cell(rule.rule, method, url, kind, _targets(rule, ids, kind, values, dataset, True),
                                    good, phase, "good"))
    return out


def _empty(caller: Caller, client: Any) -> dict[str, Any]:
    return {}


def _csrf(client: Any) -> str:
    with client.session_transaction() as session:
        return str(session.get("csrf", ""))


def _form(caller: Caller, client: Any, **fields: Any) -> dict[str, Any]:
    """A workspace form as the caller's browser sends it: with its session's CSRF token when it has one."""
    data = dict(fields)
    if caller.session:
        data["csrf_token"] = _csrf(client)
    return {"data": data, "content_type": "multipart/form-data"}


def _good_body(rule: str, endpoint: str, method: str, dataset: str | None, ids: Ids) -> Body | None:
    messy = MESSY_LICENCES.read_bytes()
    if rule.endswith("/uploads") and rule.startswith("/api/v1/") and dataset == PERSONAL:
        # the messy licences: refused (422) with a report whose cells are an individual's; nothing changes
        return lambda c, cl: {"data": {"file": (io.BytesIO(messy), "licences.csv")},
                              "content_type": "multipart/form-data"}
    if rule == "/api/v1/admin/clients":
        return lambda c, cl: {"json": {"name": ids.unique("client"), "role": "department"}}
    if rule.startswith("/api/v1/admin/clients/") and rule.endswith("/keys") and method == "POST":
        return lambda c, cl: {"json": {"days": 1}}
    if "/grants/" in rule and method == "PUT":
        return lambda c, cl: {"json": {"personal": False}}
    if endpoint == "steward.login":
        return lambda c, cl: _form(c, cl, key=ids.tokens.get(c.name.removeprefix("session:"), ""))
    if endpoint == "steward.upload":
        return lambda c, cl: _form(c, cl, dataset=PERSONAL, file=(io.BytesIO(messy), "licences.csv"))
    if endpoint in ("steward.logout", "steward.publish", "steward.discard"):
        return lambda c, cl: _form(c, cl)
    return None


# -- the CKAN Action API: every action of its registry ------------------------------------------------------------

def _ckan_reads(ids: Ids) -> list[tuple[str, dict[str, Any], str | None]]:
    """(action, parameters, the dataset they name) for the read actions that take an id."""
    out: list[tuple[str, dict[str, Any], str | None]] = []
    for dataset in DATASETS:
        package, resources = ids.packages[dataset]
        out += [("package_show", {"id": dataset}, dataset), ("datastore_info", {"id": resources[0]}, dataset),
                ("datastore_search", {"resource_id": resources[0], "limit": 1000}, dataset),
                ("resource_show", {"id": resources[0]}, dataset), ("resource_view_list", {"id": resources[0]}, dataset)]
    out += [("datastore_search", {"resource_id": PERSONAL, "limit": 1000, "records_format": "csv"}, PERSONAL),
            ("datastore_search", {"resource_id": PERSONAL, "q": ids.keys[PERSONAL]}, PERSONAL),
            ("package_search", {"q": "ca_nhan", "include_private": "true", "rows": 100}, None),
            ("organization_show", {"id": ids.publisher, "include_datasets": "true"}, None),
            ("group_show", {"id": ids.theme, "include_datasets": "true"}, None),
            ("group_package_show", {"id": ids.theme}, None),
            ("tag_show", {"id": ids.tag, "include_datasets": "true"}, None),
            ("help_show", {"name": "datastore_search"}, None), ("package_autocomplete", {"q": "giay phep"}, None)]
    return out


def _ckan_writes(ids: Ids) -> dict[str, Callable[[], dict[str, Any]]]:
    c = ids.ckan
    return {
        "package_create": lambda: {"name": ids.unique("package"), "owner_org": c["org"]},
        "package_update": lambda: {"id": c["package"], "name": c["package_name"], "owner_org": c["org"],
                                   "title": "Matrix"},
        "package_patch": lambda: {"id": c["package"], "title": "Matrix patched"},
        "package_revise": lambda: {"match": {"id": c["package"]}, "update": {"title": "Matrix revised"}},
        "package_delete": lambda: {"id": c["doomed_package"]},
        "resource_create": lambda: {"package_id": c["package"], "url": "http://example.org/a.csv", "name": "a"},
        "resource_update": lambda: {"id": c["resource"], "url": "http://example.org/b.csv", "name": "b"},
        "resource_patch": lambda: {"id": c["resource"], "name": "c"},
        "resource_delete": lambda: {"id": c["doomed_resource"]},
        "organization_create": lambda: {"name": ids.unique("org")},
        "organization_update": lambda: {"id": c["org"], "name": c["org"], "title": "Matrix"},
        "organization_patch": lambda: {"id": c["org"], "title": "Matrix patched"},
    }


def _ckan_cells(rule, ids: Ids) -> list[Cell]:  # noqa: ANN001
    from hub.ckan.registry import ACTIONS

    reads = _ckan_reads(ids)
    writes = _ckan_writes(ids)
    chosen = sorted(ACTIONS) if "<" in rule.rule.split("/action/")[0] else ["datastore_search", "package_create"]
    first_read = next(n for n in chosen if ACTIONS[n].side_effect_free)
    out: list[Cell] = []
    for name in chosen:
        read = ACTIONS[name].side_effect_free
        phase = 2 if name.endswith("_delete") else 1
        calls = [(p, d) for a, p, d in reads if a == name] or [({}, None)]
        for index, (params, dataset) in enumerate(calls):
            url = rule.build({"ver": 3, "logic_function": name}, append_unknown=False)[1]
            target = Target(dataset_access=ids.access[dataset] if dataset else None, action_read=read)
            query = urlencode(params)
            for method in sorted(rule.methods or []):
                # Flask answers OPTIONS alike for every action: once per rule; HEAD runs the action as GET
                # does: once per write action (a write must never run on HEAD), once for the reads
                if (method == "OPTIONS" and (index or name != chosen[0])) or (method == "HEAD" and (
                        index or (read and name != first_read))):
                    continue
                if method in ("GET", "HEAD", "OPTIONS"):
                    out.append(Cell(rule.rule, method, f"{url}?{query}" if query else url, "ckan-action", target))
                elif read and dataset not in (None, PERSONAL):
                    continue  # POSTed reads (ckanapi's way) on the personal dataset's calls; GET covers the rest
                elif read:
                    out.append(Cell(rule.rule, method, url, "ckan-action", target,
                                    lambda c, cl, p=params: {"json": p}, 1, "params"))
                else:
                    out.append(Cell(rule.rule, method, url, "ckan-action", target, lambda c, cl: {"json": {}}, phase,
                                    "empty"))
                    if name in writes:
                        out.append(Cell(rule.rule, method, url, "ckan-action",
                                        Target(action_read=False, good_body=True),
                                        lambda c, cl, make=writes[name]: {"json": make()}, phase, "good"))
    return out


# -- the hub, its callers and its ids -----------------------------------------------------------------------------

def _denied_callers(hub) -> dict[str, dict[str, str]]:  # noqa: ANN001
    """Keys of clients that hold an admin role and the personal grant, then are refused."""
    headers = {"bad-key": {"Authorization": "Bearer hub_deadbeef_" + "x" * 40}}
    for state in ("revoked", "expired", "disabled"):
        name = f"{state}-{uuid.uuid4().hex[:4]}"
        clients.create_client(hub.store, name, "admin", actor="tests")
        clients.grant(hub.store, name, PERSONAL, personal=True, purpose="kiểm thử / test", granted_by="tests")
        token = clients.issue_key(hub.store, name, days=30, actor="tests").token
        if state == "revoked":
            clients.revoke_keys(hub.store, name, actor="tests")
        elif state == "expired":
            with hub.store.engine.begin() as conn:
                conn.execute(tables.api_keys.update().where(tables.api_keys.c.prefix == token.split("_")[1])
                             .values(expires_at=utcnow() - timedelta(days=1)))
        else:
            clients.set_disabled(hub.store, name, actor="tests")
        headers[state] = {"Authorization": f"Bearer {token}"}
    clients.forget_keys()
    return headers


def _ckan_throwaways(client, admin: dict[str, str], ids_unique: Callable[[str], str]) -> dict[str, str]:  # noqa: ANN001
    def call(action: str, **body: Any) -> dict[str, Any]:
        answer = client.post(f"/api/3/action/{action}", json=body, headers=admin)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return answer.json["result"]

    org = call("organization_create", name=ids_unique("org"))["name"]
    package = call("package_create", name=ids_unique("package"), owner_org=org,
                   resources=[{"url": "http://example.org/r.csv", "name": "r"}])
    doomed = call("package_create", name=ids_unique("doomed"), owner_org=org,
                  resources=[{"url": "http://example.org/d.csv", "name": "d"}])
    return {"org": org, "package": package["id"], "package_name": package["name"],
            "resource": package["resources"][0]["id"], "doomed_package": doomed["id"],
            "doomed_resource": call("resource_create", package_id=package["id"], url="http://example.org/x.csv",
                                    name="x")["id"]}


@pytest.fixture(scope="module")
def matrix(attacked):  # noqa: ANN001, ANN201
    hub = attacked.hub
    headers: dict[str, dict[str, str]] = {name: attacked.headers(name) for name in attacked.tokens}
    headers["anonymous"] = {}
    headers.update(_denied_callers(hub))
    app = attacked.app()
    client = app.test_client()
    with MESSY_LICENCES.open("rb") as handle:  # a job of the granted steward
        job = client.post(f"/api/v1/datasets/{PERSONAL}/uploads", headers=headers[OWNER],
                          data={"file": (handle, "licences.csv")}, content_type="multipart/form-data").json["job"]["id"]
    uploads = {}
    for use, source in (("walked", MESSY_LICENCES), ("publish", SAMPLES / "licences.csv"), ("discard", MESSY_LICENCES)):
        with source.open("rb") as handle:  # uploads in its workspace: one checked and walked, two thrown away
            uploads[use] = workspace.create(hub, PERSONAL, handle, "licences.csv", OWNER)
        workspace.validate(hub, uploads[use])  # checked: a file still being checked cannot be discarded
    packages = {}
    for dataset in DATASETS:
        found = client.get(f"/api/3/action/package_show?id={dataset}", headers=headers["admin"]).json["result"]
        packages[dataset] = (found["id"], [r["id"] for r in found["resources"]])
    catalog = hub.catalog
    loads = {ds: versions.loads(hub.store, ds, limit=1)[0]["id"] for ds in DATASETS}
    loads[PERSONAL] = attacked.rejected_load
    counter = itertools.count()
    ids = Ids(
        access={ds.id: ds.access for ds in catalog}, keys={ds: _first_key(ds, catalog) for ds in DATASETS},
        loads=loads, packages=packages, job=job, token=uploads["walked"].token,
        publish_token=uploads["publish"].token, discard_token=uploads["discard"].token,
        reports={r.id: _report_access(catalog, r) for r in catalog.reports.values()},
        publisher=sorted(catalog.publishers)[0], theme=catalog.dataset(PERSONAL).themes[0],
        tag=catalog.dataset(OPEN_DATASET).keywords("vi")[0], files=_static_files(app), ckan={}, client="",
        tokens=dict(attacked.tokens), counter=counter)
    ids.ckan = _ckan_throwaways(client, headers["admin"], ids.unique)
    ids.client = ids.unique("throwaway")
    clients.create_client(hub.store, ids.client, "department", actor="tests")
    clients.issue_key(hub.store, ids.client, days=1, actor="tests")
    sessions = {}
    for name in ("steward", OWNER, "admin"):
        browser = app.test_client()
        assert sign_in(browser, attacked.tokens[name]).status_code == 303
        sessions[f"session:{name}"] = browser
    return app, headers, sessions, cells(app, ids)


def _text(body: bytes) -> str:
    """An answer's text to search for personal values; a workbook's (a zip of XML) unpacked first."""
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as book:
            return "\n".join(book.read(n).decode("utf-8", "replace") for n in book.namelist())
    return body.decode("utf-8", "replace")


def test_every_route_and_method_answers_each_caller_as_its_access_rule_says(matrix) -> None:  # noqa: ANN001, C901
    app, headers, sessions, walked = matrix
    client = app.test_client()
    pairs = {(r.rule, m) for r in app.url_map.iter_rules() for m in r.methods or []}
    assert {(c.rule, c.method) for c in walked} == pairs, "every method of every rule is walked"
    wrong: list[tuple[str, str, str, str, int, Expect | str]] = []
    leaks: list[tuple[str, str, str, list[str]]] = []
    granted_saw: set[str] = set()
    succeeded: dict[tuple[str, str, str], bool] = {}
    started, requests = time.perf_counter(), 0
    for phase in range(4):
        for cell in [c for c in walked if c.phase == phase]:
            for caller in CALLERS:
                who = sessions.get(caller.name, client)
                extra = cell.body(caller, who) if cell.body else {}
                requests += 1
                try:
                    answer = who.open(cell.url, method=cell.method, headers=headers.get(caller.name, {}), **extra)
                except Exception as exc:  # noqa: BLE001 - TESTING propagates what a server answers with a 500
                    wrong.append((caller.name, cell.method, cell.url, cell.note, 500, repr(exc)[:200]))
                    continue
                wanted = expect(cell.kind, cell.method, caller, cell.target)
                if not wanted.holds(cell.method, answer.status_code):
                    wrong.append((caller.name, cell.method, cell.url, cell.note, answer.status_code, wanted))
                if wanted.allowed and cell.note == "good":
                    key = (cell.rule, cell.method, cell.url)
                    succeeded[key] = succeeded.get(key, False) or answer.status_code < 400
                shown = leaked(_text(answer.get_data()))
                if caller.personal:
                    granted_saw.update([cell.url] if shown else [])
                elif shown:
                    leaks.append((caller.name, cell.method, cell.url, shown[:3]))
    seconds = time.perf_counter() - started
    print(f"\naccess matrix: {len(walked)} cells × {len(CALLERS)} callers = {requests} requests in {seconds:.1f} s")
    assert not leaks, leaks[:20]
    assert not wrong, "\n".join(map(str, wrong[:40])) + f"\n({len(wrong)} in all)"
    refused_file = "/api/v1/datasets/<string:dataset_id>/uploads"  # the messy licences: refused (422) by design
    never = sorted(k for k, ok in succeeded.items() if not ok and k[0] != refused_file)
    assert not never, f"no allowed caller succeeded with the good body: {never}"
    assert len(granted_saw) >= 5, "the granted callers do read personal values (the check can fail)"


def test_denied_states_read_nothing_but_open_data(matrix, attacked) -> None:  # noqa: ANN001
    app, headers, _, _ = matrix
    client = app.test_client()
    for state in ("bad-key", "revoked", "expired", "disabled"):
        assert client.get(f"/api/v1/datasets/{PERSONAL}/records", headers=headers[state]).status_code == 401
        assert client.get("/api/v1/datasets/heritage-sites/records", headers=headers[state]).status_code == 401
    with attacked.hub.store.audit_engine.connect() as conn:
        refused = conn.execute(sa.select(sa.func.count()).select_from(tables.audit_log)
                               .where(tables.audit_log.c.status == 401)).scalar()
    assert refused >= 8


def test_what_the_matrix_found_stays_fixed(matrix) -> None:  # noqa: ANN001
    """HEAD is a GET without its body: never a 500 (swagger.json's trimming read the empty body), never a CKAN
    write (HEAD ran package_delete & co. as POST does); a non-open dataset's DCAT URI is a 404 like its RDF,
    not a redirect that says it exists."""
    app, headers, _, _ = matrix
    client = app.test_client()
    assert client.head("/api/v1/swagger.json").status_code == 200
    created = client.post("/api/3/action/organization_create", json={"name": f"mx-head-{uuid.uuid4().hex[:6]}"},
                          headers=headers["admin"]).json["result"]
    refused = client.head(f"/api/3/action/organization_patch?id={created['id']}&title=changed", headers=headers["admin"])
    assert refused.status_code == 400
    kept = client.get(f"/api/3/action/organization_show?id={created['id']}").json["result"]
    assert kept["title"] == created["title"]
    for dataset in (PERSONAL, RESTRICTED):
        assert client.get(f"/dataset/{dataset}").status_code == 404
        assert client.get(f"/dataset/{dataset}", headers={"Accept": "text/turtle"}).status_code == 404
    assert client.get(f"/dataset/{OPEN_DATASET}").status_code in (302, 303)
