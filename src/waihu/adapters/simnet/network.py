"""The simulated telephone network: a shipped implementation of the ``Telephony`` port.

It answers, rings, fails and hangs up calls like a carrier network would, with the SIP codes
a real network returns, on the runtime's clock (virtual or real). A seed makes every run
reproducible.
"""

from __future__ import annotations

import hashlib

from waihu.adapters.simnet.model import CalleeModel, Draws
from waihu.domain.calls import LossCause
from waihu.domain.messages import CallAnswered, CallEnded, CallFailed, CallRinging, Dial
from waihu.domain.phone import PhoneNumber
from waihu.ports import Scheduler


class SimNetwork:
    abandon_message_seconds = 4.0

    def __init__(self, scheduler: Scheduler, model: CalleeModel, draws: Draws, start: float) -> None:
        model.validate()
        self.scheduler = scheduler
        self.model = model
        self.draws = draws
        self.start = start
        self.talk: dict[str, float] = {}  # answered calls awaiting their bridge: talk seconds
        self._status_key = str(draws.seed).encode()

    # ------------------------------------------------------------------ callee facts
    def answer_rate(self, now: float) -> float:
        m = self.model
        if m.answer_rate_end is None:
            return m.answer_rate
        frac = min(1.0, max(0.0, (now - self.start) / m.drift_seconds))
        return m.answer_rate + (m.answer_rate_end - m.answer_rate) * frac

    def number_status(self, phone: PhoneNumber) -> LossCause | None:
        """Empty, suspended or powered off: a stable property of the number (for this seed)."""
        m = self.model
        if m.empty_rate + m.suspended_rate + m.powered_off_rate <= 0:
            return None
        h = hashlib.blake2b(phone.e164.encode(), key=self._status_key, digest_size=8).digest()
        u = int.from_bytes(h, "big") / 2.0**64
        if u < m.empty_rate:
            return LossCause.EMPTY_NUMBER
        if u < m.empty_rate + m.suspended_rate:
            return LossCause.SUSPENDED
        if u < m.empty_rate + m.suspended_rate + m.powered_off_rate:
            return LossCause.POWERED_OFF
        return None

    def check(self, phone: PhoneNumber, now: float) -> LossCause | None:
        """The ``NumberStatusProvider`` port: the simulated network knows every number's state."""
        return self.number_status(phone)

    # ------------------------------------------------------------------ Telephony port
    def dial(self, cmd: Dial, now: float) -> None:
        post, cid, m, d = self.scheduler.post, cmd.call_id, self.model, self.draws
        status = self.number_status(cmd.phone)
        if status is not None:
            post(now + 0.8, CallRinging(cid, early_media=True))  # the operator's announcement
            code = 404 if status is LossCause.EMPTY_NUMBER else 480
            post(now + 6.0, CallFailed(cid, status, code))
            return
        u = d.outcome.random()
        p = self.answer_rate(now)
        if u < p:
            ring = d.gamma_mean(d.ring, m.ring_mean, 4.0)
            self.talk[cid] = d.lognormal_mean(d.talk, m.talk_mean, m.talk_cv)
            post(now + min(1.0, ring / 2), CallRinging(cid))
            post(now + ring, CallAnswered(cid))
        elif u < p + m.busy_rate:
            post(now + 0.5 + 1.5 * d.misc.random(), CallFailed(cid, LossCause.BUSY, 486))
        elif u < p + m.busy_rate + m.rejected_rate:
            ring = d.gamma_mean(d.ring, m.ring_mean, 4.0)
            post(now + min(1.0, ring / 2), CallRinging(cid))
            post(now + ring, CallFailed(cid, LossCause.REJECTED, 603))
        else:
            post(now + 1.0, CallRinging(cid))
            post(now + m.no_answer_timeout, CallFailed(cid, LossCause.NO_ANSWER, 480))

    def cancel(self, call_id: str, now: float) -> None:
        self.talk.pop(call_id, None)  # the scheduled answer is ignored by the engine
        # the callee's network confirms at once (487 Request Terminated); the simulator has no
        # signaling delay, so an answer never crosses the CANCEL here
        self.scheduler.post(now, CallFailed(call_id, LossCause.NO_ANSWER, 487))

    def bridge(self, call_id: str, agent_id: str, now: float) -> None:
        talk = self.talk.pop(call_id, None)
        if talk is not None:
            self.scheduler.post(now + talk, CallEnded(call_id, "callee"))

    def abandon(self, call_id: str, now: float) -> None:
        if self.talk.pop(call_id, None) is not None:
            self.scheduler.post(now + self.abandon_message_seconds, CallEnded(call_id, "system"))
