"""The behaviour every SessionStore shares, run against the SQLite store and the in-memory fake alike.

On SQLite, ``store_factory()`` opens a NEW store instance on the same file, so "reopen and load" really reads
what was committed; on the fake it returns the same store.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import pytest

from kiosk.domain.clock import FakeClock
from kiosk.domain.instrument import Instrument, load_instrument
from kiosk.domain.session import ItemStatus, Method, Mode, Phase, Session
from kiosk.storage import messages
from kiosk.storage.interface import SessionNotFoundError, SessionStore, StorageError
from tests.integration.storage.storage_helpers import (
    answer_items,
    complete,
    freeze,
    start_session,
    value_for,
)

StoreFactory = Callable[[], SessionStore]


def test_every_step_round_trips_through_a_new_store(
    store_factory: StoreFactory, instrument: Instrument, clock: FakeClock
) -> None:
    session = start_session(instrument, clock, mode=Mode.VOICE_ON_DEMAND, audio=True)
    store = store_factory()

    def step(action: Callable[[Session], Session]) -> None:
        nonlocal session
        session = action(session)
        store.save(session)
        restored = store_factory().load(session.id, instrument)
        assert restored.to_dict() == session.to_dict()

    step(lambda s: s)
    step(lambda s: s.record_check(audio_ok=True, microphone_ok=True, now=clock.tick()))
    step(lambda s: s.begin_items(now=clock.tick()))
    step(lambda s: s.answer(2, now=clock.tick()))
    step(
        lambda s: s.answer(
            3, now=clock.tick(), method=Method.VOICE, transcript="assez « oui »", confidence=0.62, confirmed=True
        )
    )
    step(lambda s: s.skip(now=clock.tick()))
    step(
        lambda s: s.skip(
            now=clock.tick(),
            status=ItemStatus.DONT_KNOW,
            method=Method.VOICE,
            transcript="je ne sais pas",
            confidence=0.9,
        )
    )
    step(lambda s: s.back(now=clock.tick()))  # back to item 4
    step(lambda s: s.back(now=clock.tick()))  # back to item 3
    step(lambda s: s.answer(1, now=clock.tick()))  # item 3: skipped, now answered
    step(lambda s: s.answer(4, now=clock.tick()))  # item 4: "je ne sais pas", now answered
    step(lambda s: s.pause(now=clock.tick()))
    step(lambda s: s.resume(now=clock.tick(60)))
    step(lambda s: s.switch_mode(Mode.TOUCH, now=clock.tick(), reason="micro en panne"))
    for _ in range(5):
        step(lambda s: s.answer(value_for(instrument, s.current_item or 0), now=clock.tick()))

    [resumable] = store_factory().unfinished()
    assert resumable.session_id == session.id
    assert resumable.next_item == 10 == session.current_item
    assert resumable.initials == "J D"
    assert resumable.item_count == 30
    assert (resumable.instrument_id, resumable.language) == ("qlq-c30", "fr")
    assert resumable.started_at == session.started_at

    # Leave item 12 blank, accept the review, answer it: the session completes.
    session = answer_items(session, clock, 2, store)
    step(lambda s: s.skip(now=clock.tick()))
    session = answer_items(session, clock, 17, store)
    assert session.current_item == 30
    session = session.answer(value_for(instrument, 30), now=clock.tick())
    assert session.phase is Phase.REVIEW_PROMPT
    step(lambda s: s)
    step(lambda s: s.accept_review(now=clock.tick()))
    assert session.current_item == 12
    session = session.answer(2, now=clock.tick())
    assert str(session.phase) == "completed"

    submission = freeze(session, clock, store)
    store.finish(session, submission)
    reopened = store_factory()
    assert reopened.load(session.id, instrument).to_dict() == session.to_dict()
    assert reopened.unfinished() == []
    assert reopened.pending_count() == 1
    [queued] = reopened.queued()
    assert (queued.submission_id, queued.status, queued.attempts, queued.last_error) == (session.id, "pending", 0, None)
    assert queued.payload_json is not None
    assert hashlib.sha256(queued.payload_json.encode("utf-8")).hexdigest() == submission.content_sha256()
    assert json.loads(queued.payload_json) == submission.canonical_json()
    assert queued.payload_json == json.dumps(
        submission.canonical_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def test_unfinished_lists_newest_first_and_skips_finished_sessions(
    store: SessionStore, instrument: Instrument, clock: FakeClock
) -> None:
    older = start_session(instrument, clock, initials="A B")
    store.save(older)
    clock.tick(600)
    finished = start_session(instrument, clock)
    finished = finished.begin_items(now=clock.tick())
    store.save(finished)
    finished, _ = complete(finished, clock, store)
    clock.tick(600)
    newer = start_session(instrument, clock, initials="C")
    newer = newer.begin_items(now=clock.tick())
    newer = answer_items(newer, clock, 3, store)
    abandoned = start_session(instrument, clock)
    abandoned = abandoned.abandon(now=clock.tick(), reason="inactivité")
    store.finish(abandoned, freeze(abandoned, clock, store))

    listed = store.unfinished()
    assert [(u.session_id, u.initials, u.next_item) for u in listed] == [(newer.id, "C", 4), (older.id, "A B", 1)]
    assert store.pending_count() == 2


def test_refinishing_with_the_same_payload_changes_nothing(
    store: SessionStore, instrument: Instrument, clock: FakeClock
) -> None:
    session = start_session(instrument, clock)
    session = session.begin_items(now=clock.tick())
    session, submission = complete(session, clock, store)
    before = store.queued()
    clock.tick(3600)
    store.finish(session, submission)
    assert store.queued() == before
    assert store.pending_count() == 1


def test_refinishing_with_another_payload_is_refused(
    store: SessionStore, instrument: Instrument, clock: FakeClock
) -> None:
    session = start_session(instrument, clock)
    session = session.begin_items(now=clock.tick())
    session, first = complete(session, clock, store)
    other = freeze(session, clock, store)  # same session, later frozen_at: other bytes
    assert other.content_sha256() != first.content_sha256()
    with pytest.raises(StorageError) as caught:
        store.finish(session, other)
    assert caught.value.nurse_message == messages.SUBMISSION_CONFLICT
    [queued] = store.queued()
    assert queued.payload_json is not None
    assert json.loads(queued.payload_json) == first.canonical_json()


def test_a_finished_session_is_written_by_finish_only(
    store: SessionStore, instrument: Instrument, clock: FakeClock
) -> None:
    session = start_session(instrument, clock)
    session = session.abandon(now=clock.tick(), reason="décision de l'infirmière")
    with pytest.raises(ValueError, match="finish"):
        store.save(session)
    assert store.unfinished() == []


def test_a_stale_snapshot_never_reopens_a_finished_session(
    store: SessionStore, instrument: Instrument, clock: FakeClock
) -> None:
    session = start_session(instrument, clock)
    session = session.begin_items(now=clock.tick())
    store.save(session)
    stale = session  # the saved state itself: sessions are immutable
    session, _ = complete(session, clock, store)
    with pytest.raises(StorageError) as caught:
        store.save(stale)
    assert caught.value.nurse_message == messages.SESSION_ALREADY_FINISHED
    assert store.load(session.id, instrument).phase is Phase.COMPLETED
    assert store.unfinished() == []


def test_finish_refuses_a_session_in_progress_or_a_foreign_submission(
    store: SessionStore, instrument: Instrument, clock: FakeClock
) -> None:
    done = start_session(instrument, clock)
    done = done.abandon(now=clock.tick(), reason="test")
    submission = freeze(done, clock, store)
    ongoing = start_session(instrument, clock)
    with pytest.raises(ValueError, match="only a finished session"):
        store.finish(ongoing, submission)
    other = start_session(instrument, clock)
    other = other.abandon(now=clock.tick(), reason="test")
    with pytest.raises(ValueError, match="not the submission of session"):
        store.finish(other, submission)
    assert store.pending_count() == 0


def test_loading_an_unknown_session_or_with_another_instrument(
    store: SessionStore, instrument: Instrument, clock: FakeClock
) -> None:
    with pytest.raises(SessionNotFoundError) as not_found:
        store.load("00000000-0000-4000-8000-000000000000", instrument)
    assert not_found.value.nurse_message == messages.SESSION_NOT_FOUND
    session = start_session(instrument, clock)
    store.save(session)
    with pytest.raises(StorageError) as mismatch:
        store.load(session.id, load_instrument("qlq-c30", "en"))
    assert mismatch.value.nurse_message == messages.INSTRUMENT_MISMATCH


def test_queue_order_filter_limit_and_send_results(
    store: SessionStore, instrument: Instrument, clock: FakeClock
) -> None:
    ids = []
    for _ in range(3):
        session = start_session(instrument, clock)
        session = session.abandon(now=clock.tick(), reason="test")
        store.finish(session, freeze(session, clock, store))
        ids.append(session.id)
    assert [q.submission_id for q in store.queued()] == ids
    assert [q.submission_id for q in store.queued(limit=2)] == ids[:2]

    store.mark_send_failed(ids[0], error="connexion refusée")
    store.mark_send_failed(ids[0], error="délai dépassé")
    store.mark_sent(ids[1], receipt="receipt-1")
    store.mark_rejected(ids[2], error="409 submission_conflict")
    first = store.queued(status="pending")
    assert [(q.submission_id, q.attempts, q.last_error) for q in first] == [(ids[0], 2, "délai dépassé")]
    assert [(q.submission_id, q.attempts) for q in store.queued(status="sent")] == [(ids[1], 1)]
    assert [q.last_error for q in store.queued(status="rejected")] == ["409 submission_conflict"]
    assert store.pending_count() == 1

    with pytest.raises(ValueError, match="not pending"):
        store.mark_send_failed(ids[1], error="a sent submission never changes")
    with pytest.raises(ValueError, match="no queued submission"):
        store.mark_sent("no-such-id", receipt=None)
    with pytest.raises(ValueError, match="unknown submission status"):
        store.queued(status="lost")
    with pytest.raises(ValueError, match="limit"):
        store.queued(limit=0)


def test_queue_ties_keep_insertion_order(store: SessionStore, instrument: Instrument, clock: FakeClock) -> None:
    ids = []
    for _ in range(4):  # the store's clock does not move between these finishes
        session = start_session(instrument, clock)
        session = session.abandon(now=clock.now(), reason="test")
        store.finish(session, freeze(session, clock, store))
        clock.tick(-1)  # freeze() ticked: bring the store's time back
        ids.append(session.id)
    assert [q.submission_id for q in store.queued()] == ids


def test_settings_and_device_id(store_factory: StoreFactory) -> None:
    store = store_factory()
    assert store.get_setting("nurse_pin_hash") is None
    store.set_setting("text_size", "large")
    store.set_setting("text_size", "x-large")
    store.set_setting("idle_timeout_s", "")
    device = store.device_id()
    assert len(device) == 36 and device == store.device_id()
    reopened = store_factory()
    assert reopened.get_setting("text_size") == "x-large"
    assert reopened.get_setting("idle_timeout_s") == ""
    assert reopened.device_id() == device
    assert reopened.get_setting("device_id") == device
    with pytest.raises(ValueError, match="device id"):
        reopened.set_setting("device_id", "another")
    with pytest.raises(ValueError, match="non-empty"):
        reopened.set_setting(" ", "x")


def test_a_closed_store_refuses_work(store: SessionStore) -> None:
    store.close()
    store.close()
    with pytest.raises(StorageError) as caught:
        store.pending_count()
    assert caught.value.nurse_message == messages.STORE_CLOSED
