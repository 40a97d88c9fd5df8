"""The production path of ``POST /v1/submissions``: the async ingest pool the lifespan opens, and what a kiosk
is told when the database cannot be reached (503 ``database_unavailable``, retry later, nothing stored)."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from sync_server import metrics
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
    waits = await client.get("/metrics")
    assert "qlq_ingest_pool_wait_seconds_count" in waits.text
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


def _outages() -> float:
    return metrics.REGISTRY.get_sample_value("qlq_database_unavailable_total") or 0.0


async def test_database_down_is_503_with_retry_after(settings):
    down = settings.model_copy(
        update={
            "database_url": f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/qlq",
            "db_pool_timeout_seconds": 0.5,
        }
    )
    app = create_app(down)
    sub = make_submission()
    outages = _outages()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        async with app.router.lifespan_context(app):
            response = await client.post("/v1/submissions", json=payload(sub), headers=bearer("qlqd_x"))
        assert app.state.ingest_pool is None
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "database_unavailable"
    assert response.headers["retry-after"] == "5"
    assert _outages() == outages + 1  # counted once per refused request
    app.state.engine.dispose()


async def test_connections_dropped_by_the_database_heal(app, client, accounts, database_url):
    """After PostgreSQL drops the pool's connections (a restart, a failover), a kiosk gets at most one 503 per
    dead pooled connection, then the pool reconnects; a 503'd session is stored when the kiosk retries it."""
    import psycopg

    from tests.conftest_pg import libpq_dsn, one_row

    token, _ = accounts.device("SITE-A")
    pool = app.state.ingest_pool
    await pool.wait(timeout=10)
    with psycopg.connect(libpq_dsn(database_url), autocommit=True) as admin:
        killed = one_row(
            admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'qlq-server-ingest' AND datname = current_database()"
            )
        )[0]
    assert killed == app.state.settings.db_ingest_pool_size
    subs = [make_submission() for _ in range(2 * killed + 2)]
    statuses = [
        (await client.post("/v1/submissions", json=payload(s), headers=bearer(token))).status_code for s in subs
    ]
    assert set(statuses) <= {201, 503} and statuses.count(503) <= killed and statuses[-2:] == [201, 201]
    retried = [
        (await client.post("/v1/submissions", json=payload(s), headers=bearer(token))).status_code
        for s, status in zip(subs, statuses, strict=True)
        if status == 503
    ]
    assert retried == [201] * statuses.count(503)
    with accounts.session() as db:
        assert db.scalar(select(func.count()).select_from(StoredSubmission)) == len(subs)


async def test_a_connection_the_server_dropped_is_told_from_an_idle_one_without_a_round_trip(database_url):
    """The pool's check (``db.server_spoke``): an idle connection is quiet; once PostgreSQL terminated its backend
    the socket says so."""
    import asyncio

    import psycopg

    from sync_server.db import server_spoke
    from tests.conftest_pg import libpq_dsn

    async with await psycopg.AsyncConnection.connect(libpq_dsn(database_url), autocommit=True) as conn:
        await conn.execute("SELECT 1")
        assert not server_spoke(conn)
        pid = conn.info.backend_pid
        with psycopg.connect(libpq_dsn(database_url), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        for _ in range(100):
            if server_spoke(conn):
                break
            await asyncio.sleep(0.02)
        assert server_spoke(conn)


_ODD_VALUES: list[Any] = [
    None,
    "",
    " ",
    -1,
    0,
    10**20,
    1.5,
    float("-0.0"),
    True,
    [],
    {},
    "x" * 3000,
    "a\x00b",
    "2999-01-01",
    "1900-01-01T00:00:00",
    "not-a-uuid",
    "11111111-1111-1111-1111-111111111111",
    {"nested": [1]},
    "é" * 50,
]


def _paths(node: object, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


def _mutated(data: dict, rng) -> dict:
    """The payload with one to three random places replaced by an odd value or removed."""
    import copy

    data = copy.deepcopy(data)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(_paths(data))
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        if rng.random() < 0.2 and isinstance(parent, dict):
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = rng.choice(_ODD_VALUES)
    return data


async def test_random_damage_never_gives_a_server_error(client, accounts):
    """Fuzzing the production path: 300 payloads damaged at random places (seeded, so a failure reproduces)
    are each refused with a 4xx naming a code, or stored whole; never a 5xx, never a half-stored session."""
    import random

    from sync_server.models import Answer

    rng = random.Random(20261125)
    token, _ = accounts.device("SITE-A")
    stored = 0
    for attempt in range(300):
        body = _mutated(payload(make_submission()), rng)
        response = await client.post("/v1/submissions", json=body, headers=bearer(token))
        assert response.status_code in (200, 201, 409, 422), (attempt, response.status_code, response.text)
        if response.status_code >= 400:
            assert response.json()["error"]["code"], response.text
        stored += response.status_code == 201
    with accounts.session() as db:
        assert db.scalar(select(func.count()).select_from(StoredSubmission)) == stored
        assert db.scalar(select(func.count()).select_from(Answer)) == 30 * stored
