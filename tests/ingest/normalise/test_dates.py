import pytest

from ingest.normalise.dates import excel_serial_to_date, parse_date


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("19/11/2020", "2020-11-19"),
        ("9/1/2020", "2020-01-09"),
        ("19-11-2020", "2020-11-19"),
        ("19.11.2020", "2020-11-19"),
        ("5/3/01", "2001-03-05"),
        ("5/3/98", "1998-03-05"),
        ("2020-11-19", "2020-11-19"),
        ("2020-11-19T00:00:00", "2020-11-19"),
        ("2020-11-19 00:00:00", "2020-11-19"),
        ("2020/11/19", "2020-11-19"),
        ("ngày 19 tháng 11 năm 2020", "2020-11-19"),
        ("Ngày 05 tháng 3 năm 2001", "2001-03-05"),
        ("19 tháng 11 năm 2020", "2020-11-19"),
        ("44154", "2020-11-19"),
        ("44154.0", "2020-11-19"),
        ("31/02/2020", None),  # no such day
        ("11/19/2020", None),  # month first is never guessed
        ("2020", None),  # a year is not a serial number
        ("tháng 11/2020", None),
        ("không rõ", None),
    ],
)
def test_dates_become_iso(raw, expected):
    assert parse_date(raw) == expected


def test_excel_serial_outside_plausible_range_is_not_a_date():
    assert excel_serial_to_date(5) is None
    assert excel_serial_to_date(1) is None
    assert excel_serial_to_date(25569) == "1970-01-01"
