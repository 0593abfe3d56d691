"""Simulated agents: they wrap up, choose dispositions and read previews like people do."""

from __future__ import annotations

from collections.abc import Sequence

from waihu.adapters.simnet.model import AgentModel, Draws
from waihu.domain.campaigns import DEFAULT_DISPOSITIONS, Disposition
from waihu.domain.messages import AgentChanged, OfferPreview, PreviewAnswered, WrapUpEnded
from waihu.ports import Scheduler


class SimAgents:
    """An ``AgentDesk`` for agents simulated on the runtime's clock.

    ``agent_ids`` are the agents it plays; state changes of other agents (people logged in
    through the agent desktop) are left alone.
    """

    def __init__(self, scheduler: Scheduler, model: AgentModel, draws: Draws,
                 agent_ids: Sequence[str],
                 dispositions: dict[str, Sequence[Disposition]] | None = None) -> None:
        self.scheduler = scheduler
        self.model = model
        self.draws = draws
        self.agent_ids = set(agent_ids)
        self.dispositions = dispositions or {}
        self._default = self._weights(DEFAULT_DISPOSITIONS)
        self._cache: dict[str, tuple[list[Disposition], list[float]]] = {}

    def _weights(self, disps: Sequence[Disposition]) -> tuple[list[Disposition], list[float]]:
        custom = self.model.disposition_weights
        items = [d for d in disps if (custom.get(d.code, d.weight)) > 0]
        if not items:
            items = list(disps[:1])
            return items, [1.0]
        return items, [custom.get(d.code, d.weight) for d in items]

    def _choose(self, campaign_id: str | None) -> Disposition:
        if campaign_id is not None and campaign_id in self.dispositions:
            if campaign_id not in self._cache:
                self._cache[campaign_id] = self._weights(self.dispositions[campaign_id])
            items, weights = self._cache[campaign_id]
        else:
            items, weights = self._default
        return self.draws.misc.choices(items, weights)[0]

    def agent_changed(self, cmd: AgentChanged, now: float) -> None:
        if cmd.agent_id not in self.agent_ids or cmd.state != "wrap_up" or cmd.call_id is None:
            return
        d = self.draws
        wrap = d.gamma_mean(d.wrap, self.model.wrap_mean, 2.0)
        disp = self._choose(cmd.campaign_id)
        callback_at = personal = None
        if disp.callback:
            lo, hi = self.model.callback_delay
            callback_at = now + wrap + lo + (hi - lo) * d.misc.random()
            personal = d.misc.random() < self.model.personal_callback_share
        self.scheduler.post(now + wrap, WrapUpEnded(cmd.agent_id, cmd.call_id, disp.code,
                                                    callback_at=callback_at,
                                                    personal_callback=bool(personal)))

    def offer_preview(self, cmd: OfferPreview, now: float) -> None:
        if cmd.agent_id not in self.agent_ids:
            return
        d = self.draws
        read = d.gamma_mean(d.misc, self.model.preview_mean, 2.0)
        accept = d.misc.random() >= self.model.preview_skip_rate
        self.scheduler.post(now + read, PreviewAnswered(cmd.agent_id, cmd.target.contact_id, accept))
