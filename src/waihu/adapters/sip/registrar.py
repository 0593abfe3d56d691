"""waihu's SIP registrar: agents' phones register with per-agent digest credentials.

A softphone on a laptop has no fixed address, so instead of a static URI an agent may have a
SIP account (user name and password) and the phone registers (REGISTER, RFC 3261 section 10)
with the SIP stack ``waihu serve --sip-listen`` runs. Logging in then calls the phone at the
Contact address it registered.

* A REGISTER without credentials is challenged (401, digest MD5, realm ``waihu``). A nonce is
  valid 32 s (sippy's nonce oracle); an older one is challenged again (``stale=true``).
* The digest user name must be the user of the To address: credentials register their own
  account only. A wrong password gets 403 and is counted (``failures``).
* Accounts are looked up with ``lookup(user)`` (the store: the account's tenant, agent and
  password), cached ``cache_ttl`` seconds, misses too, so that a REGISTER flood with unknown
  names costs the SIP thread no more than one lookup per name and TTL. ``forget(user)`` drops
  the cache and the binding when an account changes.
* One binding per account, the latest: ``Expires`` (or the Contact's ``expires``) between
  ``min_expires`` (a shorter one gets 423 with Min-Expires) and ``max_expires`` (longer ones
  are shortened), ``0`` or ``Contact: *`` removes it. Bindings live in memory: after a restart
  phones are called again once they re-register.

Everything here runs on the SIP thread, except ``binding`` (any thread: a dict read).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sippy.SipAuthorization import IsDigestAlgSupported, NameList2AlgMask, SipAuthorization
from sippy.SipHeader import SipHeader
from sippy.SipWWWAuthenticate import SipWWWAuthenticate

from waihu.adapters.sip.stack import SipStack

REALM = "waihu"


@dataclass(frozen=True, slots=True)
class Account:
    tenant_id: str
    agent_id: str
    password: str


@dataclass(frozen=True, slots=True)
class Binding:
    username: str
    tenant_id: str
    agent_id: str
    uri: str  # where the phone is called: the Contact it registered
    expires_at: float  # time.time()
    source: str  # host:port the REGISTER came from
    user_agent: str


class Registrar:
    min_expires = 60
    max_expires = 3600
    default_expires = 3600
    cache_ttl = 30.0

    def __init__(self, stack: SipStack, lookup: Callable[[str], Account | None],
                 clock: Callable[[], float] = time.time) -> None:
        self.lookup = lookup
        self.clock = clock
        self._bindings: dict[str, Binding] = {}
        self._cache: dict[str, tuple[float, Account | None]] = {}
        self.failures = 0
        stack.on_request("REGISTER", self._register)

    # ------------------------------------------------------------------ any thread
    def binding(self, username: str) -> Binding | None:
        """The account's live binding, if its phone is registered."""
        b = self._bindings.get(username)
        return b if b is not None and b.expires_at > self.clock() else None

    # ------------------------------------------------------------------ the SIP thread
    def forget(self, username: str) -> None:
        """The account changed (new password, removed): look it up again, drop its binding."""
        self._cache.pop(username, None)
        self._bindings.pop(username, None)

    def _account(self, username: str) -> Account | None:
        now = self.clock()
        hit = self._cache.get(username)
        if hit is not None and hit[0] > now:
            return hit[1]
        account = self.lookup(username)
        self._cache[username] = (now + self.cache_ttl, account)
        return account

    def _register(self, req: Any) -> tuple[Any, None, None]:
        user = req.getHFBody("to").getUrl().username
        if not user:
            return (req.genResponse(404, "Not Found"), None, None)
        auths = req.getHFBodys("authorization")
        if not auths:
            return (self._challenge(req, stale=False), None, None)
        auth: SipAuthorization = auths[0]
        if not auth.parsed:
            auth.parse()
        if auth.username != user or auth.realm != REALM or not IsDigestAlgSupported(auth.algorithm):
            self.failures += 1
            return (req.genResponse(403, "Forbidden"), None, None)
        if not SipAuthorization.ho.validate_challenge(auth.nonce or "", NameList2AlgMask((auth.algorithm,))):
            return (self._challenge(req, stale=True), None, None)
        account = self._account(user)
        if account is None or not auth.verify(account.password, "REGISTER"):
            self.failures += 1
            return (req.genResponse(403, "Forbidden"), None, None)
        return (self._bind(req, user, account), None, None)

    def _challenge(self, req: Any, *, stale: bool) -> Any:
        resp = req.genResponse(401, "Unauthorized")
        challenge = SipWWWAuthenticate(realm=REALM)
        if stale:
            challenge.otherparams.append(("stale", "true"))
        resp.appendHeader(SipHeader(name="www-authenticate", body=challenge))
        return resp

    def _bind(self, req: Any, user: str, account: Account) -> Any:
        contacts = req.getHFBodys("contact")
        asked = float(req.getHFBody("expires").getNum()) if req.countHFs("expires") > 0 else None
        if any(c.asterisk for c in contacts):
            self._bindings.pop(user, None)
            return req.genResponse(200, "OK")
        if not contacts:  # a query: the current binding
            resp = req.genResponse(200, "OK")
            self._contact_header(resp, self.binding(user))
            return resp
        contact = contacts[0]
        if not contact.parsed:
            contact.parse()
        params = contact.address.params
        seconds = float(params["expires"]) if params.get("expires") else asked
        seconds = self.default_expires if seconds is None else seconds
        if seconds == 0:
            self._bindings.pop(user, None)
            return req.genResponse(200, "OK")
        if seconds < self.min_expires:
            resp = req.genResponse(423, "Interval Too Brief")
            resp.appendHeader(SipHeader(name="min-expires", bodys=str(self.min_expires)))
            return resp
        seconds = min(seconds, self.max_expires)
        url = contact.address.url
        host, port = req.getSource()
        agent = str(req.getHFBody("user-agent")) if req.countHFs("user-agent") > 0 else ""
        uri = f"sip:{url.username or user}@{url.host}:{url.port or 5060}"
        b = Binding(user, account.tenant_id, account.agent_id, uri, self.clock() + seconds, f"{host}:{port}",
                    agent[:100])
        self._bindings[user] = b
        resp = req.genResponse(200, "OK")
        self._contact_header(resp, b)
        return resp

    def _contact_header(self, resp: Any, b: Binding | None) -> None:
        if b is not None:
            left = max(0, int(b.expires_at - self.clock()))
            resp.appendHeader(SipHeader(name="contact", bodys=f"<{b.uri}>;expires={left}"))
