"""Configuration of a SIP trunk (a carrier line reached over SIP)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

TRANSPORTS = ("udp", "tcp")


def split_params(uri: str) -> tuple[str, dict[str, str]]:
    """``sip:h:5060;transport=TCP;lr`` -> ("sip:h:5060", {"transport": "tcp", "lr": ""}) (names and
    the transport's value lowercased, as RFC 3261 compares them)."""
    base, *rest = uri.split(";")
    params: dict[str, str] = {}
    for p in rest:
        name, _, value = p.partition("=")
        params[name.strip().lower()] = value.strip().lower() if name.strip().lower() == "transport" else value.strip()
    return base, params


@dataclass(frozen=True, slots=True)
class SipTrunk:
    name: str
    host: str
    port: int = 5060
    transport: str = "udp"  # "udp" or "tcp" (sip:host;transport=tcp)
    username: str | None = None  # digest authentication on 401/407
    password: str | None = None
    from_user: str = "anonymous"  # caller ID used when a Dial carries none
    use_pai: bool = False  # also assert the caller ID in P-Asserted-Identity
    register: bool = False  # keep a registration with the trunk
    register_expires: int = 300
    options_interval: float = 30.0  # 0 disables OPTIONS probing
    options_timeout: float = 2.0
    down_after: int = 3  # failed probes in a row before the trunk is down
    up_after: int = 2  # good probes in a row before a down trunk is up again
    no_response_timeout: float = 8.0  # no response at all to the INVITE: line-side timeout
    cancel_grace: float = 4.0  # after our CANCEL, wait this long for the final response

    def __post_init__(self) -> None:
        if self.transport not in TRANSPORTS:
            raise ValueError(f"trunk {self.name}: transport {self.transport!r} is not supported (udp or tcp)")
        if self.register and not self.username:
            raise ValueError(f"trunk {self.name}: registering needs a username (and usually a password)")

    @classmethod
    def from_uri(cls, name: str, uri: str, **options: object) -> SipTrunk:
        """``sip:user:password@host:port[;transport=tcp]`` -> a trunk (user, password, port and
        transport are optional)."""
        uri, params = split_params(uri)
        parts = urlsplit(uri.replace("sip:", "sip://", 1) if "://" not in uri else uri)
        if parts.hostname is None:
            raise ValueError(f"trunk {name}: no host in {uri!r}")
        kw: dict[str, object] = {"host": parts.hostname, "port": parts.port or 5060,
                                 "transport": params.get("transport", "udp")}
        if parts.username:
            kw["username"] = unquote(parts.username)
        if parts.password:
            kw["password"] = unquote(parts.password)
        kw.update(options)
        return cls(name, **kw)  # type: ignore[arg-type]


def parse_sip_uri(uri: str) -> tuple[str | None, str, int]:
    """``sip:1001@10.0.0.5:5062`` -> ("1001", "10.0.0.5", 5062)."""
    parts = urlsplit(uri.replace("sip:", "sip://", 1) if "://" not in uri else uri)
    if parts.hostname is None:
        raise ValueError(f"no host in SIP URI {uri!r}")
    return (unquote(parts.username) if parts.username else None), parts.hostname, parts.port or 5060
