"""Bilingual messages for validation errors, Vietnamese first.

The English `message` of the report is frictionless's own (its error class templates are read from the
installed frictionless, so the wording cannot drift). The `messages` {vi, en} are ours, written for a data
steward: they name the row, the field's title from the schema and its name, the value and the rule.
"""

from __future__ import annotations

import functools
from typing import Any

from .schema import FieldSpec

_TYPE_VI = {
    "integer": "không phải số nguyên",
    "number": "không phải số",
    "date": "không phải ngày hợp lệ (dạng YYYY-MM-DD)",
    "boolean": "không phải giá trị đúng/sai",
    "geojson": "không phải hình học GeoJSON hợp lệ",
    "string/email": "không phải địa chỉ email hợp lệ",
    "string/uri": "không phải địa chỉ URI hợp lệ (cần có giao thức, ví dụ https://)",
}
_TYPE_EN = {
    "integer": "is not a whole number",
    "number": "is not a number",
    "date": "is not a valid date (YYYY-MM-DD)",
    "boolean": "is not a yes/no value",
    "geojson": "is not a valid GeoJSON geometry",
    "string/email": "is not a valid email address",
    "string/uri": "is not a valid URI (a scheme such as https:// is needed)",
}


def _type_key(field: FieldSpec) -> str:
    if field.type == "string":
        return f"string/{field.format}"
    if field.type == "date" and field.format not in ("default", "any"):
        return "date-format"
    return field.type


def _allowed_booleans(field: FieldSpec) -> str:
    true_values = field.options.get("trueValues", ["true", "True", "TRUE", "1"])
    false_values = field.options.get("falseValues", ["false", "False", "FALSE", "0"])
    return ", ".join([*true_values, *false_values])


def _where(row: int, field: FieldSpec | None, lang: str) -> str:
    if field is None:
        return f"Dòng {row}" if lang == "vi" else f"Row {row}"
    if lang == "vi":
        return f"Dòng {row}, cột «{field.title('vi')}» ({field.name})"
    return f"Row {row}, column “{field.title('en')}” ({field.name})"


def _type_error(field: FieldSpec, cell: str) -> tuple[str, str]:
    key = _type_key(field)
    if key == "date-format":
        vi = f"không phải ngày hợp lệ (dạng {field.format})"
        en = f"is not a valid date (format {field.format})"
    else:
        vi = _TYPE_VI.get(key, f"không đúng kiểu {field.type}")
        en = _TYPE_EN.get(key, f"does not match the type {field.type}")
    if field.type == "boolean":
        vi += f" (cho phép: {_allowed_booleans(field)})"
        en += f" (allowed: {_allowed_booleans(field)})"
    return f"giá trị «{cell}» {vi}", f"value “{cell}” {en}"


def _enum_text(field: FieldSpec, values: list[Any]) -> str:
    return ", ".join(str(v) for v in values)


@functools.lru_cache(maxsize=256)
def pattern_example(pattern: str) -> str | None:
    """A short value `pattern` accepts ("(?:LT-\\d{4})" -> "LT-1234"), shown to stewards instead of the regular
    expression; None when the pattern uses something this does not write an example for."""
    import re

    try:
        from re import _constants as k  # type: ignore[attr-defined]
        from re import _parser  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - other Pythons
        return None
    digits = iter("1234567890" * 10)

    def write(parsed: Any) -> str:
        out = []
        for op, arg in parsed:
            if op is k.LITERAL:
                out.append(chr(arg))
            elif op in (k.MAX_REPEAT, k.MIN_REPEAT):
                low, _, sub = arg
                out.append("".join(write(sub) for _ in range(low)))
            elif op is k.SUBPATTERN:
                out.append(write(arg[-1]))
            elif op is k.BRANCH:
                out.append(write(arg[1][0]))
            elif op is k.IN and arg and arg[0] == (k.CATEGORY, k.CATEGORY_DIGIT):
                out.append(next(digits))
            elif op is k.IN and arg and arg[0][0] is k.LITERAL:
                out.append(chr(arg[0][1]))
            elif op is k.IN and arg and arg[0][0] is k.RANGE:
                out.append(chr(arg[0][1][0]))
            elif op is k.AT:
                continue
            else:
                raise ValueError(op)
        return "".join(out)

    try:
        example = write(_parser.parse(pattern))
    except (ValueError, TypeError, re.error, StopIteration):
        return None
    return example if example and re.fullmatch(pattern, example) else None


