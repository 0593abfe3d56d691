"""An in-memory ``DialerStore``: benchmarks and tests of the engine with no database.

With ``unlimited=True`` it makes a fresh contact whenever one is asked for (an endless list),
which is what the steady-state checks and the pacing benchmark need.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field

from waihu.domain.calls import CallRecord
from waihu.domain.campaigns import ContactState
from waihu.domain.messages import (
    Command,
    DialTarget,
    LogPacing,
    RecordHold,
    UpdateContact,
    WriteCdr,
    WriteDisposition,
)
from waihu.domain.phone import PhoneNumber


@dataclass(slots=True)
class MemContact:
    target: DialTarget
    state: ContactState = ContactState.PENDING
    due: float = 0.0
    outcome: str | None = None


@dataclass
class MemoryStore:
    unlimited: bool = False
    cdrs: list[CallRecord] = field(default_factory=list)
    dispositions: list[WriteDisposition] = field(default_factory=list)
    holds: list[RecordHold] = field(default_factory=list)
    pacing: list[LogPacing] = field(default_factory=list)
    updates: int = 0
    contacts: dict[str, dict[str, MemContact]] = field(default_factory=dict)
    _due: dict[str, list[tuple[float, int, int, str]]] = field(default_factory=dict)
    _seq: int = 0
    _made: int = 0

    def add(self, target: DialTarget) -> None:
        c = MemContact(target, due=target.next_attempt_at)
        self.contacts.setdefault(target.campaign_id, {})[target.contact_id] = c
        self._push(target.campaign_id, c)

    def _push(self, campaign_id: str, c: MemContact) -> None:
        self._seq += 1
        heapq.heappush(self._due.setdefault(campaign_id, []),
                       (c.due, -c.target.priority, self._seq, c.target.contact_id))

    def _fresh(self, campaign_id: str) -> DialTarget:
        self._made += 1
        n = self._made
        phone = PhoneNumber(f"+86139{n % 100_000_000:08d}")
        return DialTarget(f"c{n}", campaign_id, phone, f"p{n}")

    def load_contacts(self, campaign_id: str, limit: int, now: float) -> tuple[list[DialTarget], float | None]:
        if self.unlimited:
            out = []
            for _ in range(limit):
                t = self._fresh(campaign_id)
                self.contacts.setdefault(campaign_id, {})[t.contact_id] = MemContact(t, ContactState.ACTIVE)
                out.append(t)
            return out, now
        heap = self._due.get(campaign_id, [])
        table = self.contacts.get(campaign_id, {})
        got: list[DialTarget] = []
        while heap and len(got) < limit and heap[0][0] <= now:
            entry = heapq.heappop(heap)
            c = table.get(entry[-1])
            if c is None or c.state is not ContactState.PENDING or c.due != entry[0]:
                continue  # a stale heap entry
            c.state = ContactState.ACTIVE
            got.append(c.target)
        while heap:
            c = table.get(heap[0][-1])
            if c is not None and c.state is ContactState.PENDING and c.due == heap[0][0]:
                break
            heapq.heappop(heap)
        return got, (heap[0][0] if heap else None)

    def apply(self, commands: Sequence[Command]) -> None:
        for cmd in commands:
            if isinstance(cmd, WriteCdr):
                self.cdrs.append(cmd.record)
            elif isinstance(cmd, UpdateContact):
                self.updates += 1
                c = self.contacts.get(cmd.campaign_id, {}).get(cmd.contact_id)
                if c is None:
                    continue
                c.state = cmd.state
                c.target.attempts = cmd.attempts
                c.target.owner_agent_id = cmd.owner_agent_id
                c.outcome = cmd.last_outcome.value if cmd.last_outcome else c.outcome
                if cmd.state is ContactState.PENDING:
                    c.due = cmd.next_attempt_at if cmd.next_attempt_at is not None else 0.0
                    c.target.next_attempt_at = c.due
                    if not self.unlimited:
                        self._push(cmd.campaign_id, c)
            elif isinstance(cmd, WriteDisposition):
                self.dispositions.append(cmd)
            elif isinstance(cmd, RecordHold):
                self.holds.append(cmd)
            elif isinstance(cmd, LogPacing):
                self.pacing.append(cmd)

    def flush(self) -> None:
        return None

    def counts(self, campaign_id: str) -> dict[str, int]:
        out = {s.value: 0 for s in ContactState}
        for c in self.contacts.get(campaign_id, {}).values():
            out[c.state.value] += 1
        return out
