"""Fixtures of the attack suite: a hub with the samples, a restricted dataset, the messy licences (personal
data in a rejected load) and a key for every kind of caller, including a second steward and callers holding
the personal-data grant of `licences`.

Built on tests/hub/api/conftest.py (the same catalogue and callers) with callers of its own, in a hub of its
own: these tests upload, revoke and disable, so they never share the access tests' hub.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from publish import clients
from tests.conftest import BACKENDS
from tests.hub.api.conftest import PERSONAL, SAMPLES, Secured, copy_secured, personal_values
from tests.hub_copies import Templates

PURPOSE = "Xác minh người được cấp phép / verifying licence holders"

# callers added to the access tests' ones: name -> (role, personal grant of licences)
EXTRA: dict[str, tuple[str, bool]] = {
    "steward-b": ("steward", False),
    "steward-personal": ("steward", True),
    "admin-personal": ("admin", True),
}


def add_callers(secured: Secured) -> None:
    store = secured.hub.store
    for name, (role, personal) in EXTRA.items():
        clients.create_client(store, name, role, actor="tests")
        secured.tokens[name] = clients.issue_key(store, name, days=30, actor="tests").token
        if personal:
            clients.grant(store, name, PERSONAL, personal=True, purpose=PURPOSE, granted_by="tests")


@pytest.fixture(scope="module", params=BACKENDS)
def attacked(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
             templates: Templates) -> Iterator[Secured]:
    """A hub of this module's own (tests may upload and change keys): a copy of one built once per process."""
    made, copy = copy_secured(templates, request.param, tmp_path_factory.mktemp(f"attack-{request.param}"),
                              name="attacked", more=add_callers)
    yield made
    copy.close()


@pytest.fixture(scope="module")
def attacked_client(attacked: Secured):  # noqa: ANN201 - a Flask test client
    return attacked.app().test_client()


MESSY_LICENCES: Path = SAMPLES / "messy" / "licences.csv"
PERSONAL_VALUES: set[str] = personal_values()


_ANY_PERSONAL = re.compile("|".join(map(re.escape, sorted(PERSONAL_VALUES, key=len, reverse=True))))


def leaked(text: str) -> list[str]:
    """The personal sample values found in `text` (an answer's body, a file's text)."""
    if not _ANY_PERSONAL.search(text):  # one pass first: most answers hold none (the access matrix reads thousands)
        return []
    return sorted(v for v in PERSONAL_VALUES if v in text)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_in(client, token: str):  # noqa: ANN001, ANN201 - a Flask test client, its answer
    """Sign in to the steward workspace as a browser does (the form's CSRF token, then the key)."""
    page = client.get("/steward/login")
    return client.post("/steward/login", data={"key": token, "csrf_token": csrf_of(page.get_data(as_text=True))})
