"""The engine's ``route`` hook backed by the adaptive router and the caller-ID pool.

``RoutedLines.route`` answers the engine for every dial: a trunk (chosen by
``waihu.domain.routing.Router`` among the trunks registered for the campaign's business and
the callee's region) and a caller ID (``waihu.domain.callerid.CallerIdPool``, by local
presence), or a platform-side hold with its reason. ``RoutedLines.observe`` is a runtime
observer: every CDR feeds the router (line result, answer, talk time), frees the trunk and the
caller ID, and updates the trunk's live statistics.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from waihu.domain.callerid import CallerId, CallerIdPool
from waihu.domain.calls import CallRecord, Side
from waihu.domain.messages import Command, DialTarget, WriteCdr
from waihu.domain.number_status import SKIP, NumberStatusCache
from waihu.domain.routing import Router, RouteRequest
from waihu.domain.trunk_stats import TrunkStats
from waihu.domain.trunks import Trunk
from waihu.engine.config import CampaignSpec, Route
from waihu.ports import NumberStatusProvider


@dataclass(frozen=True, slots=True)
class Decision:
    at: float
    campaign_id: str
    contact_id: str
    trunk_id: str | None
    caller_id: str | None
    reason: str
    probe: bool


class RoutedLines:
    def __init__(self, router: Router, pool: CallerIdPool | None = None, *,
                 hold_seconds: float = 30.0, keep: int = 1000,
                 number_status: NumberStatusProvider | None = None) -> None:
        self.router = router
        self.pool = pool
        self.number_status = number_status
        self.status_cache = NumberStatusCache()
        self.hold_seconds = hold_seconds
        self.stats: dict[str, TrunkStats] = {t: TrunkStats() for t in router.live}
        self.decisions: deque[Decision] = deque(maxlen=keep)
        self._open: dict[tuple[str, str, str], tuple[str | None, bool]] = {}  # -> (region, probe)
        self._cids: dict[tuple[str, str], deque[str]] = {}  # (campaign, contact) -> caller IDs in use

    def reconfigure(self, trunks: list[Trunk], caller_ids: list[CallerId]) -> None:
        """The next calls go over these trunks and show these caller IDs. A caller ID that stays
        keeps its calls in use and its count for today; one that left is released as its calls end."""
        self.router.set_trunks(trunks)
        for t in self.router.live:
            self.stats.setdefault(t, TrunkStats())
        if self.pool is None:
            self.pool = CallerIdPool()
        old = self.pool.numbers
        self.pool.numbers = {}
        for c in caller_ids:
            prev = old.get(c.number_id)
            if prev is not None:
                c.in_use, c.used_today = prev.in_use, prev.used_today
            self.pool.add(c)

    def business_of(self, spec: CampaignSpec) -> str:
        return spec.job_type

    def precheck(self, target: DialTarget, spec: CampaignSpec, now: float) -> Route | None:
        """A hold when the number-status provider says the number cannot be reached."""
        if self.number_status is None or target.avoid_trunks:
            return None
        cache = self.status_cache
        found, state = cache.get(target.phone_ref, now)
        if not found:
            state = self.number_status.check(target.phone, now)
            cache.put(target.phone_ref, state, now)
        if state is None or state not in SKIP:
            cache.reachable(target.phone_ref)
            return None
        business = self.business_of(spec)
        costs = [tl.trunk.cost_per_attempt for tl in self.router.live.values()
                 if tl.trunk.eligible(business, target.region)]
        until, final = cache.skip(target.phone_ref, state, min(costs) if costs else 0.0, now)
        reason = f"number_status.{state.value}"
        self.decisions.append(Decision(now, spec.campaign_id, target.contact_id, None, None, reason, False))
        return Route(None, hold_reason=reason, retry_at=until, final=final)

    def route(self, target: DialTarget, spec: CampaignSpec, now: float) -> Route:
        held = self.precheck(target, spec, now)
        if held is not None:
            return held
        req = RouteRequest(self.business_of(spec), target.region, frozenset(target.avoid_trunks))
        dec = self.router.route(req, now)
        retry_at = now + self.hold_seconds
        caller_id: str | None = spec.default_caller_id
        reason = dec.reason
        key = (spec.campaign_id, target.contact_id)
        chain = self._cids.get(key)
        if (dec.trunk_id is not None and self.pool is not None and target.avoid_trunks and chain
                and self.pool.reuse(chain[-1])):  # a retry shows the number its chain showed
            dec_trunk, caller_id = dec.trunk_id, self.pool.numbers[chain[-1]].display
            chain.append(chain[-1])
            reason = f"{dec.reason};caller_id:same_as_chain"
        elif dec.trunk_id is not None and self.pool is not None and self.pool.numbers:
            choice = self.pool.select(target.phone_ref, target.region, None, now)
            if choice.number_id is None:
                self.router.release(dec.trunk_id)
                if dec.probe:
                    self.router.live[dec.trunk_id].breaker.probes_in_flight -= 1
                dec_trunk, reason = None, choice.reason
                if reason == "no_caller_id.shown_today":
                    retry_at = self.pool.next_day(now)
            else:
                dec_trunk, caller_id = dec.trunk_id, self.pool.numbers[choice.number_id].display
                reason = f"{dec.reason};caller_id:{choice.tier}"
                self._cids.setdefault(key, deque()).append(choice.number_id)
        else:
            dec_trunk = dec.trunk_id
        self.decisions.append(Decision(now, spec.campaign_id, target.contact_id, dec_trunk, caller_id,
                                       reason, dec.probe))
        if dec_trunk is None:
            return Route(None, hold_reason=reason, retry_at=retry_at)
        self._open[(spec.campaign_id, target.contact_id, dec_trunk)] = (target.region, dec.probe)
        return Route(dec_trunk, caller_id, reason=reason)

    def trunk_signal(self, trunk_id: str, up: bool, now: float) -> None:
        """A trunk's health probes (SIP OPTIONS) say it went down or came back up. Call it on
        the runtime's thread (the SIP adapter reports on its own: hop to the loop first)."""
        self.router.on_signal(trunk_id, up, now)

    def observe(self, cmd: Command, now: float) -> None:
        if isinstance(cmd, WriteCdr):
            self.record(cmd.record)

    def record(self, r: CallRecord) -> None:
        if r.trunk_id is None:
            return
        region, probe = self._open.pop((r.campaign_id, r.contact_id, r.trunk_id), (None, False))
        cause = r.loss_cause
        line_ok = cause is None or cause.side is not Side.LINE
        first = r.ring_at if r.ring_at is not None else (r.answer_at if r.answer_at is not None else r.end_at)
        self.router.on_line(r.trunk_id, first, ok=line_ok, cause=None if line_ok else cause, probe=probe)
        if line_ok:
            self.router.on_outcome(r.trunk_id, region, r.end_at, answered=r.answered, dialed_at=r.dial_at)
        if r.answered and r.bridge_at is not None:
            self.router.on_talk(r.talk_seconds)
        self.router.release(r.trunk_id)
        key = (r.campaign_id, r.contact_id)
        numbers = self._cids.get(key)
        if numbers:  # attempts of a contact end in the order they were placed
            number = numbers.popleft()
            if not numbers:
                del self._cids[key]
            if self.pool is not None:
                self.pool.release(number)
        stats = self.stats.setdefault(r.trunk_id, TrunkStats())
        pdd = (first - r.dial_at) if r.ring_at is not None or not line_ok else None
        stats.record(r.end_at, answered=r.answered, cause=cause, pdd=pdd, talk_seconds=r.talk_seconds)
