"""Accounts and credentials: users with argon2 password hashes, JWT access tokens with rotating
refresh tokens, API tokens (random, shown once, stored as a digest, revocable), lockout."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from waihu.adapters.storage.models import Tenant
from waihu.adapters.storage.models_api import ApiToken, RefreshToken, User
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.errors import Conflict, ErrorDetail, Forbidden, Unauthenticated, ValidationError
from waihu.domain.permissions import TENANT_ROLES, Role, allowed, may_grant
from waihu.domain.timeutil import to_dt, to_ts
from waihu.service.tenants import audit
from waihu.settings import Settings

_hasher = PasswordHasher()
TOKEN_PREFIX = "wh_"  # noqa: S105 - a prefix, not a secret
MIN_PASSWORD = 8


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (through a JWT) or an API token."""

    kind: str  # user | token
    id: str
    tenant_id: str | None
    role: Role
    agent_id: str | None = None
    name: str = ""

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.id}"

    def can(self, permission: str) -> bool:
        return allowed(self.role, permission)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def parse_role(value: str, *, tenant: bool) -> Role:
    try:
        role = Role(value)
    except ValueError:
        raise ValidationError("auth.invalid_role", f"unknown role {value!r}",
                              [ErrorDetail("auth.invalid_role", f"one of {', '.join(Role)}", field="role")]) from None
    if tenant and role not in TENANT_ROLES:
        raise ValidationError("auth.invalid_role", "a tenant user or token cannot be a platform admin",
                              [ErrorDetail("auth.invalid_role", "not a tenant role", field="role")])
    return role


def create_user(uow: UnitOfWork, username: str, password: str, role: str, now: float, *,
                display_name: str | None = None, agent_id: str | None = None,
                granter: Role | None = None) -> User:
    """Create a user in ``uow.tenant_id`` (empty: a platform operator). Does not commit."""
    problems = []
    username = username.strip()
    if not 3 <= len(username) <= 100:
        problems.append(ErrorDetail("user.invalid_username", "3 to 100 characters", field="username"))
    if len(password) < MIN_PASSWORD:
        problems.append(ErrorDetail("user.weak_password", f"at least {MIN_PASSWORD} characters", field="password"))
    r = parse_role(role, tenant=bool(uow.tenant_id))
    if not uow.tenant_id and r is not Role.PLATFORM_ADMIN:
        problems.append(ErrorDetail("user.tenant_required", "a tenant role needs a tenant", field="role"))
    if problems:
        raise ValidationError("user.invalid", "the user was not created", problems)
    if granter is not None and not may_grant(granter, r):
        raise Forbidden("auth.role_not_grantable", "you cannot grant a role with permissions you lack")
    same_owner = User.tenant_id == uow.tenant_id if uow.tenant_id else User.tenant_id.is_(None)
    if uow.session.scalar(select(User.id).where(User.username == username, same_owner)) is not None:
        raise Conflict("user.username_taken", "this username is taken in this tenant")
    u = User(id=uow.new_id(), tenant_id=uow.tenant_id or None, username=username, display_name=display_name,
             password_hash=hash_password(password), role=r.value, agent_id=agent_id, active=True,
             failed_logins=0, created_at=to_dt(now))
    uow.session.add(u)
    uow.session.flush()
    if uow.tenant_id:
        audit(uow, "user.create", "user", u.id, now, username=username, role=r.value)
    return u


def login(uow: UnitOfWork, settings: Settings, username: str, password: str, now: float,
          tenant: str | None = None) -> dict[str, object]:
    """Check a password (with lockout) and issue an access token plus a refresh token. Commits.

    Usernames are unique per tenant, so one may exist in several tenants: the password picks
    the account; ``tenant`` (name or id) is needed only when it fits more than one."""
    q = select(User).where(User.username == username.strip(), User.active.is_(True))
    if tenant:
        q = q.where(User.tenant_id.in_(select(Tenant.id).where((Tenant.name == tenant.strip())
                                                                 | (Tenant.id == tenant.strip()))))
    candidates = list(uow.session.scalars(q.order_by(User.id)))
    bad = Unauthenticated("auth.invalid_credentials", "wrong username or password")
    if not candidates:
        _hasher.hash(password)  # same cost as a real check: do not reveal which usernames exist
        raise bad
    open_ = [c for c in candidates if c.locked_until is None or to_ts(c.locked_until) <= now]
    if not open_:
        raise Unauthenticated("auth.locked", "too many failed logins; the account is locked for a while")
    fits: list[User] = []
    for c in open_:
        try:
            _hasher.verify(c.password_hash, password)
            fits.append(c)
        except (VerificationError, InvalidHashError):
            pass
    if not fits:  # a failure counts against every account the name could mean
        for c in open_:
            c.failed_logins += 1
            if c.failed_logins >= settings.login_max_failures:
                c.locked_until = to_dt(now + settings.lockout_seconds)
                c.failed_logins = 0
        uow.commit()
        raise bad
    if len(fits) > 1:
        raise Unauthenticated("auth.tenant_required", "this username and password fit accounts in several "
                                                      "tenants: give the tenant too")
    u = fits[0]
    u.failed_logins = 0
    u.locked_until = None
    u.last_login_at = to_dt(now)
    if _hasher.check_needs_rehash(u.password_hash):
        u.password_hash = hash_password(password)
    tokens = _issue(uow, settings, u, now)
    uow.commit()
    return tokens


