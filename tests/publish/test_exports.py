"""Exports (CSV, GeoJSON, Excel, Data Package): streamed, honouring access levels and personal-data marks."""

from __future__ import annotations

import csv
import io
import json
import math
import struct
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import get_column_letter

from core.catalog import Catalog
from core.errors import DatasetNotFound, NotFound
from publish.access import ANONYMOUS, Viewer
from publish.context import Hub
from publish.exports import FORMATS, ExportError, export_stream
from publish.exports.ooxml import MAX_CELL_CHARS, TOO_LONG
from publish.exports.xlsx import DATA_SHEET, DICTIONARY_SHEET, xlsx_stream
from publish.query import iter_records
from tests.publish.conftest import SAMPLES, hub_command, ingest, load_units, read_rows, write_rows

DEPARTMENT = Viewer(name="so-ke-hoach", role="department")  # authenticated, no personal data granted
PERSONAL_FIELDS = {"holder_id_number", "holder_phone"}


def _bytes(hub: Hub, dataset: str, fmt: str, viewer: Viewer = ANONYMOUS, **kw: object) -> bytes:
    return b"".join(export_stream(hub.store, dataset, fmt, viewer, **kw))


def _csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_formats_name_their_mimetype_and_extension() -> None:
    assert FORMATS["csv"][1] == "csv" and FORMATS["xlsx"][0].endswith("spreadsheetml.sheet")
    assert set(FORMATS) == {"csv", "geojson", "xlsx", "zip"}


def test_non_open_dataset_is_not_exported_to_anonymous_before_any_byte(sample_hub: Hub) -> None:
    for fmt in FORMATS:
        with pytest.raises(DatasetNotFound):
            export_stream(sample_hub.store, "licences", fmt, ANONYMOUS)  # raised by the call, not the first chunk
    with pytest.raises(ExportError):
        export_stream(sample_hub.store, "heritage-sites", "pdf", ANONYMOUS)
    with pytest.raises(NotFound):
        export_stream(sample_hub.store, "heritage-sites", "csv", ANONYMOUS, version=99)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "geojson", "zip"])
def test_personal_fields_absent_from_exports(sample_hub: Hub, fmt: str, tmp_path: Path) -> None:
    data = _bytes(sample_hub, "licences", fmt, DEPARTMENT)
    if fmt == "csv":
        header, rows = data.decode().splitlines()[0].split(","), _csv(data)
    elif fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
        values = list(sheet.iter_rows(values_only=True))
        header, rows = list(values[0]), [dict(zip(values[0], r, strict=True)) for r in values[1:]]
    elif fmt == "geojson":
        features = json.loads(data)["features"]
        rows = [f["properties"] for f in features]
        header = list(rows[0])
    else:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            rows = _csv(archive.read("data/licences.csv"))
            descriptor = json.loads(archive.read("datapackage.json"))
        header = [f["name"] for f in descriptor["resources"][0]["schema"]["fields"]]
        assert header == list(rows[0])
    assert not PERSONAL_FIELDS & set(header)
    assert "holder_name" in header  # personal only for individuals: blanked on their rows
    samples = {r["number"]: r for r in read_rows(SAMPLES / "licences.csv")}
    assert len(rows) == len(samples)
    for row in rows:
        if samples[row["number"]]["holder_kind"] == "ca_nhan":
            assert row["holder_name"] in (None, "")
        else:
            assert row["holder_name"] == samples[row["number"]]["holder_name"]
    text = data.decode("utf-8", errors="ignore") if fmt != "xlsx" else ""
    assert not any(samples[n]["holder_id_number"] and samples[n]["holder_id_number"] in text for n in samples)


def test_csv_export_is_utf8_with_optional_bom_and_every_current_record(sample_hub: Hub) -> None:
    plain = _bytes(sample_hub, "heritage-sites", "csv")
    with_bom = _bytes(sample_hub, "heritage-sites", "csv", bom=True)
    assert not plain.startswith(b"\xef\xbb\xbf") and with_bom.startswith(b"\xef\xbb\xbf")
    rows = _csv(plain)
    assert [r["code"] for r in rows] == sorted(r["code"] for r in read_rows(SAMPLES / "heritage-sites.csv"))
    assert "Đồng Nai" in plain.decode("utf-8")


def test_geojson_export_places_every_record(sample_hub: Hub) -> None:
    collection = json.loads(_bytes(sample_hub, "sports-venues", "geojson"))
    source = read_rows(SAMPLES / "sports-venues.csv")
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == len(source)
    located = {r["code"]: r for r in source if r["lat"]}
    for feature in collection["features"]:
        if feature["id"] in located:
            lon, lat = feature["geometry"]["coordinates"]
            assert (round(lat, 5), round(lon, 5)) == (round(float(located[feature["id"]]["lat"]), 5),
                                                      round(float(located[feature["id"]]["lon"]), 5))


