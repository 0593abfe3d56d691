"""SIP addresses of trunks and agents' phones, as stored: the digest password sealed with the
owner's key and never shown, every bad value refused with its field, a platform trunk changed
only by the platform, and the running dialers told (the lines signature moves)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from waihu.adapters.storage.models import AuditEntry
from waihu.bootstrap import Platform
from waihu.domain.errors import Conflict, ValidationError
from waihu.service.directory import agent_dict, create_agent, update_agent
from waihu.service.lines import add_trunk, find_trunk, trunk_doc
from waihu.service.lines_runtime import lines_signature
from waihu.service.sip_lines import count_sip_trunks, set_trunk_sip, sip_trunk, sip_trunks_of
from waihu.service.tenants import ensure_tenant


def tenant(platform: Platform) -> str:
    with platform.uow("") as uow:
        tid = ensure_tenant(uow, "sip-lines", 0.0)
        uow.commit()
    return tid


def test_sip_address_is_stored_with_a_sealed_password_and_never_shown(platform: Platform) -> None:
    tid = tenant(platform)
    with platform.uow(tid, actor="test") as uow:
        doc = add_trunk(uow, 1.0, name="ct", capacity=30, cps=5, sip="sip:gw7:in-uri-pw@198.51.100.7:5070",
                        sip_password="s3cret-pw", sip_register=True, sip_pai=True, sip_options_interval=15)
        add_trunk(uow, 1.0, name="sim", capacity=30, cps=5)
        uow.commit()
    assert doc["sip"] == {"uri": "sip:gw7@198.51.100.7:5070", "registration": True, "pai": True,
                          "options_interval": 15.0, "password_set": True}
    with platform.engine.connect() as conn:
        raw = " ".join(str(v) for row in conn.execute(text("SELECT sip, sip_secret FROM trunks")) for v in row)
        audits = " ".join(str(r.detail) for r in conn.execute(select(AuditEntry.detail)))
    assert "s3cret-pw" not in raw and "in-uri-pw" not in raw and "s3cret-pw" not in audits
    assert "sip:gw7@198.51.100.7:5070" in audits, "who pointed the line where is audited"
    with platform.uow(tid) as uow:
        trunks = sip_trunks_of(uow)
        assert [(t.name, t.host, t.port, t.username, t.password, t.register, t.use_pai, t.options_interval)
                for t in trunks] == [("ct", "198.51.100.7", 5070, "gw7", "s3cret-pw", True, True, 15.0)]
        assert sip_trunk(uow, find_trunk(uow, name="sim")) is None


def test_bad_sip_settings_are_refused_with_the_field_and_nothing_changes(platform: Platform) -> None:
    tid = tenant(platform)
    with platform.uow(tid, actor="test") as uow:
        add_trunk(uow, 1.0, name="ct", capacity=30, cps=5, sip="sip:198.51.100.7")
        uow.commit()
    cases = [({"uri": "http://"}, "sip"), ({"uri": "sip:198.51.100.7", "register": True}, "sip"),
             ({"uri": "sip:gw@198.51.100.7", "options_interval": -1.0}, "options_interval"),
             ({"uri": "sip:gw@198.51.100.7;transport=sctp"}, "sip")]
    for kw, field in cases:
        with platform.uow(tid, actor="test") as uow:
            row = find_trunk(uow, name="ct")
            uri = str(kw.pop("uri"))
            with pytest.raises(ValidationError) as e:
                set_trunk_sip(uow, 2.0, row, uri, **kw)  # type: ignore[arg-type]
            assert e.value.code == "trunk.invalid_sip" and e.value.details[0].field == field
    with platform.uow(tid) as uow:
        assert trunk_doc(find_trunk(uow, name="ct"))["sip"]["uri"] == "sip:198.51.100.7:5060"
    with platform.uow(tid, actor="test") as uow:  # over TCP: the transport is kept and shown
        set_trunk_sip(uow, 3.0, find_trunk(uow, name="ct"), "sip:gw@198.51.100.7:5061;Transport=TCP")
        uow.commit()
    with platform.uow(tid) as uow:
        assert trunk_doc(find_trunk(uow, name="ct"))["sip"]["uri"] == "sip:gw@198.51.100.7:5061;transport=tcp"
        assert [(t.port, t.transport) for t in sip_trunks_of(uow)] == [(5061, "tcp")]


def test_platform_trunk_is_the_platforms_to_point_and_changes_move_the_signature(platform: Platform) -> None:
    tid = tenant(platform)
    with platform.uow(tid, actor="test") as uow:
        add_trunk(uow, 1.0, name="shared", capacity=30, cps=5, platform=True)
        before = lines_signature(uow)
        uow.commit()
    with platform.uow(tid, actor="test") as uow:
        row = find_trunk(uow, name="shared")
        with pytest.raises(Conflict) as e:
            set_trunk_sip(uow, 2.0, row, "sip:203.0.113.9")
        assert e.value.code == "trunk.platform_owned"
        set_trunk_sip(uow, 2.0, row, "sip:203.0.113.9", password="pw-1", platform=True)
        uow.commit()
    with platform.uow(tid) as uow:
        after = lines_signature(uow)
        assert after != before and sip_trunks_of(uow)[0].password == "pw-1"
    assert count_sip_trunks(platform) == 1
    with platform.uow(tid) as uow:
        set_trunk_sip(uow, 3.0, find_trunk(uow, name="shared"), None, platform=True)
        assert lines_signature(uow) not in (after,) and not sip_trunks_of(uow)
        uow.commit()
    assert count_sip_trunks(platform) == 0, "a trunk robbed of its address is a simulated line again"


def test_agent_phone_is_checked_and_normalised(platform: Platform) -> None:
    tid = tenant(platform)
    with platform.uow(tid, actor="test") as uow:
        a = create_agent(uow, "1001", "Li", [], 1.0, phone=" sip:1001@10.0.0.5 ")
        assert agent_dict(a)["phone"] == "sip:1001@10.0.0.5:5060"
        for bad in ("10.0.0.5", "sip:10.0.0.5", "tel:+8613800138000"):
            with pytest.raises(ValidationError) as e:
                update_agent(uow, a, {"phone": bad}, 2.0)
            assert e.value.code == "agent.invalid_phone" and e.value.details[0].field == "phone"
        update_agent(uow, a, {"phone": None}, 3.0)
        assert a.phone_uri is None
