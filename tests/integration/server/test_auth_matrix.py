"""Every endpoint × every kind of caller → the expected status; refusals carry no data.

Callers: nobody, an enrolled device, a researcher, an admin, a revoked device, an expired user token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from sync_server.services.accounts import AccountService
from tests.integration.server.factories import INITIALS, bearer, make_submission, payload, user_token_in

pytestmark = pytest.mark.anyio

CALLERS = ("none", "device", "researcher", "admin", "revoked_device", "expired_token")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    allowed: tuple[str, ...]
    ok: int
    body: str | None = None  # name of a body builder in the world


ENDPOINTS = [
    Endpoint("GET", "/health", CALLERS, 200),
    Endpoint("GET", "/ready", CALLERS, 200),
    Endpoint("GET", "/metrics", CALLERS, 200),
    Endpoint("POST", "/v1/submissions", ("device",), 201, body="submission"),
    Endpoint("POST", "/v1/submissions:batch", ("device",), 200, body="batch"),
    Endpoint("GET", "/v1/stats", ("researcher", "admin"), 200),
    Endpoint("GET", "/v1/exports/csv-wide", ("researcher",), 200),
    Endpoint("GET", "/v1/exports/fhir", ("researcher",), 200),
    Endpoint("GET", "/v1/admin/sites", ("admin",), 200),
    Endpoint("POST", "/v1/admin/sites", ("admin",), 201, body="site"),
    Endpoint("POST", "/v1/admin/sites/SITE-A/enrollment-codes", ("admin",), 201),
    Endpoint("GET", "/v1/admin/devices", ("admin",), 200),
    Endpoint("POST", "/v1/admin/devices/{spare_device}:revoke", ("admin",), 204),
    Endpoint("GET", "/v1/admin/users", ("admin",), 200),
    Endpoint("POST", "/v1/admin/users", ("admin",), 201, body="user"),
    Endpoint("POST", "/v1/admin/users/someone:disable", ("admin",), 200),
    Endpoint("GET", "/v1/admin/audit", ("admin",), 200),
    Endpoint("GET", "/v1/admin/sessions/{stored}", ("admin",), 200),
    Endpoint("DELETE", "/v1/admin/sessions/{stored}", ("admin",), 204),
    Endpoint("POST", "/v1/admin/sessions/{stored}:anonymize", ("admin",), 200),
]


@pytest.fixture
def world(accounts, settings) -> dict[str, Any]:
    """Everything the matrix needs, made in one transaction (the matrix runs >100 times)."""
    stored = make_submission()
    with accounts.session() as db, db.begin():
        service = AccountService(db, settings)
        site = service.create_site("SITE-A", "Site A")

        def enroll(name: str) -> tuple[str, Any]:
            issued = service.enroll(service.create_enrollment_code("SITE-A", "test").code, name)
            return issued.token, issued.device_id

        device, _ = enroll("tablette-1")
        revoked, revoked_id = enroll("tablette-revoquee")
        _, spare_id = enroll("tablette-2")
        service.revoke_device(revoked_id)
        user_token_in(db, settings, "researcher", "someone")
        tokens = {
            "device": device,
            "revoked_device": revoked,
            "researcher": user_token_in(db, settings, "researcher"),
            "admin": user_token_in(db, settings, "admin"),
            "expired_token": user_token_in(db, settings, "researcher", ttl=timedelta(seconds=-1)),
        }
    accounts.store(site.code, stored)
    return {
        "tokens": tokens,
        "spare_device": str(spare_id),
        "stored": str(stored.submission_id),
        "bodies": {
            "submission": lambda: payload(make_submission()),
            "batch": lambda: [payload(make_submission())],
            "site": lambda: {"code": "SITE-B", "name": "Site B"},
            "user": lambda: {"username": "new-user", "password": "a long enough password", "role": "researcher"},
        },
    }


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
async def test_endpoint_by_caller(client, world, endpoint: Endpoint, caller: str):
    path = endpoint.path.format(spare_device=world["spare_device"], stored=world["stored"])
    headers = bearer(world["tokens"][caller]) if caller != "none" else {}
    kwargs: dict[str, Any] = {"headers": headers}
    if endpoint.body:
        kwargs["json"] = world["bodies"][endpoint.body]()
    response = await client.request(endpoint.method, path, **kwargs)
    if caller in endpoint.allowed:
        assert response.status_code == endpoint.ok, response.text
        return
    expected = 401 if caller in ("none", "revoked_device", "expired_token") else 403
    assert response.status_code == expected, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] in ("not_authenticated", "invalid_token", "forbidden")
    assert INITIALS not in response.text
    if expected == 401:
        assert response.headers["www-authenticate"] == "Bearer"


async def test_public_endpoints_refuse_bad_credentials(client, accounts):
    accounts.site()
    login = await client.post("/v1/auth/token", json={"username": "nobody", "password": "wrong password"})
    assert login.status_code == 401
    assert login.json()["error"]["code"] == "invalid_credentials"
    enroll = await client.post("/v1/devices/enroll", json={"code": "AAAA-BBBB-CCCC", "device_name": "x"})
    assert enroll.status_code == 401
    assert enroll.json()["error"] == {
        "code": "invalid_enrollment_code",
        "field": "code",
        "message": "unknown, expired or already used enrollment code",
    }


async def test_unknown_token_shapes_are_401(client):
    for token in ("qlqd_nope", "qlqu_nope", "something-else"):
        response = await client.get("/v1/stats", headers=bearer(token))
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_token"
    response = await client.get("/v1/stats", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401
