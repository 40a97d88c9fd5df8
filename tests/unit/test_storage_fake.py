"""The in-memory store's own promises: it keeps text, not objects; injected failures; nothing outside memory.

Its behaviour as a SessionStore is tested together with the SQLite store in
``tests/integration/storage/test_store_behaviour.py`` (the same tests, run against both).
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from kiosk.domain.clock import FakeClock
from kiosk.domain.instrument import Instrument, load_instrument
from kiosk.domain.patient import PatientDetails
from kiosk.domain.session import Consent, ConsentKind, Mode, Phase, Session, SessionConfig
from kiosk.domain.submission import build_submission
from kiosk.storage import messages
from kiosk.storage.fake import InMemorySessionStore
from kiosk.storage.interface import SessionStore, StorageError

T0 = datetime(2024, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def instrument() -> Instrument:
    return load_instrument("qlq-c30", "fr")


def _session(instrument: Instrument) -> Session:
    session = Session.start(
        session_id=str(uuid.uuid4()),
        instrument=instrument,
        patient=PatientDetails(initials="M-L B", birth_date=date(1948, 5, 2), session_date=T0.date()),
        config=SessionConfig(mode=Mode.TOUCH, audio_enabled=False, language=instrument.language),
        consents=(Consent(kind=ConsentKind.ANSWERS, given=True, at=T0),),
        now=T0,
    )
    session = session.begin_items(now=T0 + timedelta(seconds=1))
    return session


def test_it_is_a_session_store() -> None:
    store: SessionStore = InMemorySessionStore()
    assert store.pending_count() == 0


def test_changing_a_session_after_saving_it_does_not_change_what_was_stored(instrument: Instrument) -> None:
    store = InMemorySessionStore()
    session = _session(instrument)
    session = session.answer(2, now=T0 + timedelta(seconds=2))
    store.save(session)
    saved = session.to_dict()
    session = session.answer(3, now=T0 + timedelta(seconds=3))  # the next state, not saved
    with pytest.raises(dataclasses.FrozenInstanceError):
        session.records[1].events = ()  # type: ignore[misc]  # a bug elsewhere cannot change a session
    first = store.load(session.id, instrument)
    assert first.to_dict() == saved
    first = first.answer(4, now=T0 + timedelta(seconds=4))  # moving a loaded session on changes nothing stored
    assert store.load(session.id, instrument).to_dict() == saved
    assert store.load(session.id, instrument) is not store.load(session.id, instrument)


def test_an_injected_failure_raises_once_and_changes_nothing(instrument: Instrument) -> None:
    store = InMemorySessionStore()
    session = _session(instrument)
    store.save(session)
    for number in range(29):
        session = session.answer(1, now=T0 + timedelta(seconds=10 + number))
    store.save(session)
    session = session.answer(1, now=T0 + timedelta(minutes=5))
    assert session.phase is Phase.COMPLETED
    submission = build_submission(
        session, device_id=store.device_id(), app_version="test", frozen_at=T0 + timedelta(minutes=5)
    )
    store.fail_next("finish")
    with pytest.raises(StorageError) as caught:
        store.finish(session, submission)
    assert messages.DETAIL_DISK_FULL in caught.value.nurse_message
    assert store.pending_count() == 0
    assert [u.next_item for u in store.unfinished()] == [30]
    store.finish(session, submission)  # the failure was for one call only
    assert store.pending_count() == 1 and store.unfinished() == []


def test_a_custom_failure_and_an_unknown_method(instrument: Instrument) -> None:
    store = InMemorySessionStore()
    error = StorageError("boom", nurse_message="Le stockage est indisponible.")
    store.fail_next("unfinished", error)
    with pytest.raises(StorageError) as caught:
        store.unfinished()
    assert caught.value is error
    assert store.unfinished() == []
    with pytest.raises(AttributeError):
        store.fail_next("sav")


def test_the_clock_stamps_the_queue() -> None:
    clock = FakeClock(T0)
    store = InMemorySessionStore(clock=clock)
    instrument = load_instrument("qlq-c30", "fr")
    session = _session(instrument)
    session = session.abandon(now=T0 + timedelta(seconds=5), reason="inactivité")
    store.finish(
        session,
        build_submission(session, device_id=store.device_id(), app_version="t", frozen_at=T0 + timedelta(seconds=5)),
    )
    clock.tick(minutes=60)
    store.mark_send_failed(session.id, error="hors ligne")
    [queued] = store.queued()
    assert queued.created_at == T0 and queued.attempts == 1 and queued.last_error == "hors ligne"
