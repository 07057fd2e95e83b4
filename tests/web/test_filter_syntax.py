"""One filter syntax for the sharing API and the web preview (publish.filters): the same parameters give the same
rows on both; what is not a filter is refused with a message naming it (the API: 400 in Vietnamese and English;
the preview: a notice) rather than ignored; links of the preview's earlier spelling (`f.<field>`) still work."""

from __future__ import annotations

import csv
import re

from core.config import PROJECT_ROOT

SITES = list(csv.DictReader((PROJECT_ROOT / "samples" / "heritage-sites.csv").open(encoding="utf-8")))


def _page_codes(html: str) -> list[str]:
    return sorted(set(re.findall(r'records/(DT-\d{4})"', html)))


def _api_codes(client, params: dict[str, str]) -> list[str]:  # noqa: ANN001
    answer = client.get("/api/v1/datasets/heritage-sites/records", query_string={**params, "limit": 1000})
    assert answer.status_code == 200, answer.get_json()
    return sorted(r["code"] for r in answer.get_json()["records"])


def test_the_same_parameters_filter_the_api_and_the_preview_alike(sample_client) -> None:  # noqa: ANN001
    for params in ({"rank": "quoc_gia_dac_biet"}, {"code__in": "DT-0001,DT-0003"}, {"name__contains": "Chùa"},
                   {"rank__ne": "quoc_gia", "code__lte": "DT-0010"}, {"decision_number__null": "true"}):
        api = _api_codes(sample_client, params)
        page = sample_client.get("/datasets/heritage-sites", query_string={**params, "per": 100})
        assert page.status_code == 200 and "cannot be applied" not in page.get_data(as_text=True)
        assert _page_codes(page.get_data(as_text=True)) == api, params
    assert _api_codes(sample_client, {"rank": "quoc_gia_dac_biet"}) == sorted(
        s["code"] for s in SITES if s["rank"] == "quoc_gia_dac_biet")


def test_the_preview_boxes_send_the_apis_spelling_and_keep_other_filters(sample_client) -> None:  # noqa: ANN001
    html = sample_client.get("/datasets/heritage-sites", query_string={"rank": "quoc_gia", "code__in": "DT-0001,DT-0002",
                                                                      "lang": "en"}).get_data(as_text=True)
    assert 'name="name__contains"' in html and 'name="rank"' in html and 'name="f.' not in html
    assert '<input type="hidden" name="code__in" value="DT-0001,DT-0002">' in html  # no box holds it: kept


def test_old_preview_links_still_work(sample_client) -> None:  # noqa: ANN001
    old = sample_client.get("/datasets/heritage-sites", query_string={"f.name": "Chùa", "f.rank": "quoc_gia", "per": 100})
    new = sample_client.get("/datasets/heritage-sites", query_string={"name__contains": "Chùa", "rank": "quoc_gia",
                                                                     "per": 100})
    assert old.status_code == 200 and _page_codes(old.get_data(as_text=True)) == _page_codes(new.get_data(as_text=True))
    assert len(_page_codes(new.get_data(as_text=True))) == 3


def test_what_is_not_a_filter_is_refused_not_ignored(sample_client) -> None:  # noqa: ANN001
    url = "/api/v1/datasets/heritage-sites/records"
    for params, named in (({"rank__like": "quoc"}, "like"), ({"ranking": "quoc_gia"}, "ranking"),
                          ({"decision_number__null": "maybe"}, "decision_number__null")):
        answer = sample_client.get(url, query_string=params)
        body = answer.get_json()
        assert answer.status_code == 400 and body["code"] == "bad-query", params
        assert named in body["message"]["vi"] and named in body["message"]["en"], body
    assert "__contains" in sample_client.get(url, query_string={"rank__like": "x"}).get_json()["message"]["en"]
    page = sample_client.get("/datasets/heritage-sites", query_string={"rank__like": "quoc", "ranking": "x", "lang": "en"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "cannot be applied" in text and "rank__like" in text and "ranking" in text
