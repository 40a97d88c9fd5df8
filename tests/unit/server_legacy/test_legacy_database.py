"""The legacy file as a whole: read-only access, schema checks with clear messages, streaming, and the
hand-over of imported sessions to the exports."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kiosk.domain.instrument import load_instrument
from sync_server.exports import ExportRecord, write_export
from sync_server.legacy import LegacyDatabaseError, LegacySession, read_legacy_db
from tests.unit.server_legacy.legacy_db import LegacyDb

FR = load_instrument("qlq-c30", "fr")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LegacyDatabaseError, match="no such file"):
        read_legacy_db(tmp_path / "absent.db", instrument=FR)


def test_not_a_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "export.db"
    path.write_text("id,initials\n1,AB\n" * 200, encoding="utf-8")
    with pytest.raises(LegacyDatabaseError, match="not a SQLite database"):
        read_legacy_db(path, instrument=FR)


def test_missing_table_and_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "partial.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE sessions (id TEXT PRIMARY KEY, initials TEXT, birth_date TEXT)")
    with pytest.raises(LegacyDatabaseError) as info:
        read_legacy_db(path, instrument=FR)
    message = str(info.value)
    assert "table 'responses' is missing" in message
    assert (
        "table 'sessions' lacks the column(s) 'today_date', 'mode', 'audio_enabled', 'created_at', "
        "'completed_at'" in message
    )


def test_an_empty_sqlite_file_lacks_both_tables(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    with pytest.raises(LegacyDatabaseError, match="table 'sessions' is missing; table 'responses' is missing"):
        read_legacy_db(path, instrument=FR)


def test_only_the_french_qlq_c30_is_accepted(tmp_path: Path) -> None:
    path = LegacyDb(tmp_path / "p.db").full("a").write()
    with pytest.raises(ValueError, match="qlq-c30/fr"):
        read_legacy_db(path, instrument=load_instrument("qlq-c30", "en"))


def test_the_file_is_opened_read_only_and_left_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = LegacyDb(tmp_path / "p.db", extended=True).full("a", metadata='{"browser": "Chrome"}').write()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    opened: list[tuple[str, bool]] = []
    real_connect = sqlite3.connect

    def spy(database: str, **kwargs: Any) -> sqlite3.Connection:
        opened.append((database, bool(kwargs.get("uri"))))
        return real_connect(database, **kwargs)

    monkeypatch.setattr("sync_server.legacy.database.sqlite3.connect", spy)
    path.chmod(0o444)
    results = list(read_legacy_db(path, instrument=FR))
    assert opened == [(f"{path.resolve().as_uri()}?mode=ro", True)]
    assert [type(r) for r in results] == [LegacySession]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_results_stream_one_session_at_a_time(tmp_path: Path) -> None:
    db = LegacyDb(tmp_path / "many.db")
    for i in range(200):
        db.full(f"s{i:03d}")
    results = read_legacy_db(db.write(), instrument=FR)
    assert iter(results) is results  # an iterator, not a list
    first = next(results)
    assert first.legacy_id == "s000"
    results.close()  # stopping early releases the database


def test_imported_sessions_export_like_kiosk_ones(tmp_path: Path) -> None:
    db = LegacyDb(tmp_path / "p.db").full("a").full("b", completed_at=None)
    sessions = [r for r in read_legacy_db(db.write(), instrument=FR) if isinstance(r, LegacySession)]
    records = [
        ExportRecord(
            submission=s.submission,
            site_code="CHU-LYON",
            device_id=None,
            received_at=datetime(2026, 1, 5, tzinfo=UTC),
            source="legacy-prototype",
            legacy_id=s.legacy_id,
        )
        for s in sessions
    ]
    out = io.BytesIO()  # (CSV is written by PostgreSQL: tests/integration/server/test_research.py imports them)
    assert write_export("fhir", records, out, instrument=FR) == 2
    responses = [e["resource"] for e in json.loads(out.getvalue())["entry"][1:]]
    assert [(r["id"], r["meta"]["tag"][0]["code"], r["status"]) for r in responses] == [
        (str(s.submission.submission_id), "legacy-prototype", st)
        for s, st in zip(sessions, ("completed", "stopped"), strict=True)
    ]
    q3 = next(i for i in responses[0]["item"] if i["linkId"] == "q3")
    assert q3["answer"][0]["valueCoding"]["code"] == "4"
    assert write_export("sav", records, io.BytesIO(), instrument=FR) == 2
