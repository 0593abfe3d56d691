"""Run the dialer over the tenant's trunks and caller IDs on the simulated network.

``routed_simulation`` builds, from the trunks and caller IDs the tenant may use, the router,
the caller-ID pool, the engine's route hook (with the number-status pre-check) and the
simulated trunks in front of the simulated callees. ``save_traces`` stores each attempt's
signaling log; ``call_trace`` reads one back (tenant-scoped).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from waihu.adapters.simnet.network import SimNetwork
from waihu.adapters.simnet.trunked import TrunkedNetwork
from waihu.adapters.simnet.trunks import SimTrunk
from waihu.adapters.storage.models_routing import CallSignaling
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.callerid import CallerId, CallerIdPool, CallerIdStatus, NumberType
from waihu.domain.calls import LossCause
from waihu.domain.errors import NotFound
from waihu.domain.routing import Router, RoutingPolicy
from waihu.service.lines import to_domain, visible_caller_ids, visible_trunks
from waihu.service.routing import RoutedLines

# what a simulated line does when nothing else is said: small line-loss rates, 1-3 s PDD
DEFAULT_LINE_LOSS = {LossCause.CONGESTION: 0.005, LossCause.RISK_CONTROL: 0.005, LossCause.TECHNICAL: 0.003}


@dataclass
class RoutedSimulation:
    lines: RoutedLines
    network: TrunkedNetwork


def routed_simulation(uow: UnitOfWork, base: SimNetwork, start: float, seed: int) -> RoutedSimulation | None:
    """None when the tenant has no trunk: the dialer then uses its default route."""
    trunks = [to_domain(r) for r in visible_trunks(uow) if r.enabled]
    if not trunks:
        return None
    pool = CallerIdPool(seed=seed)
    for r in visible_caller_ids(uow):
        pool.add(CallerId(r.id, r.number, r.province, r.city, NumberType(r.number_type), r.capital, r.is_default,
                          float(r.weight), r.max_concurrent, r.daily_cap, CallerIdStatus(r.status), r.spam_marks,
                          r.authenticated, r.owner_tenant_id))
    router = Router(trunks, RoutingPolicy(), seed=seed)
    lines = RoutedLines(router, pool, number_status=base)
    sims = {t.trunk_id: SimTrunk(t.trunk_id, t.capacity, t.cps, {"*": 1.0}, dict(DEFAULT_LINE_LOSS))
            for t in trunks}
    return RoutedSimulation(lines, TrunkedNetwork(base, sims, start, seed))


def save_traces(uow: UnitOfWork, net: TrunkedNetwork) -> int:
    for call_id, log in net.traces.items():
        uow.session.add(CallSignaling(call_id=call_id, tenant_id=uow.tenant_id, trunk_id=net.trunk_of.get(call_id),
                                      log=[[round(t, 3), d, m] for t, d, m in sorted(log, key=lambda x: x[0])]))
    return len(net.traces)


def call_trace(uow: UnitOfWork, call_id: str) -> dict[str, Any]:
    row = uow.session.scalar(select(CallSignaling).where(CallSignaling.call_id == call_id,
                                                         CallSignaling.tenant_id == uow.tenant_id))
    if row is None:
        raise NotFound("call.no_trace", "no signaling log for this call")
    t0 = row.log[0][0] if row.log else 0.0
    return {"call_id": row.call_id, "trunk_id": row.trunk_id,
            "messages": [{"t": round(t - t0, 3), "direction": "sent" if d == ">" else "received", "message": m}
                         for t, d, m in row.log]}
