"""JSON and GeoJSON sources: arrays of objects, CKAN datastore output, feature collections."""

import json

import pytest

from core.errors import EncodingError, HeaderError, InputError
from ingest import read_table

RECORDS = [
    {"Tên di tích": "Đình Tân Lân", "Ngày QĐ": "19/11/2020", "Diện tích": 1234.5, "Mở cửa": True},
    {"Tên di tích": "Chùa Bửu Phong", "Ngày QĐ": "2001-03-05", "Diện tích": 12, "Mở cửa": "không"},
]


def test_json_array_of_objects_is_read(tmp_path, site_schema):
    path = tmp_path / "sites.json"
    path.write_text(json.dumps(RECORDS, ensure_ascii=False), encoding="utf-8")
    table = read_table(path, site_schema)
    (frame,) = list(table.batches())
    assert table.format == "json"
    assert frame["name"].tolist() == ["Đình Tân Lân", "Chùa Bửu Phong"]
    assert frame["decision_date"].tolist() == ["2020-11-19", "2001-03-05"]
    assert frame["area"].tolist() == ["1234.5", "12"]
    assert frame["is_open"].tolist() == ["true", "false"]
    assert frame["_row"].tolist() == [2, 3]


def test_ckan_datastore_search_output_is_read(tmp_path, site_schema):
    path = tmp_path / "ckan.json"
    body = {
        "help": "...",
        "success": True,
        "result": {"fields": [{"id": "_id"}], "records": [{"_id": 1, **RECORDS[0]}], "total": 1},
    }
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    table = read_table(path, site_schema)
    (frame,) = list(table.batches())
    assert frame["name"].tolist() == ["Đình Tân Lân"]
    assert "_id" in table.unknown_columns


def test_json_without_records_is_refused(tmp_path, site_schema):
    path = tmp_path / "obj.json"
    path.write_text('{"a": 1}', encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_table(path, site_schema)
    assert e.value.code == "no-records" and e.value.context["file"] == str(path)


def test_truncated_json_is_refused(tmp_path, site_schema):
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(RECORDS, ensure_ascii=False)[:40], encoding="utf-8")
    with pytest.raises(InputError):
        list(read_table(path, site_schema).batches())


def test_json_with_unknown_keys_only_has_no_header(tmp_path, site_schema):
    path = tmp_path / "other.json"
    path.write_text('[{"foo": 1}]', encoding="utf-8")
    with pytest.raises(HeaderError):
        read_table(path, site_schema)


def test_utf16_json_is_refused_as_not_utf8(tmp_path, site_schema):
    path = tmp_path / "u16.json"
    path.write_bytes(json.dumps(RECORDS, ensure_ascii=False).encode("utf-16"))
    with pytest.raises(EncodingError):
        read_table(path, site_schema)


def _collection(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def test_geojson_points_fill_lat_lon(tmp_path, site_schema):
    path = tmp_path / "sites.geojson"
    feature = {
        "type": "Feature",
        "properties": {"Tên di tích": "Đình Tân Lân"},
        "geometry": {"type": "Point", "coordinates": [106.8281, 10.9456]},
    }
    path.write_text(json.dumps(_collection(feature), ensure_ascii=False), encoding="utf-8")
    table = read_table(path, site_schema)
    (frame,) = list(table.batches())
    assert table.format == "geojson"
    assert frame[["name", "lat", "lon"]].iloc[0].tolist() == ["Đình Tân Lân", "10.9456", "106.8281"]


def test_geojson_polygons_fill_the_geojson_field_as_compact_json(tmp_path, polygon_schema):
    ring = [[106.8, 10.9], [106.9, 10.9], [106.9, 11.0], [106.8, 10.9]]
    feature = {
        "type": "Feature",
        "properties": {"Mã": "26041", "Tên": "Trấn Biên"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    path = tmp_path / "units.geojson"
    path.write_text(json.dumps(_collection(feature), ensure_ascii=False, indent=2), encoding="utf-8")
    (frame,) = list(read_table(path, polygon_schema).batches())
    boundary = frame["boundary"][0]
    assert " " not in boundary and json.loads(boundary) == {"type": "Polygon", "coordinates": [ring]}
    assert frame["code"][0] == "26041"


def test_geojson_without_features_is_refused(tmp_path, site_schema):
    path = tmp_path / "one.geojson"
    path.write_text('{"type": "Feature", "properties": {}, "geometry": null}', encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_table(path, site_schema)
    assert e.value.code == "no-records"
