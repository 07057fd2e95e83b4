"""The same records written the ways the department's files really come, derived from a canonical sample.

Every variant holds exactly the data of the canonical sample (samples/<id>.csv or .geojson), written as an
office would: Vietnamese headers from the schema's titles or aliases, dd/mm/yyyy dates, Vietnamese number
notation ("18.000", "10,797554"), labels instead of enum slugs, communes by name, phones with spaces; a
TCVN3 CSV; an Excel report sheet (title block, two-row merged header, numbering row, notes and
signatures); a JSON array; a GeoJSON FeatureCollection. Ingesting any of them must store the same rows.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

from core.catalog import Catalog, Dataset
from ingest.headers import HeaderMatcher
from ingest.legacy_codecs import encode_tcvn3
from ingest.plan import plan_fields

FORMATS = ("csv-utf8", "csv-tcvn3", "xlsx", "json", "geojson")
Record = dict[str, str]  # field -> canonical text, "" when empty


def canonical_records(catalog: Catalog, dataset: Dataset) -> list[Record]:
    """The canonical sample's records as text, whether the sample is a CSV or a GeoJSON file."""
    path = catalog.resolve(dataset.source)
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))
    geometry = dataset.schema.geometry or {}
    records = []
    for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
        record = {k: "" if v is None else str(v) for k, v in feature["properties"].items()}
        if geometry.get("type") == "polygon" and feature.get("geometry"):
            record[geometry["field"]] = json.dumps(feature["geometry"], separators=(",", ":"))
        elif geometry.get("type") == "point" and feature.get("geometry"):
            lon, lat = feature["geometry"]["coordinates"][:2]
            record[geometry["longitude"]], record[geometry["latitude"]] = str(lon), str(lat)
        records.append(record)
    return records


def applies(dataset: Dataset, fmt: str) -> bool:
    """GeoJSON only for datasets with a geometry; every other format for every dataset."""
    if dataset.source is None:  # a report's statistics dataset: no sample, filled by produced reports
        return False
    return fmt != "geojson" or bool(dataset.schema.geometry)


def tcvn3_spelling(text: str) -> str:
    """What a TCVN3 file can hold of a text: capitals with a tone mark have no code and come back lowered
    (TCVN3 writes them by switching to a capital font, which a CSV cannot carry)."""
    return unicodedata.normalize("NFC", encode_tcvn3(text).decode("tcvn3"))


# ---- how offices write values ------------------------------------------------------------------------------


def _dmy(iso: str, pad: bool = True) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}" if pad else f"{int(d)}/{int(m)}/{y}"


def _grouped(integer: str) -> str:
    """18000 -> '18.000' (Vietnamese thousands separator)."""
    return f"{int(integer):,}".replace(",", ".")


def _spaced_phone(phone: str) -> str:
    if len(phone) == 11:  # landline 0251 3894 643, written with the area code in brackets
        return f"({phone[:4]}) {phone[4:8]} {phone[8:]}"
    return f"{phone[:3]} {phone[3:6]} {phone[6:]}"


