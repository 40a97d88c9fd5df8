"""The one background sync worker: a thread that runs :class:`~kiosk.sync.engine.SyncEngine` passes.

- Never on the GUI thread, never two at once: one thread per worker, and each pass holds a lock file next to the
  database (``sync.lock``, :mod:`filelock`), so the kiosk and a ``qlq-kiosk sync`` run in a shell never send at
  the same time (a second one skips its pass).
- Wakes up when told (:meth:`wake` after each finished session and on a network change; :meth:`sync_now` for
  "Synchroniser maintenant", which ignores the backoff), when the earliest retry is due, and every
  ``poll_interval`` seconds (default three minutes).
- ``on_status`` is called from the worker thread after every pass with the new
  :class:`~kiosk.sync.engine.SyncStatus`; a Qt view model re-emits it as a signal (queued to the GUI thread).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock, Timeout

from kiosk.domain.clock import SYSTEM_CLOCK, Clock
from kiosk.storage.interface import StorageError
from kiosk.sync import retention
from kiosk.sync.engine import PassReport, SyncEngine, SyncStatus

log = logging.getLogger(__name__)

LOCK_FILE = "sync.lock"


class SyncWorker:
    def __init__(
        self,
        engine: SyncEngine,
        *,
        lock_path: Path | None = None,
        poll_interval: float = 180.0,
        on_status: Callable[[SyncStatus], None] | None = None,
        on_pass: Callable[[PassReport], None] | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._engine = engine
        self._lock = FileLock(str(lock_path), timeout=0) if lock_path is not None else None
        self._poll = poll_interval
        self._on_status = on_status
        self._on_pass = on_pass
        self._clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._force = False
        self._thread: threading.Thread | None = None
        self._mutex = threading.Lock()  # one pass at a time even if run_pass is also called directly

    @property
    def engine(self) -> SyncEngine:
        return self._engine

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the sync worker is already running")
        self._thread = threading.Thread(target=self._loop, name="qlq-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> None:
        """Something may be due (a session finished, the network came back): run a pass soon."""
        self._wake.set()

    def sync_now(self) -> None:
        """ "Synchroniser maintenant": a pass at once, trying every pending submission despite the backoff."""
        self._force = True
        self._wake.set()

    def run_pass(self, *, force: bool = False) -> PassReport | None:
        """One pass on the calling thread (the CLI); None when another process holds the lock."""
        with self._mutex:
            if self._lock is not None:
                try:
                    self._lock.acquire()
                except Timeout:
                    log.info("another sync is running (lock %s held): this pass is skipped", self._lock.lock_file)
                    return None
            try:
                self._engine._set(running=True)
                self._publish()
                report = self._engine.run_pass(force=force)
                retention.apply(self._engine.store, retention.load_policy(self._engine.store), self._clock.now())
            except StorageError as exc:
                log.error("sync pass failed on the local database: %s", type(exc).__name__)
                self._engine._set(last_error=exc.nurse_message, last_error_code="storage")
                report = PassReport(stopped="storage")
            finally:
                self._engine._set(running=False)
                if self._lock is not None:
                    self._lock.release()
        self._publish()
        if self._on_pass is not None:
            self._on_pass(report)
        return report

    def _publish(self) -> None:
        if self._on_status is not None:
            try:
                self._on_status(self._engine.status)
            except Exception:  # a listener's bug must not stop the sync
                log.exception("sync status listener failed")

    def _timeout(self) -> float:
        try:
            due = self._engine.next_wake()
        except StorageError:
            return self._poll
        if due is None:
            return self._poll
        return max(0.05, min(self._poll, (due - self._clock.now()).total_seconds()))

    def _loop(self) -> None:
        while not self._stop.is_set():
            force, self._force = self._force, False
            report: PassReport | None = None
            try:
                report = self.run_pass(force=force)
            except Exception:  # bounded: the loop sleeps below before trying again
                log.exception("sync pass crashed")
            if self._stop.is_set():
                break
            healthy = report is not None and report.stopped not in ("storage",)
            self._wake.wait(self._timeout() if healthy else self._poll)
            self._wake.clear()
