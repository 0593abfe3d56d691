"""Line resources of a tenant: trunks and caller IDs (own or assigned by the platform), their
live statistics and usage from the CDRs, and spam marks.

Every query is scoped to ``uow.tenant_id``: a tenant sees the trunks and caller IDs it owns and
the platform's ones assigned to it, nothing else.

Caller IDs are the tenant's (or the platform's) business numbers, not personal information: they
are shown in full to every role that may see the lines, in the console and the API alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, or_, select

from waihu.adapters.storage.models import Cdr
from waihu.adapters.storage.models_routing import CallerIdAssignment, CallerIdRow, TrunkAssignment, TrunkRow
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.callerid import CALLER_ID_LIFECYCLE, CallerIdStatus, NumberType
from waihu.domain.calls import ANSWERED_OUTCOMES, LossCause, Outcome
from waihu.domain.errors import Conflict, ErrorDetail, NotFound, ValidationError
from waihu.domain.timeutil import to_dt, to_ts
from waihu.domain.trunk_stats import TrunkStats
from waihu.domain.trunks import Thresholds, Trunk, TrunkRole, parse_set
from waihu.numbering import normalize
from waihu.service.sip_lines import OPTIONS_INTERVAL, set_trunk_sip, sip_doc
from waihu.service.tenants import audit

PLATFORM = "platform"


def _owner(uow: UnitOfWork, platform: bool) -> tuple[str | None, str]:
    return (None, PLATFORM) if platform else (uow.tenant_id, uow.tenant_id)


# ------------------------------------------------------------------ trunks
def trunk_query(uow: UnitOfWork) -> Select[TrunkRow]:
    """The trunks the tenant may use: its own and the platform's assigned to it."""
    assigned = select(TrunkAssignment.trunk_id).where(TrunkAssignment.tenant_id == uow.tenant_id)
    return select(TrunkRow).where(or_(TrunkRow.owner_tenant_id == uow.tenant_id, TrunkRow.id.in_(assigned)))


def visible_trunks(uow: UnitOfWork) -> list[TrunkRow]:
    return list(uow.session.scalars(trunk_query(uow).order_by(TrunkRow.priority.desc(), TrunkRow.name)))


def find_trunk(uow: UnitOfWork, *, name: str | None = None, trunk_id: str | None = None) -> TrunkRow:
    q = trunk_query(uow).where(TrunkRow.name == name if trunk_id is None else TrunkRow.id == trunk_id)
    row = uow.session.scalars(q).first()
    if row is None:
        raise NotFound("trunk.not_found", "no such trunk for this tenant")
    return row


def to_domain(row: TrunkRow) -> Trunk:
    th = {k: v for k, v in (row.thresholds or {}).items() if k in Thresholds.__dataclass_fields__}
    return Trunk(trunk_id=row.name, name=row.name, capacity=row.capacity, cps=float(row.cps),
                 cost_per_minute=float(row.cost_per_minute), billing_increment=row.billing_increment,
                 cost_per_attempt=float(row.cost_per_attempt), regions=parse_set(row.regions),
                 business=parse_set(row.business), priority=row.priority, role=TrunkRole(row.role),
                 owner_tenant_id=row.owner_tenant_id, thresholds=Thresholds(**th))


