import pytest

from ingest.normalise.numbers import format_number, number_style, parse_number


@pytest.mark.parametrize(
    "raw, style, integer, expected",
    [
        ("1.234,5", "vi", False, "1234.5"),
        ("1.234,5", "en", False, "1234.5"),  # only Vietnamese can read it
        ("1,234.5", "vi", False, "1234.5"),  # only English can read it
        ("1.234", "vi", False, "1234"),
        ("1.234", "en", False, "1.234"),
        ("1,234", "en", False, "1234"),
        ("1,234", "vi", False, "1.234"),
        ("1,5", "vi", False, "1.5"),
        ("1.5", "vi", False, "1.5"),
        ("12.500.000 đ", "vi", False, "12500000"),
        ("12.500.000 VNĐ", "vi", False, "12500000"),
        ("1 234 567", "vi", False, "1234567"),
        ("-3,25", "vi", False, "-3.25"),
        ("+7", "vi", False, "7"),
        (",5", "vi", False, "0.5"),
        ("1.234", "en", True, "1234"),  # integers: a 3-digit group is thousands in either style
        ("1,234", "vi", True, "1234"),
        ("12,0", "vi", True, "12"),
        ("12.0", "en", True, "12"),
        ("abc", "vi", False, None),
        ("1.2.3,4,5", "vi", False, None),
        ("50%", "vi", False, None),
    ],
)
def test_numbers_become_dot_decimal_without_grouping(raw, style, integer, expected):
    assert parse_number(raw, style, integer=integer) == expected


@pytest.mark.parametrize(
    "values, expected",
    [
        (["1.234,5", "12", "1.000"], "vi"),
        (["1,234.5", "12", "1,000"], "en"),
        (["1.5", "2.25", "1.234"], "en"),
        (["1,5", "2,25", "1,234"], "vi"),
        (["1.234", "2.000"], "vi"),  # nothing decides: the sources are Vietnamese
        ([None, "", "7"], "vi"),
    ],
)
def test_number_style_is_decided_by_the_column(values, expected):
    assert number_style(values) == expected


@pytest.mark.parametrize(
    "value, expected",
    [(12.0, "12"), (1.5, "1.5"), (7, "7"), (1e-7, "0.0000001"), (True, "true"), (-0.25, "-0.25")],
)
def test_typed_numbers_are_written_canonically(value, expected):
    assert format_number(value) == expected
