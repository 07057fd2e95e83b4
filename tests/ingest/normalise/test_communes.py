"""Commune names and codes, today's and those abolished in 2025, to today's codes; ambiguity is never guessed.

Several former units shared a name: "Xã Tân Thành" was a commune of two former districts of Bình Phước
(old codes 25207 and 25318, now in 25210 and 25318), "Tân Hiệp" a commune of Bình Phước and a ward and a
commune of Đồng Nai. Such a name, with nothing else in the cell to decide, is left as written so that
validation refuses the row, and the change log says why; the old code, when the cell gives it, decides.
"""

import pytest

from ingest import Change, read_table
from ingest.normalise.communes import (
    AMBIGUOUS_OLD_NAME,
    SHARED_NAME,
    SPLIT_OLD_UNIT,
    load_communes,
    match_commune,
    tone_key,
    unresolved_old_units,
)


def test_reference_lists_all_95_communes_and_wards():
    assert len(load_communes().codes) == 95


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("26113", ("26113", "commune-code")),
        ("Hàng Gòn", ("26113", "commune-name")),
        ("Phường Hàng Gòn", ("26113", "commune-name")),
        ("P. Hàng Gòn", ("26113", "commune-name")),
        ("phường  hàng gòn", ("26113", "commune-name")),
        ("xã Hàng Gòn", ("26113", "commune-crosswalk")),  # a commune before 2025, a ward today
        ("Hang Gon", ("26113", "commune-name")),
        ("Biên Hòa", ("26068", "commune-name")),  # official spelling since 2026: Biên Hoà
        ("Phường Biên Hoà", ("26068", "commune-name")),
        ("Phường Trấn Biên, TP. Biên Hòa", ("26041", "commune-name")),
        ("Lộc Thạnh", ("25280", "commune-name")),
        ("Lộc Thành", ("25294", "commune-name")),
        ("P. Tân Phong", ("26188", "commune-crosswalk")),  # Biên Hòa ward abolished in 2025
        ("Phường Tân Phong", ("26188", "commune-crosswalk")),
        ("25198", ("25195", "commune-crosswalk")),  # an old code
        ("Thị trấn Trảng Bom", ("26248", "commune-crosswalk")),
        ("Loc Thanh", None),  # without tones two communes fold alike: not guessed
        ("Xã Xuân Tâm", None),  # split between two new communes in 2025
        ("TT. Tân Phú", None),  # two old towns of that name went to different communes
        ("Phường Không Có", None),
        ("99999", None),
        # old names shared by former units now in different communes: never one of them picked
        ("Xã Tân Thành", None),  # two former communes of Bình Phước
        ("Tân Thành", None),
        ("Xa Tan Thanh", None),
        ("Tân Hiệp", None),  # a commune of Bình Phước, a ward and a commune of Đồng Nai
        ("Xã Tân Hiệp", None),  # still two: one in each former province
        ("Xã Thanh Bình", None),
        ("Thị trấn Tân Phú", None),
        ("Xã Lộc An", None),
        # today's names win, but the log says when a former unit elsewhere had the same name
        ("Xã Tân Tiến", ("25318", SHARED_NAME)),  # the other old Xã Tân Tiến is in 25363 now
        ("Tân Phú", ("26116", SHARED_NAME)),
        ("Phường Long Bình", ("26020", "commune-name")),  # the old Long Bình elsewhere was a commune
        ("Long Bình", ("26020", SHARED_NAME)),
        # ... the kind of unit can decide: only one former ward was called Tân Hiệp
        ("Phường Tân Hiệp", ("26017", "commune-crosswalk")),
        # ... and so does the old code, alone or next to the name
        ("25207", ("25210", "commune-crosswalk")),
        ("25318", ("25318", "commune-code")),
        ("26419", ("26422", "commune-crosswalk")),
        ("25207 - Xã Tân Thành", ("25210", "commune-crosswalk")),
        ("Xã Tân Thành (25207)", ("25210", "commune-crosswalk")),
        ("26419 – Xã Tân Hiệp", ("26422", "commune-crosswalk")),
        ("26017 - Phường Trấn Biên", None),  # the code and the name contradict each other
        ("26113 - Xã Không Có", ("26113", "commune-code")),  # an unknown name does not outvote a code
        ("26449 - Xã Xuân Tâm", None),  # the old code of a split commune decides nothing
    ],
)
def test_commune_names_become_official_codes(raw, expected):
    assert match_commune(raw) == expected


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("Xã Tân Thành", AMBIGUOUS_OLD_NAME),
        ("Tan Thanh", None),  # without tones: names fold alike, which is not the crosswalk's ambiguity
        ("Tân Hiệp", AMBIGUOUS_OLD_NAME),
        ("TT. Tân Phú", AMBIGUOUS_OLD_NAME),
        ("Xã Xuân Tâm", SPLIT_OLD_UNIT),  # one former commune split between Xuân Đông and Xuân Hòa
        ("26449", SPLIT_OLD_UNIT),
        ("Phường Tân Hiệp", None),  # resolved
        ("Phường Không Có", None),  # unknown, not ambiguous: validation's own message says enough
        ("Loc Thanh", None),
        ("", None),
    ],
)
def test_unresolved_old_units_say_why(raw, reason):
    assert unresolved_old_units([raw]).get(raw) == reason


def test_ambiguous_old_name_stays_as_written_and_the_change_log_says_why(tmp_path, site_schema):
    path = tmp_path / "cu.csv"
    path.write_text(
        "Mã số,Tên di tích,Xã/Phường\n"
        "1,Đình Tân Thành,Xã Tân Thành\n"
        "2,Chùa Tân Thành,25207 - Xã Tân Thành\n"
        "3,Miếu Tân Hiệp,Tân Hiệp\n",
        encoding="utf-8",
    )
    table = read_table(path, site_schema)
    (frame,) = list(table.batches())
    assert frame["commune_code"].tolist() == ["Xã Tân Thành", "25210", "Tân Hiệp"]
    notes = [c for c in table.changes if c.field == "commune_code"]
    assert Change(2, "commune_code", "Xã Tân Thành", "Xã Tân Thành", AMBIGUOUS_OLD_NAME) in notes
    assert Change(4, "commune_code", "Tân Hiệp", "Tân Hiệp", AMBIGUOUS_OLD_NAME) in notes
    assert Change(3, "commune_code", "25207 - Xã Tân Thành", "25210", "commune-crosswalk") in notes


def test_tone_key_ignores_tone_position_but_not_tone():
    assert tone_key("Hoà") == tone_key("hòa")
    assert tone_key("Thạnh") != tone_key("Thành")