def add_trunk(uow: UnitOfWork, now: float, *, name: str, capacity: int, cps: float, cost_per_minute: float = 0.0,
              billing_increment: int = 60, cost_per_attempt: float = 0.0, regions: str = "*",
              business: str = "*", priority: int = 0, role: str = "primary", platform: bool = False,
              thresholds: dict[str, Any] | None = None, sip: str | None = None, sip_register: bool = False,
              sip_pai: bool = False, sip_options_interval: float = OPTIONS_INTERVAL,
              sip_password: str | None = None) -> dict[str, Any]:
    """Register a trunk (a platform trunk is assigned to the current tenant at once); with ``sip``
    (``sip:[user[:password]@]host[:port][;transport=tcp]``) it is a carrier line reached over SIP."""
    name = name.strip()
    try:
        trunk_role = TrunkRole(role)
    except ValueError:
        raise ValidationError("trunk.invalid_role", "role must be primary, backup or temporary",
                              [ErrorDetail("trunk.invalid_role", f"unknown role {role!r}", field="role")]) from None
    unknown = sorted(set(thresholds or {}) - set(Thresholds.__dataclass_fields__))
    if unknown:
        raise ValidationError("trunk.unknown_threshold", f"unknown threshold {unknown[0]!r}")
    trunk = Trunk(name, name, capacity, cps, cost_per_minute, billing_increment, cost_per_attempt,
                  parse_set(regions), parse_set(business), priority, trunk_role,
                  thresholds=Thresholds(**(thresholds or {})))
    trunk.validate()
    if any(r.name == name for r in visible_trunks(uow)):
        raise Conflict("trunk.duplicate_name", f"a trunk named {name!r} already exists")
    owner, key = _owner(uow, platform)
    if uow.session.scalar(select(TrunkRow.id).where(TrunkRow.owner_key == key, TrunkRow.name == name)):
        raise Conflict("trunk.duplicate_name", f"a trunk named {name!r} already exists")
    row = TrunkRow(id=uow.new_id(), owner_tenant_id=owner, owner_key=key, name=name, capacity=capacity,
                   cps=Decimal(str(cps)), cost_per_minute=Decimal(str(cost_per_minute)),
                   billing_increment=billing_increment, cost_per_attempt=Decimal(str(cost_per_attempt)),
                   regions=sorted(trunk.regions), business=sorted(trunk.business), priority=priority,
                   role=trunk_role.value, enabled=True, thresholds=dict(thresholds or {}), created_at=to_dt(now))
    uow.session.add(row)
    uow.session.flush()
    if platform:
        uow.session.add(TrunkAssignment(trunk_id=row.id, tenant_id=uow.tenant_id, assigned_at=to_dt(now)))
    audit(uow, "trunk.add", "trunk", row.id, now, name=name, platform=platform)
    if sip is not None:
        set_trunk_sip(uow, now, row, sip, register=sip_register, pai=sip_pai, options_interval=sip_options_interval,
                      password=sip_password, platform=platform)
    return trunk_doc(row)


def trunk_doc(row: TrunkRow) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "owner": "platform" if row.owner_tenant_id is None else "tenant",
            "capacity": row.capacity, "cps": float(row.cps), "cost_per_minute": float(row.cost_per_minute),
            "billing_increment": row.billing_increment, "cost_per_attempt": float(row.cost_per_attempt),
            "regions": list(row.regions), "business": list(row.business), "priority": row.priority,
            "role": row.role, "enabled": row.enabled, "thresholds": dict(row.thresholds or {}),
            "sip": sip_doc(row)}


