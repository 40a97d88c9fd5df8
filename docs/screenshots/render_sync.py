"""Render the sync screens at 1280x800 into docs/screenshots/13-*.png (offscreen, fixed states, no server).

    QT_QPA_PLATFORM=offscreen uv run python docs/screenshots/render_sync.py
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.*=false")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget  # noqa: E402

from kiosk.secrets import MemorySecretStore  # noqa: E402
from kiosk.storage.fake import InMemorySessionStore  # noqa: E402
from kiosk.storage.interface import QueueCounts  # noqa: E402
from kiosk.sync import messages  # noqa: E402
from kiosk.sync.config import Enrollment  # noqa: E402
from kiosk.sync.engine import SyncEngine, SyncStatus  # noqa: E402
from kiosk.sync.fake import FakeCentre  # noqa: E402
from kiosk.sync.worker import SyncWorker  # noqa: E402
from kiosk.ui import theme  # noqa: E402
from kiosk.ui.sync_panels import EnrollmentPage, SyncStatusPanel  # noqa: E402
from kiosk.ui.widgets import label  # noqa: E402
from kiosk.viewmodels.sync_vm import SyncViewModel  # noqa: E402

NOW = datetime(2026, 12, 3, 15, 20, tzinfo=UTC)


def page(*widgets: QWidget) -> QWidget:
    root = QWidget()
    root.setProperty("screen", True)
    layout = QVBoxLayout(root)
    layout.setContentsMargins(40, 20, 40, 20)
    for widget in widgets:
        layout.addWidget(widget)
    layout.addStretch(1)
    root.setStyleSheet(theme.style_sheet(theme.DisplayState()))
    root.resize(1280, 800)
    return root


def shot(widget: QWidget, name: str) -> None:
    widget.show()
    QApplication.processEvents()
    widget.grab().save(str(HERE / f"{name}.png"))
    sys.stdout.write(f"{HERE / name}.png\n")


def main() -> int:
    app = QApplication.instance() or QApplication([])
    store = InMemorySessionStore()
    vm = SyncViewModel(settings=store, secrets=MemorySecretStore(),
                       worker_factory=lambda cb: SyncWorker(SyncEngine(store, FakeCentre(), lambda: None)),
                       transport_for=lambda url: FakeCentre())
    vm._enrollment = Enrollment(server_url="https://qlq.chu-lyon.fr", site="LYON-01",
                                device_name="Tablette salle d'attente 2", server_device_id="7d9c",
                                enrolled_at=NOW - timedelta(days=12))
    panel = SyncStatusPanel(vm, lambda: NOW)
    panel.show_status(SyncStatus(counts=QueueCounts(pending=3, sent=41, rejected=1),
                                 last_success_at=NOW - timedelta(hours=1, minutes=12), last_error=messages.NETWORK,
                                 last_error_code="network", clock_warning=messages.clock_skew(timedelta(days=1))))
    shot(page(label("Envoi au centre", "title"), panel), "13-nurse-sync-status")
    calm = SyncStatusPanel(vm, lambda: NOW)
    calm.show_status(SyncStatus(counts=QueueCounts(sent=44), last_success_at=NOW - timedelta(minutes=3)))
    shot(page(label("Envoi au centre", "title"), calm), "13b-nurse-sync-ok")

    enrolled = EnrollmentPage(vm)
    enrolled.resize(1280, 800)
    enrolled.setStyleSheet(theme.style_sheet(theme.DisplayState()))
    shot(enrolled, "14-admin-enrolled")

    vm._enrollment = None
    form = EnrollmentPage(vm)
    form.resize(1280, 800)
    form.setStyleSheet(theme.style_sheet(theme.DisplayState()))
    form.server.setText("https://qlq.chu-lyon.fr")
    form.code.setText("qlq-enroll:https://qlq.chu-lyon.fr#K7P2-9QXA")
    form.name.setText("Tablette salle d'attente 2")
    form._failed("Le code d'enregistrement est refusé (inconnu, déjà utilisé ou expiré). Demandez un nouveau "
                 "code au service informatique (qlq-server enroll).")
    shot(form, "15-admin-enroll-form")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
