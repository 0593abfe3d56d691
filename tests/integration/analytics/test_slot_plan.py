"""An adopted slot plan steers the dialer's contact selection: within a priority, contacts whose
segment has the current local weekday and hour in its plan are loaded first."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update

from waihu.adapters.storage.dialer_store import SqlDialerStore
from waihu.adapters.storage.models import Campaign, CampaignContact, ContactPhone
from waihu.bootstrap import Platform
from waihu.service import campaign_admin, customers
from waihu.service.analytics import settings as cfgs
from waihu.service.analytics import slots
from waihu.service.campaigns import create_campaign
from waihu.service.tenants import ensure_tenant

TZ = ZoneInfo("Asia/Shanghai")
MONDAY_0930 = datetime(2026, 3, 2, 9, 30, tzinfo=TZ).timestamp()  # 2026-03-02 is a Monday
MONDAY_1530 = datetime(2026, 3, 2, 15, 30, tzinfo=TZ).timestamp()
TUESDAY_0930 = datetime(2026, 3, 3, 9, 30, tzinfo=TZ).timestamp()


def _setup(p: Platform) -> tuple[str, str, dict[str, str]]:
    """Four due contacts: two in region East, two in West; the West ones are due earlier."""
    start = MONDAY_0930 - 86400
    with p.uow("") as uow:
        tid = ensure_tenant(uow, "slots", start)
        camp = create_campaign(uow, "slots", start, job_type="marketing")
        region: dict[str, str] = {}
        for i, phone in enumerate(["+8613800138001", "+8613800138002", "+8613800138003", "+8613800138004"]):
            c = customers.create(uow, [phone], start)
            region[c.id] = "West" if i < 2 else "East"
            uow.session.execute(update(ContactPhone).where(ContactPhone.contact_id == c.id)
                                .values(region=region[c.id]))
        campaign_admin.add_contacts(uow, camp, list(region), start)
        for k, cid in enumerate(region):
            due = datetime.fromtimestamp(start, TZ) + timedelta(minutes=k)
            uow.session.execute(update(CampaignContact).where(CampaignContact.contact_id == cid)
                                .values(next_attempt_at=due))
        uow.commit()
    return tid, camp.id, region


def _first_regions(p: Platform, tid: str, camp: str, region: dict[str, str], now: float) -> list[str]:
    store = SqlDialerStore(p.engine, p.codec, tid)
    targets, _ = store.load_contacts(camp, 2, now)
    with p.uow(tid) as uow:  # put them back for the next load
        uow.session.execute(update(CampaignContact).where(CampaignContact.campaign_id == camp)
                            .values(state="pending"))
        uow.commit()
    return [region[t.contact_id] for t in targets]


def test_adopted_slot_plan_orders_due_contacts(platform: Platform) -> None:
    tid, camp, region = _setup(platform)
    # without a plan: the earliest due first (the West contacts)
    assert _first_regions(platform, tid, camp, region, MONDAY_0930) == ["West", "West"]
    with platform.uow(tid) as uow:
        c = uow.session.get(Campaign, camp)
        assert c is not None
        slots.adopt(uow, c, {"plan": {"East": [[1, 9]], "West": [[1, 15]]}, "segment": "region"}, MONDAY_0930)
        uow.commit()
    assert _first_regions(platform, tid, camp, region, MONDAY_0930) == ["East", "East"]  # Monday 09:00: East
    assert _first_regions(platform, tid, camp, region, MONDAY_1530) == ["West", "West"]  # Monday 15:00: West
    assert _first_regions(platform, tid, camp, region, TUESDAY_0930) == ["West", "West"]  # no plan slot: due order
    with platform.uow(tid) as uow:  # a newly adopted plan replaces the old one
        c = uow.session.get(Campaign, camp)
        assert c is not None
        slots.adopt(uow, c, {"plan": {"East": [[2, 9]]}, "segment": "region"}, MONDAY_0930)
        uow.commit()
        assert cfgs.load(uow, c)["slot_plan"] == {"East": [[2, 9]]}
    assert _first_regions(platform, tid, camp, region, TUESDAY_0930) == ["East", "East"]
    assert _first_regions(platform, tid, camp, region, MONDAY_0930) == ["West", "West"]  # old slot gone
