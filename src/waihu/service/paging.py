"""One cursor-pagination convention for every list: keyset on (sort key, id).

``limit`` (1..500), ``cursor`` (the ``next_cursor`` of the previous page, opaque) and ``sort``
(one of the resource's sort keys, ``-`` prefix for descending). A cursor is only valid with
the sort it was made for.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from waihu.domain.errors import ValidationError
from waihu.domain.timeutil import to_dt, to_ts


def _encode(key: str, value: Any, oid: str) -> str:
    v = {"t": to_ts(value)} if isinstance(value, datetime) else value
    raw = json.dumps({"k": key, "v": v, "id": oid}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, key: str) -> tuple[Any, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        doc = json.loads(raw)
        v, oid, k = doc["v"], doc["id"], doc["k"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise ValidationError.of_field("pagination.invalid_cursor", "the cursor is not valid", "cursor") from None
    if k != key or not isinstance(oid, str):
        raise ValidationError.of_field("pagination.invalid_cursor", "the cursor belongs to another sort order",
                                       "cursor")
    if isinstance(v, dict):
        if not isinstance(v.get("t"), int | float):
            raise ValidationError.of_field("pagination.invalid_cursor", "the cursor is not valid", "cursor")
        return to_dt(float(v["t"])), oid
    if not isinstance(v, str | int | float) or isinstance(v, bool):
        raise ValidationError.of_field("pagination.invalid_cursor", "the cursor is not valid", "cursor")
    return v, oid


def paginate(session: Session, q: Select[Any], sorts: dict[str, Any], id_col: Any, *, sort: str | None,
             default: str, cursor: str | None, limit: int) -> tuple[Sequence[Any], str | None]:
    """Rows of one page (ORM objects for a one-entity select) and the next cursor (or None)."""
    sort = sort or default
    desc = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in sorts:
        raise ValidationError.of_field("pagination.invalid_sort", f"sort by one of {', '.join(sorted(sorts))}", "sort")
    col = sorts[key]
    if cursor:
        v, oid = _decode(cursor, sort)
        before = (col < v) | ((col == v) & (id_col < oid))
        after = (col > v) | ((col == v) & (id_col > oid))
        cond: ColumnElement[bool] = before if desc else after
        q = q.where(cond)
    order = (col.desc(), id_col.desc()) if desc else (col.asc(), id_col.asc())
    rows = session.scalars(q.order_by(*order).limit(limit + 1)).all()
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], _encode(sort, getattr(last, col.key), last.id)
