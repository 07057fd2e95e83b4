"""Fixtures for the ingest tests: small schemas written here so the tests do not depend on schemas/."""

from __future__ import annotations

import pytest


def _field(name: str, type_: str = "string", aliases: list[str] | None = None, **extra) -> dict:
    return {
        "name": name,
        "type": type_,
        "titles": {"vi": name, "en": name},
        "aliases": aliases or [],
        **extra,
    }


@pytest.fixture
def site_schema() -> dict:
    """A point dataset with one field of every kind the normalisers know."""
    return {
        "name": "test-sites",
        "titles": {"vi": "Thử", "en": "Test"},
        "geometry": {"type": "point", "latitude": "lat", "longitude": "lon"},
        "primaryKey": ["code"],
        "foreignKeys": [{"fields": "commune_code", "reference": {"resource": "admin-units", "fields": "code"}}],
        "fields": [
            _field("code", aliases=["Mã số", "STT"]),
            {
                **_field("name", aliases=["Tên di tích", "TEN_DT", "Tên cơ sở"]),
                "titles": {"vi": "Tên di tích", "en": "Site name"},
            },
            _field("decision_date", "date", ["Ngày QĐ", "Ngày quyết định"]),
            _field("area", "number", ["Diện tích"]),
            _field("rooms", "integer", ["Số phòng"]),
            _field("is_open", "boolean", ["Mở cửa"]),
            _field("phone", aliases=["Điện thoại", "SĐT"]),
            _field("enterprise_code", aliases=["Mã số thuế"]),
            _field("address", aliases=["Địa chỉ", "Số nhà"]),
            _field("commune_code", aliases=["Xã/Phường", "Phường/Xã"]),
            _field(
                "rank",
                aliases=["Xếp hạng"],
                constraints={"enum": ["quoc_gia", "cap_tinh"]},
                enumLabels={
                    "quoc_gia": {"vi": "Quốc gia", "en": "National"},
                    "cap_tinh": {"vi": "Cấp tỉnh", "en": "Provincial"},
                },
            ),
            _field("lat", "number", ["Vĩ độ", "Latitude"]),
            _field("lon", "number", ["Kinh độ", "Longitude"]),
        ],
    }


@pytest.fixture
def polygon_schema() -> dict:
    return {
        "name": "test-areas",
        "titles": {"vi": "Thử", "en": "Test"},
        "geometry": {"type": "polygon", "field": "boundary"},
        "primaryKey": ["code"],
        "fields": [
            _field("code", aliases=["Mã"]),
            _field("name", aliases=["Tên"]),
            _field("boundary", "geojson", ["Ranh giới"]),
        ],
    }
