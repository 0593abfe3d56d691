"""SIP addresses of trunks and agents' phones: how a trunk record is reached over SIP.

A trunk with a SIP address is a real carrier line: ``waihu serve --sip-listen`` dials its
tenant's calls through it (``service/live_sip.py``). Its digest password is sealed with the
owner's key and never leaves the service layer: documents show ``password_set`` only.

An agent's phone is a static SIP address (``phone_uri``), or a phone that registers with
waihu's registrar under the agent's SIP account (``sip_user``, a password sealed with the
tenant's key). The platform makes up both, so that no tenant can learn or guess another's
user names, and shows the password once, when it is issued.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, select

from waihu.adapters.sip.config import SipTrunk, parse_sip_uri
from waihu.adapters.sip.registrar import REALM, Account
from waihu.adapters.storage.models import Agent
from waihu.adapters.storage.models_routing import TrunkRow
from waihu.adapters.storage.uow import UnitOfWork
from waihu.bootstrap import Platform
from waihu.domain.errors import Conflict, ValidationError
from waihu.service.tenants import audit

OPTIONS_INTERVAL = 30.0  # default seconds between OPTIONS probes of a SIP trunk


def parse_trunk_sip(name: str, uri: str, *, register: bool = False, pai: bool = False,
                    options_interval: float = OPTIONS_INTERVAL,
                    password: str | None = None) -> tuple[dict[str, Any], str | None]:
    """``sip:[user[:password]@]host[:port][;transport=tcp]`` and options -> (the stored settings,
    the password; ``password`` given apart wins over one in the address)."""
    if not 0 <= options_interval <= 3600:
        raise ValidationError.of_field("trunk.invalid_sip", "options_interval must be 0 (no probes) to 3600 seconds",
                       "options_interval")
    try:
        t = SipTrunk.from_uri(name, uri.strip(), use_pai=pai, options_interval=options_interval,
                              register=register)
    except ValueError as e:
        raise ValidationError.of_field(
            "trunk.invalid_sip", f"not a SIP address sip:[user[:password]@]host[:port][;transport=udp|tcp]: {e}",
            "sip") from None
    settings: dict[str, Any] = {"host": t.host, "port": t.port, "user": t.username, "register": t.register,
                                "pai": t.use_pai, "options_interval": t.options_interval}
    if t.transport != "udp":
        settings["transport"] = t.transport
    return settings, password or t.password


def sip_doc(row: TrunkRow) -> dict[str, Any] | None:
    """What a reader may see of a trunk's SIP settings: never the password."""
    s = row.sip
    if not s:
        return None
    user = f"{s['user']}@" if s.get("user") else ""
    transport = f";transport={s['transport']}" if s.get("transport", "udp") != "udp" else ""
    return {"uri": f"sip:{user}{s['host']}:{s['port']}{transport}", "registration": bool(s.get("register")),
            "pai": bool(s.get("pai")), "options_interval": float(s.get("options_interval", OPTIONS_INTERVAL)),
            "password_set": row.sip_secret is not None}


def set_trunk_sip(uow: UnitOfWork, now: float, row: TrunkRow, uri: str | None, *, register: bool = False,
                  pai: bool = False, options_interval: float = OPTIONS_INTERVAL, password: str | None = None,
                  platform: bool = False) -> None:
    """Give a trunk its SIP address (None: take it away; the trunk is a simulated line again).
    A platform trunk's address is the platform's to change (``platform=True``)."""
    if (row.owner_tenant_id is None) != platform:
        raise Conflict("trunk.platform_owned", "a platform trunk's SIP address is set by the platform")
    if uri is None:
        row.sip, row.sip_secret = None, None
    else:
        settings, password = parse_trunk_sip(row.name, uri, register=register, pai=pai,
                                             options_interval=options_interval, password=password)
        row.sip = settings
        row.sip_secret = uow.codec.seal_text(row.owner_key, password) if password else None
    # the audit record names the address (never the password): who pointed a line where
    audit(uow, "trunk.sip", "trunk", row.id, now, name=row.name, sip=sip_doc(row))


