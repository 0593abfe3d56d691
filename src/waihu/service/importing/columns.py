"""Recognise a contact file's columns: standard fields by header, in Chinese and English.

Headers are matched ignoring case, spaces, underscores, hyphens and a required-field '*';
``--column FIELD=HEADER`` overrides the guess. Columns that match no field are kept as custom
attributes under their header.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from waihu.domain.errors import ErrorDetail, ValidationError

__all__ = ["FIELD_HEADERS", "ColumnMap", "map_columns"]

# Field -> recognised headers. The order of fields matters for nothing; within a field, the
# first column of the file that matches wins (other matches of single-valued fields stay
# custom attributes, other phone columns become extra numbers).
FIELD_HEADERS: dict[str, tuple[str, ...]] = {
    "phone": (
        "手机号", "手机", "手机号码", "电话", "电话号码", "号码", "联系电话", "联系方式",
        "phone", "mobile", "tel", "telephone", "phone_number", "mobile_phone", "cell",
    ),
    "alt_phone": (
        "备用电话", "备用号码", "固话", "座机", "电话2", "phone2", "alt_phone", "landline", "other_phone",
    ),
    "name": ("姓名", "名字", "客户姓名", "客户名称", "name", "full_name", "customer_name"),
    "gender": ("性别", "gender", "sex"),
    "age": ("年龄", "age"),
    "birthday": ("生日", "出生日期", "birthday", "date_of_birth"),
    "email": ("邮箱", "电子邮箱", "email", "e-mail"),
    "region": ("地区", "省份", "城市", "region", "province", "city"),
    "tags": ("标签", "tags", "tag"),
    "source": ("来源", "渠道", "source", "channel"),
    "external_id": ("客户编号", "客户ID", "编号", "external_id", "customer_id", "id"),
    "priority": ("优先级", "priority"),
    "spend_tier": ("消费等级", "客户等级", "spend_tier", "tier", "level"),
    "notes": ("备注", "notes", "remark"),
}  # fmt: skip


def _norm(header: str) -> str:
    text = unicodedata.normalize("NFKC", header).casefold()
    return re.sub(r"[\s_\-*:：]+", "", text)


_LOOKUP: dict[str, str] = {_norm(h): f for f, headers in FIELD_HEADERS.items() for h in headers}


@dataclass
class ColumnMap:
    """Which columns (0-based) feed which field.

    ``phones`` lists the phone columns, primary first; ``fields`` the column of every other
    recognised single-valued field (``name`` included); ``custom`` the columns kept as
    attributes. ``warnings`` are file-level notes (a field matched by several columns).
    """

    headers: list[str]
    phones: list[int]
    fields: dict[str, int]
    custom: list[int]
    warnings: list[ErrorDetail] = field(default_factory=list)

    def label(self, column: int) -> str:
        return self.headers[column] or f"col{column + 1}"

    def as_dict(self) -> dict[str, list[str]]:
        """Field -> headers as written; ``phone`` primary first, then ``alt_phone``."""
        out: dict[str, list[str]] = {}
        if self.phones:
            out["phone"] = [self.label(self.phones[0])]
        if len(self.phones) > 1:
            out["alt_phone"] = [self.label(c) for c in self.phones[1:]]
        for name, column in self.fields.items():
            out[name] = [self.label(column)]
        if self.custom:
            out["attributes"] = [self.label(c) for c in self.custom]
        return out


def _find_header(headers: list[str], wanted: str) -> int | None:
    stripped = wanted.strip()
    for i, header in enumerate(headers):
        if header == stripped:
            return i
    for i, header in enumerate(headers):
        if _norm(header) == _norm(stripped) or (not header and stripped == f"col{i + 1}"):
            return i
    return None


def _apply_overrides(headers: list[str], overrides: dict[str, str]) -> dict[int, str]:
    forced: dict[int, str] = {}
    problems: list[ErrorDetail] = []
    for name, header in overrides.items():
        if name not in FIELD_HEADERS:
            problems.append(
                ErrorDetail(
                    code="import.bad_column_override",
                    field=name,
                    message=f"unknown field {name!r}; the fields are: {', '.join(FIELD_HEADERS)}",
                )
            )
            continue
        column = _find_header(headers, header)
        if column is None:
            problems.append(
                ErrorDetail(
                    code="import.bad_column_override",
                    field=name,
                    message=f"no column {header!r} in the file; its headers are: {_listing(headers)}",
                )
            )
        elif column in forced:
            problems.append(
                ErrorDetail(
                    code="import.bad_column_override",
                    field=name,
                    message=f"column {header!r} is already given to {forced[column]!r}",
                )
            )
        else:
            forced[column] = name
    if problems:
        raise ValidationError(
            code="import.bad_column_override",
            message="; ".join(p.message for p in problems),
            details=problems,
        )
    return forced


def _listing(headers: list[str]) -> str:
    return ", ".join(h or f"(blank col{i + 1})" for i, h in enumerate(headers)) or "(none)"


def map_columns(headers: list[str], overrides: dict[str, str] | None = None) -> ColumnMap:
    """Assign the file's columns to fields; ``overrides`` maps FIELD to HEADER text.

    A column named in an override feeds that field only; a ``phone`` override makes its column
    the primary number and demotes other recognised phone columns to extra numbers.
    """
    forced = _apply_overrides(headers, overrides or {})
    guessed = {i: _LOOKUP.get(_norm(h)) for i, h in enumerate(headers) if i not in forced}
    primary = [i for i, f in forced.items() if f == "phone"]
    others = sorted(
        [i for i, f in forced.items() if f == "alt_phone"]
        + [i for i, f in guessed.items() if f in ("phone", "alt_phone")]
    )
    if not primary:
        # The first column recognised as a phone column is primary, a 'phone'-like one first.
        guessed_primary = [i for i, f in guessed.items() if f == "phone"]
        primary = guessed_primary[:1] or others[:1]
    phones = primary + [i for i in others if i not in primary]
    if not phones:
        recognised = ", ".join(FIELD_HEADERS["phone"] + FIELD_HEADERS["alt_phone"])
        raise ValidationError(
            code="import.no_phone_column",
            message=(
                f"no phone column found; the file's headers are: {_listing(headers)}. "
                f"Recognised phone headers: {recognised}. Name the column with --column phone=HEADER"
            ),
        )

    fields: dict[str, int] = {}
    custom: list[int] = []
    warnings: list[ErrorDetail] = []
    single = {i: f for i, f in forced.items() if f not in ("phone", "alt_phone")}
    fields.update({f: i for i, f in single.items()})
    for i, header in enumerate(headers):
        if i in phones or i in single:
            continue
        name = guessed.get(i)
        if name is None:
            custom.append(i)
        elif name in fields:
            custom.append(i)
            warnings.append(
                ErrorDetail(
                    code="import.duplicate_column",
                    field=header or f"col{i + 1}",
                    message=(
                        f"{name!r} is already read from column {headers[fields[name]]!r}; "
                        f"column {header!r} is kept as a custom attribute"
                    ),
                )
            )
        else:
            fields[name] = i
    return ColumnMap(headers=headers, phones=phones, fields=fields, custom=custom, warnings=warnings)
