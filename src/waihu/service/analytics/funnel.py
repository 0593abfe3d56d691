"""The conversion funnel of a campaign: stages reached by contacts through dispositions.

A contact's level is the furthest configured stage any of its dispositions reaches; a contact
connected to an agent is at least at the first stage. Drop-off reasons are the last
disposition of contacts that stopped at a stage, and the last outcome of contacts never reached."""

from __future__ import annotations

from typing import Any

from sqlalchemy import distinct, func, select

from waihu.adapters.storage.models import Campaign, CampaignContact, Cdr, DispositionRecord
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.calls import Outcome
from waihu.domain.metrics import ratio
from waihu.service.analytics import settings as cfgs


def funnel(uow: UnitOfWork, campaign: Campaign) -> dict[str, Any]:
    s, tid = uow.session, uow.tenant_id
    cfg = cfgs.load(uow, campaign)
    stages: list[str] = list(cfg["funnel"])
    by_code = cfgs.dispositions_by_code([campaign])
    where = (Cdr.tenant_id == tid, Cdr.campaign_id == campaign.id)
    dialled = s.scalar(select(func.count(distinct(Cdr.contact_id))).where(*where)) or 0
    connected = set(s.scalars(select(Cdr.contact_id).distinct().where(
        *where, Cdr.outcome == Outcome.CONNECTED.value)))
    level: dict[str, int] = dict.fromkeys(connected, 0)
    last_code: dict[str, str] = {}
    d = DispositionRecord
    for contact_id, code in s.execute(select(d.contact_id, d.code).where(
            d.tenant_id == tid, d.campaign_id == campaign.id).order_by(d.set_at, d.id)):
        disp = by_code.get(code)
        idx = stages.index(disp.stage) if disp is not None and disp.stage in stages else 0
        level[contact_id] = max(level.get(contact_id, 0), idx)
        last_code[contact_id] = code
    rows: list[dict[str, Any]] = [{"stage": "dialled", "contacts": dialled, "rate_from_previous": 1.0,
                                   "rate_from_dialled": 1.0, "drop_off": _unreached(uow, campaign, connected)}]
    prev = dialled
    for i, st in enumerate(stages):
        n = sum(1 for v in level.values() if v >= i)
        drops: dict[str, int] = {}
        if i < len(stages) - 1:
            for cid, v in level.items():
                if v == i:
                    code = last_code.get(cid, "(no disposition)")
                    drops[code] = drops.get(code, 0) + 1
        rows.append({"stage": st, "contacts": n, "rate_from_previous": round(ratio(n, prev), 6),
                     "rate_from_dialled": round(ratio(n, dialled), 6),
                     "drop_off": dict(sorted(drops.items(), key=lambda kv: (-kv[1], kv[0])))})
        prev = n
    return {"campaign": campaign.name, "stages": rows}


def _unreached(uow: UnitOfWork, campaign: Campaign, connected: set[str]) -> dict[str, int]:
    """Why contacts dialled but never connected stopped: their contact record's last outcome."""
    cc = CampaignContact
    out: dict[str, int] = {}
    for contact_id, outcome in uow.session.execute(select(cc.contact_id, cc.last_outcome).where(
            cc.tenant_id == uow.tenant_id, cc.campaign_id == campaign.id, cc.attempts > 0)):
        if contact_id not in connected:
            key = outcome or "(none)"
            out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))
