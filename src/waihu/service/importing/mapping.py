"""Validate a contact file's rows into contacts ready to be stored.

Columns are recognised by ``columns.map_columns``. Rows are validated one by one and every
problem of a row is reported with its Excel row number and the header as written in the file.
Duplicates across rows are left alone: the persistence layer merges them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from waihu.domain.errors import ErrorDetail, ValidationError
from waihu.numbering import NumberInfo, normalize
from waihu.service.importing.columns import FIELD_HEADERS, ColumnMap, map_columns
from waihu.service.importing.reader import RawTable, read_table

__all__ = [
    "FIELD_HEADERS",
    "ColumnMap",
    "ParseResult",
    "ParsedRow",
    "map_columns",
    "parse_contact_file",
    "parse_table",
]

MAX_NAME_LENGTH = 100
_TAG_SPLIT = re.compile(r"[,，;；|]")
_INTEGER = re.compile(r"^[+-]?\d+(?:\.0+)?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$")


@dataclass
class ParsedRow:
    row: int
    phones: list[NumberInfo]
    name: str | None
    fields: dict[str, str | int | list[str]]
    attributes: dict[str, str]


@dataclass
class ParseResult:
    rows: list[ParsedRow]
    rejected: list[ErrorDetail]
    encoding: str | None
    format: str
    column_map: dict[str, list[str]]
    warnings: list[ErrorDetail]
    # the rejected rows as read (at most MAX_REJECTED_KEPT), for the download of rejected rows:
    # {"headers": [...], "phone_columns": [...], "rows": [[row number, cells], ...]}
    rejected_raw: dict[str, object] = field(default_factory=dict)


MAX_REJECTED_KEPT = 10_000


def _integer(text: str) -> int | None:
    return int(float(text)) if _INTEGER.match(text) else None


def _parse_row(
    number: int, cells: list[str], cmap: ColumnMap, keys: list[str], default_region: str
) -> tuple[ParsedRow | None, list[ErrorDetail], list[ErrorDetail]]:
    """One data row -> (the row if accepted, its rejections, its warnings)."""
    errors: list[ErrorDetail] = []
    warnings: list[ErrorDetail] = []

    def problem(column: int, code: str, message: str) -> ErrorDetail:
        return ErrorDetail(code=code, message=message, row=number, field=cmap.label(column))

    phones: list[NumberInfo] = []
    seen: set[str] = set()
    primary_error: ErrorDetail | None = None
    for position, column in enumerate(cmap.phones):
        raw = cells[column]
        if not raw:
            continue
        try:
            info = normalize(raw, default_region)
        except ValidationError as exc:
            detail = problem(column, exc.code, exc.message)
            if position == 0:
                primary_error = detail
            else:
                warnings.append(detail)
            continue
        if info.phone.e164 not in seen:
            seen.add(info.phone.e164)
            phones.append(info)
    if primary_error is not None:
        errors.append(primary_error)
    elif not phones:
        errors.append(problem(cmap.phones[0], "import.missing_phone", "the row has no phone number"))

    name = cells[cmap.fields["name"]] if "name" in cmap.fields else ""
    if len(name) > MAX_NAME_LENGTH:
        errors.append(
            problem(
                cmap.fields["name"],
                "contact.name_too_long",
                f"the name has {len(name)} characters; at most {MAX_NAME_LENGTH} are allowed",
            )
        )

    values: dict[str, str | int | list[str]] = {}
    for field_name, column in cmap.fields.items():
        text = cells[column]
        if field_name == "name" or not text:
            continue
        if field_name == "age":
            age = _integer(text)
            if age is None or not 0 <= age <= 150:
                errors.append(problem(column, "contact.invalid_age", "the age must be a whole number 0-150"))
                continue
            values["age"] = age
        elif field_name == "priority":
            priority = _integer(text)
            if priority is None:
                errors.append(
                    problem(column, "contact.invalid_priority", "the priority must be a whole number")
                )
                continue
            values["priority"] = priority
        elif field_name == "email":
            if not _EMAIL.match(text):
                errors.append(problem(column, "contact.invalid_email", "not a valid e-mail address"))
                continue
            values["email"] = text
        elif field_name == "tags":
            tags = [t.strip() for t in _TAG_SPLIT.split(text) if t.strip()]
            values["tags"] = list(dict.fromkeys(tags))
        else:
            values[field_name] = text

    if errors:
        return None, errors, warnings
    attributes = {keys[c]: cells[c] for c in cmap.custom if cells[c]}
    parsed = ParsedRow(row=number, phones=phones, name=name or None, fields=values, attributes=attributes)
    return parsed, errors, warnings


def parse_table(
    table: RawTable, *, column_overrides: dict[str, str] | None = None, default_region: str = "CN"
) -> ParseResult:
    """Map and validate an already-read table (see ``parse_contact_file``)."""
    cmap = map_columns(table.headers, column_overrides)
    keys = table.keys or [h or f"col{i + 1}" for i, h in enumerate(table.headers)]
    rows: list[ParsedRow] = []
    rejected: list[ErrorDetail] = []
    warnings: list[ErrorDetail] = list(cmap.warnings)
    raw_rows: list[list[object]] = []
    for number, cells in table.rows:
        parsed, errors, row_warnings = _parse_row(number, cells, cmap, keys, default_region)
        rejected.extend(errors)
        if errors and len(raw_rows) < MAX_REJECTED_KEPT:
            raw_rows.append([number, list(cells)])
        warnings.extend(row_warnings)
        if parsed is not None:
            rows.append(parsed)
    return ParseResult(
        rows=rows,
        rejected=rejected,
        encoding=table.encoding,
        format=table.format,
        column_map=cmap.as_dict(),
        warnings=warnings,
        rejected_raw={"headers": [cmap.label(i) for i in range(len(table.headers))],
                      "phone_columns": list(cmap.phones), "rows": raw_rows} if raw_rows else {},
    )


def parse_contact_file(
    path: Path,
    *,
    encoding: str | None = None,
    column_overrides: dict[str, str] | None = None,
    default_region: str = "CN",
    sheet: str | None = None,
) -> ParseResult:
    """Read ``path`` and turn its rows into validated contacts.

    File-level problems (unreadable file, no phone column, a bad override) raise
    ``ValidationError``; row-level problems go to ``ParseResult.rejected`` (the row is left out)
    or ``ParseResult.warnings`` (the row is kept).
    """
    table = read_table(path, encoding=encoding, sheet=sheet)
    return parse_table(table, column_overrides=column_overrides, default_region=default_region)
