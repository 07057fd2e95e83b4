import pytest

from ingest.normalise.enums import enum_index, normalise_enum

INDEX = enum_index(
    ["khach_san", "quoc_gia"],
    {
        "khach_san": {"vi": "Khách sạn", "en": "Hotel"},
        "quoc_gia": {"vi": "Di tích quốc gia", "en": "National"},
    },
)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Khách sạn", "khach_san"),
        ("KHACH SAN", "khach_san"),
        ("hotel", "khach_san"),
        ("khach_san", "khach_san"),
        ("Di tích Quốc gia", "quoc_gia"),
        ("Nhà trọ", None),
    ],
)
def test_enum_labels_become_slugs(raw, expected):
    assert normalise_enum(raw, INDEX) == expected
