"""The Solr query subset package_search understands, one row per thing clients and harvesters send."""

from __future__ import annotations

import pytest

from hub.ckan.errors import SearchError
from hub.ckan.query_parser import matches, parse
from hub.ckan.search import TEXT_FIELDS

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