class _Writer:
    """Values of one dataset as an office writes them."""

    def __init__(self, catalog: Catalog, dataset: Dataset) -> None:
        self.dataset = dataset
        self.schema = dataset.schema
        self.plan = plan_fields(self.schema.descriptor)
        self.fields = self.schema.fields
        matcher = HeaderMatcher(self.schema.descriptor)
        self.aliases = {  # an alias that names this field (not claimed by an earlier field), else the title
            f.name: next((a for a in f.aliases if matcher.field_for(a) == f.name), f.title("vi")) for f in self.fields
        }
        units = canonical_records(catalog, catalog.dataset("admin-units"))
        self.commune_names = {u["code"]: u["full_name"] for u in units}

    def label(self, name: str, slug: str) -> str:
        labels = self.schema.field(name).descriptor.get("enumLabels") or {}
        return labels.get(slug, {}).get("vi", slug)

    def office_text(self, name: str, value: str, row: int) -> str:
        """A canonical text as a Vietnamese office types it (CSV, or a text cell of a sheet)."""
        if not value:
            return value
        rule = self.plan[name]
        if rule == "date":
            return _dmy(value, pad=row % 2 == 0)
        if rule == "integer":
            return _grouped(value)
        if rule in ("number", "latitude", "longitude"):
            return value.replace(".", ",")
        if rule == "enum":
            return self.label(name, value)
        if rule == "phone":
            return _spaced_phone(value)
        if rule == "commune" and row % 3:
            return self.commune_names[value]
        if rule == "text" and self.schema.field(name).type == "string" and "format" not in self.schema.field(name).descriptor:
            return f" {value}  " if row % 2 else value.replace(" ", "  ", 1)
        return value

    def cell(self, name: str, value: str, row: int) -> Any:
        """A spreadsheet cell: typed (dates, numbers) on even rows, as typed text on odd rows."""
        if not value:
            return None
        rule = self.plan[name]
        if row % 2 == 0:
            if rule == "date":
                return date.fromisoformat(value)
            if rule == "integer" or (rule == "enterprise" and "-" not in value):
                return int(value)
            if rule in ("number", "latitude", "longitude"):
                return float(value)
        return self.office_text(name, value, row)

    def json_value(self, name: str, value: str) -> Any:
        """A value as a JSON export gives it: numbers as numbers, dates as offices write them."""
        if not value:
            return None
        rule = self.plan[name]
        if rule == "integer":
            return int(value)
        if rule in ("number", "latitude", "longitude"):
            return float(value)
        if rule == "geojson":
            return json.loads(value)
        if rule == "date":
            return _dmy(value)
        return value


# ---- the files ---------------------------------------------------------------------------------------------


def write_variant(catalog: Catalog, dataset: Dataset, fmt: str, folder: Path) -> Path:
    """Write the canonical sample of `dataset` in `fmt` into `folder`; the file's path."""
    records = canonical_records(catalog, dataset)
    writer = _Writer(catalog, dataset)
    suffix = "csv" if fmt.startswith("csv") else fmt
    path = folder / f"{dataset.id}-{fmt}.{suffix}"
    if fmt == "csv-utf8":  # Excel in a Vietnamese locale: BOM, ';', Vietnamese notation everywhere
        path.write_bytes(_csv(writer, records, [f.title("vi") for f in writer.fields], ";", True).encode("utf-8-sig"))
    elif fmt == "csv-tcvn3":  # an old office PC: TCVN3 bytes, headers by alias, communes by name
        text = _csv(writer, records, [writer.aliases[f.name] for f in writer.fields], ",", False)
        path.write_bytes(encode_tcvn3(text))
    elif fmt == "xlsx":
        _report_sheet(writer, records, path)
    elif fmt == "json":
        rows = [{f.name: writer.json_value(f.name, r.get(f.name, "")) for f in writer.fields} for r in records]
        path.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    elif fmt == "geojson":
        path.write_text(json.dumps(_features(writer, records), ensure_ascii=False), encoding="utf-8")
    else:
        raise ValueError(fmt)
    return path


def _csv(writer: _Writer, records: list[Record], headers: list[str], delimiter: str, office: bool) -> str:
    out = io.StringIO()
    w = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(headers)
    for i, record in enumerate(records):
        if office:
            w.writerow([writer.office_text(f.name, record.get(f.name, ""), i) for f in writer.fields])
        else:
            w.writerow(
                [_dmy(v, pad=False) if v and writer.plan[f.name] == "date" else
                 writer.commune_names[v] if v and writer.plan[f.name] == "commune" else v
                 for f in writer.fields for v in [record.get(f.name, "")]]
            )
    return out.getvalue()


def _groups(writer: _Writer) -> list[tuple[str, list[str]]]:
    """Columns an office groups under a merged parent header: coordinates, the address, the dates."""
    names = [f.name for f in writer.fields]
    groups = []
    if {"lat", "lon"} <= set(names):
        groups.append(("Tọa độ (WGS84)", ["lat", "lon"]))
    if {"address", "commune_code"} <= set(names):
        groups.append(("Địa chỉ", ["address", "commune_code"]))
    dates = [n for n in names if writer.plan[n] == "date"]
    if len(dates) == 2 and not groups:
        groups.append(("Thời hạn", dates))
    return groups


