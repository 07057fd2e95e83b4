"""Reading a dataset page on a phone and on a laptop (issue 17): the preview's filters fold away behind a button
on a 360 px phone and open on a tap (or Enter / Space), stay open on a 1280 px screen; the data dictionary
says in words what a pattern asks for and shows people no regular expression."""

from __future__ import annotations

import pytest

from tests.web.conftest import screenshot
from tests.web.test_dataset_page import REGEX

pytestmark = pytest.mark.browser


def test_filters_fold_away_on_a_phone_and_open_on_a_tap(live_hub, phone) -> None:  # noqa: ANN001
    phone.goto(live_hub.url + "/datasets/heritage-sites")
    toggle = phone.get_by_role("button", name="Bộ lọc")
    ward = phone.get_by_label("Lọc theo Mã xã/phường")
    assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    assert not ward.is_visible() and not phone.get_by_label("Số dòng mỗi trang").is_visible()
    assert phone.get_by_label("Tìm trong các bản ghi").is_visible()  # the search box stays
    box = toggle.bounding_box()
    assert box and box["height"] >= 24 and box["width"] >= 24
    screenshot(phone, "filters-folded")
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true" and ward.is_visible()
    screenshot(phone, "filters-open")
    toggle.focus()
    phone.keyboard.press("Enter")  # a real button: the keyboard works too
    assert toggle.get_attribute("aria-expanded") == "false" and not ward.is_visible()
    phone.keyboard.press("Space")
    assert toggle.get_attribute("aria-expanded") == "true" and ward.is_visible()
    assert phone.problems.csp() == [] and phone.problems == [], phone.problems


def test_filters_stay_open_on_a_laptop(live_hub, page) -> None:  # noqa: ANN001
    page.goto(live_hub.url + "/datasets/heritage-sites")
    assert page.get_by_label("Lọc theo Mã xã/phường").is_visible()
    assert page.get_by_label("Số dòng mỗi trang").is_visible()
    assert not page.get_by_role("button", name="Bộ lọc").is_visible()  # nothing to open
    screenshot(page, "filters-laptop")
    assert page.problems.csp() == [] and page.problems == [], page.problems


@pytest.mark.parametrize("viewport", ["page", "phone"])
def test_the_dictionary_explains_patterns_in_words(live_hub, viewport, request) -> None:  # noqa: ANN001
    pg = request.getfixturevalue(viewport)
    pg.goto(live_hub.url + "/datasets/accommodation#dictionary")
    dictionary = pg.locator("#dictionary")
    text = dictionary.inner_text()
    assert "dạng: 5 chữ số, ví dụ 26068" in text  # the ward code
    assert "dạng: số 0 rồi 9 hoặc 10 chữ số, không có dấu cách, ví dụ 02513822123" in text  # the phone
    assert not REGEX.search(text), REGEX.search(text)
    dictionary.scroll_into_view_if_needed()
    screenshot(pg, "dictionary-patterns-in-words")
    pg.goto(live_hub.url + "/datasets/accommodation?lang=en#dictionary")
    english = pg.locator("#dictionary").inner_text()
    assert "written as: 0 then 9 or 10 digits, without spaces, e.g. 02513822123" in english
    assert not REGEX.search(english)