def _pattern_texts(cell: str, pattern: str) -> tuple[str, str]:
    example = pattern_example(pattern)
    if example is None:
        return f"giá trị «{cell}» không đúng định dạng quy định", f"value “{cell}” is not in the required form"
    return (f"giá trị «{cell}» không đúng định dạng (ví dụ đúng: {example})",
            f"value “{cell}” is not in the required form (for example: {example})")


def _constraint_error(field: FieldSpec, cell: str, constraint: str) -> tuple[str, str]:
    c = field.constraints.get(constraint)
    if constraint == "required":
        return "bắt buộc phải có giá trị nhưng ô trống", "a value is required but the cell is empty"
    if constraint == "enum":
        allowed = _enum_text(field, list(c or []))
        return (
            f"giá trị «{cell}» không thuộc danh sách cho phép: {allowed}",
            f"value “{cell}” is not one of the allowed values: {allowed}",
        )
    texts = {
        "minLength": (
            f"giá trị «{cell}» ngắn hơn {c} ký tự",
            f"value “{cell}” is shorter than {c} characters",
        ),
        "maxLength": (f"giá trị «{cell}» dài hơn {c} ký tự", f"value “{cell}” is longer than {c} characters"),
        "pattern": _pattern_texts(cell, str(c)),
        "minimum": (
            f"giá trị «{cell}» nhỏ hơn mức tối thiểu {c}",
            f"value “{cell}” is below the minimum {c}",
        ),
        "maximum": (f"giá trị «{cell}» lớn hơn mức tối đa {c}", f"value “{cell}” is above the maximum {c}"),
        "exclusiveMinimum": (
            f"giá trị «{cell}» phải lớn hơn {c}",
            f"value “{cell}” must be greater than {c}",
        ),
        "exclusiveMaximum": (f"giá trị «{cell}» phải nhỏ hơn {c}", f"value “{cell}” must be less than {c}"),
    }
    return texts.get(
        constraint,
        (
            f"giá trị «{cell}» vi phạm ràng buộc {constraint}",
            f"value “{cell}” breaks the constraint {constraint}",
        ),
    )


def bilingual(kind: str, row: int, field: FieldSpec | None, **ctx: Any) -> dict[str, str]:
    """The {vi, en} messages of one error; `ctx` carries what the kind needs (cell, constraint, previous)."""
    cell = ctx.get("cell", "")
    if kind == "type-error":
        vi, en = _type_error(field, cell)  # type: ignore[arg-type]  # a type error always names its field
    elif kind == "constraint-error":
        vi, en = _constraint_error(field, cell, ctx["constraint"])  # type: ignore[arg-type]  # so does a constraint error
    elif kind == "unique-error":
        prev = ctx["previous"]
        vi = f"giá trị «{cell}» trùng với dòng {prev} (cột này không được trùng)"
        en = f"value “{cell}” repeats row {prev} (values in this column must be unique)"
    elif kind == "missing-cell":
        vi, en = (
            "dòng thiếu ô này (ít ô hơn dòng tiêu đề)",
            "the row has no cell here (fewer cells than the header)",
        )
    elif kind == "extra-cell":
        number = ctx["field_number"]
        vi = f"thừa ô thứ {number} với giá trị «{cell}» (nhiều ô hơn dòng tiêu đề)"
        en = f"extra cell number {number} with value “{cell}” (more cells than the header)"
    elif kind == "blank-row":
        vi, en = "dòng trống hoàn toàn", "the row is completely blank"
    elif kind == "primary-key":
        key = ", ".join(ctx["fields"])
        if ctx.get("previous") is None:
            vi = f"khoá chính ({key}) để trống"
            en = f"the primary key ({key}) is empty"
        else:
            values = ", ".join(ctx["values"])
            vi = f"khoá chính ({key}) = «{values}» trùng với dòng {ctx['previous']}"
            en = f"the primary key ({key}) = “{values}” repeats row {ctx['previous']}"
    elif kind == "foreign-key":
        values = ", ".join(ctx["values"])
        resource = ctx["resource"] or ctx.get("self_name") or "chính bảng này"
        resource_en = ctx["resource"] or ctx.get("self_name") or "this table"
        refs = ", ".join(ctx["reference_fields"])
        vi = f"giá trị «{values}» không có trong «{resource}» (cột {refs})"
        en = f"value “{values}” is not found in “{resource_en}” (column {refs})"
    else:
        vi, en = kind, kind
    return {"vi": f"{_where(row, field, 'vi')}: {vi}", "en": f"{_where(row, field, 'en')}: {en}"}
