"""Updates inside the running kiosk (pytest-qt, offscreen): the real Updater, install folder and signed releases
(made at test time, from a local folder source), the kiosk's session gate and the admin screen.

- a release found during a session is downloaded and verified but installed only once the session ended;
- a session cannot start while an install runs (the nurse is told, nothing is lost);
- a tampered release and a release signed with another key are refused, with the French reason on screen;
- once installed, the admin can restart onto it, and the kiosk restarts by itself after the nurse screen stayed
  untouched — never during a session nor over a form being filled in;
- an update whose self-test never finished (a power cut) is rolled back at the next start, and when the kiosk
  running is that very version, it asks to restart onto the previous one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.domain.release import load_public_key
from kiosk.storage.fake import InMemorySessionStore
from kiosk.update.fake import FolderReleaseSource
from kiosk.update.layout import InstallLayout
from kiosk.update.service import SessionLock, Updater
from kiosk.viewmodels.kiosk_vm import UPDATE_INSTALLING
from kiosk.viewmodels.nurse_flow import Page
from kiosk.viewmodels.update_vm import UpdateViewModel, french_line
from tests.release_kit import make_archive, make_keypair, sign_in_python
from tests.ui.kiosk_harness import PIN, close_kiosk, make_kiosk

RUNNING = "1.0.0"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


class Rig:
    def __init__(self, qtbot, tmp_path, *, sign_with=None, restart_idle_ms: int = 300_000) -> None:
        self.keys = make_keypair(tmp_path / "keys")
        self.source_dir = tmp_path / "releases"
        self.source_dir.mkdir()
        self.root = tmp_path / "root"
        self.gate = SessionLock()
        self.statuses: list = []
        self.restarts: list[bool] = []
        self._sign_with = sign_with

        def open_updater(on_status):
            def both(status):
                self.statuses.append(status)
                on_status(status)

            return Updater(
                FolderReleaseSource(self.source_dir),
                InstallLayout(self.root),
                current_version=RUNNING,
                gate=self.gate,
                public_key=load_public_key(self.keys.public_pem),
                platform=("linux", "x86_64"),
                on_status=both,
            )

        self.updates = UpdateViewModel(
            open_updater, gate=self.gate, running_version=RUNNING, first_check_ms=3_600_000, check_interval_ms=3_600_000
        )
        self.updates.restart_requested.connect(lambda: self.restarts.append(True))
        self.kiosk = make_kiosk(
            qtbot, InMemorySessionStore(), gate=self.gate, updates=self.updates, restart_idle_ms=restart_idle_ms
        )
        self.qtbot = qtbot
        qtbot.waitUntil(lambda: self.updates.updater is not None, timeout=5000)

    def publish(self, version: str, **kw):
        archive = make_archive(self.source_dir, version, **kw)
        sign_in_python(archive, self._sign_with or self.keys)
        return archive

    def wait_stage(self, *stages: str, timeout: int = 10_000) -> None:
        self.qtbot.waitUntil(
            lambda: self.updates.status is not None and self.updates.status.stage in stages, timeout=timeout
        )

    def open_admin(self) -> None:
        window = self.kiosk.window
        window.request_pin("admin")
        self.kiosk.enter_pin(PIN)
        assert window.flow.page is Page.ADMIN

    def shot(self, name: str) -> None:
        """The admin screen scrolled to its end (the updates line and buttons), saved for the README."""
        from PySide6.QtWidgets import QScrollArea

        bar = self.kiosk.window.admin.findChild(QScrollArea).verticalScrollBar()
        self.qtbot.wait(50)
        bar.setValue(bar.maximum())
        self.qtbot.wait(50)
        assert self.kiosk.window.grab().save(str(SHOTS / name))

    def close(self) -> None:
        self.updates.stop()
        close_kiosk(self.kiosk)


@pytest.fixture
def rig(qtbot, tmp_path):
    r = Rig(qtbot, tmp_path)
    yield r
    r.close()


def test_a_release_found_during_a_session_installs_only_after_it(rig):
    rig.kiosk.start()
    assert rig.kiosk.vm.session_in_progress
    rig.publish("1.1.0")
    rig.updates.check_now()
    rig.wait_stage("deferred")
    assert not (rig.root / "versions" / "1.1.0").exists()  # nothing unpacked during the session
    assert rig.updates.line().startswith("Version 1.1.0 prête : installation à la fin de la séance")
    rig.kiosk.window.new_patient()  # the nurse takes the tablet back: the session screen ends
    rig.wait_stage("installed")
    assert rig.updates.restart_pending
    assert InstallLayout(rig.root).current_version() == "1.1.0"
    stages = [s.stage for s in rig.statuses]
    assert stages.index("deferred") < stages.index("installing") < stages.index("installed")


def test_no_session_starts_while_an_update_installs(rig):
    with rig.gate.idle() as free:  # what the updater holds while it unpacks and self-tests
        assert free
        rig.kiosk.fill_form()
        rig.kiosk.click(rig.kiosk.window.nurse.start)
        assert rig.kiosk.window.session is None
        assert rig.kiosk.window.nurse.message.text() == UPDATE_INSTALLING
    rig.kiosk.start()  # once it is over, the same form starts the session
    assert rig.kiosk.window.session is not None


def test_installed_then_restart_from_the_admin_screen(rig):
    rig.publish("1.1.0")
    rig.updates.check_now()
    rig.wait_stage("installed")
    rig.open_admin()
    admin = rig.kiosk.window.admin
    assert admin.update_restart.isVisibleTo(admin) and not admin.update_check.isVisibleTo(admin)
    assert "Version 1.1.0 installée et vérifiée" in admin.update_line.text()
    rig.shot("12c-admin-update-installed.png")
    rig.kiosk.click(admin.update_restart)
    assert rig.restarts == [True]


@pytest.mark.parametrize("kind", ["tampered", "wrong_key"])
def test_a_bad_release_is_refused_and_said_so(qtbot, tmp_path, kind):
    rig = Rig(qtbot, tmp_path, sign_with=make_keypair(tmp_path / "other") if kind == "wrong_key" else None)
    try:
        archive = rig.publish("1.1.0")
        if kind == "tampered":
            other = make_archive(tmp_path / "evil", "1.1.0", extra={"qlq-kiosk/evil": b"x"})
            archive.write_bytes(other.read_bytes())
        rig.updates.check_now()
        rig.wait_stage("failed")
        assert rig.updates.status.code == ("tampered_file" if kind == "tampered" else "wrong_key")
        assert not rig.updates.restart_pending
        assert not (rig.root / "versions" / "1.1.0").exists()
        assert not list((rig.root / "downloads").iterdir())  # the refused download is deleted
        rig.open_admin()
        expected = "altéré" if kind == "tampered" else "clé de ce kiosque"
        assert expected in rig.kiosk.window.admin.update_line.text()
        if kind == "tampered":
            rig.shot("12d-admin-update-refused.png")
    finally:
        rig.close()


def test_the_kiosk_restarts_by_itself_only_from_a_blank_nurse_screen(qtbot, tmp_path):
    rig = Rig(qtbot, tmp_path, restart_idle_ms=50)
    try:
        rig.kiosk.fill_form()  # the nurse is typing a patient's details: never restart over them
        rig.publish("1.1.0")
        rig.updates.check_now()
        rig.wait_stage("installed")
        qtbot.wait(300)
        assert rig.restarts == []
        rig.kiosk.start()  # a session: still no restart
        qtbot.wait(300)
        assert rig.restarts == []
        rig.kiosk.window.new_patient()  # back to an empty nurse screen
        qtbot.waitUntil(lambda: rig.restarts == [True], timeout=5000)
    finally:
        rig.close()


def test_an_interrupted_update_of_the_running_version_rolls_back_and_restarts(qtbot, tmp_path):
    root = tmp_path / "root"
    layout = InstallLayout(root)
    layout.prepare()
    for version in ("0.9.0", RUNNING):
        (layout.versions / version).mkdir()
    layout.switch_to(RUNNING)
    state = layout.load_state()
    state.pending, state.previous = RUNNING, "0.9.0"  # the power went off during 1.0.0's self-test
    layout.save_state(state)
    rig = Rig(qtbot, tmp_path)
    try:
        qtbot.waitUntil(lambda: rig.restarts == [True], timeout=5000)
        assert layout.current_version() == "0.9.0"
        assert RUNNING in layout.load_state().failed
        assert rig.updates.status is not None and rig.updates.status.code == "self_test_interrupted"
    finally:
        rig.close()


def test_every_stage_has_a_french_line():
    from kiosk.update.service import UpdateStatus

    for stage in (
        "idle",
        "checking",
        "up_to_date",
        "available",
        "downloading",
        "ready",
        "deferred",
        "installing",
        "installed",
        "rolled_back",
        "failed",
    ):
        line = french_line(UpdateStatus(stage, RUNNING, offered_version="1.1.0", code="wrong_key"))
        assert line and stage not in line.split(), line
    assert "non prévues" in french_line(None, enabled=False)