def _issue(uow: UnitOfWork, settings: Settings, u: User, now: float) -> dict[str, object]:
    claims = {"sub": u.id, "tid": u.tenant_id, "role": u.role, "aid": u.agent_id, "iat": int(now),
              "exp": int(now + settings.access_token_seconds), "typ": "access"}
    access = jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")
    rid, secret = uow.new_id(), secrets.token_urlsafe(32)
    uow.session.add(RefreshToken(id=rid, user_id=u.id, digest=digest(secret),
                                 expires_at=to_dt(now + settings.refresh_token_seconds)))
    return {"access_token": access, "token_type": "bearer", "expires_in": settings.access_token_seconds,
            "refresh_token": f"{rid}.{secret}"}


def refresh(uow: UnitOfWork, settings: Settings, token: str, now: float) -> dict[str, object]:
    """Exchange a refresh token (used once) for a new pair. Commits."""
    rid, _, secret = token.partition(".")
    bad = Unauthenticated("auth.invalid_refresh_token", "the refresh token is invalid or expired")
    rt = uow.session.get(RefreshToken, rid) if rid else None
    if rt is None or rt.used_at is not None or to_ts(rt.expires_at) <= now \
            or not hmac.compare_digest(rt.digest, digest(secret)):
        raise bad
    u = uow.session.get(User, rt.user_id)
    if u is None or not u.active:
        raise bad
    rt.used_at = to_dt(now)
    tokens = _issue(uow, settings, u, now)
    uow.commit()
    return tokens


def revoke_refresh(uow: UnitOfWork, token: str, now: float) -> bool:
    """End a session: the refresh token can no longer be used (logout). Commits. True if it was live."""
    rid, _, secret = token.partition(".")
    rt = uow.session.get(RefreshToken, rid) if rid else None
    if rt is None or rt.used_at is not None or not hmac.compare_digest(rt.digest, digest(secret)):
        return False
    rt.used_at = to_dt(now)
    uow.commit()
    return True


def principal_from_jwt(settings: Settings, token: str, now: float) -> Principal:
    try:
        c = jwt.decode(token, settings.jwt_secret.get_secret_value(), algorithms=["HS256"],
                       options={"verify_exp": False})
    except jwt.PyJWTError:
        raise Unauthenticated("auth.invalid_token", "the access token is invalid") from None
    if c.get("typ") != "access" or float(c.get("exp", 0)) <= now:
        raise Unauthenticated("auth.token_expired", "the access token has expired")
    return Principal("user", str(c["sub"]), c.get("tid"), Role(c["role"]), c.get("aid"))


def create_token(uow: UnitOfWork, name: str, role: str, now: float, *, granter: Role | None = None,
                 created_by: str | None = None) -> tuple[ApiToken, str]:
    """A new API token of ``uow.tenant_id``; the plain token is returned once and never stored."""
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise ValidationError("token.invalid_name", "a token name has 1 to 100 characters",
                              [ErrorDetail("token.invalid_name", "1 to 100 characters", field="name")])
    r = parse_role(role, tenant=bool(uow.tenant_id))
    if granter is not None and not may_grant(granter, r):
        raise Forbidden("auth.role_not_grantable", "you cannot grant a role with permissions you lack")
    secret = secrets.token_urlsafe(32)
    t = ApiToken(id=uow.new_id(), tenant_id=uow.tenant_id or None, name=name, role=r.value, digest=digest(secret),
                 created_by=created_by, created_at=to_dt(now))
    uow.session.add(t)
    uow.session.flush()
    if uow.tenant_id:
        audit(uow, "token.create", "api_token", t.id, now, name=name, role=r.value)
    return t, f"{TOKEN_PREFIX}{t.id}_{secret}"


def principal_from_api_token(uow: UnitOfWork, token: str, now: float) -> Principal:
    bad = Unauthenticated("auth.invalid_token", "the API token is invalid or revoked")
    body = token[len(TOKEN_PREFIX):]
    tid, _, secret = body.partition("_")
    t = uow.session.get(ApiToken, tid) if tid and secret else None
    if t is None or t.revoked_at is not None or not hmac.compare_digest(t.digest, digest(secret)):
        raise bad
    last = to_ts(t.last_used_at) if t.last_used_at is not None else None
    if last is None or now - last >= 1.0:
        t.last_used_at = to_dt(now)
        uow.commit()
    return Principal("token", t.id, t.tenant_id, Role(t.role), None, t.name)


def authenticate(uow: UnitOfWork, settings: Settings, bearer: str, now: float) -> Principal:
    """Who holds this bearer token. A login's current role and state count, not the token's claims:
    a deactivated user or a changed role takes effect at once."""
    if bearer.startswith(TOKEN_PREFIX):
        return principal_from_api_token(uow, bearer, now)
    p = principal_from_jwt(settings, bearer, now)
    u = uow.session.get(User, p.id)
    if u is None or not u.active:
        raise Unauthenticated("auth.invalid_token", "the user is deactivated")
    return Principal("user", u.id, u.tenant_id, Role(u.role), u.agent_id, u.username)



