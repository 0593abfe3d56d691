"""Run the dialer over the tenant's trunks and caller IDs on the simulated network.

``routed_simulation`` builds, from the trunks and caller IDs the tenant may use, the router,
the caller-ID pool, the engine's route hook (with the number-status pre-check) and the
simulated trunks in front of the simulated callees (``build_lines`` and ``trunked_network``
are its two halves: the live runtime shares one router per tenant between its lanes, each lane
with its own simulated lines). ``save_traces``
stores each attempt's signaling log; ``call_trace`` reads one back (tenant-scoped).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from waihu.adapters.simnet.network import SimNetwork
from waihu.adapters.simnet.trunked import TrunkedNetwork
from waihu.adapters.simnet.trunks import SimTrunk
from waihu.adapters.storage.models import Cdr
from waihu.adapters.storage.models_routing import CallSignaling
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.callerid import CallerId, CallerIdPool, CallerIdStatus, NumberType
from waihu.domain.calls import LossCause
from waihu.domain.errors import NotFound
from waihu.domain.routing import Router, RoutingPolicy
from waihu.domain.timeutil import to_dt
from waihu.domain.trunks import Trunk
from waihu.ports import NumberStatusProvider
from waihu.service.lines import to_domain, visible_caller_ids, visible_trunks
from waihu.service.routing import RoutedLines

# what a simulated line does when nothing else is said: small line-loss rates, 1-3 s PDD
DEFAULT_LINE_LOSS = {LossCause.CONGESTION: 0.005, LossCause.RISK_CONTROL: 0.005, LossCause.TECHNICAL: 0.003}


LineModel = Callable[[Trunk], SimTrunk]  # how the simulated carrier behind a trunk behaves


def default_line(t: Trunk) -> SimTrunk:
    return SimTrunk(t.trunk_id, t.capacity, t.cps, {"*": 1.0}, dict(DEFAULT_LINE_LOSS))


@dataclass
class RoutedSimulation:
    lines: RoutedLines
    network: TrunkedNetwork


def lines_of(uow: UnitOfWork) -> tuple[list[Trunk], list[CallerId]]:
    """The enabled trunks and the caller IDs the tenant may use now."""
    trunks = [to_domain(r) for r in visible_trunks(uow) if r.enabled]
    cids = [CallerId(r.id, r.number, r.province, r.city, NumberType(r.number_type), r.capital, r.is_default,
                     float(r.weight), r.max_concurrent, r.daily_cap, CallerIdStatus(r.status), r.spam_marks,
                     r.authenticated, r.owner_tenant_id) for r in visible_caller_ids(uow)]
    return trunks, cids


def lines_signature(uow: UnitOfWork) -> str:
    """A digest of everything ``lines_of`` reads: it changes when a trunk or caller ID does."""
    rows: list[Iterable[Any]] = []
    for t in visible_trunks(uow):
        rows.append(("t", t.id, t.name, t.enabled, t.capacity, str(t.cps), str(t.cost_per_minute), t.billing_increment,
                     str(t.cost_per_attempt), sorted(t.regions), sorted(t.business), t.priority, t.role,
                     sorted((t.thresholds or {}).items()), sorted((t.sip or {}).items()), t.sip_secret))
    for c in visible_caller_ids(uow):
        rows.append(("c", c.id, c.number, c.province, c.city, c.number_type, c.capital, c.is_default, str(c.weight),
                     c.max_concurrent, c.daily_cap, c.status, c.spam_marks, c.authenticated))
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def build_lines(trunks: list[Trunk], cids: list[CallerId], seed: int,
                number_status: NumberStatusProvider | None = None) -> RoutedLines:
    """The engine's route hook over these trunks and caller IDs (``RoutedLines.reconfigure``
    hands it others later)."""
    pool = CallerIdPool(seed=seed)
    for c in cids:
        pool.add(c)
    return RoutedLines(Router(trunks, RoutingPolicy(), seed=seed), pool, number_status=number_status)


def prime_caller_ids(uow: UnitOfWork, lines: RoutedLines, now: float) -> None:
    """Today's use of the pool's caller IDs, from the CDRs (every tenant's: a platform number is
    shared), so that a new run or a restart keeps the daily caps and never shows a number to the
    same callee twice in a day."""
    pool = lines.pool
    if pool is None or not pool.numbers:
        return
    by_display = {n.display: nid for nid, n in pool.numbers.items()}
    used: dict[str, int] = {}
    shown: set[tuple[str, str]] = set()
    rows = uow.session.execute(select(Cdr.caller_id, Cdr.phone_id).where(
        Cdr.caller_id.in_(sorted(by_display)), Cdr.dial_at >= to_dt(pool.day_start(now)), Cdr.dial_at <= to_dt(now)))
    for display, phone_id in rows:
        nid = by_display[str(display)]
        used[nid] = used.get(nid, 0) + 1
        shown.add((phone_id, nid))
    pool.prime(now, used, shown)


def trunked_network(trunks: list[Trunk], base: SimNetwork, start: float, seed: int,
                    line_model: LineModel = default_line) -> TrunkedNetwork:
    return TrunkedNetwork(base, {t.trunk_id: line_model(t) for t in trunks}, start, seed)


def routed_simulation(uow: UnitOfWork, base: SimNetwork, start: float, seed: int,
                      line_model: LineModel = default_line) -> RoutedSimulation | None:
    """None when the tenant has no trunk: the dialer then uses its default route."""
    trunks, cids = lines_of(uow)
    if not trunks:
        return None
    lines = build_lines(trunks, cids, seed, base)
    prime_caller_ids(uow, lines, start)
    return RoutedSimulation(lines, trunked_network(trunks, base, start, seed, line_model))


def save_traces(uow: UnitOfWork, net: TrunkedNetwork, call_ids: Iterable[str] | None = None) -> int:
    """Store the signaling logs of these calls (all the network holds when None)."""
    n = 0
    for call_id in list(net.traces) if call_ids is None else call_ids:
        log = net.traces.get(call_id)
        if log is None:
            continue
        uow.session.add(CallSignaling(call_id=call_id, tenant_id=uow.tenant_id, trunk_id=net.trunk_of.get(call_id),
                                      log=[[round(t, 3), d, m] for t, d, m in sorted(log, key=lambda x: x[0])]))
        n += 1
    return n


def call_trace(uow: UnitOfWork, call_id: str) -> dict[str, Any]:
    row = uow.session.scalar(select(CallSignaling).where(CallSignaling.call_id == call_id,
                                                         CallSignaling.tenant_id == uow.tenant_id))
    if row is None:
        raise NotFound("call.no_trace", "no signaling log for this call")
    t0 = row.log[0][0] if row.log else 0.0
    return {"call_id": row.call_id, "trunk_id": row.trunk_id,
            "messages": [{"t": round(t - t0, 3), "direction": "sent" if d == ">" else "received", "message": m}
                         for t, d, m in row.log]}
