"""What the API, the live dialer and the routed simulation keep at rest holds no number in plain
text: idempotency records, webhook deliveries, CDRs, DNC entries, rejected-row reports of
uploads, signaling logs."""

from __future__ import annotations

from sqlalchemy import func, select
from tests.apitools import World
from tests.e2e.test_pii_at_rest import dump, forms

from waihu.adapters.storage.models_api import CallRequest, WebhookDelivery
from waihu.adapters.storage.models_routing import CallSignaling
from waihu.service.demo import DemoConfig, demo_rows, run_demo
from waihu.service.lines import add_trunk
from waihu.service.tenants import ensure_tenant
from waihu.service.webhooks import deliver_due

NUMBERS = ["13912345678", "13812345679", "15912345670", "18611112222", "13711112222"]


def test_api_records_and_signaling_logs_hold_no_plain_numbers(db_url: str) -> None:
    w = World(db_url)
    try:
        t = w.tenant("acme")
        hook = w.post("/v1/webhooks", t, json={"url": "http://127.0.0.1:9/hook",
                                               "events": ["call.answered", "call.ended"]})
        assert hook.status_code == 201
        for i, n in enumerate(NUMBERS[:2]):
            r = w.client.post("/v1/outbound", headers={**t.h(), "Idempotency-Key": f"k{i}"}, json={"phone": n})
            assert r.status_code == 202
        assert w.post("/v1/dnc", t, json={"phone": NUMBERS[2], "reason": "asked"}).status_code == 201
        csv = f"姓名,手机号\n甲,{NUMBERS[3]}\n乙,{NUMBERS[4][:7]}\n".encode()
        up = w.client.post("/v1/imports", headers=t.h(), files={"file": ("list.csv", csv, "text/csv")})
        assert up.status_code in (200, 201) and up.json()["rejected"] == 1
        w.advance(120)
        deliver_due(w.platform, w.clock.now())  # nothing listens: the deliveries stay, with their payloads
        # a routed simulation of the same deployment writes signaling logs
        with w.platform.uow("", actor="test") as uow:
            ensure_tenant(uow, "demo", w.clock.now())
            add_trunk(uow, w.clock.now(), name="T1", capacity=20, cps=5)
            uow.commit()
        demo = run_demo(w.platform, DemoConfig(agents=3, contacts=40, seed=3))
        assert demo["cdrs"] > 0
        with w.platform.engine.connect() as conn:
            for model in (CallRequest, WebhookDelivery, CallSignaling):
                assert conn.execute(select(func.count()).select_from(model)).scalar_one() > 0, model.__tablename__
    finally:
        w.close()
    blob = dump(db_url)
    demo_numbers = [r.phones[0].phone.e164[3:] for r in demo_rows(40, 3) if r.phones][:10]
    for n in NUMBERS[:4] + demo_numbers:
        for form in forms(n):
            assert form not in blob, f"a number in plain text ({n[:3]}****)"
    assert NUMBERS[4][:7].encode() not in blob, "not even a rejected row's digits"
