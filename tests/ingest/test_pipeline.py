"""read_table end to end: columns, canonical text, changes recorded, coordinates fixed per row."""

from operator import attrgetter

import pandas
import pytest

from ingest import Change, SourceTable, read_table


def _write(tmp_path, text, name="s.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_schema_field_is_a_text_column_in_schema_order(tmp_path, site_schema):
    table = read_table(_write(tmp_path, "Tên di tích,Số phòng\nĐình,12\n"), site_schema)
    assert isinstance(table, SourceTable)
    (frame,) = list(table.batches())
    assert list(frame.columns)[:-1] == [f["name"] for f in site_schema["fields"]]
    assert frame["_row"].dtype == "int64"
    assert frame["rooms"].tolist() == ["12"] and frame["lat"].tolist() == [None]
    assert all(v is None or isinstance(v, str) for col in frame.columns[:-1] for v in frame[col])


def test_number_style_is_decided_per_column(tmp_path, site_schema):
    text = 'Diện tích,Số phòng\n"1.234,5","1.200"\n"2.000","3,000"\n'
    (frame,) = list(read_table(_write(tmp_path, text), site_schema).batches())
    assert frame["area"].tolist() == ["1234.5", "2000"]
    assert frame["rooms"].tolist() == ["1200", "3000"]
    text = 'Diện tích\n"1,234.5"\n2.000\n'
    (frame,) = list(read_table(_write(tmp_path, text, "en.csv"), site_schema).batches())
    assert frame["area"].tolist() == ["1234.5", "2.000"]


def test_changes_are_recorded_with_row_field_original_and_rule(tmp_path, site_schema):
    text = (
        "Tên di tích,Ngày QĐ,Mở cửa,Điện thoại,Mã số thuế,Xã/Phường,Xếp hạng\n"
        " Đình ,19/11/2020,Có,0251 3822 123,3600123456001,P. Tân Phong,Quốc gia\n"
    )
    table = read_table(_write(tmp_path, text), site_schema)
    (frame,) = list(table.batches())
    assert frame.iloc[0][
        ["name", "decision_date", "is_open", "phone", "enterprise_code", "commune_code", "rank"]
    ].tolist() == ["Đình", "2020-11-19", "true", "02513822123", "3600123456-001", "26188", "quoc_gia"]
    rules = {c.field: c.rule for c in table.changes}
    assert rules == {
        "name": "text",
        "decision_date": "date",
        "is_open": "boolean",
        "phone": "phone",
        "enterprise_code": "enterprise-code",
        "commune_code": "commune-crosswalk",
        "rank": "enum",
    }
    assert Change(2, "decision_date", "19/11/2020", "2020-11-19", "date") in table.changes


def test_values_not_understood_pass_through_unchanged(tmp_path, site_schema):
    text = "Ngày QĐ,Diện tích,Mở cửa,Xã/Phường,Điện thoại\nkhông rõ,khoảng 5 ha,có thể,Xã Xuân Tâm,gọi sau\n"
    table = read_table(_write(tmp_path, text), site_schema)
    (frame,) = list(table.batches())
    assert frame.iloc[0][["decision_date", "area", "is_open", "commune_code", "phone"]].tolist() == [
        "không rõ",
        "khoảng 5 ha",
        "có thể",
        "Xã Xuân Tâm",
        "gọi sau",
    ]  # the log says why the commune was left: the former commune was split between two new ones
    assert table.changes == [Change(2, "commune_code", "Xã Xuân Tâm", "Xã Xuân Tâm", "commune-split-old-unit")]


def test_missing_values_of_the_schema_become_none(tmp_path, site_schema):
    site_schema["missingValues"] = ["", "-", "N/A"]
    (frame,) = list(read_table(_write(tmp_path, "Tên di tích,Địa chỉ\nĐình,-\nChùa,N/A\n"), site_schema).batches())
    assert frame["address"].tolist() == [None, None]


def test_swapped_lat_lon_are_put_back(tmp_path, site_schema):
    table = read_table(_write(tmp_path, "Tên di tích,Vĩ độ,Kinh độ\nĐình,106.8281,10.9456\n"), site_schema)
    (frame,) = list(table.batches())
    assert frame.iloc[0][["lat", "lon"]].tolist() == ["10.9456", "106.8281"]
    assert {c.rule for c in table.changes} == {"latlon-swap"}


def test_vn2000_columns_are_converted_into_lat_lon(tmp_path, site_schema):
    text = (
        "Tên di tích,Xã/Phường,X (VN-2000),Y (VN-2000)\nĐình,Trấn Biên,1210000,400000\n"
        'Sóc Bom Bo,Bom Bo,"1.320.000,0","560.000,0"\n'
    )
    table = read_table(_write(tmp_path, text), site_schema)
    assert "lat" not in table.missing_fields
    (frame,) = list(table.batches())
    lat, lon = float(frame["lat"][0]), float(frame["lon"][0])
    assert abs(lat - 10.9402492) < 1e-6 and abs(lon - 106.836895) < 1e-6  # zone 107°45'
    lat2, lon2 = float(frame["lat"][1]), float(frame["lon"][1])
    assert 11.8 < lat2 < 12.0 and 106.7 < lon2 < 106.9  # Bom Bo (former Bình Phước): zone 106°15'
    assert [c.rule for c in table.changes if c.field == "lat"] == ["vn2000", "vn2000"]


def test_batches_are_pandas_frames_and_iterate_once(tmp_path, site_schema):
    table = read_table(_write(tmp_path, "Tên di tích\nĐình\n"), site_schema)
    assert all(isinstance(f, pandas.DataFrame) for f in table.batches())
    with pytest.raises(RuntimeError):
        list(table.batches())


def test_changes_are_capped_and_the_rest_counted(tmp_path, site_schema, monkeypatch):
    monkeypatch.setattr("ingest.pipeline.MAX_CHANGES", 10)
    body = "Ngày QĐ\n" + "1/2/2003\n" * 25
    table = read_table(_write(tmp_path, body), site_schema)
    list(table.batches())
    assert len(table.changes) == 10 and table.changes_not_kept == 15


def test_real_schemas_map_a_typical_accommodation_sheet(tmp_path):
    import json
    from pathlib import Path

    schema_path = Path(__file__).resolve().parents[2] / "schemas" / "accommodation.json"
    if not schema_path.exists():
        pytest.skip("schemas/accommodation.json not written yet")
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    text = (
        "Mã CSLT;Tên khách sạn;Loại hình;Hạng sao;Số buồng;Điện thoại;Xã/Phường\n"
        "LT-0001;Khách sạn Đồng Nai;Khách sạn;3;1.200;(061) 3822 123;Phường Biên Hòa\n"
    )
    (frame,) = list(read_table(_write(tmp_path, text), schema).batches())
    row = frame.iloc[0]
    assert row[["code", "type", "star_rank", "rooms", "phone", "commune_code"]].tolist() == [
        "LT-0001",
        "khach_san",
        "3",
        "1200",
        "02513822123",
        "26068",
    ]


def test_degrees_typed_in_a_sheet_get_the_seven_decimals_of_degrees_typed_as_text(tmp_path, site_schema):
    import json

    text = read_table(_write(tmp_path, "Tên di tích,Vĩ độ,Kinh độ\nĐình,10.123456789,106.8\n"), site_schema)
    path = tmp_path / "s.json"
    path.write_text(json.dumps([{"Tên di tích": "Đình", "Vĩ độ": 10.123456789, "Kinh độ": 106.8}]), encoding="utf-8")
    typed = read_table(path, site_schema)
    (a,), (b,) = list(text.batches()), list(typed.batches())
    assert a["lat"].tolist() == b["lat"].tolist() == ["10.1234568"]
    assert [(c.field, c.rule) for c in typed.changes] == [("lat", "coordinate")]


def test_values_and_changes_are_the_same_in_any_batch_size(tmp_path, site_schema):
    # dates, communes, booleans and kinds repeat across batches: later batches take what the first made of
    # each text (ingest.cells.Memo), and must give the same values, changes and rule names
    row = "19/11/2020,P. Tân Phong,Có,Quốc gia,2020-11-19,không rõ\n"
    text = "Ngày QĐ,Xã/Phường,Mở cửa,Xếp hạng,Ngày quyết định,Diện tích\n" + row * 3 + row.replace("Có", "Không") * 3
    path = _write(tmp_path, text)
    whole = read_table(path, site_schema)
    (frame,) = list(whole.batches())
    pieces = read_table(path, site_schema)
    batched = pandas.concat(list(pieces.batches(2)), ignore_index=True)
    pandas.testing.assert_frame_equal(batched, frame)
    order = attrgetter("row", "field")  # a batch's changes go field by field
    assert sorted(pieces.changes, key=order) == sorted(whole.changes, key=order)
    assert frame["commune_code"].tolist() == ["26188"] * 6
    assert {c.rule for c in pieces.changes if c.field == "commune_code"} == {"commune-crosswalk"}
    assert [c.row for c in pieces.changes if c.field == "decision_date"] == [2, 3, 4, 5, 6, 7]
