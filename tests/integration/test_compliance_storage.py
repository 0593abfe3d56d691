"""DNC lists, the compliance screen, explain, consent, erasure and key rotation on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, insert, select, text

from waihu.adapters.storage.models import AuditEntry, Cdr, Contact, ContactPhone
from waihu.adapters.storage.models_compliance import DncEntry
from waihu.bootstrap import Platform
from waihu.domain.calls import CallRecord, Outcome
from waihu.domain.errors import ValidationError
from waihu.domain.messages import DialTarget, WriteCdr, WriteDisposition
from waihu.domain.phone import PhoneNumber
from waihu.domain.timeutil import to_dt
from waihu.service.campaigns import create_campaign, spec_for
from waihu.service.compliance_settings import set_tenant_rules, tenant_rules
from waihu.service.contacts import merge_rows
from waihu.service.demo import DEFAULT_START, demo_rows
from waihu.service.directory import add_dnc
from waihu.service.dnc import DncItem, add_entries, list_entries, remove_entries
from waihu.service.explain import explain
from waihu.service.keys import rotate_tenant_key
from waihu.service.privacy import erase_contact, record_consent
from waihu.service.screen import load_screen
from waihu.service.tenants import ensure_tenant

NOW = DEFAULT_START + 3600  # Monday 10:00 Shanghai


def setup(p: Platform, n: int = 5, options: dict[str, Any] | None = None) -> tuple[str, str, list[Any]]:
    rows = demo_rows(n, 3)
    with p.uow("") as uow:
        tid = ensure_tenant(uow, "t1", NOW)
        c = create_campaign(uow, "c1", NOW, job_type="marketing", options=options)
        merge_rows(uow, rows, NOW, campaign_id=c.id, filename="x")
        uow.commit()
        cid = c.id
    return tid, cid, rows


def dnc_count(p: Platform) -> int:
    with p.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(DncEntry)).scalar_one())


def target(p: Platform, tid: str, cid: str, e164: str) -> DialTarget:
    with p.engine.connect() as conn:
        ph = conn.execute(select(ContactPhone).where(ContactPhone.phone_hash == p.codec.phone_hash(e164))).one()
    return DialTarget(contact_id=ph.contact_id, campaign_id=cid, phone=PhoneNumber(e164), phone_ref=ph.id,
                      timezone=ph.timezone, region=ph.region)


def test_dnc_lists_block_and_bad_input_changes_nothing(platform: Platform) -> None:
    tid, cid, rows = setup(platform)
    nums = [r.phones[0].phone.e164 for r in rows]
    with platform.uow(tid) as uow:
        assert add_entries(uow, [DncItem(nums[0])], NOW, source="complaint") == 1
        assert add_entries(uow, [DncItem(nums[1], expires_at=NOW + 2 * 3600)], NOW, campaign="c1") == 1
        assert add_entries(uow, [DncItem(nums[2])], NOW, source="regulator", is_global=True) == 1
    before = dnc_count(platform)
    bad = [[DncItem(nums[3]), DncItem("12345", row=2)], [DncItem(nums[3], expires_at=NOW - 60)],
           [DncItem(nums[3], expires_at=NOW + 200 * 3600)], [DncItem(nums[3], source="gossip")]]
    for items in bad:
        with platform.uow(tid) as uow, pytest.raises(ValidationError) as e:
            add_entries(uow, items, NOW)
        assert e.value.details
        assert dnc_count(platform) == before  # nothing was written
    with platform.uow(tid) as uow:
        listed = list_entries(uow, NOW)
        assert [r["source"] for r in listed] == ["complaint"]
        assert listed[0]["number"] == PhoneNumber(nums[0]).masked() and nums[0][3:] not in str(listed)
    with platform.uow(tid) as uow:
        c = create_campaign(uow, "c2", NOW, job_type="marketing")
        uow.commit()
        spec, spec2 = spec_for(create_campaign(uow, "c3", NOW)), spec_for(c)
    screen = load_screen(platform.engine, platform.codec.phone_hash, tid)
    spec.campaign_id = cid
    verdicts = [screen(target(platform, tid, cid, n), spec, NOW) for n in nums[:4]]
    assert [v.reasons for v in verdicts] == [("compliance.dnc",), ("compliance.dnc",), ("compliance.dnc",), ()]
    assert verdicts[0].until is None and verdicts[1].until == NOW + 2 * 3600 and verdicts[2].until is None
    assert screen(target(platform, tid, c.id, nums[1]), spec2, NOW).allow  # a campaign list binds its campaign
    with platform.uow(tid) as uow:
        assert remove_entries(uow, [nums[0]], NOW) == 1


def test_screen_follows_cdrs_and_opt_outs(platform: Platform) -> None:
    tid, cid, rows = setup(platform)
    with platform.uow(tid) as uow:
        spec = spec_for(create_campaign(uow, "c9", NOW, job_type="marketing"))
    spec.campaign_id = cid
    screen = load_screen(platform.engine, platform.codec.phone_hash, tid, [cid])
    t = target(platform, tid, cid, rows[0].phones[0].phone.e164)
    assert screen(t, spec, NOW).allow
    for k in range(2):  # two calls today: the marketing cap is 2
        rec = CallRecord(call_id=f"call{k}", tenant_id=tid, campaign_id=cid, contact_id=t.contact_id,
                         phone_ref=t.phone_ref, attempt=k + 1, dial_at=NOW + k * 60, end_at=NOW + k * 60 + 30,
                         outcome=Outcome.NO_ANSWER)
        screen.observe(WriteCdr(rec), NOW + k * 60 + 30)
    v = screen(t, spec, NOW + 600)
    assert v.reasons == ("compliance.daily_cap",) and v.until == DEFAULT_START + 86400
    screen.observe(WriteDisposition("call1", cid, t.contact_id, "a1", "do_not_call", NOW + 700), NOW + 700)
    assert screen(t, spec, NOW + 86400).reasons == ("compliance.dnc",)
    with platform.engine.connect() as conn:
        src = conn.execute(select(DncEntry.source).where(DncEntry.phone_hash == screen.hash_of[t.contact_id])).scalar()
    assert src == "customer_request"


def test_explain_consent_and_rules(platform: Platform) -> None:
    tid, _cid, rows = setup(platform, options={"compliance": {"require_consent": True}})
    num = rows[0].phones[0].phone.e164
    with platform.uow(tid) as uow:
        doc = explain(uow, platform.engine, num, NOW + 12 * 3600)
    c = doc["campaigns"][0]
    assert c["verdict"] == "block" and c["reasons"] == ["compliance.outside_calling_window", "compliance.no_consent"]
    assert doc["number"] == PhoneNumber(num).masked()
    with platform.uow(tid) as uow:
        record_consent(uow, num, NOW, source="web_form", scope="marketing", evidence="form-17")
    with platform.uow(tid) as uow:
        c = explain(uow, platform.engine, num, NOW + 12 * 3600, campaign="c1")["campaigns"][0]
    assert c["verdict"] == "defer" and c["allowed_from"] == "2026-01-06T09:00:00+08:00"
    with platform.uow(tid) as uow, pytest.raises(ValidationError):
        record_consent(uow, num, NOW, source="web_form", expires_at=NOW - 1)
    with platform.uow(tid) as uow:
        set_tenant_rules(uow, {"windows": ["08:00-20:00"]}, NOW)
    for bad in ({"windows": ["25:00-26:00"]}, {"max_per_day": -1}, {"timezone": "Nowhere/City"}):
        with platform.uow(tid) as uow, pytest.raises(ValidationError):
            set_tenant_rules(uow, bad, NOW)
        with platform.uow(tid) as uow:
            assert tenant_rules(uow) == {"windows": ["08:00-20:00"]}  # unchanged


def test_erase_keeps_statistics_and_rotation_keeps_data_readable(platform: Platform) -> None:
    tid, cid, rows = setup(platform)
    with platform.engine.begin() as conn:
        ph = conn.execute(select(ContactPhone).where(ContactPhone.phone_hash == platform.codec.phone_hash(
            rows[0].phones[0].phone.e164))).one()
        conn.execute(insert(Cdr), [{
            "id": "cdr1", "tenant_id": tid, "campaign_id": cid, "contact_id": ph.contact_id, "phone_id": ph.id,
            "phone_hash": ph.phone_hash, "attempt": 1, "mode": "progressive", "dial_at": to_dt(NOW),
            "end_at": to_dt(NOW + 9), "outcome": "no_answer", "talk_seconds": 0}])
    with platform.uow(tid) as uow:
        r = rotate_tenant_key(uow, NOW)
    assert r["version"] == 2 and r["phones_resealed"] == 5
    with platform.engine.connect() as conn:
        sealed = conn.execute(select(ContactPhone.phone_sealed).where(ContactPhone.id == ph.id)).scalar_one()
    assert platform.codec.key_version(sealed) == 2
    assert platform.codec.open(tid, sealed) == rows[0].phones[0].phone.e164
    with platform.uow(tid) as uow:
        done = erase_contact(uow, rows[0].phones[0].phone.e164, NOW)
    assert done["numbers"] == 1
    with platform.engine.connect() as conn:
        contact = conn.execute(select(Contact).where(Contact.id == ph.contact_id)).one()
        assert contact.name is None and contact.attributes == {}
        assert conn.execute(select(func.count()).select_from(ContactPhone)
                            .where(ContactPhone.contact_id == ph.contact_id)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(Cdr)).scalar() == 1  # statistics stay
        actions = set(conn.execute(select(AuditEntry.action).where(AuditEntry.tenant_id == tid)).scalars())
    assert {"contact.erase", "keys.rotate"} <= actions


def test_audit_log_is_append_only(platform: Platform) -> None:
    from sqlalchemy import delete, update
    from sqlalchemy.exc import DBAPIError

    setup(platform, n=1)
    for stmt in (update(AuditEntry).values(actor="someone else"), delete(AuditEntry)):
        with pytest.raises(DBAPIError), platform.engine.begin() as conn:
            conn.execute(stmt)
    with platform.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AuditEntry)).scalar_one() > 0


def test_set_based_queue_agrees_with_the_dialer_screen(platform: Platform) -> None:
    from waihu.domain.compliance_rules import build_rules
    from waihu.service.screening import fill_dial_queue, reasons_of

    rules_cfg = {"rolling_max": 1, "rolling_minutes": 30, "min_gap_seconds": 900, "marketed_days": 30,
                 "max_attempts": 3, "excluded_regions": ["广东"], "require_consent": True}
    tid, cid, rows = setup(platform, n=12, options={"compliance": rules_cfg})
    nums = [r.phones[0].phone.e164 for r in rows]
    with platform.uow(tid) as uow:
        other = create_campaign(uow, "earlier", NOW, job_type="marketing")
        uow.commit()
        add_entries(uow, [DncItem(nums[0]), DncItem(nums[1], expires_at=NOW + 7200)], NOW)
    with platform.uow(tid) as uow:  # the API's and console's writer: the queue's prefilter must know it too
        add_dnc(uow, nums[10], "asked on the phone", NOW)
        uow.commit()
    for n in nums[2:10]:
        with platform.uow(tid) as uow:
            record_consent(uow, n, NOW - 60, source="web_form", scope="marketing")
    with platform.engine.begin() as conn:
        for k, n in enumerate(nums[3:8]):  # calls earlier today, by another marketing campaign
            ph = conn.execute(select(ContactPhone).where(ContactPhone.phone_hash == platform.codec.phone_hash(n))).one()
            for j in range(k % 3 + 1):
                at = NOW - 300 * (j + 1) * (k + 1)
                conn.execute(insert(Cdr), [{"id": f"x{k}{j}", "tenant_id": tid, "campaign_id": other.id,
                                            "contact_id": ph.contact_id, "phone_id": ph.id,
                                            "phone_hash": ph.phone_hash, "attempt": j + 1, "mode": "progressive",
                                            "dial_at": to_dt(at), "end_at": to_dt(at + 20), "outcome": "busy",
                                            "talk_seconds": 0}])
    rules = build_rules({}, rules_cfg, "marketing")
    with platform.engine.begin() as conn:
        res = fill_dial_queue(conn, tid, cid, "marketing", rules, NOW)
        queued = {r[0]: (r[1], r[2]) for r in conn.execute(text(
            "SELECT contact_id, reason_mask, status FROM dial_queue WHERE campaign_id = :c"), {"c": cid})}
    assert res["screened"] == 12 and res["blocked"] > 0 and res["deferred"] > 0
    assert res["by_reason"]["compliance.dnc"] == 3
    screen = load_screen(platform.engine, platform.codec.phone_hash, tid, [cid])
    with platform.uow(tid) as uow:
        spec = spec_for(create_campaign(uow, "spec-only", NOW, job_type="marketing"))
    spec.campaign_id = cid
    for n in nums:
        t = target(platform, tid, cid, n)
        d = screen.decide(t, spec, NOW)
        mask, status = queued[t.contact_id]
        assert sorted(d.reasons) == reasons_of(mask), n[-4:]
        assert status == {"allow": "ready", "defer": "defer", "block": "block"}[d.verdict.value]
