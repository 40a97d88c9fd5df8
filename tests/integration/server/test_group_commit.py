"""Group commit (``sync_server/group_commit.py``) on a real PostgreSQL: submissions that arrive while a group is
being stored are stored together, each still gets its own outcome, a refused one fails alone, and two groups
holding the same ids cannot deadlock."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from psycopg import AsyncConnection
from sqlalchemy import func, select

from kiosk.domain.submission import Submission
from sync_server import metrics
from sync_server.db import libpq_conninfo, make_ingest_pool
from sync_server.group_commit import GroupCommit
from sync_server.models import Answer, StoredSubmission
from sync_server.repositories.accounts import SiteRepository
from sync_server.repositories.submissions import ROW_COLUMNS, IngestRepository, Inserted
from sync_server.services.accounts import AccountService
from sync_server.services.ingest import prepare_submission
from sync_server.services.instruments import InstrumentRegistry
from sync_server.settings import Settings
from tests.integration.server.factories import Accounts, bearer, make_submission, payload, tampered

pytestmark = pytest.mark.anyio
REGISTRY = InstrumentRegistry.bundled()


def _groups() -> tuple[float, float]:
    """(groups stored, submissions in them) so far, from the group-size histogram."""
    count = metrics.REGISTRY.get_sample_value("qlq_ingest_group_size_count") or 0.0
    total = metrics.REGISTRY.get_sample_value("qlq_ingest_group_size_sum") or 0.0
    return count, total


def _split() -> float:
    return metrics.REGISTRY.get_sample_value("qlq_ingest_groups_split_total") or 0.0


@pytest.fixture
async def pool(settings: Settings) -> AsyncIterator[Any]:
    opened = make_ingest_pool(settings)
    await opened.open(wait=True)
    yield opened
    await opened.close()


@pytest.fixture
def site_id(accounts: Accounts) -> int:
    accounts.site("SITE-A")
    with accounts.session() as db:
        site = SiteRepository(db).get_by_code("SITE-A")
        assert site is not None
        return site.id


async def _insert(store: GroupCommit | IngestRepository, sub: Submission, site_id: int) -> Inserted:
    prepared = prepare_submission(REGISTRY, sub, site_id=site_id, device_id=None)
    return await store.insert(prepared.row, payload_json=prepared.payload_json)


async def test_submissions_arriving_together_are_stored_together(client, accounts):
    token, _ = accounts.device("SITE-A")
    groups_before, stored_before = _groups()
    subs = [make_submission() for _ in range(24)]
    responses = await asyncio.gather(
        *(client.post("/v1/submissions", json=payload(s), headers=bearer(token)) for s in subs)
    )
    assert [r.status_code for r in responses] == [201] * 24
    assert [r.json()["submission_id"] for r in responses] == [str(s.submission_id) for s in subs]
    groups, stored = _groups()
    assert stored - stored_before == 24
    assert groups - groups_before < 24  # some were stored together (the first one alone: nothing was busy)
    with accounts.session() as db:
        assert db.scalar(select(func.count()).select_from(StoredSubmission)) == 24
        assert db.scalar(select(func.count()).select_from(Answer)) == 24 * 30


async def test_a_submission_alone_is_stored_at_once_in_a_group_of_its_own(client, accounts):
    token, _ = accounts.device("SITE-A")
    groups_before, stored_before = _groups()
    response = await client.post("/v1/submissions", json=payload(make_submission()), headers=bearer(token))
    assert response.status_code == 201
    assert _groups() == (groups_before + 1, stored_before + 1)


async def test_a_value_refused_in_a_group_fails_only_its_own_request(client, accounts):
    """Concurrent requests, one carrying a value PostgreSQL cannot hold (a smallint overflow): its group is
    stored again one by one, so only that request gets its 422, every other one is stored whole."""
    token, _ = accounts.device("SITE-A")
    subs = [make_submission() for _ in range(10)]
    bodies: list[dict[str, Any]] = [payload(s) for s in subs]
    bodies[6] = tampered(subs[6], **{"answers.0.times_shown": 10**6})
    responses = await asyncio.gather(*(client.post("/v1/submissions", json=b, headers=bearer(token)) for b in bodies))
    assert [r.status_code for r in responses] == [422 if i == 6 else 201 for i in range(10)]
    assert responses[6].json()["error"]["code"] == "invalid_value"
    with accounts.session() as db:
        assert db.scalar(select(func.count()).select_from(StoredSubmission)) == 9
        assert db.scalar(select(func.count()).select_from(Answer)) == 9 * 30


async def test_each_outcome_goes_to_its_own_submission_in_a_group(pool, site_id):
    """A group mixing new submissions and ids already taken: each caller is told what happened to its own."""
    store = GroupCommit(pool, max_size=64, in_flight=1)
    taken = [make_submission() for _ in range(3)]
    for sub in taken:
        assert (await _insert(store, sub, site_id)).pk is not None
    mixed = [make_submission() if i % 2 else taken[i // 2] for i in range(6)]
    groups_before, _ = _groups()
    outcomes = await asyncio.gather(*(_insert(store, s, site_id) for s in mixed))
    assert [o.pk is not None for o in outcomes] == [bool(i % 2) for i in range(6)]
    assert all(o.device_active for o in outcomes)
    assert _groups()[0] - groups_before == 1  # all handed over before the group was taken: one group of six
    assert len({o.pk for o in outcomes if o.pk is not None}) == 3


async def test_two_groups_holding_the_same_ids_do_not_deadlock(pool, site_id, settings):
    """Two groups in flight at once, given the same two ids in opposite orders (a kiosk's retry racing its first
    attempt). While a third transaction holds both ids, both groups are sent and wait; once it rolls back, one
    group stores both and the other finds both taken. Sent in their given orders, each would take its first id
    and wait for the other's: a deadlock, which PostgreSQL breaks after deadlock_timeout by refusing one group.
    Sent in id order, they queue."""
    first, second = sorted((make_submission() for _ in range(2)), key=lambda s: s.submission_id)
    store = GroupCommit(pool, max_size=2, in_flight=2)
    conninfo = libpq_conninfo(settings.database_url)
    split_before = _split()
    async with await AsyncConnection.connect(conninfo, autocommit=True) as holder:
        async with holder.transaction(force_rollback=True):
            for sub in (first, second):
                assert (await _insert(IngestRepository(holder), sub, site_id)).pk is not None
            racing = asyncio.gather(*(_insert(store, s, site_id) for s in (first, second, second, first)))
            await asyncio.sleep(0.5)  # both groups sent, both waiting for the holder's rows
            assert not racing.done()
        outcomes = await asyncio.wait_for(racing, 10)
    stored = [o.pk is not None for o in outcomes]
    assert sorted(stored) == [False, False, True, True]
    assert stored[0] != stored[3] and stored[1] != stored[2]  # each id stored once
    assert _split() == split_before  # a deadlock would have made PostgreSQL refuse a group


async def test_a_request_that_stops_waiting_still_has_its_submission_stored(pool, site_id):
    """A request cancelled while its submission waits for a group (its client went away) does not take the
    submission out: it is stored, and the kiosk's retry is told it was already received."""
    store = GroupCommit(pool, max_size=64, in_flight=1)
    busy, left = make_submission(), make_submission()
    storing = asyncio.create_task(_insert(store, busy, site_id))
    leaving = asyncio.create_task(_insert(store, left, site_id))
    await asyncio.sleep(0)  # both handed over to the store, neither stored yet
    leaving.cancel()
    assert (await storing).pk is not None
    with pytest.raises(asyncio.CancelledError):
        await leaving
    for _ in range(100):
        if await store.existing(left.submission_id) is not None:
            break
        await asyncio.sleep(0.05)
    assert await store.existing(left.submission_id) is not None


