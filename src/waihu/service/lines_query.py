"""Pages of a tenant's trunks and caller IDs (cursor pagination, ``service/paging.py``) and the
caller IDs' use today from the CDRs. Scoped like ``lines.py``: own rows and assigned platform rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from waihu.adapters.storage.models import Cdr
from waihu.adapters.storage.models_routing import CallerIdRow, TrunkRow
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.callerid import CallerIdStatus
from waihu.domain.errors import ErrorDetail, ValidationError
from waihu.domain.timeutil import to_dt
from waihu.numbering import normalize
from waihu.service.lines import caller_id_doc, caller_id_query, trunk_query
from waihu.service.paging import paginate

TRUNK_SORTS = ("name", "priority", "created_at")
CALLER_ID_SORTS = ("number", "province", "created_at")


def trunk_page(uow: UnitOfWork, *, sort: str | None, cursor: str | None,
               limit: int) -> tuple[Sequence[TrunkRow], str | None]:
    """Trunks by ``name`` (default), ``priority`` or ``created_at``."""
    return paginate(uow.session, trunk_query(uow), {"name": TrunkRow.name, "priority": TrunkRow.priority,
                                                    "created_at": TrunkRow.created_at}, TrunkRow.id,
                    sort=sort, default="name", cursor=cursor, limit=limit)


def caller_id_page(uow: UnitOfWork, *, status: str | None, province: str | None, number: str | None,
                   sort: str | None, cursor: str | None, limit: int) -> tuple[Sequence[CallerIdRow], str | None]:
    """Caller IDs by ``number`` (default), ``province`` or ``created_at``; filters on status,
    province and one number (any common format)."""
    q = caller_id_query(uow)
    if status is not None:
        if status not in CallerIdStatus.__members__.values():
            raise ValidationError("caller_id.invalid_status", "unknown caller-ID status", [
                ErrorDetail("caller_id.invalid_status", f"status is one of {', '.join(CallerIdStatus)}",
                            field="status")])
        q = q.where(CallerIdRow.status == status)
    if province is not None:
        q = q.where(CallerIdRow.province == province)
    if number is not None:
        q = q.where(CallerIdRow.number == normalize(number).phone.e164)
    return paginate(uow.session, q, {"number": CallerIdRow.number, "province": CallerIdRow.province,
                                     "created_at": CallerIdRow.created_at}, CallerIdRow.id,
                    sort=sort, default="number", cursor=cursor, limit=limit)


def caller_id_usage(uow: UnitOfWork, rows: Sequence[CallerIdRow], now: float,
                    utc_offset: float = 8 * 3600.0) -> list[dict[str, Any]]:
    """Each caller ID with the calls this tenant placed from it today (local day, as the trunks'
    ``usage_today``) beside its daily cap."""
    numbers = [r.number for r in rows]
    day_start = (now + utc_offset) // 86400 * 86400 - utc_offset
    used: dict[str, int] = {}
    if numbers:
        q = (select(Cdr.caller_id, func.count()).where(Cdr.tenant_id == uow.tenant_id, Cdr.caller_id.in_(numbers),
                                                       Cdr.dial_at >= to_dt(day_start), Cdr.dial_at <= to_dt(now))
             .group_by(Cdr.caller_id))
        used = {str(n): int(c) for n, c in uow.session.execute(q)}
    return [{**caller_id_doc(r), "used_today": used.get(r.number, 0)} for r in rows]
