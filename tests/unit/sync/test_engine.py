"""The sync engine against the fake centre: outcomes, batching, backoff, Retry-After, clock skew."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest

from kiosk.storage.fake import InMemorySessionStore
from kiosk.sync import messages
from kiosk.sync.engine import BATCH_PATH, SINGLE_PATH, BackoffPolicy, SyncEngine
from kiosk.sync.fake import FakeCentre, Fault
from tests.integration.storage.storage_helpers import FakeClock
from tests.unit.sync.helpers import queue


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> InMemorySessionStore:
    return InMemorySessionStore(clock=clock)


def make_engine(store, centre, clock, **kw) -> SyncEngine:
    return SyncEngine(store, centre, lambda: "qlqd_test", clock=clock, rng=random.Random(7), **kw)


def reject_initials(initials: str):
    def rule(payload):
        if payload["patient"]["initials"] == initials:
            return 422, "implausible_date", "session_date is in the future"
        return None

    return rule


def test_several_due_go_in_one_batch_oldest_first_and_are_sent_with_receipts(store, clock) -> None:
    ids = queue(store, clock, 3)
    centre = FakeCentre(clock=clock)
    report = make_engine(store, centre, clock).run_pass()
    assert (report.sent, report.rejected, report.failed, report.stopped) == (3, 0, 0, None)
    assert centre.requests == [(BATCH_PATH, 3)]
    assert centre.received_order == ids
    sent = store.queued(status="sent")
    assert [q.submission_id for q in sent] == ids
    receipt = json.loads(sent[0].server_receipt or "")
    assert receipt["status"] == "received" and receipt["http_status"] == 201
    assert store.queue_counts().pending == 0


def test_one_due_goes_alone_and_a_batch_is_limited_to_batch_size(store, clock) -> None:
    queue(store, clock, 1)
    centre = FakeCentre(clock=clock)
    engine = make_engine(store, centre, clock, batch_size=2)
    engine.run_pass()
    assert centre.requests == [(SINGLE_PATH, 1)]
    queue(store, clock, 5)
    engine.run_pass()
    assert centre.requests[1:] == [(BATCH_PATH, 2), (BATCH_PATH, 2), (SINGLE_PATH, 1)]
    assert len(centre.stored) == 6


def test_a_rejected_one_is_parked_with_its_reason_and_the_rest_still_sync(store, clock) -> None:
    before = queue(store, clock, 2)
    [bad] = queue(store, clock, 1, initials="R J")
    after = queue(store, clock, 2)
    centre = FakeCentre(clock=clock, reject=reject_initials("R J"))
    engine = make_engine(store, centre, clock)
    report = engine.run_pass()
    assert (report.sent, report.rejected) == (4, 1)
    assert sorted(centre.stored) == sorted(before + after)
    [parked] = store.queued(status="rejected")
    assert parked.submission_id == bad and parked.last_error_code == "implausible_date"
    assert "session_date is in the future" in (parked.last_error or "") and parked.payload_json
    assert engine.status.last_error == messages.rejected("implausible_date")
    assert "horloge" in (engine.status.last_error or "")
    clock.tick(3600)
    engine.run_pass(force=True)  # even "Synchroniser maintenant" never resends a parked one blindly
    assert len(centre.requests) == 1
    assert store.queued(status="rejected")[0].attempts == 1


def test_a_single_409_conflict_is_parked(store, clock) -> None:
    [sid] = queue(store, clock, 1)
    centre = FakeCentre(clock=clock)
    centre.stored[sid] = "another content"
    report = make_engine(store, centre, clock).run_pass()
    assert report.rejected == 1
    assert store.queued(status="rejected")[0].last_error_code == "submission_conflict"


def test_a_reply_lost_after_the_server_stored_it_is_resent_and_counted_once(store, clock) -> None:
    ids = queue(store, clock, 3)
    centre = FakeCentre(clock=clock)
    centre.faults = [Fault("timeout", store_first=True)]
    engine = make_engine(store, centre, clock)
    first = engine.run_pass()
    assert (first.failed, first.stopped) == (3, "transient")
    assert sorted(centre.stored) == sorted(ids)  # stored, but the kiosk never heard
    pending = store.queued(status="pending")
    assert all(q.attempts == 1 and q.last_error_code == "timeout" for q in pending)
    assert engine.status.last_error == messages.TIMEOUT
    assert engine.run_pass().stopped == "hold"  # backoff: nothing sent before the retry time
    clock.tick(BackoffPolicy().cap + 1)
    second = engine.run_pass()
    assert (second.sent, second.already_received) == (0, 3)
    assert centre.received_order == ids  # each stored exactly once
    assert engine.status.last_error is None and engine.status.last_success_at == clock.now()


def test_retry_after_is_honoured_and_sync_now_overrides_the_wait(store, clock) -> None:
    queue(store, clock, 2)
    centre = FakeCentre(clock=clock)
    centre.faults = [Fault("status", status=503, code="database_unavailable", headers={"Retry-After": "120"})]
    engine = make_engine(store, centre, clock)
    report = engine.run_pass()
    assert report.stopped == "transient"
    assert report.retry_at is not None and timedelta(seconds=120) <= report.retry_at - clock.now() <= timedelta(
        seconds=121
    )
    assert all(q.next_attempt_at == report.retry_at for q in store.queued(status="pending"))
    assert engine.status.last_error_code == "database_unavailable"
    assert engine.status.last_error == messages.SERVER_BUSY
    clock.tick(60)
    assert engine.run_pass().stopped == "hold" and len(centre.requests) == 1
    assert engine.next_wake() == report.retry_at
    assert engine.run_pass(force=True).sent == 2


def test_retry_after_as_an_http_date(store, clock) -> None:
    import email.utils

    queue(store, clock, 1)
    centre = FakeCentre(clock=clock)
    when = email.utils.format_datetime(clock.now() + timedelta(seconds=300), usegmt=True)
    centre.faults = [Fault("status", status=429, code="rate_limited", headers={"Retry-After": when})]
    report = make_engine(store, centre, clock).run_pass()
    assert report.retry_at is not None and report.retry_at - clock.now() >= timedelta(seconds=300)


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap(store, clock) -> None:
    queue(store, clock, 1)
    centre = FakeCentre(clock=clock)
    policy = BackoffPolicy(base=2, cap=60)
    engine = make_engine(store, centre, clock, policy=policy)
    delays = []
    for _ in range(10):
        centre.faults = [Fault("network")]
        report = engine.run_pass()
        assert report.stopped == "transient" and report.retry_at is not None
        delays.append((report.retry_at - clock.now()).total_seconds())
        clock.tick((report.retry_at - clock.now()).total_seconds())
    for n, delay in enumerate(delays, start=1):
        raw = min(60, 2 * 2 ** (n - 1))
        assert raw / 2 <= delay <= raw
    assert max(delays) <= 60 and delays[-1] >= 30
    assert len(set(delays)) == len(delays)  # jittered
    assert store.queued()[0].attempts == 10
    assert engine.run_pass().sent == 1  # and the failure count resets
    assert policy.delay(1, random.Random(1)) <= 2


@pytest.mark.parametrize("status", [500, 502, 504])
def test_server_errors_are_retried_later(store, clock, status) -> None:
    queue(store, clock, 2)
    centre = FakeCentre(clock=clock)
    centre.faults = [Fault("status", status=status)]
    engine = make_engine(store, centre, clock)
    assert engine.run_pass().failed == 2
    assert engine.status.last_error == messages.SERVER_ERROR
    clock.tick(600)
    assert engine.run_pass().sent == 2


@pytest.mark.parametrize("status", [401, 403])
def test_refused_token_stops_and_asks_to_reenroll_without_touching_the_queue(store, clock, status) -> None:
    queue(store, clock, 3)
    centre = FakeCentre(clock=clock)
    centre.faults = [Fault("status", status=status, code="invalid_token")]
    engine = make_engine(store, centre, clock)
    report = engine.run_pass()
    assert report.stopped == "auth" and len(centre.requests) == 1
    assert engine.status.needs_enrollment and engine.status.last_error == messages.REENROLL
    assert all(q.attempts == 0 and q.status == "pending" for q in store.queued())
    assert engine.next_wake() is None  # the worker does not hammer: it waits for the admin (or a wake)


def test_no_token_means_not_enrolled(store, clock) -> None:
    queue(store, clock, 1)
    centre = FakeCentre(clock=clock)
    engine = SyncEngine(store, centre, lambda: None, clock=clock)
    assert engine.run_pass().stopped == "not_enrolled"
    assert centre.requests == [] and engine.status.last_error == messages.NOT_ENROLLED


def test_the_count_stays_true_when_nothing_can_be_sent(store, clock) -> None:
    """A session finished while the kiosk is not enrolled, or in backoff: the nurse screen's count follows."""
    engine = SyncEngine(store, FakeCentre(clock=clock), lambda: None, clock=clock)
    queue(store, clock, 2)
    engine.run_pass()
    assert engine.status.counts.pending == 2
    centre = FakeCentre(clock=clock)
    centre.faults.append(Fault("status", status=503, code="database_unavailable", headers={"Retry-After": "120"}))
    held = SyncEngine(store, centre, lambda: "qlqd_test", clock=clock)
    assert held.run_pass().stopped == "transient"
    queue(store, clock, 1)
    assert held.run_pass().stopped == "hold" and held.status.counts.pending == 3