def sip_trunk(uow: UnitOfWork, row: TrunkRow) -> SipTrunk | None:
    """The trunk as the SIP adapter dials it (password opened), or None without a SIP address."""
    s = row.sip
    if not s:
        return None
    password = uow.codec.open_text(row.owner_key, row.sip_secret) if row.sip_secret else None
    return SipTrunk(row.name, s["host"], int(s["port"]), transport=s.get("transport", "udp"),
                    username=s.get("user"), password=password,
                    from_user=s.get("user") or "anonymous", use_pai=bool(s.get("pai")),
                    register=bool(s.get("register")),
                    options_interval=float(s.get("options_interval", OPTIONS_INTERVAL)))


def _sip_rows(uow: UnitOfWork) -> list[TrunkRow]:
    """The tenant's enabled trunks that have a SIP address."""
    from waihu.service.lines import visible_trunks

    return [r for r in visible_trunks(uow) if r.enabled and r.sip]


def has_sip_trunks(uow: UnitOfWork) -> bool:
    """The tenant has real lines (no password is opened to tell)."""
    return bool(_sip_rows(uow))


def sip_trunks_of(uow: UnitOfWork) -> list[SipTrunk]:
    """The tenant's enabled trunks that have a SIP address, as the SIP adapter dials them."""
    found = (sip_trunk(uow, r) for r in _sip_rows(uow))
    return [t for t in found if t is not None]


def count_sip_trunks(platform: Platform) -> int:
    """Enabled trunks of any owner that have a SIP address (what ``waihu serve`` would dial over)."""
    with platform.uow("") as uow:
        return int(uow.session.scalar(select(func.count()).select_from(TrunkRow).where(
            TrunkRow.enabled.is_(True), TrunkRow.sip.is_not(None))) or 0)


def set_agent_phone(uow: UnitOfWork, now: float, agent: Agent, uri: str | None) -> None:
    """The SIP phone called when the agent logs in to a dialer on SIP trunks (None: none)."""
    if uri is not None:
        uri = uri.strip()
        try:
            user, host, port = parse_sip_uri(uri)
        except ValueError as e:
            raise ValidationError.of_field("agent.invalid_phone", f"not a SIP address sip:ext@host[:port]: {e}",
                                           "phone") from None
        if not uri.startswith("sip:") or not user:
            raise ValidationError.of_field("agent.invalid_phone", "a phone is sip:ext@host[:port]", "phone")
        uri = f"sip:{user}@{host}:{port}"
    if agent.phone_uri != uri:
        agent.phone_uri = uri
        audit(uow, "agent.phone", "agent", agent.id, now, code=agent.code, phone=uri)


SIP_REALM = REALM  # the digest realm agents' phones register in
_NAME_CHARS = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: typed into phones by hand


def issue_sip_account(uow: UnitOfWork, now: float, agent: Agent) -> dict[str, str]:
    """A new SIP account for the agent's phone (replacing any: the old password stops working).
    The answer holds the password (not shown again) and the realm to register in."""
    while True:
        code = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "-" for c in agent.code.lower())
        user = f"{code[:50] or 'agent'}.{''.join(secrets.choice(_NAME_CHARS) for _ in range(6))}"
        if not uow.session.scalar(select(Agent.id).where(Agent.sip_user == user)):
            break
    password = secrets.token_urlsafe(18)
    agent.sip_user = user
    agent.sip_secret = uow.codec.seal_text(uow.tenant_id, password)
    audit(uow, "agent.sip_account", "agent", agent.id, now, code=agent.code, sip_user=user)
    return {"username": user, "password": password, "realm": SIP_REALM}


def remove_sip_account(uow: UnitOfWork, now: float, agent: Agent) -> None:
    if agent.sip_user is not None:
        audit(uow, "agent.sip_account", "agent", agent.id, now, code=agent.code, sip_user=None)
    agent.sip_user, agent.sip_secret = None, None


def sip_account(platform: Platform, username: str) -> Account | None:
    """The registrar's lookup: whose account ``username`` is, with its password (opened)."""
    with platform.uow("") as uow:
        a = uow.session.scalar(select(Agent).where(Agent.sip_user == username))
        if a is None or a.sip_secret is None:
            return None
        password = uow.codec.open_text(a.tenant_id, a.sip_secret)
        return Account(a.tenant_id, a.id, password) if password else None
