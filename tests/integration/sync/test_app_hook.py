"""The application's background sync on a real kiosk database file: not enrolled → nothing; enrolled → the
queue drains when woken, on its own threads, next to the app's own store on the same file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk.secrets import MemorySecretStore, SecretName
from kiosk.storage.sqlite_store import SqliteSessionStore
from kiosk.sync.app_hook import BackgroundSync
from kiosk.sync.config import Enrollment, save_enrollment
from kiosk.sync.fake import FakeCentre
from tests.integration.sync.populate import queue_sessions


def test_not_enrolled_means_no_sync(tmp_path: Path) -> None:
    db = tmp_path / "kiosk.db"
    queue_sessions(db, 1, start=datetime.now(UTC) - timedelta(hours=1))
    sync = BackgroundSync(db, secrets=MemorySecretStore(), transport=FakeCentre())
    assert sync.ready.wait(30)
    assert sync.worker is None and sync.reason == "not enrolled"
    sync.wake()  # harmless
    sync.stop()


def test_an_enrolled_kiosk_drains_in_the_background(tmp_path: Path) -> None:
    db = tmp_path / "kiosk.db"
    ids = queue_sessions(db, 5, start=datetime.now(UTC) - timedelta(hours=1))
    with SqliteSessionStore(db) as app_store:  # the application's own store stays open meanwhile
        save_enrollment(app_store, Enrollment(server_url="https://qlq.test", site="S", device_name="t",
                                              server_device_id="d", enrolled_at=datetime.now(UTC)))
        centre = FakeCentre()
        sync = BackgroundSync(db, secrets=MemorySecretStore({SecretName.DEVICE_TOKEN: "qlqd_test"}),
                              transport=centre, poll_interval=30)
        try:
            assert sync.ready.wait(30) and sync.worker is not None
            sync.wake()
            deadline = datetime.now(UTC) + timedelta(seconds=30)
            while app_store.queue_counts().sent < 5 and datetime.now(UTC) < deadline:
                sync.ready.wait(0.05)
        finally:
            sync.stop()
        assert app_store.queue_counts().sent == 5
        assert sorted(centre.stored) == sorted(ids)
