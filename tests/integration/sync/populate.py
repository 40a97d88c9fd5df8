"""Filling a kiosk database with finished, queued sessions (real domain sessions, one ``finish`` each)."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk.domain.instrument import load_instrument
from kiosk.domain.submission import build_submission
from kiosk.storage import records, sqlite_store
from kiosk.storage.sqlite_store import SqliteSessionStore
from tests.integration.storage.storage_helpers import FakeClock, start_session

LETTERS = "ABCDEFGHJKLMNPRSTVWXZ"


def queue_sessions(path: Path, n: int, *, start: datetime, seed: int = 0) -> list[str]:
    """``n`` completed sessions queued in the kiosk database at ``path``, oldest first; their ids."""
    rng = random.Random(seed)
    instrument = load_instrument("qlq-c30", "fr")
    ids = []
    finished = []
    with SqliteSessionStore(path) as store:
        device = store.device_id()
        for index in range(n):
            clock = FakeClock(start + timedelta(seconds=20 * index))
            initials = f"{rng.choice(LETTERS)} {rng.choice(LETTERS)}"
            session = start_session(instrument, clock, initials=initials)
            session = session.begin_items(now=clock.tick())
            while not session.phase.is_final:
                item = session.current_item
                assert item is not None
                scale = instrument.scale_of(item)
                session = session.answer(rng.randint(scale.min, scale.min + scale.size - 1), now=clock.tick(0.01))
            submission = build_submission(session, device_id=device, app_version="e2e", frozen_at=clock.tick())
            finished.append((session, submission))
            ids.append(session.id)
        # The rows ``finish`` writes, in one transaction instead of one fsynced commit each (speed only).
        now = datetime.now(UTC)
        with store._transaction("populate") as conn:
            for session, submission in finished:
                conn.execute(sqlite_store._UPSERT_SESSION, records.session_row(session, now=now))
                sqlite_store._insert_submission(conn, records.submission_row(session, submission, now=now))
                now += timedelta(microseconds=1)
    return ids


def tamper_scores(path: Path, submission_id: str) -> None:
    """Make one queued payload wrong on the server's check (a score changed), as a corrupted kiosk would."""
    conn = sqlite3.connect(path)
    try:
        (payload,) = conn.execute(
            "SELECT payload_json FROM submissions WHERE submission_id = ?", (submission_id,)
        ).fetchone()
        import json

        data = json.loads(payload)
        first = data["scores"][0] if isinstance(data["scores"], list) else None
        if first is not None:
            first["score"] = 0.0 if first.get("score") != 0.0 else 50.0
        else:
            key = next(iter(data["scores"]))
            data["scores"][key] = 0.0 if data["scores"][key] != 0.0 else 50.0
        conn.execute(
            "UPDATE submissions SET payload_json = ? WHERE submission_id = ?",
            (json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False), submission_id),
        )
        conn.commit()
    finally:
        conn.close()
