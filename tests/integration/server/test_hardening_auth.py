"""Accounts and rate limits under attack: limits per address and per account, through a trusted proxy's
X-Forwarded-For and not through anyone else's, shared by every app instance (workers, replicas) through
PostgreSQL; logout, token revocation, re-enabling, and never losing the last admin.
"""

from __future__ import annotations

import httpx
import pytest
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from sync_server.app import create_app
from sync_server.cli import main
from sync_server.services.accounts import AccountService
from tests.integration.server.factories import bearer

pytestmark = [pytest.mark.postgres, pytest.mark.anyio]
PASSWORD = "a long enough password"


def _user(accounts, username: str, role: str = "researcher") -> None:
    with accounts.session() as db, db.begin():
        AccountService(db, accounts.settings).create_user(username, PASSWORD, role)


@pytest.fixture
def limited(settings):
    """Two app instances (two replicas) over the same database, behind the production proxy-header handling
    (uvicorn's ProxyHeadersMiddleware with QLQ_FORWARDED_ALLOW_IPS, as ``qlq-server serve`` runs it)."""
    tight = settings.model_copy(
        update={
            "auth_rate_limit_attempts": 5,
            "auth_rate_limit_account_attempts": 4,
            "forwarded_allow_ips": "10.0.0.0/8",
        }
    )
    apps = [create_app(tight), create_app(tight)]
    apps[0].state.auth_limiter.reset()
    # (the ignore: a FastAPI app is an ASGI 3 application; Starlette's ASGI types and uvicorn's do not match)
    yield [ProxyHeadersMiddleware(a, trusted_hosts=tight.forwarded_allow_ips) for a in apps]  # type: ignore[arg-type]
    apps[0].state.auth_limiter.reset()
    for a in apps:
        a.state.engine.dispose()


def _client(app, peer: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(peer, 40000)), base_url="http://t")