def test_xlsx_export_has_data_and_a_data_dictionary_from_the_schema(sample_hub: Hub) -> None:
    book = openpyxl.load_workbook(io.BytesIO(_bytes(sample_hub, "accommodation", "xlsx")))
    data, dictionary = book.worksheets
    schema = sample_hub.catalog.dataset("accommodation").schema
    assert [c.value for c in data[1]] == schema.field_names
    assert data.max_row == 1 + len(read_rows(SAMPLES / "accommodation.csv"))
    assert dictionary.title.startswith("Từ điển dữ liệu")
    entries = {row[0]: row for row in dictionary.iter_rows(min_row=2, values_only=True)}
    assert list(entries) == schema.field_names
    assert entries["rooms"][1:4] == ("Số buồng", "Rooms", "integer")
    assert "khach_san = Khách sạn / Hotel" in entries["type"][7]


def test_xlsx_export_keeps_numbers_and_dates_as_excel_types(sample_hub: Hub) -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(_bytes(sample_hub, "accommodation", "xlsx"))).worksheets[0]
    header = [c.value for c in sheet[1]]
    first = dict(zip(header, sheet[2], strict=True))
    source = read_rows(SAMPLES / "accommodation.csv")[0]
    assert (first["rooms"].value, first["rooms"].data_type) == (int(source["rooms"]), "n")
    assert (first["lat"].value, first["lat"].data_type) == (float(source["lat"]), "n")
    assert (first["code"].value, first["code"].data_type) == (source["code"], "s")
    assert first["website"].value is None  # an empty field is an empty cell
    licences = openpyxl.load_workbook(io.BytesIO(_bytes(sample_hub, "licences", "xlsx", DEPARTMENT))).worksheets[0]
    header = [c.value for c in licences[1]]
    issued = dict(zip(header, licences[2], strict=True))["issue_date"]
    samples = {r["number"]: r for r in read_rows(SAMPLES / "licences.csv")}
    number = dict(zip(header, licences[2], strict=True))["number"].value
    assert issued.value == datetime.fromisoformat(samples[number]["issue_date"])
    assert issued.number_format == "yyyy-mm-dd"


def test_xlsx_rows_beyond_a_sheet_go_on_to_further_sheets_with_the_header(sample_hub: Hub) -> None:
    dataset = sample_hub.catalog.dataset("accommodation")
    names = dataset.schema.field_names
    records = list(iter_records(sample_hub.store, dataset))
    for limits in ({"max_rows": 4}, {"max_sheet_bytes": 3000}):  # Excel's row limit, zipfile's size limit
        data = b"".join(xlsx_stream(dataset, names, iter_records(sample_hub.store, dataset), **limits))
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        *sheets, dictionary = book.worksheets
        assert len(sheets) > 1 and dictionary.title == DICTIONARY_SHEET
        assert [s.title for s in sheets[:2]] == [DATA_SHEET, f"{DATA_SHEET} 2"]
        rows = []
        for sheet in sheets:
            values = list(sheet.iter_rows(values_only=True))
            assert list(values[0]) == names
            assert len(values) <= limits.get("max_rows", len(values))
            rows += [r[names.index("code")] for r in values[1:]]
        assert rows == [r["code"] for r in records]  # every record once, in order


def test_xlsx_text_is_kept_as_written_and_the_download_starts_before_the_last_row(catalog: Catalog) -> None:
    dataset = catalog.dataset("heritage-sites")
    names = ["code", "name"]
    tricky = ["  padded  ", "Bến & <Đình> \"x\"", "line\r\nbreak", "=1+1", "-5", "bell\x07gone", "Hoà Hòa"]
    data = b"".join(xlsx_stream(dataset, names, ({"code": f"DT{i}", "name": t} for i, t in enumerate(tricky))))
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    shown = [sheet.cell(row=i + 2, column=2) for i in range(len(tricky))]
    assert [c.value for c in shown] == [t.replace("\x07", "") for t in tricky]
    assert {c.data_type for c in shown} == {"s"}
    read = 0

    def many() -> Iterator[dict[str, str]]:
        nonlocal read
        for i in range(200_000):
            read += 1
            yield {"code": f"DT{i:06d}", "name": f"Đình làng số {i}"}

    first = next(iter(xlsx_stream(dataset, names, many())))
    assert first.startswith(b"PK") and read < 200_000


def test_xlsx_zip_has_no_zip64_local_headers_that_excel_refuses(sample_hub: Hub) -> None:
    data = _bytes(sample_hub, "accommodation", "xlsx")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        assert "[Content_Types].xml" in archive.namelist() and "xl/workbook.xml" in archive.namelist()
        for info in archive.infolist():
            signature, version, _, _, _, _, _, _, _, _, extra = struct.unpack(
                "<IHHHHHIIIHH", data[info.header_offset:info.header_offset + 30])
            assert (signature, version, extra) == (0x04034B50, 20, 0), info.filename


