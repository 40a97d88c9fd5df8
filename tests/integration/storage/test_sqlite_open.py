"""Opening a database file: unusable files are refused untouched, old schemas upgraded, newer ones refused."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from kiosk.domain.clock import FakeClock
from kiosk.domain.instrument import Instrument
from kiosk.domain.session import Session
from kiosk.domain.submission import build_submission
from kiosk.storage import database, messages
from kiosk.storage.interface import CorruptDatabaseError, DatabaseTooNewError, StorageError
from kiosk.storage.records import session_row, submission_row
from kiosk.storage.schema import metadata
from kiosk.storage.sqlite_store import SqliteSessionStore
from tests.integration.storage.storage_helpers import answer_items, complete, sha256_of, start_session


def make_kiosk_db(path: Path, instrument: Instrument, clock: FakeClock) -> None:
    """A real kiosk database with an unfinished and a finished session, closed cleanly."""
    with SqliteSessionStore(path, clock=clock) as store:
        ongoing = start_session(instrument, clock)
        ongoing = ongoing.begin_items(now=clock.tick())
        ongoing = answer_items(ongoing, clock, 5, store)
        done = start_session(instrument, clock)
        done = done.begin_items(now=clock.tick())
        done, _ = complete(done, clock, store)


def _truncate(path: Path, size: int) -> None:
    with path.open("r+b") as handle:
        handle.truncate(size)


def _overwrite(path: Path, offset: int, data: bytes) -> None:
    with path.open("r+b") as handle:
        handle.seek(offset)
        handle.write(data)


def _foreign_sqlite(path: Path) -> None:
    path.unlink()
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO photos (name) VALUES ('vacances.jpg')")
    conn.commit()
    conn.close()


def _zip_file(path: Path) -> None:
    path.unlink()
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("kiosk.db", "not what you think")


def _a_directory(path: Path) -> None:
    path.unlink()
    path.mkdir()
    (path / "inside.txt").write_text("x")


CORRUPTIONS: dict[str, tuple[Callable[[Path], object], str]] = {
    "garbage bytes": (lambda p: p.write_bytes(bytes(range(256)) * 64), messages.REASON_NOT_SQLITE),
    "text file": (lambda p: p.write_text("patient;score\nJD;42\n", encoding="utf-8"), messages.REASON_NOT_SQLITE),
    "zip archive": (_zip_file, messages.REASON_NOT_SQLITE),
    "header cut short": (lambda p: _truncate(p, 10), messages.REASON_TRUNCATED),
    "truncated mid-header": (lambda p: _truncate(p, 60), messages.REASON_TRUNCATED),
    "truncated to half": (lambda p: _truncate(p, p.stat().st_size // 2), messages.REASON_TRUNCATED),
    "damaged page": (lambda p: _overwrite(p, 2 * 4096 + 8, b"\xa5" * 2000), messages.REASON_DAMAGED),
    "another program's SQLite file": (_foreign_sqlite, messages.REASON_NOT_OURS),
    "a directory": (_a_directory, messages.REASON_NOT_A_FILE),
}


def _listing(folder: Path) -> dict[str, str]:
    return {p.name: (sha256_of(p) if p.is_file() else "dir") for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_an_unusable_file_is_refused_and_left_untouched(
    case: str, tmp_path: Path, instrument: Instrument, clock: FakeClock
) -> None:
    path = tmp_path / "kiosk.db"
    make_kiosk_db(path, instrument, clock)
    damage, reason = CORRUPTIONS[case]
    damage(path)
    before = _listing(tmp_path)
    with pytest.raises(CorruptDatabaseError) as caught:
        SqliteSessionStore(path, clock=clock)
    assert not isinstance(caught.value, DatabaseTooNewError)
    message = caught.value.nurse_message
    assert message.startswith(f"La base de données locale est illisible (fichier {path}) : {reason}.")
    assert "Les réponses déjà enregistrées ne sont pas effacées." in message
    assert "Ne supprimez pas ce fichier" in message and "support informatique" in message
    assert _listing(tmp_path) == before  # nothing replaced, renamed, modified or added


def test_a_file_without_read_permission_is_refused(
    tmp_path: Path, instrument: Instrument, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "kiosk.db"
    make_kiosk_db(path, instrument, clock)
    before = sha256_of(path)
    if os.geteuid() == 0:  # root reads anything: make the open fail as it would for the kiosk's user

        def denied(self: Path, *args: Any, **kwargs: Any) -> Any:
            raise PermissionError(13, "Permission denied", str(self))

        monkeypatch.setattr(Path, "open", denied)
    else:
        path.chmod(0)
    try:
        with pytest.raises(CorruptDatabaseError) as caught:
            SqliteSessionStore(path, clock=clock)
    finally:
        monkeypatch.undo()
        path.chmod(0o600)
    assert messages.REASON_PERMISSION in caught.value.nurse_message
    assert sha256_of(path) == before


def test_a_read_only_file_is_refused(
    tmp_path: Path, instrument: Instrument, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "kiosk.db"
    make_kiosk_db(path, instrument, clock)
    before = sha256_of(path)
    if os.geteuid() == 0:
        monkeypatch.setattr(os, "access", lambda p, mode: not mode & os.W_OK)
    else:
        path.chmod(0o400)
    try:
        with pytest.raises(CorruptDatabaseError) as caught:
            SqliteSessionStore(path, clock=clock)
    finally:
        monkeypatch.undo()
        path.chmod(0o600)
    assert messages.REASON_READ_ONLY in caught.value.nurse_message
    assert sha256_of(path) == before


def test_an_empty_file_becomes_a_new_database(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "kiosk.db"
    path.touch()
    with SqliteSessionStore(path, clock=clock) as store:
        assert store.pending_count() == 0


def test_a_database_from_a_newer_kiosk_is_refused_and_left_untouched(
    tmp_path: Path, instrument: Instrument, clock: FakeClock
) -> None:
    path = tmp_path / "kiosk.db"
    make_kiosk_db(path, instrument, clock)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = '0099_future'")
    conn.commit()
    conn.close()
    before = _listing(tmp_path)
    with pytest.raises(DatabaseTooNewError) as caught:
        SqliteSessionStore(path, clock=clock)
    assert "version plus récente du kiosque" in caught.value.nurse_message
    assert "« 0099_future »" in caught.value.nurse_message
    assert "Ne supprimez pas ce fichier" in caught.value.nurse_message
    assert _listing(tmp_path) == before


def test_a_database_left_by_a_crash_reopens_with_its_journal(
    tmp_path: Path, instrument: Instrument, clock: FakeClock
) -> None:
    """A copy taken while the store is open has its last commits only in the -wal file: they are kept."""
    path = tmp_path / "kiosk.db"
    copy = tmp_path / "copy" / "kiosk.db"
    copy.parent.mkdir()
    with SqliteSessionStore(path, clock=clock) as store:
        session = start_session(instrument, clock)
        session = session.begin_items(now=clock.tick())
        session = answer_items(session, clock, 7, store)
        for suffix in ("", "-wal"):
            shutil.copyfile(f"{path}{suffix}", f"{copy}{suffix}")
    assert copy.with_name("kiosk.db-wal").stat().st_size > 0
    with SqliteSessionStore(copy, clock=clock) as reopened:
        assert reopened.load(session.id, instrument).to_dict() == session.to_dict()


# ----------------------------------------------------------------- migrations
def _insert(conn: Any, table: str, row: dict[str, Any]) -> None:
    columns = ", ".join(row)
    conn.exec_driver_sql(f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' for _ in row)})", tuple(row.values()))


def _legacy_answer_rows(session: Session) -> list[dict[str, Any]]:
    """The per-item ``answers`` rows that kiosks before revision 0003 wrote beside each snapshot."""
    answer_rows = []
    for number, record in sorted(session.records.items()):
        current = record.current
        answer_rows.append(
            {
                "session_id": session.id,
                "item": number,
                "status": current.status.value if current else None,
                "value": current.value if current else None,
                "method": current.method.value if current else None,
                "transcript": None,
                "confidence": None,
                "confirmed": False,
                "first_shown_at": record.first_shown_at.isoformat(),
                "last_shown_at": record.last_shown_at.isoformat(),
                "answered_at": current.at.isoformat() if current else None,
                "times_shown": record.times_shown,
                "history_json": json.dumps([{"status": e.status.value, "value": e.value} for e in record.events]),
            }
        )
    return answer_rows


@pytest.mark.parametrize("revision", ["0001", "0002"])
def test_an_older_database_is_upgraded_with_its_data(
    revision: str, tmp_path: Path, instrument: Instrument, clock: FakeClock
) -> None:
    path = tmp_path / "kiosk.db"
    database.create_private_file(path)
    engine = database.create_kiosk_engine(path)
    ongoing = start_session(instrument, clock)
    ongoing = ongoing.begin_items(now=clock.tick())
    ongoing = answer_items(ongoing, clock, 4)
    done = start_session(instrument, clock)
    done = done.abandon(now=clock.tick(), reason="inactivité")
    submission = build_submission(done, device_id="device-under-test", app_version="0.1", frozen_at=clock.tick())
    try:
        with engine.begin() as conn:
            database.upgrade(conn, revision)
        with engine.begin() as conn:  # what a kiosk at that revision wrote
            for session in (ongoing, done):
                _insert(conn, "sessions", session_row(session, now=clock.now()))
                for answer in _legacy_answer_rows(session):
                    _insert(conn, "answers", answer)
            _insert(
                conn,
                "submissions",
                {
                    k: v
                    for k, v in submission_row(done, submission, now=clock.now()).items()
                    if k not in ("next_attempt_at", "last_error_code", "purged_at")
                },
            )  # 0004
            if revision == "0002":
                _insert(
                    conn,
                    "settings",
                    {"key": "kiosk.inactivity_seconds", "value": "240", "updated_at": clock.now().isoformat()},
                )
            assert database.current_revision(conn) == revision
            tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'")}
            assert "answers" in tables and ("settings" in tables) == (revision == "0002")
    finally:
        engine.dispose()

    with SqliteSessionStore(path, clock=clock) as store:
        assert store.load(ongoing.id, instrument).to_dict() == ongoing.to_dict()
        assert store.load(done.id, instrument).to_dict() == done.to_dict()
        assert [u.session_id for u in store.unfinished()] == [ongoing.id]
        [queued] = store.queued()
        assert queued.payload_json == submission_row(done, submission, now=clock.now())["payload_json"]
        assert store.get_setting("kiosk.inactivity_seconds") == ("240" if revision == "0002" else None)
        store.set_setting("text_size", "large")
        assert store.get_setting("text_size") == "large"
        ongoing = answer_items(ongoing, clock, 1, store)
    with SqliteSessionStore(path, clock=clock) as store:
        with store._transaction("test") as conn:
            assert database.current_revision(conn) == database.HEAD_REVISION == "0004"
            indexes = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='index'")}
            tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "ix_submissions_status_created_at" in indexes and "answers" not in tables
        assert store.load(ongoing.id, instrument).answered_count() == 5


def test_a_failed_upgrade_leaves_the_previous_schema_and_data(
    tmp_path: Path, instrument: Instrument, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "kiosk.db"
    make_kiosk_db(path, instrument, clock)
    broken = tmp_path / "migrations"
    shutil.copytree(database.MIGRATIONS_DIR, broken, ignore=shutil.ignore_patterns("__pycache__"))
    head = database.HEAD_REVISION
    (broken / "versions" / "9999_broken.py").write_text(
        '"""A migration that fails half-way."""\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f'revision = "9999"\ndown_revision = "{head}"\nbranch_labels = None\ndepends_on = None\n\n\n'
        "def upgrade() -> None:\n"
        '    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))\n'
        '    op.execute("DROP TABLE settings")\n'
        '    raise RuntimeError("disk pulled out")\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(database, "MIGRATIONS_DIR", broken)
    monkeypatch.setattr(database, "HEAD_REVISION", "9999")
    with pytest.raises(StorageError) as caught:
        SqliteSessionStore(path, clock=clock)
    assert "La mise à jour de la base de données locale a échoué" in caught.value.nurse_message
    monkeypatch.undo()
    with SqliteSessionStore(path, clock=clock) as store:
        with store._transaction("test") as conn:
            assert database.current_revision(conn) == head
            tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "half_done" not in tables and "settings" in tables
        assert store.pending_count() == 1 and len(store.unfinished()) == 1


def test_the_migrations_build_exactly_the_schema_the_code_queries(tmp_path: Path, clock: FakeClock) -> None:
    with SqliteSessionStore(tmp_path / "kiosk.db", clock=clock) as store, store._transaction("test") as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_head_revision_constant_matches_the_migrations() -> None:
    script = ScriptDirectory(str(database.MIGRATIONS_DIR))
    assert script.get_current_head() == database.HEAD_REVISION
    assert database.known_revisions() == {"0001", "0002", "0003", "0004"}
