"""The catalogue: catalog.yaml plus the Table Schemas it names.

Loaded once and checked as a whole, so a mistake (a missing schema, an unknown publisher, a foreign key to a
dataset that does not exist) is one clear error naming the file and the entry, before anything is served.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, cast

import yaml

from core.errors import CatalogError, DatasetNotFound, NotFound
from core.reports import ReportDefinition, load_definitions

ACCESS_LEVELS = ("open", "shared", "restricted")
POLICIES = ("reject", "quarantine")
CLASSIFICATIONS = ("public", "internal", "personal")


@dataclass(frozen=True)
class Field:
    """One schema field with our custom annotations made easy to read."""

    descriptor: dict[str, Any]

    @property
    def name(self) -> str:
        return cast(str, self.descriptor["name"])

    @property
    def type(self) -> str:
        return cast(str, self.descriptor.get("type", "string"))

    @property
    def titles(self) -> dict[str, str]:
        return self.descriptor.get("titles") or {"vi": self.name, "en": self.name}

    def title(self, lang: str = "vi") -> str:
        return self.titles.get(lang) or self.titles.get("vi") or self.name

    @property
    def constraints(self) -> dict[str, Any]:
        return cast("dict[str, Any]", self.descriptor.get("constraints", {}))

    @property
    def enum(self) -> list[Any] | None:
        return self.constraints.get("enum")

    def enum_label(self, value: Any, lang: str = "vi") -> str:
        labels = self.descriptor.get("enumLabels", {}).get(str(value))
        return cast(str, labels.get(lang, str(value))) if labels else str(value)

    @property
    def classification(self) -> str:
        return cast(str, self.descriptor.get("classification", "public"))

    @property
    def personal(self) -> bool:
        return self.classification == "personal"

    @property
    def personal_when(self) -> dict[str, Any] | None:
        return self.descriptor.get("personalWhen")

    @property
    def aliases(self) -> list[str]:
        return list(self.descriptor.get("aliases", []))


@dataclass(frozen=True)
class Schema:
    """A frictionless Table Schema descriptor with helpers for our custom properties."""

    descriptor: dict[str, Any]
    path: Path

    @cached_property
    def fields(self) -> list[Field]:
        return [Field(f) for f in self.descriptor.get("fields", [])]

    @cached_property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def primary_key(self) -> list[str]:
        pk = self.descriptor.get("primaryKey") or []
        return [pk] if isinstance(pk, str) else list(pk)

    @property
    def foreign_keys(self) -> list[dict[str, Any]]:
        return list(self.descriptor.get("foreignKeys", []))

    @property
    def geometry(self) -> dict[str, Any] | None:
        return self.descriptor.get("geometry")

    @property
    def geometry_kind(self) -> str | None:
        """'point', 'polygon' or None."""
        return (self.geometry or {}).get("type")

    @property
    def search_fields(self) -> list[str]:
        # personal fields never enter the search text: a match would reveal them to anyone who can search
        declared = self.descriptor.get("searchFields")
        if declared:
            return [n for n in declared if n in self.field_names and not self.field(n).personal]
        return [f.name for f in self.fields if f.type == "string" and not f.personal][:4]

    @property
    def personal_fields(self) -> list[str]:
        return [f.name for f in self.fields if f.personal]

    def referenced_datasets(self) -> list[str]:
        return [fk["reference"]["resource"] for fk in self.foreign_keys if fk.get("reference", {}).get("resource")]


@dataclass(frozen=True)
class Dataset:
    id: str
    entry: dict[str, Any]
    schema: Schema

    def text(self, key: str, lang: str = "vi") -> str:
        value = self.entry.get(key) or {}
        if isinstance(value, str):
            return value
        return cast(str, value.get(lang) or value.get("vi") or "")

    def title(self, lang: str = "vi") -> str:
        return self.text("title", lang)

    def description(self, lang: str = "vi") -> str:
        return self.text("description", lang)

    @property
    def access(self) -> str:
        return cast(str, self.entry.get("access", "open"))

    @property
    def is_open(self) -> bool:
        return self.access == "open"

    @property
    def policy(self) -> str:
        return cast(str, self.entry.get("policy", "reject"))

    @property
    def shrink_limit(self) -> float | None:
        """The largest share of current records one load may remove without `allow_shrink` (catalog.yaml
        `shrink_limit`), or None: the hub's setting (HUB_SHRINK_LIMIT) applies."""
        value = self.entry.get("shrink_limit")
        return None if value is None else float(value)

    @property
    def publisher(self) -> str:
        return cast(str, self.entry.get("publisher", ""))

    @property
    def licence(self) -> str:
        return cast(str, self.entry.get("licence", ""))

    @property
    def themes(self) -> list[str]:
        return list(self.entry.get("themes", []))

    def keywords(self, lang: str = "vi") -> list[str]:
        kw = self.entry.get("keywords") or {}
        if isinstance(kw, list):
            return kw
        return list(kw.get(lang) or kw.get("vi") or [])

    @property
    def source(self) -> Path | None:
        src = self.entry.get("source")
        return Path(src) if src else None

    @property
    def harvest(self) -> dict[str, Any] | None:
        """The dataset's harvest source (catalog.yaml `harvest:`, checked at load; see docs/operations.md)."""
        spec = self.entry.get("harvest")
        return dict(spec) if spec else None

    @property
    def report(self) -> str | None:
        """The report definition whose statistics this dataset holds (generated, see core/statistics.py)."""
        return cast("str | None", self.entry.get("report"))

    @property
    def clients(self) -> list[str]:
        return list(self.entry.get("clients", []))

    @property
    def table_name(self) -> str:
        return "ds_" + self.id.replace("-", "_")

    def header_overrides(self, file_name: str) -> dict[str, str]:
        """Per-source header overrides from catalog.yaml, matched on the file name (glob patterns allowed)."""
        from fnmatch import fnmatch

        merged: dict[str, str] = {}
        for pattern, mapping in (self.entry.get("sources") or {}).items():
            if fnmatch(file_name, pattern):
                merged.update(mapping or {})
        return merged


