"""The dialer runtime: feeds events to the engine and carries out the commands it returns.

The same runtime drives the simulated network on a virtual clock (demo, tests, benchmarks)
and real SIP trunks on the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from waihu.domain.errors import Conflict, NotFound
from waihu.domain.messages import (
    Abandon,
    AgentChanged,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentReadied,
    Bridge,
    CampaignDrained,
    CancelDial,
    Command,
    ContactsLoaded,
    Dial,
    Event,
    LoadContacts,
    LogPacing,
    ManualDialRequested,
    OfferPreview,
    PreviewAnswered,
    RecordHold,
    SetTimer,
    TimerFired,
    UpdateContact,
    WrapUpEnded,
    WriteCdr,
    WriteDisposition,
)
from waihu.engine.dialer import Dialer
from waihu.ports import AgentDesk, DialerStore, Scheduler, Telephony

PEOPLE_EVENTS = (AgentLoggedIn, AgentLoggedOut, AgentPaused, AgentReadied, WrapUpEnded, PreviewAnswered,
                 ManualDialRequested)
_STORE_COMMANDS = (WriteCdr, UpdateContact, WriteDisposition, RecordHold, LogPacing)


class DialerRuntime:
    def __init__(self, engine: Dialer, telephony: Telephony, store: DialerStore, scheduler: Scheduler,
                 desks: Sequence[AgentDesk] = (), *,
                 on_drained: Callable[[str, float], None] | None = None,
                 observers: Sequence[Callable[[Command, float], None]] = ()) -> None:
        self.engine = engine
        self.telephony = telephony
        self.store = store
        self.scheduler = scheduler
        self.desks = list(desks)
        self.on_drained = on_drained
        self.observers = list(observers)
        self.events = 0
        self.refused: list[tuple[float, str, str]] = []  # the last refused actions of people

    def feed(self, event: Event, now: float) -> None:
        """Handle one event; a refused action of a person raises (the caller reports it)."""
        self.events += 1
        commands = self.engine.handle(event, now)
        self.execute(commands, now)

    def deliver(self, event: Event, now: float) -> None:
        """Handle an event delivered by a loop: an action of a person that the engine refuses
        (it came too late, e.g. a wrap-up already ended by the supervisor) is counted, not fatal."""
        try:
            self.feed(event, now)
        except (Conflict, NotFound) as e:
            if not isinstance(event, PEOPLE_EVENTS):
                raise
            self.refused.append((now, type(event).__name__, e.code))
            del self.refused[:-100]

    def execute(self, commands: Sequence[Command], now: float) -> None:
        records: list[Command] = []
        for cmd in commands:
            if isinstance(cmd, _STORE_COMMANDS):
                records.append(cmd)
        if records:
            self.store.apply(records)  # records land before anything is reported done
        tel = self.telephony
        for cmd in commands:
            if isinstance(cmd, Dial):
                tel.dial(cmd, now)
            elif isinstance(cmd, SetTimer):
                self.scheduler.post(cmd.at, TimerFired(cmd.key))
            elif isinstance(cmd, Bridge):
                tel.bridge(cmd.call_id, cmd.agent_id, now)
            elif isinstance(cmd, CancelDial):
                tel.cancel(cmd.call_id, now)
            elif isinstance(cmd, Abandon):
                tel.abandon(cmd.call_id, now)
            elif isinstance(cmd, AgentChanged):
                for desk in self.desks:
                    desk.agent_changed(cmd, now)
            elif isinstance(cmd, OfferPreview):
                for desk in self.desks:
                    desk.offer_preview(cmd, now)
            elif isinstance(cmd, LoadContacts):
                targets, next_due = self.store.load_contacts(cmd.campaign_id, cmd.limit, now)
                self.scheduler.post(now, ContactsLoaded(cmd.campaign_id, tuple(targets), next_due))
            elif isinstance(cmd, CampaignDrained) and self.on_drained is not None:
                self.store.flush()
                self.on_drained(cmd.campaign_id, now)
            for obs in self.observers:
                obs(cmd, now)
