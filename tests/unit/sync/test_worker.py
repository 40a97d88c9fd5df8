"""The background worker: its own thread, woken by events, one pass at a time across processes (lock file)."""

from __future__ import annotations

import threading
from pathlib import Path

from filelock import FileLock

from kiosk.storage.fake import InMemorySessionStore
from kiosk.sync.engine import PassReport, SyncEngine, SyncStatus
from kiosk.sync.fake import FakeCentre
from kiosk.sync.worker import LOCK_FILE, SyncWorker
from tests.integration.storage.storage_helpers import FakeClock
from tests.unit.sync.helpers import queue


def test_the_worker_drains_on_its_own_thread_when_woken(tmp_path: Path) -> None:
    clock = FakeClock()
    store = InMemorySessionStore(clock=clock)
    centre = FakeCentre(clock=clock)
    threads: set[str] = set()
    passes: list[PassReport] = []
    drained = threading.Event()

    def on_pass(report: PassReport) -> None:
        threads.add(threading.current_thread().name)
        passes.append(report)
        if report.sent:
            drained.set()

    statuses: list[SyncStatus] = []
    worker = SyncWorker(
        SyncEngine(store, centre, lambda: "qlqd_test", clock=clock),
        lock_path=tmp_path / LOCK_FILE,
        poll_interval=30,
        on_pass=on_pass,
        on_status=statuses.append,
        clock=clock,
    )
    worker.start()
    try:
        assert not drained.wait(0.3)  # nothing queued yet
        queue(store, clock, 4)
        worker.wake()  # as after a finished session
        assert drained.wait(10)
    finally:
        worker.stop()
    assert threads == {"qlq-sync"}
    assert store.queue_counts().sent == 4 and len(centre.stored) == 4
    assert any(s.running for s in statuses) and not statuses[-1].running
    assert statuses[-1].counts.sent == 4


def test_a_pass_is_skipped_while_another_process_holds_the_lock(tmp_path: Path) -> None:
    clock = FakeClock()
    store = InMemorySessionStore(clock=clock)
    queue(store, clock, 1)
    centre = FakeCentre(clock=clock)
    worker = SyncWorker(SyncEngine(store, centre, lambda: "qlqd_test", clock=clock), lock_path=tmp_path / LOCK_FILE)
    other = FileLock(str(tmp_path / LOCK_FILE))
    holder_ready, release = threading.Event(), threading.Event()

    def hold() -> None:  # another "process" (filelock is also exclusive between threads of one process)
        with other:
            holder_ready.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holder_ready.wait(5)
    try:
        assert worker.run_pass() is None
        assert centre.requests == []
    finally:
        release.set()
        holder.join(5)
    report = worker.run_pass()
    assert report is not None and report.sent == 1


def test_sync_now_ignores_the_backoff(tmp_path: Path) -> None:
    from kiosk.sync.fake import Fault

    clock = FakeClock()
    store = InMemorySessionStore(clock=clock)
    queue(store, clock, 2)
    centre = FakeCentre(clock=clock)
    centre.faults = [Fault("network")]
    done = threading.Event()
    worker = SyncWorker(
        SyncEngine(store, centre, lambda: "qlqd_test", clock=clock),
        poll_interval=30,
        on_pass=lambda r: done.set() if r.sent else None,
        clock=clock,
    )
    worker.start()
    try:
        assert not done.wait(0.5)  # failed, now waiting out a backoff of seconds (the fake clock does not move)
        worker.sync_now()
        assert done.wait(10)
    finally:
        worker.stop()
    assert store.queue_counts().sent == 2
