"""Device authentication on the submission endpoints: the worker's cache of devices, a device revoked while a
worker still trusts it (it stores nothing), and the device's last-seen time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from sync_server.app import create_app
from sync_server.models import Device, StoredSubmission
from sync_server.security import keyed_hash
from sync_server.services.accounts import AccountService
from tests.integration.server.factories import bearer, make_submission, payload

pytestmark = pytest.mark.anyio


def stored(accounts) -> int:
    with accounts.session() as db:
        return int(db.scalar(select(func.count()).select_from(StoredSubmission)) or 0)


def revoke(accounts, device_id) -> None:
    """As an admin on another worker or replica would: this worker's cache is not told."""
    with accounts.session() as db, db.begin():
        AccountService(db, accounts.settings).revoke_device(device_id)


def assert_refused(response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "invalid_token"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_submitting_device_is_looked_up_once_then_known_to_the_worker(client, app, accounts):
    token, device_id = accounts.device()
    cache = app.state.device_cache
    assert len(cache) == 0
    assert (
        await client.post("/v1/submissions", json=payload(make_submission()), headers=bearer(token))
    ).status_code == 201
    known = cache.get(keyed_hash(accounts.settings.token_secret, token))
    assert known is not None and (known.device_id, known.site_code) == (device_id, "SITE-A")
    assert (
        await client.post("/v1/submissions", json=payload(make_submission()), headers=bearer(token))
    ).status_code == 201
    assert len(cache) == 1 and stored(accounts) == 2
    with accounts.session() as db:  # the lookup still records when the device was last seen
        seen = db.scalar(select(Device.last_seen_at).where(Device.id == device_id))
    assert seen is not None and abs(datetime.now(UTC) - seen) < timedelta(minutes=1)


async def test_a_device_revoked_while_the_worker_trusts_it_stores_nothing(client, app, accounts):
    token, device_id = accounts.device()
    first = make_submission()
    assert (await client.post("/v1/submissions", json=payload(first), headers=bearer(token))).status_code == 201
    token_hash = keyed_hash(accounts.settings.token_secret, token)
    trusted = app.state.device_cache.get(token_hash)
    assert trusted is not None
    revoke(accounts, device_id)

    assert_refused(await client.post("/v1/submissions", json=payload(make_submission()), headers=bearer(token)))
    assert app.state.device_cache.get(token_hash) is None  # dropped: refused at authentication from now on
    assert_refused(await client.post("/v1/submissions", json=payload(make_submission()), headers=bearer(token)))

    # Trusted again (as a worker that looked it up just before the revocation): a retry of what it stored is
    # no "already received", and a batch stores none of its items.
    app.state.device_cache.put(token_hash, trusted)
    assert_refused(await client.post("/v1/submissions", json=payload(first), headers=bearer(token)))
    app.state.device_cache.put(token_hash, trusted)
    batch = [payload(make_submission()) for _ in range(3)]
    assert_refused(await client.post("/v1/submissions:batch", json=batch, headers=bearer(token)))
    assert app.state.device_cache.get(token_hash) is None
    assert stored(accounts) == 1


async def test_a_device_moved_to_another_site_since_the_lookup_stores_nothing_for_the_old_one(client, app, accounts):
    """The storing statement checks the device's site too: a cached identity can never write for a site the
    device no longer belongs to."""
    token, device_id = accounts.device("SITE-A")
    assert (
        await client.post("/v1/submissions", json=payload(make_submission()), headers=bearer(token))
    ).status_code == 201
    accounts.site("SITE-B")
    with accounts.session() as db, db.begin():
        site_b = AccountService(db, accounts.settings).sites.get_by_code("SITE-B")
        db.execute(update(Device).where(Device.id == device_id).values(site_id=site_b.id))
    assert_refused(await client.post("/v1/submissions", json=payload(make_submission()), headers=bearer(token)))
    assert stored(accounts) == 1


async def test_without_the_cache_every_submission_looks_the_device_up(settings, accounts):
    app = create_app(settings.model_copy(update={"device_cache_seconds": 0}))
    token, device_id = accounts.device()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            ok = await client.post("/v1/submissions", json=payload(make_submission()), headers=bearer(token))
            assert ok.status_code == 201 and len(app.state.device_cache) == 0
            revoke(accounts, device_id)
            assert_refused(await client.post("/v1/submissions", json=[], headers=bearer(token)))  # 401 before 422
    app.state.engine.dispose()