@dataclass
class Catalog:
    path: Path
    site: dict[str, Any]
    publishers: dict[str, dict[str, Any]]
    licences: dict[str, dict[str, Any]]
    themes: dict[str, dict[str, Any]]
    datasets: dict[str, Dataset] = field(default_factory=dict)
    reports: dict[str, ReportDefinition] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.path.parent

    def dataset(self, dataset_id: str) -> Dataset:
        try:
            return self.datasets[dataset_id]
        except KeyError:
            raise DatasetNotFound(
                f"Không có bộ dữ liệu «{dataset_id}» trong danh mục",
                f"No dataset «{dataset_id}» in the catalogue",
                dataset=dataset_id,
            ) from None

    def report(self, report_id: str) -> ReportDefinition:
        try:
            return self.reports[report_id]
        except KeyError:
            raise NotFound(f"Không có báo cáo «{report_id}» trong danh mục", f"No report «{report_id}» in the catalogue",
                           field="report") from None

    def __iter__(self) -> Iterator[Dataset]:
        return iter(self.datasets.values())

    def load_order(self) -> list[Dataset]:
        """Datasets ordered so that every dataset comes after those its foreign keys point at."""
        done: list[str] = []

        def visit(ds_id: str, trail: tuple[str, ...]) -> None:
            if ds_id in done:
                return
            if ds_id in trail:
                raise CatalogError("Khoá ngoại vòng tròn giữa các bộ dữ liệu: " + " → ".join(trail),
                                   "Circular foreign keys between datasets: " + " → ".join(trail))
            for ref in self.datasets[ds_id].schema.referenced_datasets():
                if ref != ds_id:
                    visit(ref, (*trail, ds_id))
            done.append(ds_id)

        for ds_id in self.datasets:
            visit(ds_id, ())
        return [self.datasets[d] for d in done]

    def resolve(self, relative: Path | str) -> Path:
        p = Path(relative)
        return p if p.is_absolute() else self.root / p


def load_catalog(path: Path | str) -> Catalog:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError(f"Không tìm thấy tệp danh mục {path}", f"Catalogue file not found: {path}", file=str(path)) from None
    except yaml.YAMLError as exc:
        # PyYAML's own message spans several lines; keep the problem and where it is, on one line
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        row, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise CatalogError(f"Tệp danh mục không phải YAML hợp lệ: {problem}", f"Catalogue file is not valid YAML: {problem}",
                           file=str(path), row=row, column=column) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("datasets"), list):
        raise CatalogError("Tệp danh mục phải có mục «datasets» là một danh sách",
                           "The catalogue file needs a «datasets» list", file=str(path))
    catalog = Catalog(
        path=path,
        site=raw.get("site") or {},
        publishers={p["id"]: p for p in raw.get("publishers") or []},
        licences={lic["id"]: lic for lic in raw.get("licences") or []},
        themes={t["id"]: t for t in raw.get("themes") or []},
    )
    for index, entry in enumerate(raw["datasets"], start=1):
        dataset = _load_dataset(catalog, entry, index)
        if dataset.id in catalog.datasets:
            raise CatalogError(f"Bộ dữ liệu «{dataset.id}» khai báo hai lần", f"Dataset «{dataset.id}» is declared twice",
                               file=str(path))
        catalog.datasets[dataset.id] = dataset
    _check_references(catalog)
    catalog.load_order()
    reports = raw.get("reports") or []
    if not isinstance(reports, list):
        raise CatalogError("Mục «reports» phải là danh sách tệp định nghĩa báo cáo",
                           "«reports» must be a list of report definition files", file=str(path))
    catalog.reports = load_definitions(catalog, reports)
    for definition in catalog.reports.values():
        _add_statistics(catalog, definition)
    return catalog


