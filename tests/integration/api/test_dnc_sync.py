"""DNC changes made by another process (the CLI: ``waihu dnc``, a complaint) reach a running
dialer: every writer leaves a change signal in its transaction, ``LiveHost.check_dnc`` reads the
new ones and the lanes' screens read those numbers again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select
from tests.apitools import World

from waihu.adapters.storage.compliance_repo import CHANGE_HASHES
from waihu.adapters.storage.models import Cdr, DialDecision
from waihu.adapters.storage.models_compliance import DncChange
from waihu.domain.timeutil import to_dt
from waihu.service.dnc import DncItem, add_entries, block_contact, remove_entries
from waihu.service.live import LiveHost

A, B, C = "13800138100", "13800138101", "13800138102"
INF = float("inf")


def campaign(world: World, t: Any, phones: list[str]) -> tuple[str, dict[str, str]]:
    """A running campaign whose contacts the tenant's main lane has loaded (no agent yet: nothing is
    dialled). Returns its id and the contact id of each number."""
    camp = world.post("/v1/campaigns", t, json={"name": "spring", "mode": "progressive"}).json()["id"]
    ids = {p: world.post("/v1/contacts", t, json={"phones": [p]}).json()["id"] for p in phones}
    assert world.post(f"/v1/campaigns/{camp}/contacts", t, json={"contact_ids": list(ids.values())}).status_code == 200
    assert world.post(f"/v1/campaigns/{camp}/start", t).status_code == 200
    world.advance(5)
    screen = world.live.tenants[t.id].lanes["main"].screen
    assert all(h(world, p) in screen.callees for p in phones)
    return camp, ids


def h(world: World, phone: str) -> str:
    return world.platform.codec.phone_hash("+86" + phone)


def dnc_of(world: World, t: Any, phone: str) -> dict[str, float]:
    """What the tenant's running dialer believes of the number: list -> until."""
    return world.live.tenants[t.id].lanes["main"].screen.callees[h(world, phone)].dnc


def agent_works(world: World, t: Any, camp: str, contact: str) -> tuple[set[str], list[list[str]]]:
    """An agent logs in for two minutes: the contacts dialled, and the reasons ``contact`` was held."""
    agent = world.post("/v1/agents", t, json={"code": "A1", "name": "Ann"}).json()["id"]
    assert world.post(f"/v1/agents/{agent}/login", t).status_code == 202
    world.advance(120)
    with world.platform.engine.connect() as conn:
        dialled = set(conn.scalars(select(Cdr.contact_id).where(Cdr.campaign_id == camp)))
        held = [list(r) for r in conn.scalars(select(DialDecision.reasons).where(DialDecision.contact_id == contact))]
    return dialled, held


def cli_add(world: World, tid: str, phones: list[str], **kw: Any) -> None:
    with world.platform.uow(tid, actor="cli") as uow:  # its own unit of work, as ``waihu dnc add`` has
        add_entries(uow, [DncItem(p) for p in phones], world.clock.now(), **kw)


def test_a_cli_complaint_stops_the_running_dialer_and_removal_lifts_it(world: World) -> None:
    t = world.tenant("acme")
    camp, ids = campaign(world, t, [A, B])
    with world.platform.uow(t.id, actor="cli") as uow:  # ``waihu contact complaint``
        block_contact(uow, ids[A], "complaint", world.clock.now())
    world.advance(1)
    assert dnc_of(world, t, A) == {}, "without a look the running dialer does not know"
    assert world.live.check_dnc() == 1
    assert dnc_of(world, t, A) == {}, "taken on the runtime task"
    world.advance(1)
    assert dnc_of(world, t, A) == {"": INF}
    assert world.live.check_dnc() == 0, "a change is read once"
    # an agent comes: B is dialled, A is held back for the DNC entry
    dialled, held = agent_works(world, t, camp, ids[A])
    assert dialled == {ids[B]}
    assert held and all("compliance.dnc" in r for r in held)
    # the CLI removes it again: the dialer lifts the block
    with world.platform.uow(t.id, actor="cli") as uow:
        remove_entries(uow, [A], world.clock.now())
    assert world.live.check_dnc() == 1
    world.advance(1)
    assert dnc_of(world, t, A) == {}


def test_a_bulk_import_refreshes_every_number_known(world: World) -> None:
    t = world.tenant("acme")
    campaign(world, t, [A, B, C])
    many = [f"139{i:08d}" for i in range(CHANGE_HASHES)] + [B]  # more than one signal lists
    cli_add(world, t.id, many, source="regulator", campaign=None)
    with world.platform.engine.connect() as conn:
        assert conn.execute(select(DncChange.hashes).where(DncChange.tenant_id == t.id)).all() == [(None,)]
    assert world.live.check_dnc() == 1
    world.advance(1)
    assert (dnc_of(world, t, A), dnc_of(world, t, B), dnc_of(world, t, C)) == ({}, {"": INF}, {})


