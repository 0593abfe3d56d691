"""What the desktop and the wallboard show: the screen-pop of a bridged call and the floor's figures."""

from __future__ import annotations

import re
from typing import Any

from waihu.domain.errors import WaihuError
from waihu.domain.metrics import abandon_rate
from waihu.service import campaign_admin as ca
from waihu.service import customers as cu
from waihu.service import directory as dr
from waihu.service import lines as ln
from waihu.service.analytics import alerts
from waihu.service.campaigns import OPTION_DEFAULTS, dispositions_of
from waihu.web.session import Page

BUSY = ("reserved", "talking", "wrap_up")
_VAR = re.compile(r"\{(\w+)\}")


def fill_script(text: str | None, values: dict[str, Any]) -> str:
    """The campaign's script with ``{name}`` style variables filled in from the customer record."""
    if not text:
        return ""
    return _VAR.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)


def _contact(pg: Page, uow: Any, contact_id: str) -> dict[str, Any] | None:
    try:
        c = cu.get_contact(uow, contact_id)
    except WaihuError:
        return None
    doc = cu.contact_dict(uow, c, pg.can("contacts.read_pii"))
    doc["history"] = cu.history(uow, c)
    return doc


def screen_pop(pg: Page, a: dict[str, Any]) -> dict[str, Any] | None:
    """The customer record, history, script and dispositions of the agent's current call or offer."""
    live = pg.live
    if live is None:
        return None
    contact_id = campaign_id = call_id = None
    if a.get("call_id") and a["state"] in BUSY:
        call = live.call(pg.tenant_id, a["call_id"])
        if call is not None:
            contact_id, campaign_id, call_id = call["contact_id"], call["campaign_id"], call["call_id"]
    elif a.get("offer"):
        contact_id, campaign_id = a["offer"]["contact_id"], a["offer"]["campaign_id"]
    if contact_id is None or campaign_id is None:
        return None
    with pg.platform.uow(pg.tenant_id) as uow:
        contact = _contact(pg, uow, contact_id)
        try:
            c = ca.by_id(uow, campaign_id)
        except WaihuError:
            return None
        names = {x.id: x.name for x in ca.list_page(uow, state=None, sort=None, cursor=None, limit=500)[0]}
        disps = dispositions_of(c)
        wrap_limit = {**OPTION_DEFAULTS, **c.options}.get("wrap_limit")
        values = {**(contact or {}).get("fields", {}), **(contact or {}).get("attributes", {}),
                  "name": (contact or {}).get("name") or ""}
        script = fill_script(c.script_ref, values)
        campaign_name = c.name
    left = None
    if a["state"] == "wrap_up" and wrap_limit:
        left = max(0.0, float(wrap_limit) - a.get("elapsed", 0.0))
    return {"call_id": call_id, "contact": contact, "campaign_id": campaign_id, "campaign_name": campaign_name,
            "campaign_names": names, "dispositions": disps, "script": script, "wrap_left": left,
            "offer": a.get("offer") if call_id is None else None}


def wallboard_view(pg: Page) -> dict[str, Any]:
    live = pg.live
    with pg.platform.uow(pg.tenant_id) as uow:
        agents = {x.id: x for x in dr.list_agents(uow, group=None, sort=None, cursor=None, limit=500)[0]}
        camps = {x.id: x for x in ca.list_page(uow, state=None, sort=None, cursor=None, limit=500)[0]}
        names = {k: v.name for k, v in agents.items()}
        targets = {k: float({**OPTION_DEFAULTS, **v.options}["abandon_target"]) for k, v in camps.items()}
        cnames = {k: v.name for k, v in camps.items()}
        states = {k: v.state for k, v in camps.items()}
        trunks = trunk_health(pg, uow, live.virtual_now() if live else pg.now()) if pg.can("lines.read") else []
        fired = alerts.recent(uow, None, 10)
    now = live.virtual_now() if live else 0.0
    grid = []
    for a in sorted(live.agents(pg.tenant_id) if live else [], key=lambda d: names.get(d["agent_id"], "")):
        grid.append({**a, "name": names.get(a["agent_id"], a["agent_id"]), "elapsed": max(0.0, now - a["since"])})
    on_floor = [a for a in grid if a["state"] != "offline"]
    busy = sum(1 for a in on_floor if a["state"] in BUSY)
    rows = []
    counters = live.counters(pg.tenant_id) if live else {}
    for cid, c in counters.items():
        if cid not in cnames:
            continue
        dialed, answered = c["dialed"], c["answered"]
        rows.append({"id": cid, "name": cnames[cid], "state": states[cid], **c,
                     "connect_rate": answered / dialed if dialed else None,
                     "abandon_rate": abandon_rate(c["abandoned"], answered) if answered else None,
                     "target": targets[cid], "in_progress": max(0, dialed - c["ended"])})
    return {"grid": grid, "campaigns": rows, "occupancy": busy / len(on_floor) if on_floor else None,
            "backlog": sum(r["in_progress"] for r in rows), "live_on": live is not None,
            "trunks": trunks, "alerts": [{**a, "campaign_name": cnames.get(a["campaign_id"] or "", "")} for a in fired]}


def trunk_health(pg: Page, uow: Any, now: float) -> list[dict[str, Any]]:
    """Per trunk: state (disabled, alarm or ok), answer rate and attempts over 5 minutes, the line's
    loss causes over the hour (from the CDRs)."""
    out = []
    for t in ln.trunk_status(uow, now):
        five, hour = t["windows"]["5m"], t["windows"]["1h"]
        state = "disabled" if not t["enabled"] else (t["alarm"] or "ok")
        losses = sorted(hour["loss_rates"].items(), key=lambda kv: -kv[1])[:3]
        out.append({"name": t["name"], "state": state, "attempts": five["attempts"], "asr": five["asr"],
                    "losses": losses, "line_loss_rate": hour["line_loss_rate"]})
    return out