def trunk_status(uow: UnitOfWork, now: float, utc_offset: float = 8 * 3600.0,
                 rows: Sequence[TrunkRow] | None = None) -> list[dict[str, Any]]:
    """Sliding-window statistics and today's usage of each visible trunk (or of ``rows``, a page
    of them), from this tenant's CDRs."""
    rows = visible_trunks(uow) if rows is None else list(rows)
    trunks = {r.name: to_domain(r) for r in rows}
    stats = {name: TrunkStats(utc_offset) for name in trunks}
    usage = {name: {"attempts": 0, "minutes": 0.0, "cost": 0.0} for name in trunks}
    day_start = (now + utc_offset) // 86400 * 86400 - utc_offset
    since = min(day_start, now - 3600.0)
    q = select(Cdr).where(and_(Cdr.tenant_id == uow.tenant_id, Cdr.trunk_id.in_(list(trunks)),
                               Cdr.dial_at >= to_dt(since), Cdr.dial_at <= to_dt(now)))
    for c in uow.session.scalars(q.order_by(Cdr.dial_at)):
        name = c.trunk_id or ""
        answered = Outcome(c.outcome) in ANSWERED_OUTCOMES
        cause = LossCause(c.loss_cause) if c.loss_cause else None
        talk = float(c.talk_seconds or 0)
        pdd = to_ts(c.ring_at) - to_ts(c.dial_at) if c.ring_at is not None else None
        stats[name].record(to_ts(c.end_at), answered=answered, cause=cause, pdd=pdd, talk_seconds=talk)
        if to_ts(c.dial_at) >= day_start:
            u = usage[name]
            u["attempts"] += 1
            u["minutes"] += trunks[name].billed_seconds(talk) / 60.0
            u["cost"] += trunks[name].call_cost(talk)
    out = []
    for r in rows:
        windows = {k: v.as_dict() for k, v in stats[r.name].snapshot(now).items()}
        th = trunks[r.name].thresholds
        five = stats[r.name].snapshot(now)["5m"]
        alarm = None
        if five.line_loss_rate is not None and five.attempts >= th.min_sample and five.line_loss_rate >= th.line_loss:
            alarm = "line_loss"
        elif (th.min_answer_rate > 0 and five.asr is not None and five.attempts >= th.answer_min_sample
              and five.asr < th.min_answer_rate):
            alarm = "answer_rate"
        u = usage[r.name]
        out.append({**trunk_doc(r), "windows": windows, "alarm": alarm,
                    "usage_today": {"attempts": u["attempts"], "minutes": round(float(u["minutes"]), 2),
                                    "cost": round(float(u["cost"]), 4)}})
    return out


# ------------------------------------------------------------------ caller IDs
def caller_id_query(uow: UnitOfWork) -> Select[CallerIdRow]:
    """The caller IDs the tenant may use: its own and the platform's assigned to it."""
    assigned = select(CallerIdAssignment.caller_id).where(CallerIdAssignment.tenant_id == uow.tenant_id)
    return select(CallerIdRow).where(or_(CallerIdRow.owner_tenant_id == uow.tenant_id,
                                         CallerIdRow.id.in_(assigned)))


def visible_caller_ids(uow: UnitOfWork) -> list[CallerIdRow]:
    return list(uow.session.scalars(caller_id_query(uow).order_by(CallerIdRow.province, CallerIdRow.number)))


def find_caller_id(uow: UnitOfWork, *, number: str | None = None, caller_id: str | None = None) -> CallerIdRow:
    cond = CallerIdRow.id == caller_id if caller_id is not None else (
        CallerIdRow.number == normalize(str(number)).phone.e164)
    row = uow.session.scalars(caller_id_query(uow).where(cond)).first()
    if row is None:
        raise NotFound("caller_id.not_found", "no such caller ID for this tenant")
    return row


def caller_id_doc(row: CallerIdRow) -> dict[str, Any]:
    return {"id": row.id, "number": row.number, "owner": "platform" if row.owner_tenant_id is None else "tenant",
            "province": row.province, "city": row.city, "type": row.number_type, "capital": row.capital,
            "default": row.is_default, "weight": float(row.weight), "max_concurrent": row.max_concurrent,
            "daily_cap": row.daily_cap, "status": row.status, "spam_marks": row.spam_marks,
            "authenticated": row.authenticated}