def test_a_global_list_change_reaches_every_tenant(world: World) -> None:
    t, u = world.tenant("acme"), world.tenant("umbrella")
    campaign(world, t, [A, B])
    campaign(world, u, [A, C])
    cli_add(world, t.id, [A], is_global=True)  # ``waihu dnc add --global``
    cli_add(world, t.id, [B])  # acme's own list: not umbrella's business
    assert world.live.check_dnc() == 2
    world.advance(1)
    assert dnc_of(world, t, A) == {"": INF} and dnc_of(world, u, A) == {"": INF}
    assert dnc_of(world, t, B) == {"": INF} and dnc_of(world, u, C) == {}


def test_changes_from_before_the_host_started_are_not_replayed(world: World) -> None:
    t = world.tenant("acme")
    cli_add(world, t.id, [A])
    cli_add(world, t.id, [B], is_global=True)
    later = LiveHost(world.platform, seed=3)  # ``waihu serve`` starting now: its dialers read the lists afresh
    assert later.check_dnc() == 0
    assert world.live.check_dnc() == 2
    cli_add(world, t.id, [C])
    assert later.check_dnc() == 1 and world.live.check_dnc() == 1


def test_a_change_committed_after_a_newer_one_is_still_read(world: World) -> None:
    """On PostgreSQL a transaction may take an id and commit after another took a higher one."""
    t = world.tenant("acme")

    def signal(change_id: int, phone: str) -> None:
        with world.platform.engine.begin() as conn:
            conn.execute(insert(DncChange).values(id=change_id, tenant_id=t.id, at=to_dt(world.clock.now()),
                                                  hashes=[h(world, phone)]))

    with world.platform.engine.connect() as conn:
        late = int(conn.scalar(select(func.max(DncChange.id))) or 0) + 1
    signal(late + 1, B)  # committed first, with the higher id
    assert world.live.check_dnc() == 1
    signal(late, A)  # then the transaction that took the lower id commits
    assert world.live.check_dnc() == 1
    assert world.live.check_dnc() == 0


def test_the_api_and_a_do_not_call_disposition_signal_other_workers(world: World) -> None:
    t = world.tenant("acme")
    worker = LiveHost(world.platform, seed=3)  # another ``waihu serve`` on the same database
    campaign(world, t, [A])
    entry = world.post("/v1/dnc", t, json={"phone": C, "reason": "asked"}).json()["id"]
    assert world.client.delete(f"/v1/dnc/{entry}", headers=t.h()).status_code == 204
    assert worker.check_dnc() == 2
    agent = world.post("/v1/agents", t, json={"code": "A1", "name": "Ann"}).json()["id"]
    assert world.post(f"/v1/agents/{agent}/login", t).status_code == 202
    for _ in range(20):
        world.advance(10)
        a = world.get(f"/v1/live/agents/{agent}", t).json()
        if a["state"] == "wrap_up":
            assert world.post(f"/v1/agents/{agent}/wrap-up", t, json={
                "call_id": a["call_id"], "disposition": "do_not_call"}).status_code == 202
            world.advance(1)
            break
    else:
        raise AssertionError("the call never reached wrap-up")
    with world.platform.engine.connect() as conn:
        signals = conn.execute(select(DncChange.tenant_id, DncChange.hashes).order_by(DncChange.id)).all()
    assert signals[-1] == (t.id, [h(world, A)])
    assert worker.check_dnc() == 1
    assert dnc_of(world, t, A) == {"": INF}


def test_an_erased_person_is_not_dialled_by_a_dialer_that_had_loaded_them(world: World) -> None:
    from waihu.service.privacy import erase_contact

    t = world.tenant("acme")
    camp, ids = campaign(world, t, [A, B])
    with world.platform.uow(t.id) as uow:  # ``waihu contact erase`` in another process
        erase_contact(uow, ids[A], world.clock.now())
    assert world.live.check_dnc() == 1
    world.advance(1)
    screen = world.live.tenants[t.id].lanes["main"].screen
    assert screen.callees[h(world, A)].erased and not screen.callees[h(world, B)].erased
    dialled, held = agent_works(world, t, camp, ids[A])
    assert dialled == {ids[B]}
    assert held and all("compliance.erased" in r for r in held)
