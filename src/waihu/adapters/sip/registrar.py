"""waihu's SIP registrar: agents' phones register with per-agent digest credentials.

A softphone on a laptop has no fixed address, so instead of a static URI an agent may have a
SIP account (user name and password) and the phone registers (REGISTER, RFC 3261 section 10)
with the SIP stack ``waihu serve --sip-listen`` runs. Logging in then calls the phone at the
Contact address it registered.

* A REGISTER without credentials is challenged (401, digest MD5 with ``qop=auth``, realm
  ``waihu``). A nonce answers one REGISTER: one used already, or older than 32 s (sippy's
  nonce oracle), is challenged again (``stale=true``), so a captured REGISTER cannot be
  replayed. The response is compared in constant time.
* The digest user name must be the user of the To address: credentials register their own
  account only. A wrong password gets 403 and is counted (``failures``); after
  ``max_failures`` within ``failure_window`` from one source host, that host's REGISTERs get
  403 without any check (``refused``).
* Accounts are looked up with ``lookup(user)`` (the store: the account's tenant, agent and
  password), cached ``cache_ttl`` seconds, misses too, at most ``cache_max`` names. Only a
  REGISTER answering a valid fresh challenge reaches the lookup.
* One binding per account, the latest: ``Expires`` (or the Contact's ``expires``) between
  ``min_expires`` (a shorter one gets 423 with Min-Expires) and ``max_expires`` (longer ones
  are shortened); ``0`` removes the binding of that Contact, ``Contact: *`` (with
  ``Expires: 0`` only) removes it whatever it is. Malformed REGISTERs get 400. Bindings live in
  memory: after a restart phones are called again once they re-register.
* The phone is called as ``sip:<account>@host:port``: the Contact's host and port when the
  Contact names the host the REGISTER came from, else (a phone behind NAT, or a Contact naming
  another host) the REGISTER's source address. The Contact's user is never used: a phone
  cannot make the platform call a number or a host of its choosing.

Everything here runs on the SIP thread, except ``binding`` (any thread: a dict read).
"""

from __future__ import annotations

import hmac
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sippy.SipAuthorization import DigestCalcHA1, DigestCalcResponse, NameList2AlgMask, SipAuthorization
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
    contact: str  # host:port its Contact named


