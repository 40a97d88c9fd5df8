"""Helpers for the storage tests: real domain sessions driven step by step on the fake clock, file checks.

A plain module (not conftest) so that tests import it by name; the name is unique across the test tree.
"""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from kiosk.domain.clock import FakeClock
from kiosk.domain.instrument import Instrument
from kiosk.domain.patient import PatientDetails
from kiosk.domain.session import Consent, ConsentKind, Mode, Session, SessionConfig
from kiosk.domain.submission import Submission, build_submission
from kiosk.storage.interface import SessionStore


def start_session(
    instrument: Instrument, clock: FakeClock, *, mode: Mode = Mode.TOUCH, audio: bool = False, initials: str = "J D"
) -> Session:
    consents = [Consent(kind=ConsentKind.ANSWERS, given=True, at=clock.now())]
    if mode.is_voice:
        consents.append(Consent(kind=ConsentKind.CLOUD_VOICE, given=True, at=clock.now()))
    return Session.start(
        session_id=str(uuid.uuid4()),
        instrument=instrument,
        patient=PatientDetails(initials=initials, birth_date=date(1952, 3, 7), session_date=clock.now().date()),
        config=SessionConfig(mode=mode, audio_enabled=audio, language=instrument.language),
        consents=consents,
        now=clock.now(),
    )


def value_for(instrument: Instrument, item: int) -> int:
    """A valid, item-dependent answer, so a test can tell which answer landed where."""
    scale = instrument.scale_of(item)
    return scale.min + item % scale.size


STORAGE_T0 = datetime(2024, 11, 25, 9, 0, tzinfo=UTC)


def answer_items(session: Session, clock: FakeClock, count: int, store: SessionStore | None = None) -> Session:
    """Answer ``count`` items in a row (saving after each one when a store is given)."""
    for _ in range(count):
        assert session.current_item is not None
        session = session.answer(value_for(session.instrument, session.current_item), now=clock.tick())
        if store is not None:
            store.save(session)
    return session


def complete(session: Session, clock: FakeClock, store: SessionStore) -> tuple[Session, Submission]:
    """Answer every remaining item, then freeze and ``finish`` the session; returns the finished session."""
    while not session.phase.is_final:
        assert session.current_item is not None
        session = session.answer(value_for(session.instrument, session.current_item), now=clock.tick())
        if not session.phase.is_final:
            store.save(session)
    submission = freeze(session, clock, store)
    store.finish(session, submission)
    return session, submission


def freeze(session: Session, clock: FakeClock, store: SessionStore) -> Submission:
    return build_submission(session, device_id=store.device_id(), app_version="test", frozen_at=clock.tick())


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def quick_check(path: Path) -> list[str]:
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as conn:
        rows = [row[0] for row in conn.execute("PRAGMA quick_check")]
    conn.close()
    return rows
