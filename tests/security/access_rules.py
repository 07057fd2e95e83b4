"""What each kind of caller may do on each family of routes: the access matrix's expectations.

Written from the access the code declares (DESIGN.md "Access levels", the docstrings and guards of hub/api,
hub/ckan, hub/web, hub/dcat, hub/steward), never from the answers observed. Every route of the app's URL map
must fall in one family (`family`), so a new route without a declared rule fails the matrix.

The families and their rules:
- public: anyone, whatever credentials come along (pages, static files, probes, catalogue-level DCAT, sign-in
  page). The web site and DCAT read as the anonymous citizen and never look at keys.
- web-dataset / web-report: the web and DCAT forms of a dataset or report: open ones only, 404 for the rest,
  for every caller ("not open: not described, and not said to exist").
- api-*: the sharing API refuses a bad, revoked, expired or disabled key with 401 before anything else. Then:
  api-public anyone; api-root (flask-restx's root, the docs being at /api/v1/docs) 404 for everyone; api-dataset those who may see the dataset (404 otherwise, like a dataset that does not
  exist); api-steward stewards and admins (401 without a key, 403 for departments), then the dataset rule;
  api-jobs any client; api-job its submitter and admins (404 for others); api-statistics those who may see
  every dataset of the report unless it is aggregate-only; api-admin admins (401 / 403).
- ckan-action: CKAN's rules: a write action called with GET is a 400 for everyone; a refused key 401; read
  actions anyone, trimmed to what the caller may see, a dataset they may not see 403/404; write actions need a
  steward or admin key (CKAN's Authorization Error, 403, for everyone else).
- ckan-download: refused key 401; the dataset rule (404).
- steward-*: the workspace knows signed-in sessions only (keys are not read there). Without a session a page
  sends to the sign-in page (303) and a form is refused by the CSRF guard (400); an upload is its uploader's
  alone (404 to anyone else, admins too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPEN, SHARED, RESTRICTED = "open", "shared", "restricted"
WRITERS = ("steward", "admin")


@dataclass(frozen=True)
class Caller:
    name: str
    role: str | None = None  # department, steward or admin; None: no client
    refused: bool = False  # a bad, revoked or expired key, or a disabled client's
    session: bool = False  # a browser signed in to the workspace (it sends no key)
    personal: bool = False  # holds the personal-data grant of `licences`
    restricted: bool = False  # granted the restricted dataset

    @property
    def key_role(self) -> str | None:
        """The role a key gives on the API surfaces (a session's cookie is not a key there)."""
        return None if self.session or self.refused else self.role


CALLERS: tuple[Caller, ...] = (
    Caller("anonymous"),
    Caller("bad-key", refused=True),
    Caller("revoked", refused=True),
    Caller("expired", refused=True),
    Caller("disabled", refused=True),
    Caller("department", "department"),
    Caller("department-granted", "department", restricted=True),
    Caller("department-personal", "department", personal=True, restricted=True),
    Caller("steward", "steward"),
    Caller("steward-b", "steward"),
    Caller("steward-personal", "steward", personal=True),
    Caller("admin", "admin"),
    Caller("admin-personal", "admin", personal=True),
    Caller("session:steward", "steward", session=True),
    Caller("session:steward-personal", "steward", session=True, personal=True),
    Caller("session:admin", "admin", session=True),
)
OWNER = "steward-personal"  # the uploader of the job and workspace upload walked


def sees(caller: Caller, access: str) -> bool:
    """DESIGN.md: open to anyone, shared to any authenticated client, restricted to stewards, admins and the
    departments granted it."""
    role = caller.key_role
    if access == OPEN:
        return True
    if role is None:
        return False
    return access == SHARED or role in WRITERS or caller.restricted


@dataclass(frozen=True)
class Expect:
    allowed: bool
    denied_with: frozenset[int] = frozenset()

    def holds(self, method: str, status: int) -> bool:
        if status >= 500:
            return False
        if not self.allowed:
            return status in self.denied_with
        if status in (401, 403):
            return False
        return status < 400 if method in ("GET", "HEAD") else True


ALLOW = Expect(True)


def deny(*statuses: int) -> Expect:
    return Expect(False, frozenset(statuses))


# (pattern on the rule, family): the first match wins
FAMILIES: tuple[tuple[str, str], ...] = (
    (r"^/api/v1/admin/", "api-admin"),
    (r"^/api/v1/jobs$", "api-jobs"),
    (r"^/api/v1/jobs/", "api-job"),
    (r"^/api/v1/reports/.+/statistics$", "api-statistics"),
    (r"^/api/v1/datasets/[^/]+/(loads|uploads)", "api-steward"),
    (r"^/api/v1/datasets/.+", "api-dataset"),
    (r"^/api/v1/$", "api-root"),
    (r"^/api/v1(/.*)?$", "api-public"),
    (r"^/api/(<[^>]+>/)?action/", "ckan-action"),
    (r"^/api/<[^>]+>$", "public"),
    (r"^/dataset/<package_id>/resource/", "ckan-download"),
    (r"^/steward/login$", "steward-login"),
    (r"^/steward/logout$", "steward-logout"),
    (r"^/steward/report\.css$", "public"),
    (r"^/steward/uploads/<", "steward-upload"),
    (r"^/steward/", "steward-page"),
    (r"^/reports/<", "web-report"),
    (r"<dataset_id>", "web-dataset"),
    (r"^/(static|vendor|swaggerui)/", "public"),
    (r"^/(healthz|readyz|metrics|robots\.txt|sitemap\.xml|feed\.atom|catalog\.<fmt>|dcat\.json|dcat/catalog)$",
     "public"),
    (r"^/(datasets|publishers|publishers/<publisher_id>|reports)?$", "public"),
)


def family(rule: str) -> str:
    for pattern, name in FAMILIES:
        if re.search(pattern, rule):
            return name
    raise LookupError(f"no declared access rule for {rule}: add its family to tests/security/access_rules.py")


@dataclass(frozen=True)
class Target:
    """What a cell names: the dataset's access level, the report's, the CKAN action and whether the body is the
    one an allowed caller would send (steward forms: with the session's CSRF token)."""

    dataset_access: str | None = None
    report_access: str | None = None  # open when aggregate-only, else its most restricted dataset's
    action_read: bool | None = None  # a CKAN action: read (True) or write (False)
    owner_only: bool = False  # a job or an upload of OWNER
    good_body: bool = False


def expect(kind: str, method: str, caller: Caller, target: Target) -> Expect:  # noqa: C901, PLR0911, PLR0912 - one table
    on_api = kind.startswith("api-")
    if method == "OPTIONS":  # answered by Flask itself; only the sharing API checks a presented key first
        return deny(401) if on_api and caller.refused else ALLOW
    if kind == "public":
        return ALLOW
    if kind == "web-dataset":
        return ALLOW if target.dataset_access == OPEN else deny(404)
    if kind == "web-report":
        return ALLOW if target.report_access == OPEN else deny(404)
    if on_api and caller.refused:
        return deny(401)
    role = caller.key_role
    if kind == "api-public":
        return ALLOW
    if kind == "api-root":
        return deny(404)  # flask-restx's root: nothing there (the docs are at /api/v1/docs)
    if kind == "api-dataset":
        return ALLOW if sees(caller, target.dataset_access or OPEN) else deny(404)
    if kind == "api-steward":
        if role is None:
            return deny(401)
        if role not in WRITERS:
            return deny(403)
        return ALLOW if sees(caller, target.dataset_access or OPEN) else deny(404)
    if kind == "api-jobs":
        return ALLOW if role else deny(401)
    if kind == "api-job":
        if role is None:
            return deny(401)
        return ALLOW if role == "admin" or caller.name == OWNER else deny(404)
    if kind == "api-statistics":
        return ALLOW if sees(caller, target.report_access or OPEN) else deny(404)
    if kind == "api-admin":
        if role is None:
            return deny(401)
        return ALLOW if role == "admin" else deny(403)
    if kind == "ckan-action":
        if method in ("GET", "HEAD") and target.action_read is False:
            return deny(400)  # CKAN: "Please use POST method for your request"
        if caller.refused:
            return deny(401)
        if target.action_read:
            return ALLOW if sees(caller, target.dataset_access or OPEN) else deny(403, 404)
        return ALLOW if role in WRITERS else deny(403)
    if kind == "ckan-download":
        if caller.refused:
            return deny(401)
        return ALLOW if sees(caller, target.dataset_access or OPEN) else deny(404)
    return _steward(kind, method, caller, target)


def _steward(kind: str, method: str, caller: Caller, target: Target) -> Expect:
    signed_in = caller.session and caller.role in WRITERS
    refused = deny(400) if method == "POST" else deny(303)  # the CSRF guard; the sign-in page
    if kind == "steward-login":
        if method != "POST":
            return ALLOW
        return ALLOW if signed_in and target.good_body else deny(400)
    if not signed_in or (method == "POST" and not target.good_body):
        return refused
    if kind == "steward-upload" and target.owner_only and caller.name != f"session:{OWNER}":
        return deny(404)
    return ALLOW