def test_certificate_problems_are_reported_as_such(store, clock) -> None:
    queue(store, clock, 1)
    centre = FakeCentre(clock=clock)
    centre.faults = [Fault("tls")]
    engine = make_engine(store, centre, clock)
    engine.run_pass()
    assert engine.status.last_error_code == "tls" and engine.status.last_error == messages.TLS
    assert "certificat" in messages.TLS


def test_batch_too_large_halves_the_batch(store, clock) -> None:
    queue(store, clock, 8)
    centre = FakeCentre(clock=clock, batch_max=3)
    report = make_engine(store, centre, clock, batch_size=8).run_pass()
    assert report.sent == 8
    assert [n for _, n in centre.requests] == [8, 4, 2, 2, 2, 2]


def test_a_kiosk_clock_a_day_ahead_is_warned_about(store, clock) -> None:
    queue(store, clock, 1)
    server_clock = FakeClock(clock.now() - timedelta(days=1))
    centre = FakeCentre(clock=server_clock, kiosk_clock=clock)
    engine = make_engine(store, centre, clock)
    engine.run_pass()
    assert engine.status.clock_skew_seconds == pytest.approx(86400, abs=1)
    assert engine.status.clock_warning is not None
    assert "avance de 1 jour" in engine.status.clock_warning


def test_a_clock_within_a_few_minutes_is_not_warned_about(store, clock) -> None:
    queue(store, clock, 1)
    centre = FakeCentre(clock=FakeClock(clock.now() + timedelta(minutes=2)), kiosk_clock=clock)
    engine = make_engine(store, centre, clock)
    engine.run_pass()
    assert engine.status.clock_warning is None
    assert engine.status.clock_skew_seconds == pytest.approx(-120, abs=1)
    assert "retarde de 2 min" in messages.clock_skew(timedelta(minutes=-2))
