"""Catalogue search on both backends (FTS5 on SQLite, tsvector on PostgreSQL): diacritics, case, 'đ', facets."""

from __future__ import annotations

import re


def _result_ids(response) -> list[str]:  # noqa: ANN001
    html = response.get_data(as_text=True)
    results = html.split('class="results"', 1)[1].split('id="facets"', 1)[0]
    return re.findall(r'class="card-title"><a href="/datasets/([\w-]+)"', results)


def test_di_tich_finds_heritage_first_whatever_the_accents_and_case(sample_client) -> None:  # noqa: ANN001
    for q in ("di tich", "DI TÍCH", "Di tích", "dI TiCh", "Di Tích", "di ti\u0301ch"):  # the last is decomposed (NFD)
        response = sample_client.get("/datasets", query_string={"q": q})
        assert response.status_code == 200
        assert _result_ids(response)[0] == "heritage-sites", q


def test_d_matches_dj(sample_client) -> None:  # noqa: ANN001
    # "đơn vị hành chính" is only in the admin units' title and keywords
    for q in ("don vi hanh chinh", "ĐƠN VỊ HÀNH CHÍNH", "đơn vị hành chính"):
        assert _result_ids(sample_client.get("/datasets", query_string={"q": q}))[0] == "admin-units", q


def test_field_names_and_field_titles_are_searched(sample_client) -> None:  # noqa: ANN001
    # "Hạng sao" is the title of accommodation's star_rank field, and nowhere in any dataset's text
    assert _result_ids(sample_client.get("/datasets?q=hang+sao")) == ["accommodation"]
    assert _result_ids(sample_client.get("/datasets?q=star_rank")) == ["accommodation"]
    assert _result_ids(sample_client.get("/datasets?q=Star+rating")) == ["accommodation"]


def test_english_words_find_datasets_too(sample_client) -> None:  # noqa: ANN001
    assert _result_ids(sample_client.get("/datasets?q=heritage"))[0] == "heritage-sites"


def test_words_are_prefixes_and_all_must_match(sample_client) -> None:  # noqa: ANN001
    assert "sports-venues" in _result_ids(sample_client.get("/datasets?q=san+van"))
    assert _result_ids(sample_client.get("/datasets?q=khach+san+khongcogi")) == []
    assert "No open dataset matches" in sample_client.get("/datasets?q=khongcogi&lang=en").get_data(as_text=True)


def test_empty_search_lists_every_open_dataset_by_name(sample_client) -> None:  # noqa: ANN001
    ids = _result_ids(sample_client.get("/datasets"))
    assert sorted(ids) == ["accommodation", "admin-units", "heritage-sites", "sports-venues", "travel-agencies"]
    en = _result_ids(sample_client.get("/datasets?sort=name&lang=en"))
    assert en == ["admin-units", "heritage-sites", "sports-venues", "accommodation", "travel-agencies"]


def test_facets_narrow_results_and_count_only_open_datasets(sample_client) -> None:  # noqa: ANN001
    assert sorted(_result_ids(sample_client.get("/datasets?theme=tourism"))) == ["accommodation", "travel-agencies"]
    html = sample_client.get("/datasets").get_data(as_text=True)
    # licensing: travel agencies only (the licences register is shared with departments, not open)
    assert re.search(r'theme=licensing">\s*<span class="facet-label">Cấp phép</span>\s*<span class="facet-count">1<', html)
    geo = _result_ids(sample_client.get("/datasets?format=geojson"))
    assert "travel-agencies" not in geo and "heritage-sites" in geo
    both = _result_ids(sample_client.get("/datasets?theme=tourism&publisher=phong-quan-ly-du-lich&format=geojson"))
    assert both == ["accommodation"]


def test_selected_facet_links_remove_it(sample_client) -> None:  # noqa: ANN001
    html = sample_client.get("/datasets?q=du+lich&theme=tourism").get_data(as_text=True)
    selected = re.search(r'<a href="([^"]+)" class="selected" aria-current="true">', html)
    assert selected and "theme=" not in selected.group(1) and "q=du+lich" in selected.group(1)
