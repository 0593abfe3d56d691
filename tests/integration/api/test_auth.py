"""Logins, refresh tokens, lockout, API tokens (shown once, revocable, last used), rate limits."""

from __future__ import annotations

from tests.apitools import World, error_code


def _user(world: World, t, name: str = "alice", role: str = "supervisor") -> str:  # type: ignore[no-untyped-def]
    r = world.post("/v1/users", t, json={"username": name, "password": "correct-horse", "role": role})
    assert r.status_code == 201, r.text
    assert "password" not in r.text and "hash" not in r.text
    return str(r.json()["id"])


def test_login_refresh_and_expiry(world: World) -> None:
    t = world.tenant("acme")
    _user(world, t)
    c = world.client
    r = c.post("/v1/auth/login", json={"username": "alice", "password": "correct-horse"})
    assert r.status_code == 200
    pair = r.json()
    me = c.get("/v1/me", headers={"Authorization": f"Bearer {pair['access_token']}"}).json()
    assert me["role"] == "supervisor" and me["tenant_id"] == t.id and "cdr.export" not in me["permissions"]
    # refresh rotates: the old refresh token works once
    r2 = c.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert r2.status_code == 200
    again = c.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 401 and error_code(again) == "auth.invalid_refresh_token"
    # access tokens are short-lived
    world.clock.at += world.platform.settings.access_token_seconds + 1
    r3 = c.get("/v1/users", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert r3.status_code == 401 and error_code(r3) == "auth.token_expired"
    bad = c.get("/v1/users", headers={"Authorization": "Bearer not-a-jwt"})
    assert bad.status_code == 401 and error_code(bad) == "auth.invalid_token"


def test_deactivation_and_role_changes_take_effect_at_once(world: World) -> None:
    t = world.tenant("acme")
    uid = _user(world, t)
    c = world.client
    jwt = c.post("/v1/auth/login", json={"username": "alice", "password": "correct-horse"}).json()["access_token"]
    h = {"Authorization": f"Bearer {jwt}"}
    assert c.get("/v1/users", headers=h).status_code == 200
    assert c.patch(f"/v1/users/{uid}", headers=t.h(), json={"role": "qa"}).json()["role"] == "qa"
    assert c.get("/v1/users", headers=h).status_code == 403  # qa may not list users
    assert c.delete(f"/v1/users/{uid}", headers=t.h()).status_code == 204
    r = c.get("/v1/cdrs", headers=h)
    assert r.status_code == 401 and error_code(r) == "auth.invalid_token"
    assert c.post("/v1/auth/login", json={"username": "alice", "password": "correct-horse"}).status_code == 401


def test_lockout_after_repeated_failures(world: World) -> None:
    t = world.tenant("acme")
    _user(world, t)
    c = world.client
    unknown = c.post("/v1/auth/login", json={"username": "nobody", "password": "x"})
    wrong = c.post("/v1/auth/login", json={"username": "alice", "password": "wrong"})
    assert unknown.json() == wrong.json()  # does not reveal which usernames exist
    for _ in range(world.platform.settings.login_max_failures - 1):
        assert c.post("/v1/auth/login", json={"username": "alice", "password": "wrong"}).status_code == 401
    locked = c.post("/v1/auth/login", json={"username": "alice", "password": "correct-horse"})
    assert locked.status_code == 401 and error_code(locked) == "auth.locked"
    world.clock.at += world.platform.settings.lockout_seconds + 1
    assert c.post("/v1/auth/login", json={"username": "alice", "password": "correct-horse"}).status_code == 200


def test_api_tokens_shown_once_scoped_revocable(world: World) -> None:
    t = world.tenant("acme")
    c = world.client
    r = world.post("/v1/tokens", t, json={"name": "crm", "role": "qa"})
    assert r.status_code == 201
    tok, tid = r.json()["token"], r.json()["id"]
    listed = world.get("/v1/tokens", t).json()["items"]
    assert tok not in str(listed) and {x["id"] for x in listed} >= {tid}
    h = {"Authorization": f"Bearer {tok}"}
    assert c.get("/v1/cdrs", headers=h).status_code == 200
    assert c.post("/v1/outbound", headers=h, json={"phone": "13800138000"}).status_code == 403  # qa cannot dial
    used = next(x for x in world.get("/v1/tokens", t).json()["items"] if x["id"] == tid)
    assert used["last_used_at"] is not None
    assert c.delete(f"/v1/tokens/{tid}", headers=t.h()).status_code == 204
    r = c.get("/v1/cdrs", headers=h)
    assert r.status_code == 401 and error_code(r) == "auth.invalid_token"
    # a token cannot carry a role above its creator's, nor be a platform admin
    sup = world.post("/v1/users", t, json={"username": "s1", "password": "12345678", "role": "platform_admin"})
    assert sup.status_code == 422 and error_code(sup) == "auth.invalid_role"
    tampered = tok[:-3] + "abc"
    assert c.get("/v1/cdrs", headers={"Authorization": f"Bearer {tampered}"}).status_code == 401


def test_role_cannot_grant_more_than_it_has(world: World) -> None:
    t = world.tenant("acme")
    _user(world, t, "boss", "tenant_admin")
    r = world.client.post("/v1/auth/login", json={"username": "boss", "password": "correct-horse"})
    assert r.status_code == 200
    # a supervisor login cannot create users at all; a tenant admin can create any tenant role
    s = world.post("/v1/users", t, "supervisor", json={"username": "x1", "password": "12345678", "role": "agent"})
    assert s.status_code == 403


def test_rate_limit_per_token_with_retry_after(db_url: str) -> None:
    w = World(db_url, rate_limit_per_minute=60, rate_limit_burst=3)
    try:
        t = w.tenant("acme")
        codes = [w.get("/v1/campaigns", t).status_code for _ in range(4)]
        assert codes[:3] == [200, 200, 200] and codes[3] == 429
        r = w.get("/v1/campaigns", t)
        assert r.status_code == 429 and error_code(r) == "rate_limited"
        assert int(r.headers["Retry-After"]) >= 1
        # another token has its own bucket
        assert w.get("/v1/campaigns", t, "qa").status_code == 200
        w.clock.at += 2
        assert w.get("/v1/campaigns", t).status_code == 200
    finally:
        w.close()


def test_usernames_are_per_tenant_and_never_tell_another_tenant_they_exist(world: World) -> None:
    a, b = world.tenant("tenant-a"), world.tenant("tenant-b")
    c = world.client
    assert world.post("/v1/users", a, json={"username": "alice", "password": "password-of-a",
                                            "role": "supervisor"}).status_code == 201
    # tenant B learns nothing: the same name is simply free in B
    r = world.post("/v1/users", b, json={"username": "alice", "password": "password-of-b", "role": "qa"})
    assert r.status_code == 201, r.text
    taken = world.post("/v1/users", b, json={"username": "alice", "password": "another-one", "role": "qa"})
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "user.username_taken"
    # the password picks the account
    pa = c.post("/v1/auth/login", json={"username": "alice", "password": "password-of-a"})
    pb = c.post("/v1/auth/login", json={"username": "alice", "password": "password-of-b"})
    assert pa.status_code == pb.status_code == 200
    me_a = c.get("/v1/users", headers={"Authorization": f"Bearer {pa.json()['access_token']}"})
    assert me_a.status_code == 200 and {u["username"] for u in me_a.json()["items"]} >= {"alice"}
    assert c.get("/v1/users", headers={"Authorization": f"Bearer {pb.json()['access_token']}"}).status_code == 403
    # logging in as A's alice never counts as a failure against B's alice
    for _ in range(6):
        assert c.post("/v1/auth/login", json={"username": "alice", "password": "password-of-a"}).status_code == 200
    assert c.post("/v1/auth/login", json={"username": "alice", "password": "password-of-b"}).status_code == 200


def test_same_username_and_password_in_two_tenants_needs_the_tenant(world: World) -> None:
    a, b = world.tenant("tenant-a"), world.tenant("tenant-b")
    c = world.client
    for t in (a, b):
        assert world.post("/v1/users", t, json={"username": "bob", "password": "same-secret",
                                                "role": "supervisor"}).status_code == 201
    r = c.post("/v1/auth/login", json={"username": "bob", "password": "same-secret"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "auth.tenant_required"
    ok = c.post("/v1/auth/login", json={"username": "bob", "password": "same-secret", "tenant": "tenant-b"})
    assert ok.status_code == 200
    bad = c.post("/v1/auth/login", json={"username": "bob", "password": "same-secret", "tenant": "tenant-zzz"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "auth.invalid_credentials"
