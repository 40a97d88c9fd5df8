"""The sync on the real screens (pytest-qt, offscreen): the panel on the nurse's start screen, "Synchroniser
maintenant", and "Serveur du centre" behind the settings — enrolling against the fake centre, the hospital CA
file, forgetting the server."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from kiosk.domain.clock import FakeClock
from kiosk.secrets import MemorySecretStore, SecretName
from kiosk.storage.fake import InMemorySessionStore
from kiosk.sync import messages
from kiosk.sync.backend import SyncBackend
from kiosk.sync.config import ENROLLMENT_SETTING, Enrollment, save_enrollment
from kiosk.sync.engine import SyncEngine
from kiosk.sync.fake import FakeCentre
from kiosk.sync.setup import token_reader
from kiosk.sync.worker import SyncWorker
from kiosk.viewmodels.nurse_flow import Page
from kiosk.viewmodels.sync_vm import SyncViewModel
from tests.integration.sync.test_tls_transport import make_ca_and_server_cert
from tests.ui.kiosk_harness import PIN, close_kiosk, make_kiosk
from tests.unit.sync.helpers import queue

CODE = "K7P2-9QXA"


class Rig:
    """A kiosk on an in-memory store with its sync on the same store, a memory secret store and a fake centre."""

    def __init__(self, qtbot, *, enrolled: bool = False) -> None:
        self.clock = FakeClock()
        self.store = InMemorySessionStore(clock=self.clock)
        self.secrets = MemorySecretStore()
        self.centre = FakeCentre(clock=self.clock, enrollment_codes={CODE: "LYON-01"})
        self.cas: list[Path | None] = []
        if enrolled:
            save_enrollment(
                self.store,
                Enrollment(
                    server_url="https://qlq.chu.fr",
                    site="LYON-01",
                    device_name="Tablette 2",
                    server_device_id="d0",
                    enrolled_at=datetime(2026, 11, 1, 9, 0, tzinfo=UTC),
                ),
            )
            self.secrets.set(SecretName.DEVICE_TOKEN, "qlqd_test")

        def factory(on_status):
            engine = SyncEngine(self.store, self.centre, token_reader(self.secrets), clock=self.clock)
            return SyncWorker(engine, poll_interval=3600, on_status=on_status, clock=self.clock)

        def transport_for(url: str, ca: Path | None) -> FakeCentre:
            self.cas.append(ca)
            return self.centre

        self.sync = SyncViewModel(
            lambda: SyncBackend(
                settings=self.store, secrets=self.secrets, worker_factory=factory, transport_for=transport_for
            )
        )
        self.kiosk = make_kiosk(qtbot, self.store, clock=self.clock, sync=self.sync)
        self.qtbot = qtbot
        self.panel = self.kiosk.window.nurse.sync_panel
        assert self.panel is not None

    def wait(self, predicate) -> None:
        self.qtbot.waitUntil(predicate, timeout=5000)

    def open_server_page(self):
        window = self.kiosk.window
        window.request_pin("admin")
        self.kiosk.enter_pin(PIN)
        assert window.current_page() is window.admin and window.admin.server.isVisibleTo(window.admin)
        self.kiosk.click(window.admin.server)
        assert window.current_page() is window.server and window.flow.page is Page.SERVER
        return window.server

    def close(self) -> None:
        self.sync.stop()
        close_kiosk(self.kiosk)


@pytest.fixture
def rig(qtbot):
    made: list[Rig] = []

    def build(**kw) -> Rig:
        made.append(Rig(qtbot, **kw))
        return made[-1]

    yield build
    for r in made:
        r.close()


def test_the_nurse_screen_shows_the_waiting_count_not_enrolled(rig) -> None:
    r = rig()
    nurse = r.kiosk.window.nurse
    queue(r.store, r.clock, 2)
    r.sync.session_finished()
    r.wait(lambda: r.panel.waiting.text() == "2 questionnaires en attente d'envoi")
    assert r.panel.isVisibleTo(nurse) and not nurse.pending.isVisibleTo(nurse)  # one place says it, not two
    assert r.panel.problem.text() == messages.NOT_ENROLLED and r.panel.problem.isVisibleTo(nurse)
    assert not r.panel.sync_now.isEnabled()  # nothing to synchronise with
    # A session finished on the kiosk: the panel follows (the kiosk's session_finished wakes the sync).
    r.kiosk.start()
    r.kiosk.window.session.abandon("test")
    r.wait(lambda: r.panel.waiting.text() == "3 questionnaires en attente d'envoi")
    assert r.centre.requests == []


def test_synchroniser_maintenant_runs_a_pass(rig) -> None:
    r = rig(enrolled=True)
    queue(r.store, r.clock, 2)
    r.sync.session_finished()
    r.wait(lambda: len(r.centre.stored) == 2)
    r.wait(lambda: r.panel.waiting.text() == "Aucun questionnaire en attente d'envoi" and r.panel.sync_now.isEnabled())
    assert r.panel.last_success.text().startswith("Dernier envoi réussi : ")
    assert not r.panel.problem.isVisibleTo(r.kiosk.window.nurse)
    queue(r.store, r.clock, 1)  # nobody wakes the worker (it would sleep for an hour) but the button
    r.kiosk.click(r.panel.sync_now)
    r.wait(lambda: len(r.centre.stored) == 3)
    r.wait(lambda: r.panel.waiting.text() == "Aucun questionnaire en attente d'envoi")


def test_enroll_from_the_admin_page_then_forget(rig, monkeypatch, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    r = rig()
    queue(r.store, r.clock, 2)
    page = r.open_server_page()
    assert page.form_box.isVisibleTo(page) and not page.forget.isVisibleTo(page)
    page.server.setText("https://qlq.chu.fr")
    page.code.setText(CODE)
    page.name.setText("Tablette salle d'attente 2")
    with r.qtbot.waitSignal(r.sync.enrollment_changed, timeout=5000):
        page.submit.click()
        assert not page.submit.isEnabled() and page.submit.text() == "Enregistrement…"  # busy
    token = r.secrets.get(SecretName.DEVICE_TOKEN)
    assert token and token in r.centre.tokens and r.centre.enrolled == ["Tablette salle d'attente 2"]
    assert r.cas == [None]  # no hospital CA: the public roots
    assert token not in (r.store.get_setting(ENROLLMENT_SETTING) or "")
    assert token not in caplog.text
    assert page.details_box.isVisibleTo(page) and not page.form_box.isVisibleTo(page)
    assert (page.site.text(), page.device.text(), page.url.text()) == (
        "LYON-01",
        "Tablette salle d'attente 2",
        "https://qlq.chu.fr",
    )
    assert page.since.text() and page.submit.isEnabled()
    r.wait(lambda: len(r.centre.stored) == 2)  # enrolled: the queue is sent at once

    queue(r.store, r.clock, 1)
    asked: list[str] = []

    def answer(reply):
        def question(_parent, _title, text, *_args):
            asked.append(text)
            return reply

        return question

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    page.forget.click()
    assert asked and "restent sur la tablette" in asked[0]
    assert r.sync.enrollment is not None and r.secrets.get(SecretName.DEVICE_TOKEN) == token
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    with r.qtbot.waitSignal(r.sync.enrollment_changed, timeout=5000):
        page.forget.click()
    assert r.sync.enrollment is None and r.secrets.get(SecretName.DEVICE_TOKEN) is None
    assert page.form_box.isVisibleTo(page) and not page.details_box.isVisibleTo(page)
    assert page.code.text() == "" and page.server.text() == "https://qlq.chu.fr"
    assert r.store.queue_counts().pending == 1  # the queued session stays on the tablet
    r.kiosk.click(page.back_button)
    r.kiosk.click(r.kiosk.window.admin.back_button)
    nurse = r.kiosk.window.nurse
    assert r.kiosk.window.current_page() is nurse
    r.sync.session_finished()
    r.wait(lambda: r.panel.waiting.text() == "1 questionnaire en attente d'envoi")
    assert r.panel.problem.text() == messages.NOT_ENROLLED and not r.panel.sync_now.isEnabled()
    assert len(r.centre.stored) == 2


@pytest.mark.parametrize("kind", ["missing", "not-pem"])
def test_a_bad_ca_file_is_refused_and_nothing_is_saved(rig, tmp_path: Path, kind: str) -> None:
    r = rig()
    path = tmp_path / "autorite.pem"
    if kind == "not-pem":
        path.write_text("ceci n'est pas un certificat\n", encoding="utf-8")
    page = r.open_server_page()
    page.server.setText("https://qlq.chu.fr")
    page.code.setText(CODE)
    page.name.setText("Tablette 2")
    page.ca_bundle.setText(str(path))
    with r.qtbot.waitSignal(r.sync.enroll_failed, timeout=5000) as failed:
        page.submit.click()
    expected = "est introuvable" if kind == "missing" else "n'est pas un certificat d'autorité au format PEM"
    assert expected in failed.args[0] and page.error.text() == failed.args[0]
    assert page.error.isVisibleTo(page)
    assert r.sync.enrollment is None and r.secrets.get(SecretName.DEVICE_TOKEN) is None
    assert r.store.get_setting(ENROLLMENT_SETTING) in (None, "") and r.centre.requests == []
    # The code never left the tablet: it is kept, with everything else typed.
    assert (page.server.text(), page.code.text(), page.name.text(), page.ca_bundle.text()) == (
        "https://qlq.chu.fr",
        CODE,
        "Tablette 2",
        str(path),
    )
    assert page.submit.isEnabled()


def test_the_hospital_ca_reaches_the_transport_and_the_enrollment(rig, tmp_path: Path) -> None:
    ca, _cert, _key = make_ca_and_server_cert(tmp_path)
    r = rig()
    page = r.open_server_page()
    page.server.setText("https://qlq.chu.fr")
    page.code.setText(CODE)
    page.name.setText("Tablette 2")
    page.ca_bundle.setText(f"  {ca}  ")
    with r.qtbot.waitSignal(r.sync.enrollment_changed, timeout=5000):
        page.submit.click()
    assert r.cas == [ca.resolve()]
    assert r.sync.enrollment is not None and r.sync.enrollment.ca_bundle == str(ca.resolve())
    assert page.ca_used.text() == str(ca.resolve())


def test_a_session_finished_on_screen_is_sent_at_once(qtbot) -> None:
    """The application's own wiring (kiosk.app.connect_sync): the worker polls only once an hour here, so the
    session can reach the centre this fast only because its end woke the worker."""
    r = Rig(qtbot, enrolled=True)
    try:
        k = r.kiosk
        qtbot.waitUntil(lambda: not r.sync.status.running, timeout=5000)  # the first pass at start: nothing
        assert r.centre.received_order == []
        k.start()
        k.to_items()
        for _ in range(30):
            k.answer(2)
        qtbot.waitUntil(lambda: len(r.centre.received_order) == 1, timeout=5000)
        assert r.centre.received_order == [k.window.session.session.id]
        qtbot.waitUntil(lambda: r.sync.status.counts.pending == 0, timeout=5000)
    finally:
        r.close()