async def _login(client: httpx.AsyncClient, username: str, password: str, forwarded: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    response = await client.post("/v1/auth/token", json={"username": username, "password": password}, headers=headers)
    return response.status_code


async def test_rotating_forwarded_for_through_the_proxy_still_hits_the_account_limit(limited, accounts):
    """Found case 4: 25 wrong passwords from rotating addresses, then the right one — refused now."""
    _user(accounts, "victim")
    codes = []
    async with _client(limited[0], "10.1.2.3") as proxy_a, _client(limited[1], "10.1.2.4") as proxy_b:
        for i in range(25):
            client = proxy_a if i % 2 else proxy_b  # alternating replicas: the budget is shared
            codes.append(await _login(client, "victim", "wrong", forwarded=f"198.51.100.{i}"))
        right = await _login(proxy_a, "victim", PASSWORD, forwarded="198.51.100.200")
    assert codes[:4] == [401] * 4 and set(codes[4:]) == {429}, codes
    assert right == 429


async def test_spraying_one_password_over_many_accounts_hits_the_address_limit(limited, accounts):
    async with _client(limited[0], "10.1.2.3") as proxy_a, _client(limited[1], "10.1.2.4") as proxy_b:
        codes = [
            await _login(proxy_a if i % 2 else proxy_b, f"user{i}", "Winter2026!", forwarded="203.0.113.9")
            for i in range(8)
        ]
        # another client address behind the same proxy is not affected
        other = await _login(proxy_a, "user0", "Winter2026!", forwarded="203.0.113.10")
    assert codes == [401] * 5 + [429] * 3, codes
    assert other == 401


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(limited):
    """A client that is not a configured proxy cannot pick its address: rotating the header changes nothing."""
    async with _client(limited[0], "192.0.2.50") as direct:
        codes = [await _login(direct, f"sprayed{i}", "x", forwarded=f"198.51.100.{i}") for i in range(7)]
    assert codes == [401] * 5 + [429] * 2, codes


async def test_a_refusal_says_when_to_retry(limited):
    async with _client(limited[0], "192.0.2.60") as direct:
        for i in range(5):
            await _login(direct, f"u{i}", "x")
        response = await direct.post("/v1/auth/token", json={"username": "u9", "password": "x"})
    assert response.status_code == 429 and response.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 60


async def test_enrollment_is_limited_per_address(limited):
    async with _client(limited[0], "192.0.2.70") as direct:
        codes = [
            (await direct.post("/v1/devices/enroll", json={"code": "AAAA-BBBB-CCCC", "device_name": "t"})).status_code
            for _ in range(6)
        ]
    assert codes == [401] * 5 + [429]


async def test_logout_revokes_the_token(client, accounts):
    _user(accounts, "alice")
    token = (await client.post("/v1/auth/token", json={"username": "alice", "password": PASSWORD})).json()[
        "access_token"
    ]
    other = (await client.post("/v1/auth/token", json={"username": "alice", "password": PASSWORD})).json()[
        "access_token"
    ]
    assert (await client.get("/v1/stats", headers=bearer(token))).status_code == 200
    assert (await client.post("/v1/auth/logout", headers=bearer(token))).status_code == 204
    again = await client.get("/v1/stats", headers=bearer(token))
    assert again.status_code == 401 and again.json()["error"]["code"] == "invalid_token"
    assert (await client.get("/v1/stats", headers=bearer(other))).status_code == 200  # only that token
    assert (await client.post("/v1/auth/logout")).status_code == 401
    device, _ = accounts.device()
    assert (await client.post("/v1/auth/logout", headers=bearer(device))).status_code == 403


async def test_admin_revokes_tokens_reenables_and_changes_roles(client, accounts):
    admin = accounts.user_token("admin", "boss")
    _user(accounts, "bob")
    login = {"username": "bob", "password": PASSWORD}
    bob = (await client.post("/v1/auth/token", json=login)).json()["access_token"]
    revoked = await client.post("/v1/admin/users/bob:revoke-tokens", headers=bearer(admin))
    assert revoked.status_code == 200 and revoked.json() == {"username": "bob", "revoked": 1}
    assert (await client.get("/v1/stats", headers=bearer(bob))).status_code == 401
    assert (await client.post("/v1/auth/token", json=login)).status_code == 200  # still enabled
    assert (await client.post("/v1/admin/users/bob:disable", headers=bearer(admin))).status_code == 200
    assert (await client.post("/v1/auth/token", json=login)).status_code == 401
    enabled = await client.post("/v1/admin/users/bob:enable", headers=bearer(admin))
    assert enabled.status_code == 200 and enabled.json()["disabled_at"] is None
    bob = (await client.post("/v1/auth/token", json=login)).json()["access_token"]
    promoted = await client.post("/v1/admin/users/bob:set-role", headers=bearer(admin), json={"role": "admin"})
    assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
    assert (await client.get("/v1/stats", headers=bearer(bob))).status_code == 401  # tokens end with a role change
    unknown = await client.post("/v1/admin/users/nobody:enable", headers=bearer(admin))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_user"
    researcher = accounts.user_token("researcher")
    assert (await client.post("/v1/admin/users/bob:enable", headers=bearer(researcher))).status_code == 403


async def test_an_admin_can_neither_disable_nor_demote_themselves_nor_the_last_admin(client, accounts):
    first = accounts.user_token("admin", "first-admin")
    for action, body in ((":disable", None), (":set-role", {"role": "researcher"})):
        response = await client.post(f"/v1/admin/users/first-admin{action}", headers=bearer(first), json=body)
        assert response.status_code == 409 and response.json()["error"]["code"] == "cannot_change_self", action
    second = accounts.user_token("admin", "second-admin")
    assert (await client.post("/v1/admin/users/first-admin:disable", headers=bearer(second))).status_code == 200
    # second-admin is now the only enabled admin: the console (no account, so no "yourself") cannot remove it
    url = ["--database-url", accounts.settings.database_url]
    assert main([*url, "user", "disable", "second-admin"]) == 1
    assert main([*url, "user", "set-role", "second-admin", "researcher"]) == 1
    assert (await client.get("/v1/admin/users", headers=bearer(second))).status_code == 200
    # re-enable the first, then the second may go
    assert main([*url, "user", "enable", "first-admin"]) == 0
    assert main([*url, "user", "set-role", "second-admin", "researcher"]) == 0
    assert (await client.get("/v1/admin/users", headers=bearer(second))).status_code == 401


def test_cli_user_commands(accounts, capsys):
    _user(accounts, "carol")
    url = ["--database-url", accounts.settings.database_url]
    accounts.user_token("researcher", "carol")
    assert main([*url, "user", "revoke-tokens", "carol"]) == 0
    assert "1 token(s) of carol revoked" in capsys.readouterr().out
    assert main([*url, "user", "disable", "carol"]) == 0
    assert main([*url, "user", "list"]) == 0
    assert "carol\tresearcher\tdisabled" in capsys.readouterr().out
    assert main([*url, "user", "enable", "nobody"]) == 1
    assert "unknown_user" in capsys.readouterr().err


def test_just_after_a_window_boundary_recent_attempts_still_count_whole() -> None:
    from sync_server.ratelimit import attempts_before

    # 3 attempts in the window that just ended, 2 in this one (the third is this attempt), 50 ms in.
    assert attempts_before(hits=3, previous=3, elapsed=0.05, window=60) == 5  # 5 >= a limit of 5: refused
    assert attempts_before(hits=1, previous=5, elapsed=59.99, window=60) == 1  # the old ones have nearly gone
    assert attempts_before(hits=1, previous=4, elapsed=30, window=60) == 2
    assert attempts_before(hits=6, previous=0, elapsed=10, window=60) == 5
