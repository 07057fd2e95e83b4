"""Cursor walks: following `next` page by page gives exactly the rows of one listing, in its order, for the
default order and for sorts on fields with duplicate values and NULLs, on both backends."""

from __future__ import annotations

import base64
import csv
import io
import json
from typing import Any

import pandas as pd
import pytest

from publish.context import Hub
from publish.loads import Loader
from tests.publish.conftest import accommodation_frame

ACCOMMODATION = "/api/v1/datasets/accommodation/records"
HERITAGE = "/api/v1/datasets/heritage-sites/records"


def _walk(client: Any, url: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    pages = 0
    while url:
        answer = client.get(url)
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
        body = answer.get_json()
        rows += body["records"]
        url = body["next"] and body["next"].replace("http://localhost", "")
        pages += 1
        assert pages < 1000
    return rows


@pytest.mark.parametrize("path, query", [
    (ACCOMMODATION, ""),
    (ACCOMMODATION, "type=khach_san"),
    (ACCOMMODATION, "sort=star_rank"),  # 108 of 150 NULL, the rest five values
    (ACCOMMODATION, "sort=-star_rank"),
    (ACCOMMODATION, "sort=website"),  # text, half NULL
    (ACCOMMODATION, "sort=-website&rooms__gte=20"),
    (ACCOMMODATION, "sort=rooms"),  # integers, duplicates and a few NULLs
    (ACCOMMODATION, "sort=type,-star_rank"),  # two keys, opposite directions
    (ACCOMMODATION, "sort=-type,star_rank,-rooms"),
    (ACCOMMODATION, "sort=-lat"),  # numbers
    (ACCOMMODATION, "sort=star_rank&fields=name"),  # the sort field is not among those returned
    (HERITAGE, "sort=decision_date"),  # dates, one NULL
    (HERITAGE, "sort=-decision_date"),
    (HERITAGE, "sort=rank,-decision_date"),
])
def test_a_cursor_walk_returns_the_rows_of_one_listing_in_order(sample_client, path: str, query: str) -> None:  # noqa: ANN001
    sep = "&" if query else ""
    listing = sample_client.get(f"{path}?{query}{sep}limit=1000").get_json()
    assert listing["next"] is None and len(listing["records"]) == listing["total"] > 10
    for limit in (7, 40):
        walked = _walk(sample_client, f"{path}?{query}{sep}limit={limit}")
        assert walked == listing["records"], (query, limit)


def _cursor(data: Any) -> str:
    raw = data.encode() if isinstance(data, str) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("query, data", [
    ("", "[1, 2]"),  # not an object
    ("", {"k": ["LT-0001"]}),  # no version
    ("", {"v": 1, "s": "", "k": "LT-0001"}),  # the keyset not a list
    ("", {"v": 1, "s": "", "k": []}),
    ("", {"v": 1, "s": "", "k": ["LT-0001", "LT-0002"]}),  # wrong arity
    ("sort=star_rank", {"v": 1, "s": "star_rank", "k": ["LT-0001"]}),
    ("", {"v": 1, "s": "", "k": [None]}),  # the key is never NULL
    ("", {"v": 1, "s": "", "k": [5]}),  # nor a number
    ("", {"v": 1, "s": "", "k": ["LT\u00000001"]}),  # a NUL: PostgreSQL refuses it in a text (a 500)
    ("", '{"v": 1, "s": "", "k": ["\\ud800"]}'),  # a lone surrogate: not UTF-8
    ("", {"v": 1, "s": "", "k": ["LT-0001"], "o": 5}),  # both kinds at once
    ("", {"v": [1], "s": "", "k": ["LT-0001"]}),
    ("sort=star_rank", {"v": 1, "s": "star_rank", "k": ["five", "LT-0001"]}),  # integer column
    ("sort=star_rank", {"v": 1, "s": "star_rank", "k": [True, "LT-0001"]}),
    ("sort=star_rank", {"v": 1, "s": "star_rank", "k": [4.5, "LT-0001"]}),
    ("sort=star_rank", {"v": 1, "s": "star_rank", "k": [10**30, "LT-0001"]}),  # overflows the database's integer
    ("sort=lat", {"v": 1, "s": "lat", "k": ["10.9", "LT-0001"]}),  # number column
    ("sort=lat", '{"v": 1, "s": "lat", "k": [NaN, "LT-0001"]}'),
    ("sort=lat", '{"v": 1, "s": "lat", "k": [Infinity, "LT-0001"]}'),
    ("sort=lat", {"v": 1, "s": "lat", "k": [10**400, "LT-0001"]}),
    ("sort=website", {"v": 1, "s": "website", "k": [7, "LT-0001"]}),  # text column
    ("sort=-star_rank", {"v": 1, "s": "star_rank", "k": [3, "LT-0001"]}),  # made for another sort
    ("sort=star_rank", {"v": 1, "s": "", "k": ["LT-0001"]}),
    ("near=10.95,106.82,50000&sort=distance_m", {"v": 1, "s": "distance_m", "k": [10.5, "LT-0001"]}),  # no keyset
])
def test_a_forged_cursor_is_refused_with_400(sample_client, query: str, data: Any) -> None:  # noqa: ANN001
    answer = sample_client.get(f"{ACCOMMODATION}?{query}&cursor={_cursor(data)}")
    assert answer.status_code == 400, (data, answer.status_code, answer.get_data(as_text=True)[:300])
    body = answer.get_json()
    assert body["message"]["vi"] and body["message"]["en"] == "The page cursor is not valid"


@pytest.mark.parametrize("query, data", [
    ("sort=decision_date", {"v": 1, "s": "decision_date", "k": ["30/04/1975", "DT-001"]}),  # date column
    ("sort=decision_date", {"v": 1, "s": "decision_date", "k": [19750430, "DT-001"]}),
])
def test_a_cursor_with_a_value_not_of_its_columns_type_is_refused(sample_client, query: str, data: Any) -> None:  # noqa: ANN001
    answer = sample_client.get(f"{HERITAGE}?{query}&cursor={_cursor(data)}")
    assert answer.status_code == 400, (data, answer.status_code, answer.get_data(as_text=True)[:300])
    assert answer.get_json()["context"]["field"] == "cursor"


def test_an_offset_cursor_still_pages(sample_client) -> None:  # noqa: ANN001
    """Cursors handed out before keyset ones (an offset) keep working, and `sort=distance_m` still makes them."""
    listing = sample_client.get(f"{ACCOMMODATION}?limit=1000").get_json()["records"]
    page = sample_client.get(f"{ACCOMMODATION}?limit=10&cursor={_cursor({'v': 1, 'o': 30})}").get_json()
    assert page["records"] == listing[30:40]
    near = "near=10.95,106.82,50000&sort=distance_m"
    nearby = sample_client.get(f"{ACCOMMODATION}?{near}&limit=1000").get_json()["records"]
    assert len(nearby) > 10 and _walk(sample_client, f"{ACCOMMODATION}?{near}&limit=4") == nearby


def _load(hub: Hub, frame: pd.DataFrame) -> int:
    with Loader(hub.store, hub.catalog.dataset("accommodation"), {"source_name": "walk.csv"}) as loader:
        loader.stage(frame)
        result = loader.commit()
    assert result.status == "committed" and result.version
    return result.version


def test_a_walk_started_before_a_load_pages_the_version_it_started_on(hub: Hub) -> None:
    from hub.app import create_app

    client = create_app(hub.settings, hub=hub).test_client()
    first = accommodation_frame(1, 60)
    first.loc[first.index % 3 == 0, "star_rank"] = pd.NA  # NULLs among duplicates
    assert _load(hub, first) == 1
    walks = {}
    for query in ("limit=7", "limit=7&sort=-star_rank", "limit=7&sort=star_rank,-rooms"):
        page = client.get(f"{ACCOMMODATION}?{query}").get_json()
        walks[query] = (page["records"], page["next"].replace("http://localhost", ""))
    # the second version renames 20 records and moves them in the sort, drops 10, adds 20
    second = pd.concat([accommodation_frame(1, 20, tag=" (v2)"), accommodation_frame(31, 50)], ignore_index=True)
    second.loc[: 19, "star_rank"] = 5 - second.loc[: 19, "star_rank"]
    assert _load(hub, second) == 2
    for query, (rows, url) in walks.items():
        sort = query.partition("&")[2]
        old = client.get(f"{ACCOMMODATION}?limit=1000&as_of=1&{sort}").get_json()["records"]
        new = client.get(f"{ACCOMMODATION}?limit=1000&{sort}").get_json()["records"]
        assert len(old) == 60 and new != old
        while url:
            body = client.get(url).get_json()
            assert body["version"] == 1
            rows += body["records"]
            url = body["next"] and body["next"].replace("http://localhost", "")
        assert rows == old, query


@pytest.mark.parametrize("sort", ["", "&sort=-star_rank,rooms"])
def test_a_csv_answer_given_a_pages_cursor_holds_the_rows_after_that_page(sample_client, sort: str) -> None:  # noqa: ANN001
    listing = sample_client.get(f"{ACCOMMODATION}?limit=1000{sort}").get_json()["records"]
    cursor = sample_client.get(f"{ACCOMMODATION}?limit=40{sort}").get_json()["next_cursor"]
    answer = sample_client.get(f"{ACCOMMODATION}?format=csv{sort}&cursor={cursor}")
    assert answer.status_code == 200
    codes = [row["code"] for row in csv.DictReader(io.StringIO(answer.get_data(as_text=True)))]
    assert codes == [r["code"] for r in listing[40:]]