def check_caller_id(raw: dict[str, Any], row: int | None = None) -> tuple[dict[str, Any], list[ErrorDetail]]:
    """Normalise one caller-ID entry; problems are returned, not raised (imports report all rows)."""
    problems: list[ErrorDetail] = []
    try:
        info = normalize(str(raw.get("number", "")))
    except ValidationError as e:
        return {}, [ErrorDetail(e.code, e.message, row=row, field="number")]
    kind = str(raw.get("type") or ("mobile" if info.kind == "mobile" else "landline"))
    if kind not in (NumberType.MOBILE.value, NumberType.LANDLINE.value):
        problems.append(ErrorDetail("caller_id.invalid_type", "type must be mobile or landline", row=row, field="type"))
    province = str(raw.get("province") or info.region or "").strip()
    if not province:
        problems.append(ErrorDetail("caller_id.missing_region", "the province is unknown: give it", row=row,
                                    field="province"))
    # the number's own city only when the province given is the number's own (else it never is local)
    city = raw.get("city") or (info.city if province == (info.region or "") else None)
    values: dict[str, Any] = {"number": info.phone.e164, "province": province, "city": city or None,
                              "number_type": kind}
    for key, as_int, default, low in (("weight", False, "1", 0.0), ("max_concurrent", True, "1", 1),
                                      ("daily_cap", True, "200", 1), ("spam_marks", True, "0", 0)):
        text = str(raw.get(key) if raw.get(key) not in (None, "") else default)
        try:
            v: float = int(text) if as_int else float(text)
        except ValueError:
            problems.append(ErrorDetail("caller_id.not_a_number", f"{key} must be a number", row=row, field=key))
            continue
        if v < low or (key == "weight" and v <= 0):
            problems.append(ErrorDetail("caller_id.not_positive", f"{key} is out of range", row=row, field=key))
        values[key] = v
    for key in ("capital", "default", "authenticated"):
        values[key] = str(raw.get(key, "")).strip().lower() in ("1", "true", "yes", "y", "是")
    return values, problems


def add_caller_ids(uow: UnitOfWork, now: float, entries: list[dict[str, Any]], *, platform: bool = False,
                   first_row: int = 1) -> list[dict[str, Any]]:
    """Add caller IDs, all or none: every bad row is reported with its row number."""
    owner, key = _owner(uow, platform)
    existing = {r.number for r in visible_caller_ids(uow)}
    problems: list[ErrorDetail] = []
    checked: list[dict[str, Any]] = []
    for i, raw in enumerate(entries):
        row_no = first_row + i if len(entries) > 1 or first_row != 1 else None
        values, errs = check_caller_id(raw, row_no)
        if not errs and values["number"] in existing:
            errs = [ErrorDetail("caller_id.duplicate", "this caller ID already exists", row=row_no, field="number")]
        problems.extend(errs)
        if not errs:
            existing.add(values["number"])
            checked.append(values)
    if problems:
        raise ValidationError("caller_id.invalid", "invalid caller IDs: nothing was added", problems)
    rows = []
    for v in checked:
        row = CallerIdRow(id=uow.new_id(), owner_tenant_id=owner, owner_key=key, number=v["number"],
                          province=v["province"], city=v["city"], number_type=v["number_type"],
                          capital=v["capital"], is_default=v["default"], weight=Decimal(str(v["weight"])),
                          max_concurrent=v["max_concurrent"], daily_cap=v["daily_cap"],
                          status=_status_for_marks(v["spam_marks"]), spam_marks=v["spam_marks"],
                          authenticated=v["authenticated"], created_at=to_dt(now))
        uow.session.add(row)
        uow.session.flush()
        if platform:
            uow.session.add(CallerIdAssignment(caller_id=row.id, tenant_id=uow.tenant_id, assigned_at=to_dt(now)))
        rows.append(row)
    audit(uow, "caller_id.add", "caller_id", None, now, count=len(rows), platform=platform)
    return [caller_id_doc(r) for r in rows]


def _status_for_marks(marks: int) -> str:
    """Imported spam marks, as if reported one by one: the first reduces, the second takes offline."""
    status = CallerIdStatus.ACTIVE
    for _ in range(min(marks, 2)):
        status = CALLER_ID_LIFECYCLE.next(status, "mark")
    return status.value


def mark_caller_id(uow: UnitOfWork, now: float, number: str, source: str = "reported") -> dict[str, Any]:
    """A spam mark: the number is reduced, a second mark takes it offline."""
    row = find_caller_id(uow, number=number)
    row.status = CALLER_ID_LIFECYCLE.next(CallerIdStatus(row.status), "mark").value
    row.spam_marks += 1
    audit(uow, "caller_id.mark", "caller_id", row.id, now, source=source, status=row.status)
    return caller_id_doc(row)


