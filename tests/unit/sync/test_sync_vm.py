"""The sync view model and its panels (pytest-qt, offscreen): status reaches the GUI thread, enrollment runs
off it, the nurse lines read right."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from kiosk.secrets import MemorySecretStore, SecretName
from kiosk.storage.fake import InMemorySessionStore
from kiosk.storage.interface import QueueCounts
from kiosk.sync import messages
from kiosk.sync.backend import SyncBackend
from kiosk.sync.engine import SyncEngine, SyncStatus
from kiosk.sync.fake import FakeCentre
from kiosk.sync.setup import token_reader
from kiosk.sync.transport import Reply
from kiosk.sync.worker import SyncWorker
from kiosk.ui.sync_panels import EnrollmentPage, SyncStatusPanel
from kiosk.viewmodels.sync_vm import SyncViewModel, nurse_lines
from tests.integration.storage.storage_helpers import FakeClock
from tests.unit.sync.helpers import queue

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)


def test_nurse_lines() -> None:
    lines = nurse_lines(
        SyncStatus(
            counts=QueueCounts(pending=2, rejected=1),
            last_success_at=NOW - timedelta(hours=2),
            last_error=messages.NETWORK,
        ),
        NOW,
    )
    assert lines.waiting == "2 questionnaires en attente d'envoi"
    assert lines.last_success.startswith("Dernier envoi réussi : aujourd'hui à ")
    assert lines.problem == messages.NETWORK and lines.parked is not None and "1 questionnaire refusé" in lines.parked
    idle = nurse_lines(SyncStatus(), NOW, enrolled=False)
    assert idle.waiting == "Aucun questionnaire en attente d'envoi" and idle.problem == messages.NOT_ENROLLED
    assert "hier" in nurse_lines(SyncStatus(last_success_at=NOW - timedelta(days=1)), NOW).last_success


class EnrollingCentre(FakeCentre):
    def post(self, path: str, content: bytes, *, token: str | None) -> Reply:
        if path == "/v1/devices/enroll":
            return Reply(201, {"device_id": "d1", "device_token": "qlqd_test", "site": "LYON-01"})
        return super().post(path, content, token=token)


def test_enroll_then_the_worker_sends_and_the_panel_shows_it(qtbot) -> None:
    clock = FakeClock()
    store = InMemorySessionStore(clock=clock)
    secrets = MemorySecretStore()
    centre = EnrollingCentre(clock=clock)
    gui = threading.current_thread()
    delivered_on: set[bool] = set()

    def factory(on_status):
        engine = SyncEngine(store, centre, token_reader(secrets), clock=clock)
        return SyncWorker(engine, poll_interval=30, on_status=on_status, clock=clock)

    vm = SyncViewModel(
        lambda: SyncBackend(
            settings=store, secrets=secrets, worker_factory=factory, transport_for=lambda url, ca: centre
        )
    )
    vm.status_changed.connect(lambda _s: delivered_on.add(threading.current_thread() is gui))
    panel = SyncStatusPanel(vm, clock)
    page = EnrollmentPage(vm)
    qtbot.addWidget(panel)
    qtbot.addWidget(page)
    with qtbot.waitSignal(vm.ready_changed, timeout=5000):
        vm.start()  # the backend opens off the GUI thread
    try:
        assert page.form_box.isVisibleTo(page) and not page.details_box.isVisibleTo(page)
        queue(store, clock, 3)
        page.server.setText("")
        page.code.setText("qlq-enroll:https://qlq.chu.fr#AB12-CD34")
        page.name.setText("tablette 2")
        with qtbot.waitSignal(vm.enrollment_changed, timeout=5000):
            page.submit.click()
        assert secrets.get(SecretName.DEVICE_TOKEN) == "qlqd_test"
        assert page.site.text() == "LYON-01" and page.url.text() == "https://qlq.chu.fr"
        qtbot.waitUntil(lambda: vm.status.counts.sent == 3, timeout=5000)
        qtbot.waitUntil(lambda: panel.waiting.text() == "Aucun questionnaire en attente d'envoi", timeout=5000)
        assert delivered_on == {True}  # every status reached the GUI thread
        queue(store, clock, 1)
        vm.session_finished()
        qtbot.waitUntil(lambda: vm.status.counts.sent == 4, timeout=5000)
    finally:
        vm.stop()


def test_a_refused_code_is_shown_and_nothing_is_stored(qtbot) -> None:
    class Refusing(FakeCentre):
        def post(self, path: str, content: bytes, *, token: str | None) -> Reply:
            return Reply(401, {"error": {"code": "invalid_enrollment_code"}})

    store, secrets = InMemorySessionStore(), MemorySecretStore()
    vm = SyncViewModel(
        lambda: SyncBackend(
            settings=store,
            secrets=secrets,
            worker_factory=lambda cb: SyncWorker(SyncEngine(store, Refusing(), lambda: None)),
            transport_for=lambda url, ca: Refusing(),
        )
    )
    page = EnrollmentPage(vm)
    qtbot.addWidget(page)
    with qtbot.waitSignal(vm.ready_changed, timeout=5000):
        vm.start()
    try:
        page.server.setText("https://qlq.chu.fr")
        page.code.setText("WRONG")
        page.name.setText("t")
        with qtbot.waitSignal(vm.enroll_failed, timeout=5000):
            page.submit.click()
        assert "Demandez un nouveau code" in page.error.text() and page.error.isVisibleTo(page)
        assert secrets.get(SecretName.DEVICE_TOKEN) is None and vm.enrollment is None
        # What was typed stays, except the one-time code (it reached the server: it may be spent).
        assert (page.server.text(), page.name.text(), page.code.text()) == ("https://qlq.chu.fr", "t", "")
        assert page.submit.isEnabled() and page.server.isEnabled()
    finally:
        vm.stop()
