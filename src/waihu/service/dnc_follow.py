"""Follow the DNC changes made by any process (the ``dnc_changes`` signals; see docs/compliance.md).

A running dialer (``waihu serve``'s live host, ``waihu run``) keeps a ``DncFollower`` and asks it
every few seconds which numbers of which tenants to read again.
"""

from __future__ import annotations

from sqlalchemy import Engine

from waihu.adapters.storage import compliance_repo
from waihu.adapters.storage.models_compliance import GLOBAL

DNC_EVERY = 5.0  # seconds between two looks of a running dialer for DNC changes made elsewhere
DNC_GAP_ROUNDS = 12  # looks for a DNC change whose id was skipped (its transaction had not committed yet)
MAX_DNC_GAPS = 100  # skipped ids followed at a time


class DncFollower:
    """Remembers the newest change seen (history from before it was made is not replayed)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seen = compliance_repo.last_dnc_change(engine)
        self.gaps: dict[int, int] = {}  # a skipped change id -> looks left

    def poll(self, tenants: list[str]) -> tuple[int, dict[str, set[str] | None]]:
        """The changes since the last look: (how many, tenant -> numbers to read again, None meaning
        every number the dialer knows). A global-list change concerns every tenant of ``tenants``;
        other tenants' changes are left out."""
        rows = compliance_repo.dnc_changes(self.engine, self.seen, sorted(self.gaps))
        found = {r.id for r in rows}
        for i in list(self.gaps):  # on PostgreSQL an id can commit after a higher one: look again
            left = self.gaps.pop(i) - 1
            if i not in found and left > 0:
                self.gaps[i] = left
        wanted: dict[str, set[str] | None] = {}
        for r in rows:
            if r.id > self.seen:
                for gap in range(self.seen + 1, min(r.id, self.seen + 1 + MAX_DNC_GAPS)):
                    if len(self.gaps) < MAX_DNC_GAPS:
                        self.gaps[gap] = DNC_GAP_ROUNDS
                self.seen = r.id
            for tid in (tenants if r.tenant_id == GLOBAL else [r.tenant_id]):
                if tid not in tenants:
                    continue
                known = wanted.setdefault(tid, set())
                if r.hashes is None or known is None:
                    wanted[tid] = None
                else:
                    known.update(r.hashes)
        return len(rows), wanted
