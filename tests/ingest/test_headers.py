import pytest

from core.errors import HeaderError
from ingest.headers import VN2000_X, VN2000_Y, HeaderMatcher, map_headers


@pytest.mark.parametrize(
    "header, field",
    [
        ("Tên di tích", "name"),
        ("TEN DI TICH", "name"),
        ("ten_di_tich", "name"),
        ("Tên  di-tích:", "name"),
        ("TEN_DT", "name"),
        ("name", "name"),
        ("Site name", "name"),
        ("NGÀY QĐ", "decision_date"),
        ("Ngay QD", "decision_date"),
        ("Điện thoại", "phone"),
        ("dien thoai", "phone"),
        ("SĐT", "phone"),
        ("X (VN-2000)", VN2000_X),
        ("Y (VN-2000)", VN2000_Y),
        ("Tọa độ X VN2000", VN2000_X),
        ("Ghi chú lạ", None),
    ],
)
def test_headers_match_fields_ignoring_case_spacing_punctuation_and_diacritics(site_schema, header, field):
    assert HeaderMatcher(site_schema).field_for(header) == field


def test_unknown_and_missing_columns_are_reported_by_name(site_schema):
    found = map_headers(["Tên di tích", "Cột lạ", "Ngày QĐ", "Tên cơ sở"], HeaderMatcher(site_schema))
    assert found.mapping == {"Tên di tích": "name", "Ngày QĐ": "decision_date"}
    assert found.unknown_columns == ["Cột lạ", "Tên cơ sở"]  # the second column naming 'name' is not used
    assert "code" in found.missing_fields and "name" not in found.missing_fields


def test_header_overrides_win(site_schema):
    matcher = HeaderMatcher(site_schema, {"Tên cơ sở": "address", "Cột lạ": "code"})
    found = map_headers(["Tên cơ sở", "Cột lạ"], matcher)
    assert found.mapping == {"Tên cơ sở": "address", "Cột lạ": "code"}


def test_header_override_naming_an_unknown_field_is_refused(site_schema):
    with pytest.raises(HeaderError) as e:
        HeaderMatcher(site_schema, {"A": "no_such_field"})
    assert "no_such_field" in e.value.message("en")


def test_vn2000_columns_stand_in_for_missing_lat_lon(site_schema):
    found = map_headers(["Tên di tích", "X (VN-2000)", "Y (VN-2000)"], HeaderMatcher(site_schema))
    assert "lat" not in found.missing_fields and "lon" not in found.missing_fields