class Registrar:
    min_expires = 60
    max_expires = 3600
    default_expires = 3600
    cache_ttl = 30.0
    cache_max = 10_000
    nonce_ttl = 32.0  # sippy's nonce oracle accepts a nonce this long
    max_failures = 10  # from one source host within ``failure_window``: refused without a lookup
    failure_window = 60.0

    def __init__(self, stack: SipStack, lookup: Callable[[str], Account | None],
                 clock: Callable[[], float] = time.time) -> None:
        self.lookup = lookup
        self.clock = clock
        self._bindings: dict[str, Binding] = {}
        self._cache: dict[str, tuple[float, Account | None]] = {}
        self._used_nonces: dict[str, float] = {}  # nonce -> when it stops being valid anyway
        self._failures: dict[str, deque[float]] = {}  # source host -> times of failed attempts
        self.failures = 0
        self.refused = 0  # attempts refused unchecked: too many failures from their source
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
        if len(self._cache) >= self.cache_max:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
            if len(self._cache) >= self.cache_max:
                self._cache.clear()
        account = self.lookup(username)
        self._cache[username] = (now + self.cache_ttl, account)
        return account

    def _register(self, req: Any) -> tuple[Any, None, None]:
        try:
            return (self._answer(req), None, None)
        except (ValueError, TypeError, IndexError, AttributeError, KeyError):  # a malformed REGISTER
            return (req.genResponse(400, "Bad Request"), None, None)

    def _answer(self, req: Any) -> Any:
        source_host = str(req.getSource()[0])
        if self._blocked(source_host):
            self.refused += 1
            return req.genResponse(403, "Forbidden")
        user = req.getHFBody("to").getUrl().username
        if not user:
            return req.genResponse(404, "Not Found")
        auths = req.getHFBodys("authorization")
        if not auths:
            return self._challenge(req, stale=False)
        auth: SipAuthorization = auths[0]
        if not auth.parsed:
            auth.parse()
        if auth.username != user or auth.realm != REALM or auth.algorithm not in (None, "MD5"):
            return self._failed(req, source_host)
        nonce = auth.nonce or ""
        if not SipAuthorization.ho.validate_challenge(nonce, NameList2AlgMask((auth.algorithm,))):
            return self._challenge(req, stale=True)
        if nonce in self._used_nonces:  # each challenge answers one REGISTER: a replay gets a new one
            return self._challenge(req, stale=True)
        account = self._account(user)
        if account is None or not self._digest_ok(auth, account.password):
            return self._failed(req, source_host)
        self._use(nonce)
        return self._bind(req, user, account)

    def _digest_ok(self, auth: SipAuthorization, password: str) -> bool:
        if auth.qop not in (None, "auth"):
            return False
        ha1 = DigestCalcHA1(auth.algorithm, auth.username, auth.realm, password, auth.nonce, auth.cnonce)
        want = DigestCalcResponse(auth.algorithm, ha1, auth.nonce, auth.nc, auth.cnonce, auth.qop, "REGISTER",
                                  auth.uri or "", None)
        return hmac.compare_digest(str(want).encode(), str(auth.response or "").encode())

    def _use(self, nonce: str) -> None:
        now = self.clock()
        if len(self._used_nonces) > 10_000:
            self._used_nonces = {n: t for n, t in self._used_nonces.items() if t > now}
        self._used_nonces[nonce] = now + self.nonce_ttl

    def _failed(self, req: Any, source_host: str) -> Any:
        self.failures += 1
        now = self.clock()
        times = self._failures.setdefault(source_host, deque())
        times.append(now)
        while times and times[0] < now - self.failure_window:
            times.popleft()
        if len(self._failures) > 10_000:
            self._failures = {h: t for h, t in self._failures.items() if t and t[-1] > now - self.failure_window}
        return req.genResponse(403, "Forbidden")

    def _blocked(self, source_host: str) -> bool:
        times = self._failures.get(source_host)
        if not times:
            return False
        now = self.clock()
        while times and times[0] < now - self.failure_window:
            times.popleft()
        return len(times) >= self.max_failures

    def _challenge(self, req: Any, *, stale: bool) -> Any:
        resp = req.genResponse(401, "Unauthorized")
        challenge = SipWWWAuthenticate(realm=REALM, algorithm="MD5")  # with qop=auth
        if stale:
            challenge.otherparams.append(("stale", "true"))
        resp.appendHeader(SipHeader(name="www-authenticate", body=challenge))
        return resp

    def _bind(self, req: Any, user: str, account: Account) -> Any:
        contacts = req.getHFBodys("contact")
        asked = float(req.getHFBody("expires").getNum()) if req.countHFs("expires") > 0 else None
        if any(c.asterisk for c in contacts):  # RFC 3261 10.3 step 6: "*" only alone, with Expires: 0
            if len(contacts) > 1 or asked != 0:
                return req.genResponse(400, "Bad Request")
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
        if not 0 <= seconds < float("inf"):
            return req.genResponse(400, "Bad Request")
        url = contact.address.url
        host, port = req.getSource()
        given = f"{url.host}:{url.port or 5060}"
        if seconds == 0:  # removes this contact's binding only
            b = self._bindings.get(user)
            if b is not None and b.contact == given:
                del self._bindings[user]
            return req.genResponse(200, "OK")
        if seconds < self.min_expires:
            resp = req.genResponse(423, "Interval Too Brief")
            resp.appendHeader(SipHeader(name="min-expires", bodys=str(self.min_expires)))
            return resp
        seconds = min(seconds, self.max_expires)
        # the phone is called where the REGISTER came from: at the Contact's port when the Contact
        # names that host, else (a phone behind NAT, or a Contact naming someone else) at the source
        # address; and always as the account's user, whatever user the Contact names
        where = given if str(url.host) == str(host) else f"{host}:{port}"
        agent = str(req.getHFBody("user-agent")) if req.countHFs("user-agent") > 0 else ""
        b = Binding(user, account.tenant_id, account.agent_id, f"sip:{user}@{where}", self.clock() + seconds,
                    f"{host}:{port}", agent[:100], given)
        self._bindings[user] = b
        resp = req.genResponse(200, "OK")
        self._contact_header(resp, b)
        return resp

    def _contact_header(self, resp: Any, b: Binding | None) -> None:
        if b is not None:
            left = max(0, int(b.expires_at - self.clock()))
            resp.appendHeader(SipHeader(name="contact", bodys=f"<sip:{b.username}@{b.contact}>;expires={left}"))