def test_data_package_export_is_accepted_by_frictionless(sample_hub: Hub, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from frictionless import validate

    for dataset, viewer in (("admin-units", ANONYMOUS), ("accommodation", ANONYMOUS), ("licences", DEPARTMENT)):
        folder = tmp_path / dataset
        with zipfile.ZipFile(io.BytesIO(_bytes(sample_hub, dataset, "zip", viewer))) as archive:
            archive.extractall(folder)
        monkeypatch.chdir(folder)
        report = validate("datapackage.json")
        assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "message"])[:5]
        descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
        assert descriptor["licenses"][0]["name"] == sample_hub.catalog.dataset(dataset).licence
    (folder / "data" / "licences.csv").write_bytes((folder / "data" / "licences.csv").read_bytes().replace(b"2", b"3"))
    assert not validate("datapackage.json").valid  # the recorded sha256 catches a damaged copy


def test_exports_of_an_earlier_version_and_formula_text_kept_as_text(units_loaded: Hub, tmp_path: Path) -> None:
    hub = units_loaded
    ingest(hub, "heritage-sites", SAMPLES / "heritage-sites.csv")
    rows = read_rows(SAMPLES / "heritage-sites.csv")
    old_name = rows[0]["name"]
    rows[0]["name"] = "=HYPERLINK(\"http://example.com\")"
    ingest(hub, "heritage-sites", write_rows(tmp_path / "heritage-sites.csv", rows))
    assert _csv(_bytes(hub, "heritage-sites", "csv"))[0]["name"] == "'" + rows[0]["name"]
    assert _csv(_bytes(hub, "heritage-sites", "csv", version=1))[0]["name"] == old_name
    sheet = openpyxl.load_workbook(io.BytesIO(_bytes(hub, "heritage-sites", "xlsx"))).worksheets[0]
    cell = sheet.cell(row=2, column=hub.catalog.dataset("heritage-sites").schema.field_names.index("name") + 1)
    assert (cell.value, cell.data_type) == (rows[0]["name"], "s")  # shown as written, never run
    done = hub_command(hub, "export", "heritage-sites", "--format", "zip", "--version", "1", "-o",
                       str(tmp_path / "out.zip"))
    assert "out.zip" in done.stdout
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        assert _csv(archive.read("data/heritage-sites.csv"))[0]["name"] == old_name
        assert json.loads(archive.read("datapackage.json"))["version"] == "1"


def test_xlsx_text_too_long_for_an_excel_cell_is_shortened_marked_and_noted(hub: Hub, units_frame: pd.DataFrame
                                                                             ) -> None:
    """A commune boundary of 4,000 vertices is ~90,000 characters of GeoJSON; Excel holds 32,767 in a cell and
    asks to "repair" (dropping the text) a workbook with more. The cell keeps the start of the text, cut
    between two positions, and says where the whole of it is; the dictionary sheet counts such cells."""
    frame = units_frame.copy()
    code = frame["code"].iloc[3]
    ring = [[round(107.0 + 0.05 * math.cos(2 * math.pi * i / 4000), 7),
             round(11.0 + 0.05 * math.sin(2 * math.pi * i / 4000), 7)] for i in range(4000)]
    boundary = json.dumps({"type": "Polygon", "coordinates": [[*ring, ring[0]]]})
    assert len(boundary) > 2 * MAX_CELL_CHARS
    frame["boundary"] = frame["boundary"].astype(object)
    frame.loc[frame["code"] == code, "boundary"] = boundary
    load_units(hub, frame)
    names = hub.catalog.dataset("admin-units").schema.field_names
    assert _csv(_bytes(hub, "admin-units", "csv"))[3]["boundary"] == boundary  # the store keeps it whole

    book = openpyxl.load_workbook(io.BytesIO(_bytes(hub, "admin-units", "xlsx")))
    data, dictionary = book.worksheets
    rows = list(data.iter_rows(min_row=2, values_only=True))
    shortened = rows[3][names.index("boundary")]
    assert rows[3][names.index("code")] == code
    assert len(shortened) <= MAX_CELL_CHARS and shortened.endswith(TOO_LONG)
    assert "quá dài cho Excel" in shortened and "see the CSV/GeoJSON download" in shortened
    head = shortened[:-len(TOO_LONG)]
    assert boundary.startswith(head) and head.endswith("],") and len(head) > MAX_CELL_CHARS - 200
    expected = {r["code"]: r for r in iter_records(hub.store, hub.catalog.dataset("admin-units"))}
    for row in rows:  # every other cell as stored
        stored = expected[row[names.index("code")]]
        for name, value in zip(names, row, strict=True):
            if (stored["code"], name) != (code, "boundary"):
                assert value == (stored[name] if stored[name] != "" else None), (stored["code"], name)
    notes = [r[0] for r in dictionary.iter_rows(min_row=2, values_only=True) if r[0] and r[0] not in names]
    ref = f"{get_column_letter(names.index('boundary') + 1)}5"
    assert len(notes) == 2 and notes[0].startswith("Ghi chú: 1 ô ") and notes[1].startswith("Note: 1 cell longer")
    assert all("boundary. " in n and n.endswith(f"{ref}.") for n in notes)
