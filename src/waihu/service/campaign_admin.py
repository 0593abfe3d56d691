"""Campaign changes the API makes beyond create: by id, edit, delete, run state, contacts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select

from waihu.adapters.storage import report_rollup
from waihu.adapters.storage.models import Campaign, CampaignContact, Contact
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.campaigns import CampaignState, DialMode, RetryKind, RetryPolicy
from waihu.domain.errors import Conflict, ErrorDetail, NotFound, ValidationError
from waihu.domain.messages import CampaignDeactivated
from waihu.service.accounts import iso
from waihu.service.campaigns import OPTION_DEFAULTS, check_options, dispositions_of, spec_for, transition
from waihu.service.contacts import add_to_campaign
from waihu.service.live_observe import ADHOC_NAME
from waihu.service.paging import paginate
from waihu.service.tenants import audit

if TYPE_CHECKING:
    from waihu.service.live import LiveHost

EVENTS = {"start": "start", "pause": "pause", "stop": "complete", "archive": "archive"}
FIXED_STATES = (CampaignState.RUNNING.value, CampaignState.ARCHIVED.value)


def by_id(uow: UnitOfWork, campaign_id: str) -> Campaign:
    c = uow.session.get(Campaign, campaign_id)
    if c is None or c.tenant_id != uow.tenant_id:
        raise NotFound("campaign.not_found", "no such campaign")
    return c


def changeable(c: Campaign) -> Campaign:
    """The ad-hoc campaign of POST /v1/outbound is managed by the platform, not by hand."""
    if c.name == ADHOC_NAME:
        raise Conflict("campaign.reserved", "the ad-hoc campaign is managed by the platform")
    return c


def check_name(name: str) -> None:
    if name.strip().startswith("_"):
        raise ValidationError("campaign.invalid", "the campaign was not created", [
            ErrorDetail("campaign.reserved_name", "names starting with '_' are reserved", field="name")])


def campaign_dict(c: Campaign) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "job_type": c.job_type, "mode": c.dial_mode, "state": c.state,
            "script_ref": c.script_ref, "agent_group": c.agent_group, "priority": c.priority,
            "retry_policy": c.retry_policy, "dispositions": c.dispositions, "options": c.options,
            "created_at": iso(c.created_at), "started_at": iso(c.started_at), "completed_at": iso(c.completed_at)}


def list_page(uow: UnitOfWork, *, state: str | None, sort: str | None, cursor: str | None,
              limit: int) -> tuple[Sequence[Campaign], str | None]:
    q = select(Campaign).where(Campaign.tenant_id == uow.tenant_id)
    if state is not None:
        q = q.where(Campaign.state == state)
    return paginate(uow.session, q, {"created_at": Campaign.created_at, "name": Campaign.name,
                                     "priority": Campaign.priority}, Campaign.id,
                    sort=sort, default="created_at", cursor=cursor, limit=limit)


def update(uow: UnitOfWork, c: Campaign, changes: dict[str, Any], now: float) -> Campaign:
    changeable(c)
    if "name" in changes and changes["name"] is not None:
        check_name(changes["name"])
        name = changes["name"].strip()
        other = uow.session.scalar(select(Campaign.id).where(Campaign.tenant_id == uow.tenant_id,
                                                             Campaign.name == name, Campaign.id != c.id))
        if not name or other is not None:
            raise ValidationError("campaign.invalid", "the campaign was not changed", [
                ErrorDetail("campaign.name_taken" if name else "campaign.invalid_name",
                            "a unique name of 1 to 100 characters", field="name")])
        c.name = name
    if "script_ref" in changes and changes["script_ref"] != c.script_ref:
        # the report rollup keeps each call's script: reports read the CDRs until a rebuild
        report_rollup.invalidate(uow.session.connection(), uow.tenant_id)
    for k in ("priority", "agent_group", "script_ref"):
        if k in changes:
            setattr(c, k, changes[k])
    audit(uow, "campaign.update", "campaign", c.id, now, fields=sorted(changes))
    return c


DIALING_OPTIONS = ("pacing", "abandon_target", "abandon_after", "ring_timeout", "wrap_limit", "power_ratio",
                   "max_lines")


def dialing_settings(c: Campaign) -> dict[str, Any]:
    """How a campaign dials, every value filled in (defaults where the campaign sets none): what
    the console's settings form shows and ``GET /v1/campaigns/{id}/settings`` answers."""
    o = {**OPTION_DEFAULTS, **(c.options or {})}
    comp = o.get("compliance") or {}
    windows = comp.get("windows") or []
    policy = RetryPolicy.from_dict(c.retry_policy or {}).to_dict()
    return {"campaign_id": c.id, "state": c.state, "locked": c.state in FIXED_STATES, "mode": c.dial_mode,
            **{k: o.get(k) for k in DIALING_OPTIONS},
            "retry": {k.value: policy[k.value] for k in RetryKind},
            "windows": list(windows) if isinstance(windows, list) else [windows],
            "weekdays": sorted(comp.get("weekdays") or [])}


