"""Putting the sync together for a data folder: the store, the enrollment, the token, the transport, the worker.

Used by ``qlq-kiosk sync`` and by the kiosk application, so both run the same worker the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from kiosk.domain.clock import SYSTEM_CLOCK, Clock
from kiosk.secrets.interface import SecretName, SecretStore, SecretStoreError
from kiosk.storage.interface import SessionStore
from kiosk.sync import messages
from kiosk.sync.config import Enrollment, allow_http_from_env, check_server_url, load_enrollment
from kiosk.sync.engine import BackoffPolicy, PassReport, SyncEngine, SyncStatus
from kiosk.sync.transport import HttpxTransport, Transport
from kiosk.sync.worker import LOCK_FILE, SyncWorker

log = logging.getLogger(__name__)


class _NoServer:
    """The transport of a kiosk not enrolled: never called (the engine stops at the missing token)."""

    def post(self, path: str, content: bytes, *, token: str | None) -> object:  # pragma: no cover - never called
        raise RuntimeError("not enrolled")

    def close(self) -> None:
        return None


def token_reader(
    secrets: SecretStore, on_error: Callable[[SecretStoreError], None] | None = None
) -> Callable[[], str | None]:
    def read() -> str | None:
        try:
            return secrets.get(SecretName.DEVICE_TOKEN)
        except SecretStoreError as exc:
            if on_error is not None:
                on_error(exc)
            return None

    return read


def build_worker(
    store: SessionStore,
    secrets: SecretStore,
    data_dir: Path,
    *,
    enrollment: Enrollment | None = None,
    transport: Transport | None = None,
    clock: Clock = SYSTEM_CLOCK,
    poll_interval: float = 180.0,
    timeout: float = 15.0,
    batch_size: int = 100,
    skew_warning: timedelta = timedelta(minutes=5),
    policy: BackoffPolicy | None = None,
    on_status: Callable[[SyncStatus], None] | None = None,
    on_pass: Callable[[PassReport], None] | None = None,
) -> SyncWorker:
    """A worker on ``store`` for the enrollment stored there (or given); not started."""
    enrollment = enrollment if enrollment is not None else load_enrollment(store)
    if transport is None:
        if enrollment is None:
            transport = _NoServer()  # type: ignore[assignment]
        else:
            url = check_server_url(enrollment.server_url, allow_http=enrollment.allow_http or allow_http_from_env())
            transport = HttpxTransport(url, ca_bundle=enrollment.ca_bundle_path(), timeout=timeout, clock=clock)
    assert transport is not None
    engine_holder: list[SyncEngine] = []

    def keyring_failed(exc: SecretStoreError) -> None:
        log.error("the device token cannot be read: %s", type(exc).__name__)
        if engine_holder:
            engine_holder[0]._set(last_error=messages.KEYRING, last_error_code="keyring")

    engine = SyncEngine(
        store,
        transport,
        token_reader(secrets, keyring_failed),
        clock=clock,
        batch_size=batch_size,
        skew_warning=skew_warning,
        policy=policy,
    )
    engine_holder.append(engine)
    return SyncWorker(
        engine,
        lock_path=Path(data_dir) / LOCK_FILE,
        poll_interval=poll_interval,
        on_status=on_status,
        on_pass=on_pass,
        clock=clock,
    )
