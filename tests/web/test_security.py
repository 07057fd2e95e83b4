"""Security of the catalogue pages: a strict Content-Security-Policy, no inline code, nothing reflected raw."""

from __future__ import annotations

import re

PAGES = ["/", "/datasets", "/datasets?q=di+tich", "/datasets/heritage-sites", "/datasets/admin-units",
         "/datasets/heritage-sites/records/DT-0001", "/publishers", "/publishers/ban-quan-ly-di-tich",
         "/datasets/no-such-dataset"]
EVIL = "\"'><script>alert(1)</script><img src=x onerror=alert(2)>"


def test_every_page_has_a_strict_content_security_policy(sample_client) -> None:  # noqa: ANN001
    for url in PAGES:
        response = sample_client.get(url)
        csp = response.headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "default-src 'self'" in csp, url
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, url
        assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp, url
        assert response.headers.get("X-Content-Type-Options") == "nosniff", url


def test_pages_carry_no_inline_script_or_style(sample_client) -> None:  # noqa: ANN001
    for url in PAGES:
        html = sample_client.get(url).get_data(as_text=True)
        # a schema.org JSON-LD data block is never run (not a JavaScript type), so CSP does not apply to it
        assert not re.search(r'<script(?![^>]*\bsrc=)(?![^>]*type="application/ld\+json")[^>]*>', html), ("inline <script>", url)
        assert "<style" not in html, url
        assert not re.search(r"\sstyle=", html), url
        assert not re.search(r"\son[a-z]+=", html), ("inline event handler", url)
        assert "javascript:" not in html, url


def test_malicious_search_is_shown_escaped(sample_client) -> None:  # noqa: ANN001
    response = sample_client.get("/datasets", query_string={"q": EVIL})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown back to the user as text


def test_malicious_preview_filters_and_sort_are_shown_escaped(sample_client) -> None:  # noqa: ANN001
    response = sample_client.get("/datasets/heritage-sites",
                                 query_string={"q": EVIL, "f.name": EVIL, "sort": EVIL, "per": EVIL, "page": EVIL})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert 'value="&#34;&#39;&gt;&lt;script&gt;' in html


def test_bad_filter_value_is_explained_not_a_crash(sample_client) -> None:  # noqa: ANN001
    response = sample_client.get("/datasets/heritage-sites", query_string={"lang": "en", "f.decision_date": "<b>23/12</b>"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "is not a valid date for field «decision_date»" in html
    assert "<b>23/12</b>" not in html and "&lt;b&gt;23/12&lt;/b&gt;" in html


def test_malicious_record_key_and_language_are_not_reflected(sample_client) -> None:  # noqa: ANN001
    response = sample_client.get("/datasets/heritage-sites/records/" + EVIL.replace("/", "%2F"))
    assert response.status_code == 404
    assert "<script>alert(1)" not in response.get_data(as_text=True)
    response = sample_client.get("/", query_string={"lang": EVIL})
    html = response.get_data(as_text=True)
    assert '<html lang="vi">' in html and "<script>alert(1)" not in html
    assert "lang=" not in response.headers.get("Set-Cookie", "")