def update_dialing(uow: UnitOfWork, c: Campaign, now: float, *, mode: str | None = None,
                   options: dict[str, Any] | None = None, retry: dict[str, dict[str, float]] | None = None,
                   windows: list[str] | None = None, weekdays: list[int] | None = None) -> Campaign:
    """Change how a campaign dials: mode, pacing options, retry policy, calling window (the
    campaign's own ``compliance`` layer; ``windows=[]`` drops it so the tenant's applies).

    ``retry`` changes only the outcomes and fields it names (the others keep their values).
    Only while the campaign is not running (the dialer took its settings at start) nor archived.
    Everything is checked first: nothing changes when any part is wrong."""
    changeable(c)
    if c.state in FIXED_STATES:
        raise Conflict("campaign.settings_locked", "pause the campaign before changing how it dials"
                       if c.state == CampaignState.RUNNING.value else "an archived campaign cannot be changed")
    problems: list[ErrorDetail] = []
    if mode is not None and mode not in DialMode.__members__.values():
        problems.append(ErrorDetail("campaign.invalid_dial_mode", f"dial mode must be one of {', '.join(DialMode)}",
                                    field="mode"))
    opts = {**OPTION_DEFAULTS, **c.options, **(options or {})}
    comp = dict(opts.get("compliance") or {})
    if windows is not None:
        if windows:
            comp["windows"] = windows
        else:
            comp.pop("windows", None)
    if weekdays is not None:
        if weekdays:
            comp["weekdays"] = weekdays
        else:
            comp.pop("weekdays", None)
    opts["compliance"] = comp
    problems += check_options(opts)
    policy = None
    if retry is not None:
        try:
            current = c.retry_policy or {}
            policy = RetryPolicy.from_dict({k: {**current.get(k, {}), **v} for k, v in retry.items()}
                                           | {k: v for k, v in current.items() if k not in retry})
        except ValidationError as e:
            problems += e.details
    if problems:
        raise ValidationError("campaign.invalid", "the campaign was not changed", problems)
    changed = sorted(k for k in opts if opts[k] != c.options.get(k))
    if mode is not None and mode != c.dial_mode:
        c.dial_mode = mode
        changed.append("mode")
    c.options = opts
    if policy is not None and policy.to_dict() != c.retry_policy:
        c.retry_policy = policy.to_dict()
        changed.append("retry_policy")
    audit(uow, "campaign.update", "campaign", c.id, now, fields=sorted(changed))
    return c


def remove(uow: UnitOfWork, c: Campaign, now: float) -> None:
    changeable(c)
    if c.state != CampaignState.DRAFT.value:
        raise Conflict("campaign.not_draft", "only a draft campaign can be deleted; archive the others")
    uow.session.execute(delete(CampaignContact).where(CampaignContact.campaign_id == c.id,
                                                      CampaignContact.tenant_id == uow.tenant_id))
    uow.session.delete(c)
    audit(uow, "campaign.delete", "campaign", c.id, now, name=c.name)


def control(uow: UnitOfWork, live: LiveHost | None, c: Campaign, action: str, now: float) -> Campaign:
    """start, pause or stop; the live runtime follows once the change is committed."""
    changeable(c)
    transition(uow, c, EVENTS[action], now)
    uow.commit()
    if live is not None and action != "archive":  # only a stopped campaign is archived
        tid = uow.tenant_id
        if action == "start":
            spec, disps = spec_for(c), dispositions_of(c)
            live.submit(tid, lambda host, t: host.lane(tid).activate(spec, disps, t))
        else:
            live.submit(tid, live.feed(tid, CampaignDeactivated(c.id, "pause" if action == "pause" else "stop")))
    return c


def add_contacts(uow: UnitOfWork, c: Campaign, contact_ids: list[str], now: float) -> int:
    ids = list(dict.fromkeys(contact_ids))
    found = set(uow.session.scalars(select(Contact.id).where(Contact.tenant_id == uow.tenant_id,
                                                             Contact.id.in_(ids))))
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationError("campaign.unknown_contacts", "some contacts do not exist", [
            ErrorDetail("contact.not_found", "no such contact", field=f"contact_ids[{ids.index(m)}]")
            for m in missing[:50]])
    n = add_to_campaign(uow, c.id, ids, now)
    audit(uow, "campaign.add_contacts", "campaign", c.id, now, added=n)
    return n


def contact_count(uow: UnitOfWork, c: Campaign) -> int:
    return int(uow.session.scalar(select(func.count()).where(CampaignContact.campaign_id == c.id)) or 0)
