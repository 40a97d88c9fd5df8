"""What only the SQLite store can show: durable pragmas, the rows as written, all-or-nothing transactions."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from kiosk.domain.clock import FakeClock
from kiosk.domain.instrument import Instrument
from kiosk.domain.session import Method, Mode, Phase
from kiosk.storage import database, messages
from kiosk.storage import sqlite_store as sqlite_store_module
from kiosk.storage.interface import StorageError
from kiosk.storage.records import to_iso
from kiosk.storage.sqlite_store import SqliteSessionStore
from tests.integration.storage.storage_helpers import answer_items, complete, freeze, start_session


def rows(path: Path, sql: str, *params: Any) -> list[dict[str, Any]]:
    """Read the file with plain sqlite3, as a support engineer would."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute(sql, params)]
    finally:
        conn.close()


def session_rows(path: Path) -> list[dict[str, Any]]:
    return rows(path, "SELECT * FROM sessions")


def test_connections_are_durable_and_checked(tmp_path: Path) -> None:
    engine = database.create_kiosk_engine(tmp_path / "kiosk.db")
    try:
        with engine.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
    finally:
        engine.dispose()
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 2,
        "foreign_keys": 1,
        "busy_timeout": database.BUSY_TIMEOUT_MS,
    }


def test_a_connection_that_cannot_be_made_durable_is_refused() -> None:
    engine = database.create_kiosk_engine(Path(":memory:"))  # an in-memory database cannot do WAL
    try:
        with pytest.raises(StorageError, match="journal_mode=memory") as caught, engine.connect():
            pass
    finally:
        engine.dispose()
    assert "mode d'écriture sûr" in caught.value.nurse_message