# ------------------------------------------------------------------ enabling and disabling
def set_trunk_enabled(uow: UnitOfWork, now: float, trunk: str | TrunkRow, enabled: bool) -> dict[str, Any]:
    """Enable or disable one of the tenant's own trunks (by name, or a row from ``find_trunk``; a
    platform trunk is the platform's to change); the live dialers route their next calls
    accordingly (``LiveHost.lines_changed``)."""
    row = find_trunk(uow, name=trunk) if isinstance(trunk, str) else trunk
    name = row.name
    if row.owner_tenant_id != uow.tenant_id:
        raise Conflict("trunk.platform_owned", "a platform trunk is enabled and disabled by the platform")
    if row.enabled != enabled:
        row.enabled = enabled
        audit(uow, "trunk.enable" if enabled else "trunk.disable", "trunk", row.id, now, name=name)
    return trunk_doc(row)


def set_caller_id_status(uow: UnitOfWork, now: float, number: str | CallerIdRow, action: str) -> dict[str, Any]:
    """Take one of the tenant's own caller IDs offline, or clear it (back to active); by number,
    or a row from ``find_caller_id``."""
    if action not in ("take_offline", "clear"):
        raise ValidationError("caller_id.invalid_action", "action must be take_offline or clear")
    row = find_caller_id(uow, number=number) if isinstance(number, str) else number
    if row.owner_tenant_id != uow.tenant_id:
        raise Conflict("caller_id.platform_owned", "a platform caller ID is changed by the platform")
    row.status = CALLER_ID_LIFECYCLE.next(CallerIdStatus(row.status), action).value
    if action == "clear":
        row.spam_marks = 0
    audit(uow, f"caller_id.{action}", "caller_id", row.id, now, status=row.status)
    return caller_id_doc(row)


# ------------------------------------------------------------------ platform lines resold to tenants
def assign_platform_trunk(uow: UnitOfWork, now: float, name: str, *, remove: bool = False) -> dict[str, Any]:
    """Assign a platform trunk to the unit of work's tenant (a SaaS vendor reselling its lines),
    or take it back with ``remove``. Idempotent; audited. Returns the trunk as the tenant sees it."""
    row = uow.session.scalars(select(TrunkRow).where(TrunkRow.owner_key == PLATFORM, TrunkRow.name == name)).first()
    if row is None:
        raise NotFound("trunk.not_found", "no platform trunk of that name")
    _assign(uow, now, TrunkAssignment, {"trunk_id": row.id, "tenant_id": uow.tenant_id}, "trunk", row.id, remove)
    return {**trunk_doc(row), "assigned": not remove}


def assign_platform_caller_id(uow: UnitOfWork, now: float, number: str, *, remove: bool = False) -> dict[str, Any]:
    """As ``assign_platform_trunk``, for a platform caller ID (by number)."""
    e164 = normalize(str(number)).phone.e164
    row = uow.session.scalars(select(CallerIdRow).where(CallerIdRow.owner_key == PLATFORM,
                                                        CallerIdRow.number == e164)).first()
    if row is None:
        raise NotFound("caller_id.not_found", "no platform caller ID with that number")
    _assign(uow, now, CallerIdAssignment, {"caller_id": row.id, "tenant_id": uow.tenant_id}, "caller_id", row.id,
            remove)
    return {"number": row.number, "owner": "platform", "assigned": not remove}


def _assign(uow: UnitOfWork, now: float, model: type[TrunkAssignment] | type[CallerIdAssignment],
            key: dict[str, str], kind: str, object_id: str, remove: bool) -> None:
    held = uow.session.get(model, key)
    if remove and held is not None:
        uow.session.delete(held)
    elif not remove and held is None:
        uow.session.add(model(**key, assigned_at=to_dt(now)))
    audit(uow, f"{kind}.unassign" if remove else f"{kind}.assign", kind, object_id, now,
          changed=(held is not None) == remove)
