"""Render the sync on the real screens at 1280x800 into docs/screenshots/13-*.png, 14-*.png, 15-*.png (offscreen,
fixed states, no server): the nurse's start screen with the sync panel, and the admin's "Serveur du centre" page.

    QT_QPA_PLATFORM=offscreen uv run python docs/screenshots/render_sync.py
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.*=false")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))
sys.path.insert(0, str(HERE))

from render import PIN, Driver, offline_sync  # noqa: E402

from kiosk.storage.fake import InMemorySessionStore  # noqa: E402
from kiosk.storage.interface import QueueCounts  # noqa: E402
from kiosk.sync import messages  # noqa: E402
from kiosk.sync.config import Enrollment  # noqa: E402
from kiosk.sync.engine import SyncStatus  # noqa: E402
from kiosk.viewmodels.sync_vm import SyncViewModel  # noqa: E402

ENROLLMENT_DAYS = 12


def show(sync: SyncViewModel, status: SyncStatus, enrollment: Enrollment | None) -> None:
    """A fixed state on the real panel and page (as if the worker had just published it)."""
    sync._on_opened(enrollment)
    sync._deliver(status)


def enrollment(now) -> Enrollment:
    return Enrollment(server_url="https://qlq.chu-lyon.fr", site="LYON-01", device_name="Tablette salle d'attente 2",
                      server_device_id="7d9c", enrolled_at=now - timedelta(days=ENROLLMENT_DAYS))


def open_server_page(d: Driver) -> None:
    d.window.request_pin("admin")
    d.window.pin.pad.entry.setText(PIN)
    d.window.pin.pad.entry.returnPressed.emit()
    d.wait(lambda: d.window.current_page() is d.window.admin)
    d.window.admin.server.click()
    d.wait(lambda: d.window.current_page() is d.window.server)


def main() -> int:
    store = InMemorySessionStore()
    sync = offline_sync(store)
    d = Driver(store, sync=sync)
    now = d.vm.clock.now()
    linked = enrollment(now)
    trouble = SyncStatus(counts=QueueCounts(pending=3, sent=41, rejected=1),
                         last_success_at=now - timedelta(hours=1, minutes=12), last_error=messages.NETWORK,
                         last_error_code="network", clock_warning=messages.clock_skew(timedelta(days=1)))
    show(sync, trouble, linked)
    d.shot("13-nurse-sync-status")
    show(sync, SyncStatus(counts=QueueCounts(sent=44), last_success_at=now - timedelta(minutes=3)), linked)
    d.shot("13b-nurse-sync-ok")
    open_server_page(d)
    d.shot("14-admin-enrolled")
    show(sync, SyncStatus(counts=QueueCounts(pending=2)), None)
    page = d.window.server
    assert page is not None
    page.server.setText("https://qlq.chu-lyon.fr")
    page.code.setText("")  # the one-time code is not kept after a refusal
    page.name.setText("Tablette salle d'attente 2")
    page.ca_bundle.setText("/etc/qlq/autorite-chu-lyon.pem")
    page._failed(
        "Le code d'enregistrement est refusé (inconnu, déjà utilisé ou expiré). Demandez un nouveau code au "
        "service informatique (qlq-server enroll).")
    d.shot("15-admin-enroll-form")
    d.close()

    # The start form with the panel at the largest text size (the admin's default text size "Maximal").
    store = InMemorySessionStore()
    sync = offline_sync(store)
    d = Driver(store, sync=sync, text_size=3)
    show(sync, trouble, enrollment(d.vm.clock.now()))
    d.shot("13c-nurse-sync-largest")
    d.close()

    # The most crowded start screen: an interrupted session to resume, every sync line at once, largest text.
    store = InMemorySessionStore()
    d = Driver(store, with_pin=False)
    d.start()
    d.close()
    sync = offline_sync(store)
    d = Driver(store, sync=sync, text_size=3)
    show(sync, trouble, enrollment(d.vm.clock.now()))
    d.shot("13d-nurse-crowded-largest")
    d.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
