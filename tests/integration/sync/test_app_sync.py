"""The application's sync on a real kiosk database file (what kiosk/app.py builds): its own store and the secret
store opened off the GUI thread; not enrolled → nothing sent but the count is shown; enrolled → the queue drains
when woken, next to the application's own store on the same file."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk.secrets import MemorySecretStore, SecretName
from kiosk.storage.encryption import open_encrypted_store
from kiosk.sync import messages
from kiosk.sync.backend import open_app_sync
from kiosk.sync.config import Enrollment, save_enrollment
from kiosk.sync.fake import FakeCentre
from kiosk.viewmodels.sync_vm import SyncViewModel
from tests.integration.sync.populate import queue_sessions


def test_not_enrolled_means_nothing_sent_but_the_count_is_known(qtbot, tmp_path: Path) -> None:
    db = tmp_path / "kiosk.db"
    queue_sessions(db, 1, start=datetime.now(UTC) - timedelta(hours=1))
    centre = FakeCentre()
    opened_on: list[threading.Thread] = []

    def open_backend():
        opened_on.append(threading.current_thread())
        return open_app_sync(db, secrets=MemorySecretStore(), transport=centre)

    sync = SyncViewModel(open_backend)
    try:
        with qtbot.waitSignal(sync.ready_changed, timeout=30000):
            sync.start()
        assert opened_on and opened_on[0] is not threading.main_thread()  # never on the GUI thread
        assert sync.ready and sync.enrollment is None
        qtbot.waitUntil(lambda: sync.status.last_error == messages.NOT_ENROLLED, timeout=30000)
        assert sync.status.counts.pending == 1 and centre.requests == []
        sync.sync_now()  # harmless
    finally:
        sync.stop()


def test_an_enrolled_kiosk_drains_in_the_background(qtbot, tmp_path: Path) -> None:
    db = tmp_path / "kiosk.db"
    ids = queue_sessions(db, 5, start=datetime.now(UTC) - timedelta(hours=1))
    secrets = MemorySecretStore({SecretName.DEVICE_TOKEN: "qlqd_test"})
    # The application's own store (it encrypts the queue and makes the key) stays open meanwhile.
    with open_encrypted_store(db, secrets) as app_store:
        save_enrollment(
            app_store,
            Enrollment(
                server_url="https://qlq.test",
                site="S",
                device_name="t",
                server_device_id="d",
                enrolled_at=datetime.now(UTC),
            ),
        )
        centre = FakeCentre()
        sync = SyncViewModel(lambda: open_app_sync(db, secrets=secrets, transport=centre, poll_interval=30))
        try:
            with qtbot.waitSignal(sync.ready_changed, timeout=30000):
                sync.start()
            assert sync.enrollment is not None and sync.enrollment.site == "S"
            sync.session_finished()
            qtbot.waitUntil(lambda: sync.status.counts.sent == 5, timeout=30000)
        finally:
            sync.stop()
        assert app_store.queue_counts().sent == 5
        assert sorted(centre.stored) == sorted(ids)


def test_a_database_that_cannot_be_opened_is_reported(qtbot, tmp_path: Path) -> None:
    db = tmp_path / "kiosk.db"
    db.write_bytes(b"this is not a SQLite database" * 100)
    sync = SyncViewModel(lambda: open_app_sync(db, secrets=MemorySecretStore(), transport=FakeCentre()))
    try:
        with qtbot.waitSignal(sync.ready_changed, timeout=30000):
            sync.start()
        assert not sync.ready and sync.problem
    finally:
        sync.stop()