def _add_statistics(catalog: Catalog, definition: ReportDefinition) -> None:
    """The report's statistics dataset, generated from its definition (core/statistics.py)."""
    from core import statistics

    if definition.id in catalog.datasets:
        raise CatalogError(f"Báo cáo «{definition.id}» trùng mã với một bộ dữ liệu: bộ số liệu thống kê của báo cáo "
                           "mang mã của báo cáo", f"Report «{definition.id}» has the id of a dataset: a report's "
                           "statistics dataset takes the report's id", file=str(definition.path))
    schema = Schema(statistics.schema_descriptor(definition), definition.path)
    catalog.datasets[definition.id] = Dataset(definition.id, statistics.dataset_entry(catalog, definition), schema)


def _load_dataset(catalog: Catalog, entry: Any, index: int) -> Dataset:
    where = {"file": str(catalog.path)}
    if not isinstance(entry, dict) or not entry.get("id"):
        raise CatalogError(f"Bộ dữ liệu thứ {index} thiếu «id»", f"Dataset number {index} has no «id»", **where)
    ds_id = entry["id"]
    for key in ("title", "schema", "publisher", "access", "licence"):
        if not entry.get(key):
            raise CatalogError(f"Bộ dữ liệu «{ds_id}» thiếu «{key}»", f"Dataset «{ds_id}» has no «{key}»", **where)
    if entry["access"] not in ACCESS_LEVELS:
        raise CatalogError(f"Bộ dữ liệu «{ds_id}»: access phải là một trong {', '.join(ACCESS_LEVELS)}",
                           f"Dataset «{ds_id}»: access must be one of {', '.join(ACCESS_LEVELS)}", **where)
    if entry.get("policy", "reject") not in POLICIES:
        raise CatalogError(f"Bộ dữ liệu «{ds_id}»: policy phải là reject hoặc quarantine",
                           f"Dataset «{ds_id}»: policy must be reject or quarantine", **where)
    limit = entry.get("shrink_limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int | float) or not 0 <= limit <= 1):
        raise CatalogError(f"Bộ dữ liệu «{ds_id}»: shrink_limit phải là số từ 0 đến 1",
                           f"Dataset «{ds_id}»: shrink_limit must be a number between 0 and 1", **where)
    schema_path = catalog.resolve(entry["schema"])
    try:
        descriptor = json.loads(schema_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError(f"Không tìm thấy lược đồ của «{ds_id}»: {schema_path}",
                           f"Schema of «{ds_id}» not found: {schema_path}", file=str(schema_path)) from None
    except json.JSONDecodeError as exc:
        raise CatalogError(f"Lược đồ không phải JSON hợp lệ: {exc.msg}", f"Schema is not valid JSON: {exc.msg}",
                           file=str(schema_path), row=exc.lineno, column=exc.colno) from None
    schema = Schema(descriptor, schema_path)
    _check_schema(schema, ds_id)
    if entry.get("harvest"):
        _check_harvest(entry["harvest"], ds_id, schema, where)
    return Dataset(ds_id, entry, schema)


HARVEST_KINDS: dict[str, tuple[str, ...]] = {  # kind -> the keys it needs
    "http": ("url",), "folder": ("path",), "ckan": ("url", "package", "resource"), "dcat": ("url",),
}
PAGING_STYLES = ("none", "page", "offset", "cursor", "next")
SECRET_KEYS = ("token", "password", "secret", "api_key", "apikey", "authorization")


def _check_harvest(spec: Any, ds_id: str, schema: Schema, where: dict[str, Any]) -> None:
    """A harvest declaration: a known kind with what it needs, secrets named by setting (never inline), a
    paging style we know, a field mapping onto schema fields, and a cron schedule croniter reads."""

    def bad(vi: str, en: str) -> CatalogError:
        return CatalogError(f"Bộ dữ liệu «{ds_id}», harvest: {vi}", f"Dataset «{ds_id}», harvest: {en}", **where)

    if not isinstance(spec, dict):
        raise bad("phải là một ánh xạ (kind, url...)", "must be a mapping (kind, url...)")
    kind = spec.get("kind")
    if kind not in HARVEST_KINDS:
        raise bad(f"kind phải là một trong {', '.join(HARVEST_KINDS)}", f"kind must be one of {', '.join(HARVEST_KINDS)}")
    for key in HARVEST_KINDS[kind]:
        if not spec.get(key):
            raise bad(f"nguồn {kind} thiếu «{key}»", f"a {kind} source needs «{key}»")

    def secrets(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if str(k).lower() in SECRET_KEYS or (str(k).lower() == "value" and path.endswith("auth")):
                    raise bad(f"«{path}{k}» không được ghi bí mật trong tệp: dùng «env» (tên biến môi trường)",
                              f"«{path}{k}» must not hold a secret in the file: use «env» (an environment variable name)")
                secrets(v, f"{path}{k}.")

    secrets(spec, "")
    auth = spec.get("auth")
    if auth is not None and (not isinstance(auth, dict) or not str(auth.get("env", "")).startswith("HUB_")):
        raise bad("auth cần «env»: tên biến môi trường HUB_... chứa bí mật",
                  "auth needs «env»: the name of a HUB_... environment variable holding the secret")
    paging = spec.get("paging") or {}
    style = paging.get("style", "none") if isinstance(paging, dict) else None
    if style not in PAGING_STYLES:
        raise bad(f"paging.style phải là một trong {', '.join(PAGING_STYLES)}",
                  f"paging.style must be one of {', '.join(PAGING_STYLES)}")
    if style in ("cursor", "next") and not paging.get("next"):
        raise bad(f"paging {style} cần «next» (đường dẫn JSON tới con trỏ/liên kết tiếp)",
                  f"{style} paging needs «next» (the JSON path to the next cursor/link)")
    if spec.get("format", "json" if kind == "http" else None) not in (None, "json", "csv"):
        raise bad("format phải là json hoặc csv", "format must be json or csv")
    names = set(schema.field_names)
    for source, target in (spec.get("fields") or {}).items():
        if target not in names:
            raise bad(f"fields: «{source}» ánh xạ tới trường không có «{target}»",
                      f"fields: «{source}» maps to a missing field «{target}»")
    if spec.get("schedule"):
        from croniter import croniter

        if not croniter.is_valid(str(spec["schedule"])):
            raise bad(f"schedule «{spec['schedule']}» không phải biểu thức cron",
                      f"schedule «{spec['schedule']}» is not a cron expression")
    shrink = spec.get("shrink_limit", 0)
    if not isinstance(shrink, (int, float)) or not 0 <= shrink <= 1:
        raise bad("shrink_limit phải là tỉ lệ từ 0 đến 1", "shrink_limit must be a ratio from 0 to 1")


def _check_schema(schema: Schema, ds_id: str) -> None:
    where = {"file": str(schema.path)}
    names = schema.field_names
    if not names:
        raise CatalogError("Lược đồ không có trường nào", "The schema has no fields", **where)
    for f in schema.fields:
        if f.classification not in CLASSIFICATIONS:
            raise CatalogError(f"Trường «{f.name}»: classification phải là public, internal hoặc personal",
                               f"Field «{f.name}»: classification must be public, internal or personal", field=f.name, **where)
        if "titles" not in f.descriptor:
            raise CatalogError(f"Trường «{f.name}» thiếu «titles» (vi, en)", f"Field «{f.name}» has no «titles» (vi, en)",
                               field=f.name, **where)
    if not schema.primary_key:
        raise CatalogError("Lược đồ thiếu khoá chính (primaryKey)", "The schema has no primaryKey", **where)
    for key in schema.primary_key:
        if key not in names:
            raise CatalogError(f"Khoá chính nêu trường không có: {key}", f"primaryKey names a missing field: {key}", **where)
    geometry = schema.geometry
    if geometry:
        needed = [geometry.get("latitude"), geometry.get("longitude")] if geometry.get("type") == "point" else [geometry.get("field")]
        for name in needed:
            if name not in names:
                raise CatalogError(f"«geometry» nêu trường không có: {name}", f"«geometry» names a missing field: {name}", **where)


def _check_references(catalog: Catalog) -> None:
    where = {"file": str(catalog.path)}
    for ds in catalog:
        if ds.publisher not in catalog.publishers:
            raise CatalogError(f"Bộ dữ liệu «{ds.id}»: không có đơn vị xuất bản «{ds.publisher}»",
                               f"Dataset «{ds.id}»: unknown publisher «{ds.publisher}»", **where)
        if ds.licence not in catalog.licences:
            raise CatalogError(f"Bộ dữ liệu «{ds.id}»: không có giấy phép «{ds.licence}»",
                               f"Dataset «{ds.id}»: unknown licence «{ds.licence}»", **where)
        for theme in ds.themes:
            if theme not in catalog.themes:
                raise CatalogError(f"Bộ dữ liệu «{ds.id}»: không có chủ đề «{theme}»",
                                   f"Dataset «{ds.id}»: unknown theme «{theme}»", **where)
        for ref in ds.schema.referenced_datasets():
            if ref not in catalog.datasets:
                raise CatalogError(f"Lược đồ «{ds.id}» có khoá ngoại tới bộ dữ liệu không có: «{ref}»",
                                   f"Schema «{ds.id}» has a foreign key to an unknown dataset: «{ref}»",
                                   file=str(ds.schema.path))