async def test_a_lost_connection_fails_every_request_of_its_group_as_503(pool, site_id, settings):
    """The database drops the connection a group is being stored on: every request of that group is told the
    database is unavailable (the kiosks retry), none is told a submission was stored that was not."""
    store = GroupCommit(pool, max_size=64, in_flight=1)
    conninfo = libpq_conninfo(settings.database_url)
    subs = [make_submission() for _ in range(5)]
    async with (
        await AsyncConnection.connect(conninfo, autocommit=True) as killer,
        killer.transaction(force_rollback=True),
    ):
        # hold one of the ids, so that the group waits on it and can be cut off mid-pipeline
        assert (await _insert(IngestRepository(killer), subs[1], site_id)).pk is not None
        racing = asyncio.gather(*(_insert(store, s, site_id) for s in subs), return_exceptions=True)
        await asyncio.sleep(0.5)
        await killer.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = 'qlq-server-ingest'"
            " AND wait_event_type = 'Lock'"
        )
        outcomes = await asyncio.wait_for(racing, 10)
    assert [type(o).__name__ for o in outcomes] == ["DatabaseUnavailable"] * 5  # one group, cut off
    for sub in subs:
        assert await store.existing(sub.submission_id) is None


def _prepared(sub: Submission, site_id: int, device_id: uuid.UUID | None = None) -> tuple[dict[str, Any], str]:
    prepared = prepare_submission(REGISTRY, sub, site_id=site_id, device_id=device_id)
    return prepared.row, prepared.payload_json


