"""The kiosk application's background sync: opened off the GUI thread, woken by the app, stopped at exit.

:class:`BackgroundSync` opens its own store on the database file (SQLite in WAL mode serves the app's store and
this one side by side) and the OS keyring on a helper thread — both can be slow — then starts the one
:class:`~kiosk.sync.worker.SyncWorker`. A kiosk that is not enrolled, or whose keyring is refused, logs why and
does not sync (sessions stay queued; ``qlq-kiosk enroll`` then a restart, or the admin screen, links it).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from kiosk.secrets.interface import SecretStore, SecretStoreError
from kiosk.storage.interface import StorageError
from kiosk.sync.config import ServerUrlError, load_enrollment
from kiosk.sync.transport import Transport
from kiosk.sync.worker import SyncWorker

log = logging.getLogger(__name__)


class BackgroundSync:
    def __init__(self, database: Path, *, secrets: SecretStore | None = None,
                 transport: Transport | None = None, poll_interval: float = 180.0) -> None:
        self._database = Path(database)
        self._secrets = secrets
        self._transport = transport
        self._poll = poll_interval
        self._worker: SyncWorker | None = None
        self._store: object | None = None
        self._lock = threading.Lock()
        self._stopped = False
        self.ready = threading.Event()  # set once the worker runs, or it was decided it will not
        self.reason: str | None = None  # why it does not sync (for support), when it does not
        self._thread = threading.Thread(target=self._open, name="qlq-sync-open", daemon=True)
        self._thread.start()

    def _open(self) -> None:
        try:
            from kiosk.storage.sqlite_store import SqliteSessionStore
            from kiosk.sync.setup import build_worker

            store = SqliteSessionStore(self._database)
            if load_enrollment(store) is None:
                store.close()
                self.reason = "not enrolled"
                log.info("the kiosk is not enrolled with a centre: no background sync")
                return
            if self._secrets is None:
                from kiosk.secrets.keyring_store import KeyringSecretStore

                self._secrets = KeyringSecretStore()
            worker = build_worker(store, self._secrets, self._database.parent, transport=self._transport,
                                  poll_interval=self._poll)
            with self._lock:
                if self._stopped:
                    store.close()
                    return
                self._store, self._worker = store, worker
                worker.start()
            log.info("background sync started")
        except (StorageError, SecretStoreError, ServerUrlError) as exc:
            self.reason = type(exc).__name__
            log.error("background sync not started: %s", type(exc).__name__)
        finally:
            self.ready.set()

    @property
    def worker(self) -> SyncWorker | None:
        return self._worker

    def wake(self, *_args: object) -> None:
        """After a finished session, on a network change: a pass soon (no-op when not syncing)."""
        with self._lock:
            if self._worker is not None:
                self._worker.wake()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            worker, store = self._worker, self._store
            self._worker = self._store = None
        if worker is not None:
            worker.stop()
        close = getattr(store, "close", None)
        if close is not None:
            close()
