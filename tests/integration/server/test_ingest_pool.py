"""The production path of ``POST /v1/submissions``: the async ingest pool the lifespan opens, and what a kiosk
is told when the database cannot be reached (503 ``database_unavailable``, retry later, nothing stored)."""

from __future__ import annotations

import socket

import httpx
import pytest
from sqlalchemy import func, select

from sync_server.app import create_app
from sync_server.models import StoredSubmission
from tests.integration.server.factories import bearer, make_submission, payload

pytestmark = pytest.mark.anyio


async def test_device_submissions_are_served_by_the_ingest_pool(app, client, accounts):
    pool = app.state.ingest_pool
    token, _ = accounts.device("SITE-A")
    before = pool.get_stats().get("requests_num", 0)
    subs = [make_submission() for _ in range(12)]
    responses = [await client.post("/v1/submissions", json=payload(s), headers=bearer(token)) for s in subs]
    assert [r.status_code for r in responses] == [201] * 12
    assert pool.get_stats()["requests_num"] - before >= 12  # each request took a connection from the pool
    with accounts.session() as db:
        assert db.scalar(select(func.count()).select_from(StoredSubmission)) == 12
    # a researcher token on the endpoint is refused the same way as on every device-only endpoint
    researcher = accounts.user_token("researcher")
    refused = await client.post("/v1/submissions", json=payload(make_submission()), headers=bearer(researcher))
    assert refused.status_code == 403


async def test_the_lifespan_opens_and_closes_the_pool(app):
    assert app.state.ingest_pool is None
    async with app.router.lifespan_context(app):
        pool = app.state.ingest_pool
        assert pool is not None and not pool.closed
        await pool.wait(timeout=10)  # its connections do open
        assert pool.get_stats()["pool_size"] == app.state.settings.db_ingest_pool_size
    assert pool.closed and app.state.ingest_pool is None


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens there once the socket is closed


@pytest.mark.parametrize("lifespan", [True, False], ids=["event-loop", "worker-thread"])
async def test_database_down_is_503_with_retry_after(settings, lifespan):
    down = settings.model_copy(update={
        "database_url": f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/qlq",
        "db_pool_timeout_seconds": 0.5})
    app = create_app(down)
    sub = make_submission()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        if lifespan:
            async with app.router.lifespan_context(app):
                response = await client.post("/v1/submissions", json=payload(sub), headers=bearer("qlqd_x"))
            assert app.state.ingest_pool is None
        else:
            response = await client.post("/v1/submissions", json=payload(sub), headers=bearer("qlqd_x"))
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "database_unavailable"
    assert response.headers["retry-after"] == "5"
    app.state.engine.dispose()