async def test_a_group_stores_every_column_and_the_very_payload_text_that_was_hashed(pool, site_id):
    """One statement for the group, its rows sent as one JSON parameter: every column reads back as the row
    gave it, and each stored payload is the text its content hash was computed on (non-ASCII, quotes and
    backslashes included)."""
    voiced = make_submission(voice_items=[1, 2])
    odd = Submission.model_validate(tampered(voiced, **{"answers.0.transcript": 'un peu « é » "q" \\ \u2028 😀'}))
    abandoned = make_submission(outcome="abandoned", abandon_after=12)
    group = [_prepared(s, site_id) for s in (odd, make_submission(), abandoned)]
    async with pool.connection() as connection:
        outcomes = await IngestRepository(connection).insert_many(group)
        assert all(o.pk is not None and o.device_active for o in outcomes)
        for (row, payload_json), outcome in zip(group, outcomes, strict=True):
            cursor = await connection.execute(
                f"SELECT {', '.join(ROW_COLUMNS)}, payload::text, (SELECT count(*) FROM answers WHERE submission_pk = "
                "%(pk)s) FROM submissions WHERE id = %(pk)s",
                {"pk": outcome.pk},
            )
            stored = await cursor.fetchone()
            assert stored is not None
            assert dict(zip(ROW_COLUMNS, stored[: len(ROW_COLUMNS)], strict=True)) == {c: row[c] for c in ROW_COLUMNS}
            assert stored[-2] == payload_json
            assert hashlib.sha256(stored[-2].encode()).hexdigest() == row["content_sha256"]
            assert stored[-1] == sum(1 for a in Submission.model_validate_json(payload_json).answers)


async def test_the_same_id_twice_in_a_group_is_stored_once_the_first_as_sent(pool, site_id):
    """Of two submissions with the same id in one group (the same one twice, or another content under its
    id), the first is stored; the others find the id taken, as they would one after the other."""
    sub = make_submission()
    first, twin, clash = _prepared(sub, site_id), _prepared(sub, site_id), _prepared(sub, site_id)
    clash = ({**clash[0], "content_sha256": "0" * 64}, clash[1])  # another content under the same id
    async with pool.connection() as connection:
        repo = IngestRepository(connection)
        outcomes = await repo.insert_many([first, twin, clash, _prepared(make_submission(), site_id)])
        assert [o.pk is not None for o in outcomes] == [True, False, False, True]
        existing = await repo.existing(sub.submission_id)
    assert existing is not None and existing.pk == outcomes[0].pk
    assert existing.content_sha256 == first[0]["content_sha256"]


async def test_a_revoked_device_in_a_group_stores_nothing_and_is_told_so(pool, accounts):
    """Each submission of a group is checked against its own device: the revoked one's is not stored (and is
    told the device is no longer active), the others are."""
    _, active = accounts.device("SITE-A", "tablette-1")
    _, revoked = accounts.device("SITE-A", "tablette-2")
    with accounts.session() as db, db.begin():
        AccountService(db, accounts.settings).revoke_device(revoked)
        site = SiteRepository(db).get_by_code("SITE-A")
        assert site is not None
        site_id = site.id
    subs = [make_submission() for _ in range(3)]
    devices = [active, revoked, active]
    async with pool.connection() as connection:
        outcomes = await IngestRepository(connection).insert_many(
            [_prepared(s, site_id, d) for s, d in zip(subs, devices, strict=True)]
        )
    assert [(o.pk is not None, o.device_active) for o in outcomes] == [(True, True), (False, False), (True, True)]


async def test_a_group_refused_first_leaves_its_connections_able_to_store(pool, site_id):
    """A refused value in the very first group the pool's connections run: refused alone, and every later group
    on the same connections is stored (their prepared statement exists)."""
    store = GroupCommit(pool, max_size=64, in_flight=1)
    bad = make_submission()
    refused = Submission.model_validate(tampered(bad, **{"answers.0.times_shown": 10**6}))
    prepared_bad = prepare_submission(REGISTRY, refused, site_id=site_id, device_id=None)
    subs = [make_submission() for _ in range(4)]
    outcomes = await asyncio.gather(
        store.insert(prepared_bad.row, payload_json=prepared_bad.payload_json),
        *(_insert(store, s, site_id) for s in subs),
        return_exceptions=True,
    )
    assert isinstance(outcomes[0], psycopg.DataError)
    assert all(isinstance(o, Inserted) and o.pk is not None for o in outcomes[1:])
    for _ in range(3):
        again = await asyncio.gather(*(_insert(store, make_submission(), site_id) for _ in range(6)))
        assert all(o.pk is not None for o in again)