def test_the_file_is_private_and_its_folder_created(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "new" / "folder" / "kiosk.db"
    with SqliteSessionStore(path, clock=clock):
        pass
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not path.with_name("kiosk.db-wal").exists()  # closing checkpoints the WAL into the file


def test_the_session_row_holds_the_snapshot_and_the_start_screen_columns(
    sqlite_store: SqliteSessionStore, instrument: Instrument, clock: FakeClock
) -> None:
    session = start_session(instrument, clock)
    session = session.begin_items(now=clock.tick())
    sqlite_store.save(session)
    session = session.answer(2, now=clock.tick())  # item 1
    session = session.skip(now=clock.tick())  # item 2
    session = session.back(now=clock.tick())  # item 2 shown again
    session = session.answer(4, now=clock.tick())  # item 2 changed: skipped, then 4
    sqlite_store.save(session)
    path = sqlite_store.path

    [row] = rows(path, "SELECT * FROM sessions")
    assert row["id"] == session.id and row["phase"] == "items" and row["next_item"] == 3
    assert row["initials"] == "J D" and row["item_count"] == 30 and row["ended_at"] is None
    assert row["instrument_sha256"] == instrument.content_sha256
    assert json.loads(row["snapshot_json"]) == session.to_dict()
    items = {r["item"]: r for r in json.loads(row["snapshot_json"])["records"]}  # the one copy of each answer
    assert sorted(items) == [1, 2, 3]
    assert [(e["status"], e["value"], e["method"]) for e in items[1]["events"]] == [("answered", 2, "touch")]
    assert items[1]["times_shown"] == 1 and items[2]["times_shown"] == 2
    assert [(e["status"], e["value"]) for e in items[2]["events"]] == [("skipped", None), ("answered", 4)]
    assert items[2]["events"][-1]["at"] == session.records[2].current.at.isoformat()
    assert items[3]["events"] == []
    tables = {r["name"] for r in rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "answers" not in tables  # revision 0003: no second copy to keep in step (or to encrypt)


def test_a_damaged_snapshot_is_refused_and_loses_nothing(
    sqlite_store: SqliteSessionStore, instrument: Instrument, clock: FakeClock
) -> None:
    damaged = start_session(instrument, clock)
    damaged = answer_items(damaged.begin_items(now=clock.tick()), clock, 3, sqlite_store)
    sound = start_session(instrument, clock, initials="A B")
    sound = answer_items(sound.begin_items(now=clock.tick()), clock, 2, sqlite_store)
    with sqlite3.connect(sqlite_store.path) as other_program:  # e.g. a support engineer's slip in a SQLite tool
        other_program.execute(
            'UPDATE sessions SET snapshot_json = replace(snapshot_json, \'"phase":"items"\', '
            '\'"phase":"lunch"\') WHERE id = ?',
            (damaged.id,),
        )
    other_program.close()
    before = session_rows(sqlite_store.path)

    with pytest.raises(StorageError, match="cannot be restored.*phase") as caught:
        sqlite_store.load(damaged.id, instrument)
    assert caught.value.nurse_message == messages.SESSION_UNREADABLE
    assert "J D" not in f"{caught.value!s} {caught.value.nurse_message}"
    assert session_rows(sqlite_store.path) == before  # refused, never rewritten or deleted
    assert {u.session_id for u in sqlite_store.unfinished()} == {damaged.id, sound.id}  # the nurse still sees it
    assert sqlite_store.load(sound.id, instrument).to_dict() == sound.to_dict()


def test_finish_writes_the_final_snapshot_and_the_queue_row(
    sqlite_store: SqliteSessionStore, instrument: Instrument, clock: FakeClock
) -> None:
    session = start_session(instrument, clock)
    session = session.begin_items(now=clock.tick())
    session, submission = complete(session, clock, sqlite_store)
    [row] = rows(sqlite_store.path, "SELECT * FROM sessions")
    assert session.ended_at is not None
    assert (row["phase"], row["next_item"], row["ended_at"]) == ("completed", None, to_iso(session.ended_at))
    assert sqlite_store.load(session.id, instrument).answered_count() == 30
    [queued] = rows(sqlite_store.path, "SELECT * FROM submissions")
    assert queued["session_id"] == session.id and queued["status"] == "pending" and queued["attempts"] == 0
    assert queued["content_sha256"] == submission.content_sha256()
    assert queued["created_at"] == clock.now().isoformat(timespec="microseconds")


def _session_at_last_item(store: SqliteSessionStore, instrument: Instrument, clock: FakeClock) -> Any:
    session = start_session(instrument, clock)
    session = session.begin_items(now=clock.tick())
    session = answer_items(session, clock, 29, store)
    before = session_rows(store.path)
    session = session.answer(1, now=clock.tick())
    assert session.phase is Phase.COMPLETED
    return session, before


def test_a_failing_queue_insert_writes_nothing(
    sqlite_store: SqliteSessionStore, instrument: Instrument, clock: FakeClock
) -> None:
    session, before = _session_at_last_item(sqlite_store, instrument, clock)
    # A real failure inside SQLite, after the session rows were written in the same transaction.
    with sqlite3.connect(sqlite_store.path) as other_program:
        other_program.execute(
            "CREATE TRIGGER refuse_queue BEFORE INSERT ON submissions BEGIN SELECT RAISE(ABORT, 'queue refused'); END"
        )
    other_program.close()
    submission = freeze(session, clock, sqlite_store)
    with pytest.raises(StorageError, match="queue refused") as caught:
        sqlite_store.finish(session, submission)
    assert "Les réponses enregistrées auparavant sont conservées" in caught.value.nurse_message

    with SqliteSessionStore(sqlite_store.path, clock=clock) as reopened:
        assert session_rows(reopened.path) == before
        [resumable] = reopened.unfinished()
        assert resumable.next_item == 30
        assert reopened.pending_count() == 0
        with reopened._transaction("test") as conn:
            conn.execute(text("DROP TRIGGER refuse_queue"))
        reopened.finish(session, submission)  # the same call succeeds once the cause is gone
        assert reopened.pending_count() == 1 and reopened.unfinished() == []


def test_an_exception_mid_transaction_writes_nothing(
    sqlite_store: SqliteSessionStore, instrument: Instrument, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, before = _session_at_last_item(sqlite_store, instrument, clock)

    def explode(conn: Any, row: dict[str, Any]) -> None:
        raise RuntimeError("power cut, as far as this transaction knows")

    monkeypatch.setattr(sqlite_store_module, "_insert_submission", explode)
    with pytest.raises(RuntimeError, match="power cut"):
        sqlite_store.finish(session, freeze(session, clock, sqlite_store))
    assert session_rows(sqlite_store.path) == before
    assert rows(sqlite_store.path, "SELECT * FROM submissions") == []
    assert sqlite_store.unfinished()[0].session_id == session.id


def test_a_full_disk_is_reported_and_nothing_is_half_written(
    sqlite_store: SqliteSessionStore, instrument: Instrument, clock: FakeClock
) -> None:
    session = start_session(instrument, clock, mode=Mode.VOICE_ON_DEMAND, audio=True)
    session = session.record_check(audio_ok=True, microphone_ok=True, now=clock.tick())
    session = session.begin_items(now=clock.tick())
    sqlite_store.save(session)
    before = rows(sqlite_store.path, "SELECT * FROM sessions")
    # Cap the file at its current size on the pooled connection the store reuses: the next growth fails.
    with sqlite_store._transaction("test") as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
        conn.exec_driver_sql(f"PRAGMA max_page_count = {pages}")
    session = session.answer(2, now=clock.tick(), method=Method.VOICE, transcript="beaucoup " * 40_000, confidence=0.5)
    with pytest.raises(StorageError) as caught:
        sqlite_store.save(session)
    assert messages.DETAIL_DISK_FULL in caught.value.nurse_message
    chain = f"{caught.value!s} {caught.value.__cause__!s} {caught.value.nurse_message}"
    assert "1952-03-07" not in chain and "J D" not in chain  # no patient data in what may reach a log
    assert rows(sqlite_store.path, "SELECT * FROM sessions") == before
    assert sqlite_store.load(session.id, instrument).status_of(1) is None
