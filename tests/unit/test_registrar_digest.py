"""The registrar's answers to hand-made REGISTERs: digest with qop, one use per nonce, failures
from one source refused unchecked, malformed requests answered 400, where a phone is called."""

from __future__ import annotations

from typing import Any

from sippy.Network_server import Remote_address
from sippy.SipRequest import SipRequest

from waihu.adapters.sip.registrar import Account, Registrar

ACCOUNT = Account("t1", "a7", "pw-0123456789")


class Stack:
    def on_request(self, method: str, handler: Any) -> None:
        self.handler = handler


def registrar() -> tuple[Registrar, list[str]]:
    looked: list[str] = []

    def lookup(user: str) -> Account | None:
        looked.append(user)
        return ACCOUNT if user == "alice" else None

    return Registrar(Stack(), lookup), looked  # type: ignore[arg-type]


def register(reg: Registrar, *, auth: str = "", contact: str = "<sip:alice@127.0.0.1:5999>", expires: str = "300",
             source: tuple[str, int] = ("127.0.0.1", 5070), user: str = "alice") -> Any:
    text = (f"REGISTER sip:127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {source[0]}:{source[1]};branch=z9hG4bKx1\r\n"
            f"From: <sip:{user}@127.0.0.1>;tag=f1\r\nTo: <sip:{user}@127.0.0.1>\r\nCall-ID: c1@h\r\n"
            f"CSeq: 2 REGISTER\r\nContact: {contact}\r\nExpires: {expires}\r\nMax-Forwards: 70\r\n"
            f"{auth}Content-Length: 0\r\n\r\n")
    req = SipRequest(text)
    req.setSource(Remote_address(source, "udp"))
    resp, _, _ = reg._register(req)
    return resp


def answer(challenge_resp: Any, password: str = ACCOUNT.password, user: str = "alice") -> str:
    challenge = challenge_resp.getHFBody("www-authenticate")
    auth = challenge.genAuthHF(user, password, "REGISTER", "sip:127.0.0.1:5060", qop="auth")
    return f"Authorization: {auth}\r\n"


def test_challenge_with_qop_then_one_register_per_nonce() -> None:
    reg, _ = registrar()
    first = register(reg)
    assert first.getSCode()[0] == 401
    assert 'qop="auth"' in str(first.getHFBody("www-authenticate")) or "qop=auth" in str(
        first.getHFBody("www-authenticate"))
    auth = answer(first)
    assert register(reg, auth=auth).getSCode()[0] == 200
    b = reg.binding("alice")
    assert b is not None and b.uri == "sip:alice@127.0.0.1:5999"
    replay = register(reg, auth=auth, contact="<sip:alice@127.0.0.1:6666>")
    assert replay.getSCode()[0] == 401 and "stale" in str(replay.getHFBody("www-authenticate"))
    assert reg.binding("alice") is not None and reg.binding("alice").uri == "sip:alice@127.0.0.1:5999"  # type: ignore[union-attr]


def test_a_phone_behind_nat_or_naming_another_host_is_called_at_the_source() -> None:
    reg, _ = registrar()
    auth = answer(register(reg, source=("198.51.100.20", 40312)))
    resp = register(reg, auth=auth, contact="<sip:+8613800138000@10.0.0.5:5060>", source=("198.51.100.20", 40312))
    assert resp.getSCode()[0] == 200
    b = reg.binding("alice")
    assert b is not None and b.uri == "sip:alice@198.51.100.20:40312"  # never the Contact's user or host


def test_failures_from_one_source_are_refused_without_a_lookup() -> None:
    reg, looked = registrar()
    for _ in range(reg.max_failures):
        assert register(reg, auth=answer(register(reg), password="wrong")).getSCode()[0] == 403
    assert reg.failures == reg.max_failures and looked == ["alice"]  # cached
    good = answer(register(reg, source=("127.0.0.2", 5070)))
    assert register(reg, auth=good).getSCode()[0] == 403 and reg.refused >= 1
    assert register(reg, auth=good, source=("127.0.0.2", 5070)).getSCode()[0] == 200  # another source


def test_malformed_registers_get_400_and_star_needs_expires_zero() -> None:
    reg, _ = registrar()
    assert register(reg, auth=answer(register(reg)), expires="soon").getSCode()[0] == 400
    assert register(reg, auth=answer(register(reg)), contact="*", expires="300").getSCode()[0] == 400
    assert register(reg, auth=answer(register(reg))).getSCode()[0] == 200
    assert register(reg, auth=answer(register(reg)), contact="*", expires="0").getSCode()[0] == 200
    assert reg.binding("alice") is None
