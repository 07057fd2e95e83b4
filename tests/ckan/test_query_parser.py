"""The Solr query subset package_search understands, one row per thing clients and harvesters send."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from hub.ckan.errors import SearchError
from hub.ckan.query_parser import matches, parse
from hub.ckan.search import TEXT_FIELDS
from publish import solr_dates
from publish.store import utcnow

DOC = {
    "name": ["heritage-sites"], "title": ["Di tích lịch sử - văn hóa"], "tags": ["di tích", "heritage"],
    "organization": ["ban-quan-ly-di-tich"], "res_format": ["CSV", "GeoJSON"], "capacity": ["public"],
    "metadata_modified": ["2025-06-01T10:00:00.000000"], "num_resources": [3], "extras_frequency": ["quarterly"],
    "text": ["heritage-sites Di tích lịch sử - văn hóa Đồng Nai di tích heritage"],
}


@pytest.mark.parametrize("query, expected", [
    ("", True),
    ("*:*", True),
    ("di tich", True),  # diacritics ignored
    ("dong nai", True),  # đ is d
    ("di tich karaoke", False),  # every word must match (q.op=AND)
    ("di OR karaoke", True),
    ('"lich su"', True),
    ('"su lich"', False),
    ("name:heritage-sites", True),
    ("name:heritage", False),  # string fields match whole values
    ('tags:"di tích"', True),
    ("tags:(karaoke OR heritage)", True),
    ("res_format:csv", True),
    ("res_format:Geo*", True),
    ("+organization:ban-quan-ly-di-tich -res_format:XLSX", True),
    ("-res_format:CSV", False),
    ("NOT capacity:private", True),
    ("capacity:public AND (tags:karaoke OR tags:heritage)", True),
    ("metadata_modified:[2025-01-01T00:00:00Z TO *]", True),
    ("metadata_modified:[* TO 2025-01-01T00:00:00Z]", False),
    ("num_resources:[2 TO 5]", True),
    ("extras_frequency:quarterly", True),
    ("frequency:*", False),  # an unknown field matches nothing (CKAN's catch-all dynamic field)
    ("title:lich", True),
])
def test_query_matches_like_ckans_solr(query: str, expected: bool) -> None:
    assert matches(parse(query), DOC, TEXT_FIELDS) is expected


@pytest.mark.parametrize("query", ["(di tich", 'title:"unclosed', "metadata_modified:[2025 TO", "a ) b"])
def test_broken_query_is_a_search_error(query: str) -> None:
    with pytest.raises(SearchError):
        parse(query)


def _stamped(when: datetime) -> dict[str, list[str]]:
    return {**DOC, "metadata_modified": [when.isoformat(timespec="microseconds")]}


@pytest.mark.parametrize("query, hours_ago, expected", [
    ("metadata_modified:[NOW-1DAY TO NOW]", 2, True),
    ("metadata_modified:[NOW-1DAY TO NOW]", 30, False),
    ("metadata_modified:[NOW-1DAY TO *]", 0, True),
    ("metadata_modified:[NOW/DAY-1DAY TO NOW/DAY]", 0, False),  # yesterday, whole day: not today
    ("metadata_modified:[NOW-7DAYS/DAY TO NOW+1HOUR]", 24 * 6, True),
    ("metadata_modified:{* TO NOW-1MONTH}", 24 * 40, True),
    ("metadata_modified:[2000-01-01T00:00:00Z+1YEAR TO NOW]", 24 * 365, True),
])
def test_fq_date_maths_like_solr(query: str, hours_ago: int, expected: bool) -> None:
    doc = _stamped(utcnow() - timedelta(hours=hours_ago))
    assert matches(parse(query), doc, TEXT_FIELDS) is expected


def test_exclusive_range_ends_are_left_out() -> None:
    assert matches(parse("num_resources:[3 TO 5]"), DOC, TEXT_FIELDS)
    assert not matches(parse("num_resources:{3 TO 5]"), DOC, TEXT_FIELDS)
    assert not matches(parse("metadata_modified:[* TO 2025-06-01T10:00:00.000000}"), DOC, TEXT_FIELDS)


@pytest.mark.parametrize("text, expected", [
    ("NOW", "2024-01-31T13:45:10.250000"),
    ("NOW/DAY", "2024-01-31T00:00:00"),
    ("NOW-1DAY", "2024-01-30T13:45:10.250000"),
    ("NOW+1MONTH", "2024-02-29T13:45:10.250000"),  # the month's last day, as Solr's calendar does
    ("NOW/MONTH-1MILLI", "2023-12-31T23:59:59.999000"),
    ("NOW-2YEARS/YEAR", "2022-01-01T00:00:00"),
    ("now-6hours/hour", "2024-01-31T07:00:00"),
    ("2025-03-31T00:00:00Z-1MONTH", "2025-02-28T00:00:00"),
])
def test_solr_date_maths(text: str, expected: str) -> None:
    now = datetime(2024, 1, 31, 13, 45, 10, 250000)
    assert solr_dates.resolve(text, now).isoformat() == expected.replace(".000000", "")


@pytest.mark.parametrize("query", ["metadata_modified:[NOW-1FORTNIGHT TO NOW]", "metadata_modified:[NOW-DAY TO *]"])
def test_broken_date_maths_is_a_search_error(query: str) -> None:
    with pytest.raises(SearchError):
        parse(query)
