"""What the sync view model runs on: its own store, the secret store, the worker factory and the enrollment transport.

:func:`open_app_sync` is called OFF the GUI thread (by :class:`~kiosk.viewmodels.sync_vm.SyncViewModel`): opening
SQLite (SQLAlchemy is slow to import) and the OS keyring can both take a while. The sync keeps its own store on the
kiosk's database file — SQLite in WAL mode serves the application's store and this one side by side — opened in one
place only, :func:`open_sync_store`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.secrets.interface import SecretStore
from kiosk.sync.config import SettingsStore
from kiosk.sync.engine import SyncStatus
from kiosk.sync.transport import Transport
from kiosk.sync.worker import SyncWorker

if TYPE_CHECKING:
    from kiosk.storage.sqlite_store import SqliteSessionStore

log = logging.getLogger(__name__)

#: Builds the one worker for the enrollment stored now; its argument receives every status (worker thread).
WorkerFactory = Callable[[Callable[[SyncStatus], None]], SyncWorker]
#: The transport of an enrollment: the server URL and the hospital CA bundle (None: the public roots).
TransportFor = Callable[[str, Path | None], Transport]


@dataclass(frozen=True)
class SyncBackend:
    settings: SettingsStore  # where the enrollment is kept (the sync's own store)
    secrets: SecretStore  # where the device token is kept
    worker_factory: WorkerFactory
    transport_for: TransportFor
    close: Callable[[], None] = lambda: None  # closes the sync's own store (after the worker stopped)


def open_sync_store(database: Path, secrets: SecretStore) -> SqliteSessionStore:
    """The sync's own store on the kiosk's (encrypted) database file, its key from ``secrets`` — the one place
    the sync opens it, the way the application does (:func:`kiosk.storage.encryption.open_encrypted_store`)."""
    from kiosk.storage.encryption import open_encrypted_store

    return open_encrypted_store(Path(database), secrets)


def open_app_sync(
    database: Path,
    *,
    secrets: SecretStore | None = None,
    transport: Transport | None = None,
    poll_interval: float = 180.0,
) -> SyncBackend:
    """The kiosk application's sync on ``database`` (blocking: call off the GUI thread).

    ``secrets`` defaults to the kiosk's secret store (kiosk.secrets.system: the OS keyring, or the sealed file of
    the .deb's kiosk session); ``transport`` (tests) replaces the HTTPS transport for both the
    worker and the enrollment. Raises :class:`~kiosk.storage.interface.StorageError` or
    :class:`~kiosk.secrets.interface.SecretStoreError` when the store or the keyring cannot be opened.
    """
    from kiosk.sync.setup import build_worker
    from kiosk.sync.transport import HttpxTransport

    if secrets is None:
        from kiosk.secrets.system import open_kiosk_secrets

        secrets = open_kiosk_secrets(Path(database).parent)
    store = open_sync_store(database, secrets)
    token_store: SecretStore = secrets
    data_dir = Path(database).parent

    def worker_factory(on_status: Callable[[SyncStatus], None]) -> SyncWorker:
        return build_worker(
            store, token_store, data_dir, transport=transport, poll_interval=poll_interval, on_status=on_status
        )

    def transport_for(url: str, ca_bundle: Path | None) -> Transport:
        return transport if transport is not None else HttpxTransport(url, ca_bundle=ca_bundle)

    log.info("sync store and secret store opened")
    return SyncBackend(
        settings=store,
        secrets=token_store,
        worker_factory=worker_factory,
        transport_for=transport_for,
        close=store.close,
    )
