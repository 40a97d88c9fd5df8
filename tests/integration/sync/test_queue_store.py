"""The send queue in storage (revision 0004): due times, error codes, counts, purge after acknowledgement.

Each test runs on the SQLite store and on the in-memory fake.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from kiosk.domain.instrument import Instrument
from kiosk.storage import database
from kiosk.storage.fake import InMemorySessionStore
from kiosk.storage.interface import QueueCounts, SessionStore
from kiosk.storage.sqlite_store import SqliteSessionStore
from tests.integration.storage.storage_helpers import FakeClock, complete, start_session


def _queue(store: SessionStore, instrument: Instrument, clock: FakeClock, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        session = start_session(instrument, clock, initials="Q.X.Z.W.")
        session = session.begin_items(now=clock.tick())
        complete(session, clock, store)
        ids.append(session.id)
    return ids


def test_due_follows_next_attempt_times_oldest_first(
    store: SessionStore, instrument: Instrument, clock: FakeClock
) -> None:
    ids = _queue(store, instrument, clock, 3)
    now = clock.now()
    assert [q.submission_id for q in store.due(now)] == ids
    assert store.next_due_at() is not None and store.next_due_at() <= now  # type: ignore[operator]
    store.mark_send_failed(ids[0], error="délai dépassé", code="timeout", next_attempt_at=now + timedelta(seconds=30))
    assert [q.submission_id for q in store.due(now)] == ids[1:]
    assert [q.submission_id for q in store.due(now, limit=1)] == ids[1:2]
    store.mark_sent(ids[1], receipt='{"status":"received"}')
    store.mark_rejected(ids[2], error="date invraisemblable", code="implausible_date")
    assert store.due(now) == []
    assert store.next_due_at() == now + timedelta(seconds=30)
    [waiting] = store.due(now + timedelta(seconds=30))
    assert (waiting.submission_id, waiting.attempts, waiting.last_error_code) == (ids[0], 1, "timeout")
    assert waiting.next_attempt_at == now + timedelta(seconds=30)
    [rejected] = store.queued(status="rejected")
    assert (rejected.last_error_code, rejected.last_error) == ("implausible_date", "date invraisemblable")
    assert rejected.payload_json  # parked, never deleted
    assert store.queue_counts() == QueueCounts(pending=1, sent=1, rejected=1, purged=0)
    store.mark_sent(ids[0], receipt="r")
    assert store.next_due_at() is None
    with pytest.raises(ValueError, match="not pending"):
        store.mark_send_failed(ids[2], error="a parked submission is never retried blindly")


def test_purge_removes_patient_details_after_acknowledgement_and_keeps_the_proof(
    store: SessionStore, instrument: Instrument, clock: FakeClock
) -> None:
    sent, waiting = _queue(store, instrument, clock, 2)
    store.mark_sent(sent, receipt='{"status":"received","http_status":201}')
    sent_at = clock.now()
    clock.tick(60)
    assert store.purge_acknowledged(sent_before=sent_at - timedelta(seconds=1)) == 0  # not yet due for purging
    assert store.purge_acknowledged(sent_before=clock.now()) == 1
    assert store.purge_acknowledged(sent_before=clock.now()) == 0  # once
    [purged] = store.queued(status="sent")
    assert purged.payload_json is None and purged.purged_at == clock.now()
    assert purged.server_receipt == '{"status":"received","http_status":201}' and purged.sent_at == sent_at
    [pending] = store.queued(status="pending")
    assert pending.submission_id == waiting and pending.payload_json is not None
    assert "Q.X.Z.W." in json.loads(pending.payload_json)["patient"]["initials"]
    assert store.queue_counts() == QueueCounts(pending=1, sent=1, rejected=0, purged=1)
    if isinstance(store, InMemorySessionStore):
        row = store.session_row(sent)
    else:
        assert isinstance(store, SqliteSessionStore)
        with store._transaction("test") as conn:
            row = dict(conn.execute(text("SELECT * FROM sessions WHERE id = :id"), {"id": sent}).mappings().one())
    assert row["initials"] == "" and row["snapshot_json"] == ""
    assert row["phase"] == "completed"  # still listed as a finished, sent session


def test_a_0003_database_upgrades_to_0004_keeping_its_queue(
    tmp_path: Path, instrument: Instrument, clock: FakeClock
) -> None:
    path = tmp_path / "kiosk.db"
    with SqliteSessionStore(path, clock=clock) as store:
        ids = _queue(store, instrument, clock, 2)
        store.mark_send_failed(ids[0], error="hors ligne", code="network", next_attempt_at=clock.now())
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:  # back to 0003, as a kiosk of the previous release left it
        conn.exec_driver_sql("DROP INDEX ix_submissions_status_next_attempt_at")
        conn.exec_driver_sql("ALTER TABLE submissions DROP COLUMN purged_at")
        conn.exec_driver_sql("ALTER TABLE submissions DROP COLUMN last_error_code")
        conn.exec_driver_sql("ALTER TABLE submissions DROP COLUMN next_attempt_at")
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0003'")
    engine.dispose()
    assert database.probe(path) == "0003"
    with SqliteSessionStore(path, clock=clock) as store:
        assert [q.submission_id for q in store.due(clock.now())] == ids
        first, second = store.queued()
        assert (first.attempts, first.last_error, first.last_error_code, first.next_attempt_at) == (
            1,
            "hors ligne",
            None,
            None,
        )
        assert second.payload_json is not None and second.attempts == 0
    assert database.probe(path) == database.HEAD_REVISION == "0004"


def test_by_default_the_last_patient_stays_until_a_later_session_starts(
    store: SessionStore, instrument: Instrument, clock: FakeClock
) -> None:
    from kiosk.sync import retention

    first, second = _queue(store, instrument, clock, 2)
    store.mark_sent(first, receipt="r1")
    store.mark_sent(second, receipt="r2")
    policy = retention.load_policy(store)
    assert policy == retention.RetentionPolicy() and str(policy) == "next-session"
    clock.tick(3600)
    # the first was followed by the second: purged; the second is the last patient's: kept for the clinician
    assert retention.apply(store, policy, clock.now()) == 1
    kept = {q.submission_id: q for q in store.queued(status="sent")}
    assert kept[first].payload_json is None and kept[second].payload_json is not None
    clock.tick(60)
    later = start_session(instrument, clock, initials="N P")  # the next patient's session starts
    store.save(later)
    assert retention.apply(store, policy, clock.now()) == 1
    assert all(q.purged_at is not None for q in store.queued(status="sent"))
    assert [u.initials for u in store.unfinished()] == ["N P"]  # the new session is untouched


def test_retention_after_a_delay(store: SessionStore, instrument: Instrument, clock: FakeClock) -> None:
    from kiosk.sync import retention

    store.set_setting(retention.RETENTION_SETTING, "after:30")
    [sid] = _queue(store, instrument, clock, 1)
    store.mark_sent(sid, receipt="r")
    policy = retention.load_policy(store)
    assert policy.delay == timedelta(minutes=30)
    clock.tick(29 * 60)
    assert retention.apply(store, policy, clock.now()) == 0
    clock.tick(61)
    assert retention.apply(store, policy, clock.now()) == 1
    store.set_setting(retention.RETENTION_SETTING, "forever")
    assert retention.load_policy(store) == retention.RetentionPolicy()  # a bad value never keeps data longer
    with pytest.raises(ValueError):
        retention.RetentionPolicy.parse("after:x")


def test_after_the_purge_the_file_and_its_wal_hold_no_copy_of_the_patient(
    tmp_path: Path, instrument: Instrument, clock: FakeClock
) -> None:
    path = tmp_path / "kiosk.db"
    with SqliteSessionStore(path, clock=clock) as store:
        ids = _queue(store, instrument, clock, 3)
        raw = path.read_bytes() + (
            path.with_name("kiosk.db-wal").read_bytes() if path.with_name("kiosk.db-wal").exists() else b""
        )
        assert b"Q.X.Z.W." in raw and b"1952-03-07" in raw  # the control: they are there before
        for sid in ids:
            store.mark_sent(sid, receipt="r")
        clock.tick(60)
        assert store.purge_acknowledged(sent_before=clock.now()) == 3
        # Fails without the WAL truncation (the old page versions stay in -wal) and without secure_delete (off by
        # default in the SQLCipher build the kiosk uses). Plain SQLite here, so that the bytes can be searched.
        files = [p for p in tmp_path.iterdir() if p.name.startswith("kiosk.db")]
        for file in files:  # while the store is still open: the -wal is there
            data = file.read_bytes()
            assert b"Q.X.Z.W." not in data and b"1952-03-07" not in data, file.name
        assert store.queue_counts().sent == 3
