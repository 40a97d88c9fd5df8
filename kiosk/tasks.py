"""One background thread for every storage call, and a way back to the GUI thread.

Modelled on Anki's ``aqt/taskman.py`` and Picard's ``run_task``/``to_main``: the kiosk keeps exactly ONE
single-thread executor so that storage calls run one after another, in the order they were asked (an answer's
save can never overtake the previous one), and never on the GUI thread (the screen never freezes on a slow
disk). Results and errors come back to the GUI thread through a queued Qt signal, so callbacks may touch
widgets; the worker itself never does.

SQLite connections belong to the thread that opened them, which is one more reason to open the store through
:meth:`TaskManager.run_in_background` too.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

log = logging.getLogger(__name__)

DoneCallback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException], None]


class TaskManager(QObject):
    """Runs blocking work on one worker thread and calls back on the GUI thread."""

    _deliver = Signal(object)  # a zero-argument callable to run on the GUI thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-db")
        self._worker_ident: int | None = None
        self._pending = 0
        self._lock = threading.Lock()
        self._closed = False
        # Queued: the slot runs in this object's (the GUI) thread whatever thread emits.
        self._deliver.connect(self._run_delivered, Qt.ConnectionType.QueuedConnection)

    # ------------------------------------------------------------------ public API
    def run_in_background(
        self, fn: Callable[[], Any], on_done: DoneCallback | None = None, on_error: ErrorCallback | None = None
    ) -> Future[Any]:
        """Run ``fn()`` on the worker; then ``on_done(result)`` or ``on_error(exc)`` on the GUI thread.

        Without ``on_error``, an exception is logged (never swallowed silently).
        """
        if self._closed:
            raise RuntimeError("the task manager is shut down")
        with self._lock:
            self._pending += 1

        def job() -> Any:
            self._worker_ident = threading.get_ident()
            try:
                result = fn()
            except BaseException as exc:
                self._finish(functools.partial(self._call_error, on_error, exc))
                raise
            self._finish(lambda: on_done(result) if on_done is not None else None)
            return result

        return self._executor.submit(job)

    def run_on_main(self, fn: Callable[[], None]) -> None:
        """Schedule ``fn()`` on the GUI thread (safe to call from any thread)."""
        self._deliver.emit(fn)

    def on_worker_thread(self) -> bool:
        return threading.get_ident() == self._worker_ident

    @property
    def idle(self) -> bool:
        """No task queued, running, or waiting for its callback to be delivered."""
        with self._lock:
            return self._pending == 0

    def shutdown(self, wait: bool = True) -> None:
        """Refuse new work and (by default) let queued work finish: a queued save is never dropped."""
        self._closed = True
        self._executor.shutdown(wait=wait)

    # ------------------------------------------------------------------ internals
    def _finish(self, callback: Callable[[], None]) -> None:
        def deliver() -> None:
            try:
                callback()
            finally:
                with self._lock:
                    self._pending -= 1

        self._deliver.emit(deliver)

    @staticmethod
    def _call_error(on_error: ErrorCallback | None, exc: BaseException) -> None:
        if on_error is not None:
            on_error(exc)
        else:
            log.error("background task failed: %s", exc, exc_info=exc)

    @Slot(object)
    def _run_delivered(self, fn: Callable[[], None]) -> None:
        fn()