def _report_sheet(writer: _Writer, records: list[Record], path: Path) -> None:
    """A department report sheet: title block, two-row merged header, numbering row, notes, signatures."""
    import openpyxl

    groups = _groups(writer)
    grouped = {n for _, members in groups for n in members}
    columns: list[tuple[str | None, str]] = [(None, f.name) for f in writer.fields if f.name not in grouped]
    for parent, members in groups:
        columns += [(parent, n) for n in members]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Danh sách"
    width = len(columns)
    ws.cell(1, 1, "UBND TỈNH ĐỒNG NAI")
    ws.cell(2, 1, "SỞ VĂN HÓA, THỂ THAO VÀ DU LỊCH")
    ws.cell(3, 1, f"DANH SÁCH {writer.dataset.title('vi').upper()}")
    ws.merge_cells(start_row=3, start_column=1, end_row=3, end_column=width)
    col = 1
    while col <= width:
        parent, name = columns[col - 1]
        if parent is None:
            ws.cell(5, col, writer.schema.field(name).title("vi"))
            ws.merge_cells(start_row=5, start_column=col, end_row=6, end_column=col)
            col += 1
            continue
        members = [n for p, n in columns if p == parent]
        ws.cell(5, col, parent)
        ws.merge_cells(start_row=5, start_column=col, end_row=5, end_column=col + len(members) - 1)
        for k, member in enumerate(members):
            ws.cell(6, col + k, writer.schema.field(member).title("vi"))
        col += len(members)
    for c in range(1, width + 1):
        ws.cell(7, c, f"({c})")
    for i, record in enumerate(records):
        for c, (_, name) in enumerate(columns, start=1):
            value = writer.cell(name, record.get(name, ""), i)
            cell = ws.cell(8 + i, c, value)
            if isinstance(value, date):
                cell.number_format = "dd/mm/yyyy"
    end = 8 + len(records)
    ws.cell(end + 1, 1, "Ghi chú: số liệu đến ngày 31/12/2025.")
    ws.cell(end + 2, 1, "Người lập biểu")
    ws.cell(end + 2, max(width - 1, 2), "Thủ trưởng đơn vị")
    ws.cell(end + 3, 1, "Nguyễn Văn A")
    wb.save(path)


def _features(writer: _Writer, records: list[Record]) -> dict[str, Any]:
    geometry = writer.schema.geometry or {}
    features = []
    for record in records:
        props = {f.name: writer.json_value(f.name, record.get(f.name, "")) for f in writer.fields}
        geom = None
        if geometry.get("type") == "point":
            lat, lon = props.pop(geometry["latitude"]), props.pop(geometry["longitude"])
            geom = {"type": "Point", "coordinates": [lon, lat]} if lat is not None and lon is not None else None
        elif geometry.get("type") == "polygon":
            geom = props.pop(geometry["field"])
        features.append({"type": "Feature", "properties": props, "geometry": geom})
    return {"type": "FeatureCollection", "features": features}


def main(argv: list[str] | None = None) -> int:
    """Write every variant of every sample into a folder, to try `hub ingest` on them by hand."""
    import argparse

    from core.catalog import load_catalog

    parser = argparse.ArgumentParser(prog="python -m tests.ingest.variants", description=main.__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--dataset", action="append", help="only this dataset (repeatable)")
    args = parser.parse_args(argv)
    args.folder.mkdir(parents=True, exist_ok=True)
    catalog = load_catalog(Path(__file__).resolve().parents[2] / "catalog.yaml")
    for dataset in catalog.load_order():
        if args.dataset and dataset.id not in args.dataset:
            continue
        for fmt in FORMATS:
            if applies(dataset, fmt):
                print(write_variant(catalog, dataset, fmt, args.folder))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
