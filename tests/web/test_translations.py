"""Vietnamese by default, English on request: every label has a translation and the compiled catalogue is current."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from core.config import PROJECT_ROOT
from hub.web.i18n import TRANSLATIONS

PO = TRANSLATIONS / "vi" / "LC_MESSAGES" / "messages.po"
MO = TRANSLATIONS / "vi" / "LC_MESSAGES" / "messages.mo"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}


def _labels() -> set[str]:
    """Every label in the site's templates and Python code, as `pybabel extract` with our babel.cfg finds them."""
    method_map = [("hub/web/**.py", "python"), ("hub/templates/*.html", "jinja2")]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(PROJECT_ROOT), method_map=method_map, keywords=KEYWORDS,
            options_map={"hub/templates/*.html": {"extensions": "jinja2.ext.i18n"}}):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_label_has_a_vietnamese_translation() -> None:
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    labels = _labels()
    assert len(labels) > 100
    missing = sorted(m for m in labels if not catalog.get(m) or not catalog.get(m).string or catalog.get(m).fuzzy)
    assert missing == [], f"add these to {PO.relative_to(PROJECT_ROOT)} and compile: {missing}"


def test_compiled_catalogue_matches_the_po_file() -> None:
    def pairs(messages) -> dict:  # noqa: ANN001 - plural ids and strings come as lists or tuples
        return {tuple(m.id) if not isinstance(m.id, str) else m.id:
                tuple(m.string) if not isinstance(m.string, str) else m.string for m in messages if m.id}

    with PO.open("rb") as handle:
        po = pairs(read_po(handle))
    with MO.open("rb") as handle:
        mo = pairs(read_mo(handle))
    assert mo == po, "run: .venv/bin/pybabel compile -d hub/translations"


def test_vietnamese_by_default_english_on_request_and_remembered(sample_client) -> None:  # noqa: ANN001
    html = sample_client.get("/").get_data(as_text=True)
    assert '<html lang="vi">' in html and "Tìm kiếm dữ liệu mở" in html
    response = sample_client.get("/datasets/heritage-sites?lang=en")
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html and "<h1>Heritage sites</h1>" in html and "Data dictionary" in html
    assert "lang=en" in response.headers["Set-Cookie"]
    assert 'href="/datasets/heritage-sites?lang=vi"' in html  # the switch back keeps the page
    assert '<html lang="en">' in sample_client.get("/").get_data(as_text=True)  # the cookie remembers
    assert '<html lang="vi">' in sample_client.get("/?lang=vi").get_data(as_text=True)
