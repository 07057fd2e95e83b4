"""The home page: figures, themes, newest and most viewed datasets (views counted on dataset pages)."""

from __future__ import annotations

import re

import pytest

from publish.context import Hub


@pytest.fixture
def client(hub: Hub):  # noqa: ANN201
    """A fresh, empty hub (both backends): nothing loaded, no views counted."""
    from hub.app import create_app

    app = create_app(hub.settings, hub=hub)
    app.config["TESTING"] = True
    return app.test_client()


def _figure(html: str, label: str) -> str:
    match = re.search(r'<span class="figure-value">([^<]+)</span> <span class="figure-label">' + label, html)
    assert match, label
    return match.group(1)


def test_home_shows_figures_and_themes_of_open_datasets(sample_client) -> None:  # noqa: ANN001
    html = sample_client.get("/?lang=en").get_data(as_text=True)
    assert _figure(html, "open datasets") == "5"  # the shared licences register is not counted
    assert _figure(html, "records") == "395"  # 95 + 48 + 42 + 150 + 60
    assert re.search(r"\d{1,2} \w{3} \d{4}", _figure(html, "last update"))
    assert 'role="search"' in html and 'href="/datasets?theme=heritage"' in html
    assert "Recently updated" in html
    # the day of the last update is Vietnam's day, as the cards' times are (timestamps are stored in UTC)
    vi = sample_client.get("/?lang=vi").get_data(as_text=True)
    newest = re.search(r"<dt>Cập nhật</dt><dd>(\d\d/\d\d/\d{4}) \d\d:\d\d</dd>", vi).group(1)
    assert _figure(vi, "lần cập nhật gần nhất") == newest


def test_an_empty_hub_says_nothing_is_published_yet(client) -> None:  # noqa: ANN001
    html = client.get("/?lang=en").get_data(as_text=True)
    assert _figure(html, "records") == "0"
    assert "No dataset has been published yet." in html and "No views counted yet." in html
    page = client.get("/datasets/heritage-sites?lang=en").get_data(as_text=True)
    assert "Not loaded yet" in page and "No version has been published yet." in page


def test_dataset_views_are_counted_and_shown_as_most_viewed(client) -> None:  # noqa: ANN001
    for _ in range(3):
        assert client.get("/datasets/sports-venues").status_code == 200
    client.get("/datasets/accommodation")
    client.get("/datasets/accommodation?page=2")  # paging through the preview is the same visit
    client.get("/datasets/licences")  # not open: 404, not counted
    html = client.get("/?lang=en").get_data(as_text=True)
    viewed = html.split('id="viewed-title"', 1)[1].split("</section>", 1)[0]
    order = re.findall(r'href="/datasets/([\w-]+)"', viewed)
    assert order == ["sports-venues", "accommodation"]
    from publish.tables import dataset_stats

    with client.application.extensions["hub"].store.engine.connect() as conn:
        counts = dict(conn.execute(dataset_stats.select().with_only_columns(dataset_stats.c.dataset,
                                                                            dataset_stats.c.views)).all())
    assert counts == {"sports-venues": 3, "accommodation": 1}
