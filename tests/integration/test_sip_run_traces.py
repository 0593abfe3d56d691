"""``waihu run`` stores the SIP signaling logs in batches as calls end, so memory stays bounded."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from waihu.adapters.sip.telephony import CallTrace
from waihu.adapters.storage.models_routing import CallSignaling
from waihu.bootstrap import Platform
from waihu.domain.calls import CallRecord, Outcome
from waihu.domain.messages import WriteCdr
from waihu.service.sip_run import TRACE_BATCH, SipRun, SipRunConfig
from waihu.service.tenants import ensure_tenant


class Traces:
    """What SipTelephony keeps of each finished call (one of them lost, as after its cap)."""

    def trace(self, call_id: str) -> CallTrace | None:
        if call_id == "lost":
            return None
        return CallTrace(call_id, "t1", "139****0000", ((1.0, "out", "INVITE", 0), (1.2, "in", "INVITE", 486)))


def stored(p: Platform) -> int:
    with p.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(CallSignaling)).scalar_one())


def test_signaling_logs_are_stored_in_batches(platform: Platform) -> None:
    with platform.uow("") as uow:
        tid = ensure_tenant(uow, "sip", 0.0)
        uow.commit()
    job = SipRun(platform, tid, SipRunConfig("c", [], {}))
    job._tel = Traces()  # type: ignore[assignment]

    def end(call_id: str) -> None:
        rec = CallRecord(call_id=call_id, tenant_id=tid, campaign_id="c", contact_id="k", phone_ref="p", attempt=1,
                         dial_at=1.0, end_at=2.0, outcome=Outcome.BUSY)
        job._note_cdr(WriteCdr(rec), 2.0)

    for i in range(TRACE_BATCH - 1):
        end(f"c{i}")
    assert stored(platform) == 0 and len(job._traces) == TRACE_BATCH - 1
    end("lost")
    assert stored(platform) == TRACE_BATCH - 1 and job._traces == [], "a full batch is stored at once"
    end("last")
    job._save_traces(job._tel)  # type: ignore[arg-type]
    assert stored(platform) == TRACE_BATCH and job._saved == TRACE_BATCH
    with platform.engine.connect() as conn:
        log: Any = conn.execute(select(CallSignaling.log).where(CallSignaling.call_id == "last")).scalar_one()
    assert [m for _, _, m in log] == ["INVITE", "486 INVITE"]
