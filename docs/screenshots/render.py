"""Render every kiosk screen at 1280x800 into docs/screenshots/*.png (offscreen, fake clock, in-memory store).

    QT_QPA_PLATFORM=offscreen uv run python docs/screenshots/render.py

The item screen is also rendered at the largest text size and in high contrast, including the longest item
(27) and a 7-point item (29), to check that no text is cut or overlaps.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.*=false")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from PySide6.QtCore import QCoreApplication, QEventLoop  # noqa: E402
from PySide6.QtWidgets import QApplication, QScrollArea  # noqa: E402

from kiosk.audio.silent import SilentAudioService  # noqa: E402
from kiosk.secrets import MemorySecretStore  # noqa: E402
from kiosk.domain.session import Mode  # noqa: E402
from kiosk.storage.fake import InMemorySessionStore  # noqa: E402
from kiosk.storage.pin import hash_pin  # noqa: E402
from kiosk.sync.backend import SyncBackend  # noqa: E402
from kiosk.sync.engine import SyncEngine  # noqa: E402
from kiosk.sync.fake import FakeCentre  # noqa: E402
from kiosk.sync.setup import token_reader  # noqa: E402
from kiosk.sync.worker import SyncWorker  # noqa: E402
from kiosk.tasks import TaskManager  # noqa: E402
from kiosk.ui.main_window import MainWindow  # noqa: E402
from kiosk.domain.clock import FakeClock  # noqa: E402
from kiosk.viewmodels.kiosk_vm import KioskViewModel  # noqa: E402
from kiosk.viewmodels.options import PIN_HASH_KEY, KioskSettings  # noqa: E402
from kiosk.viewmodels.screens import ScreenKind  # noqa: E402
from kiosk.viewmodels.start_form import StartForm  # noqa: E402
from kiosk.viewmodels.sync_vm import SyncViewModel  # noqa: E402

PIN = "2468"
FORM = StartForm(initials="J D", birth_date=date(1952, 3, 7), session_date=date(2026, 11, 25), mode=Mode.TOUCH,
                 audio_enabled=True, language="fr", consent_answers=True, consent_voice=True)


def offline_sync(store: InMemorySessionStore, secrets: MemorySecretStore | None = None,
                 clock: FakeClock | None = None) -> SyncViewModel:
    """The kiosk's sync on ``store``, as on a tablet not yet enrolled: a real worker whose passes stop at the
    missing token (the counts are real); nothing can reach a server."""
    secrets = secrets or MemorySecretStore()
    centre = FakeCentre()  # never called without a token

    def factory(on_status):
        engine = SyncEngine(store, centre, token_reader(secrets), clock=clock or FakeClock())
        return SyncWorker(engine, poll_interval=3600, on_status=on_status)

    return SyncViewModel(lambda: SyncBackend(settings=store, secrets=secrets, worker_factory=factory,
                                             transport_for=lambda url, ca: centre))


class Driver:
    def __init__(self, store: InMemorySessionStore, *, with_pin: bool = True,
                 sync: SyncViewModel | None = None, text_size: int = 0, provisioning=None) -> None:
        self.app = QApplication.instance() or QApplication([])
        if with_pin:
            store.set_setting(PIN_HASH_KEY, hash_pin(PIN))
        self.store = store
        self.tasks = TaskManager()
        self.sync = sync
        self.vm = KioskViewModel(lambda: store, tasks=self.tasks, audio=SilentAudioService(), clock=FakeClock(),
                                 settings=KioskSettings(answer_beat_ms=0, default_text_size=text_size),
                                 provisioning=provisioning)
        self.window = MainWindow(self.vm, tick_ms=3_600_000, sync=sync)
        self.window.resize(1280, 800)
        self.window.show()
        self.vm.open()
        if sync is not None:
            sync.start()
            self.wait(lambda: sync.ready and sync.status.last_error is not None)
        self.wait(lambda: self.window.current_page() is not self.window.loading)

    def wait(self, predicate=lambda: True) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            self.app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
            QCoreApplication.sendPostedEvents(None, 0)
            session = self.window.session
            if predicate() and self.tasks.idle and (session is None or not session.busy):
                break
            time.sleep(0.005)
        else:
            raise TimeoutError("the kiosk did not settle")
        self.app.processEvents()

    def shot(self, name: str) -> None:
        self.wait()
        self.window.resize(1280, 800)
        self.wait()
        if (self.window.width(), self.window.height()) != (1280, 800):
            print(f"WARNING {name}: the screen needs {self.window.width()}x{self.window.height()}")
        self.window.grab().save(str(HERE / f"{name}.png"))
        print("wrote", name)

    def start(self, form: StartForm = FORM) -> None:
        self.vm.start_session(form)
        self.wait(lambda: self.window.session is not None)

    @property
    def session(self):
        return self.window.session

    def answer_until(self, number: int, value: int = 2) -> None:
        while self.session.screen.kind is ScreenKind.ITEM and self.session.screen.item.number < number:
            self.session.answer(value)
            self.wait()

    def close(self) -> None:
        self.wait()
        if self.sync is not None:
            self.sync.stop()
        self.window.allow_close = True
        self.window.close()
        self.tasks.shutdown(wait=True)


def main() -> None:  # noqa: PLR0915 - kept in one piece on purpose
    d = Driver(InMemorySessionStore(), with_pin=False)
    d.shot("01-pin-setup")
    d.close()

    store = InMemorySessionStore()
    d = Driver(store)
    d.window.nurse.initials.setText("J5")
    d.window.nurse.submit()
    d.shot("02-nurse-validation-errors")
    d.start(replace(FORM, mode=Mode.VOICE_CONTINUOUS))
    d.shot("03-check-audio")
    d.window.session_view.check.audio_yes.click()
    d.session.mic_level.emit(0.55)
    d.shot("04-check-microphone")
    d.window.session_view.check.mic_no.click()
    d.shot("04b-check-failed")
    d.window.session_view.check.touch_only.click()
    d.wait()
    d.shot("05-introduction")
    for _ in range(3):
        d.window.prefs.bigger()
    d.shot("05-introduction-largest")
    for _ in range(3):
        d.window.prefs.smaller()
    d.session.begin_items()
    d.wait()
    d.shot("06-item-01-normal")
    d.answer_until(27)
    d.shot("06-item-27-normal")
    prefs = d.window.prefs
    for _ in range(3):
        prefs.bigger()
    d.shot("06-item-27-largest")
    prefs.toggle_contrast()
    d.shot("06-item-27-largest-high-contrast")
    d.answer_until(29)
    d.shot("06-item-29-largest-high-contrast")
    prefs.toggle_contrast()
    d.shot("06-item-29-largest")
    for _ in range(3):
        prefs.smaller()
    d.shot("06-item-29-normal")
    d.window.session.tick()  # nothing yet
    d.vm.clock.tick(minutes=4)
    d.window.tick()
    d.shot("08-pause")
    d.session.resume()
    d.wait()
    d.session.skip()
    d.wait()
    d.session.skip()
    d.wait()
    d.shot("07-review-prompt")
    for _ in range(3):
        d.window.prefs.bigger()
    d.shot("07-review-prompt-largest")
    d.session.decline_review()
    d.wait()
    d.shot("09-end-largest")
    d.window.request_pin("summary")
    d.shot("10-pin")
    d.window.pin.pad.entry.setText(PIN)
    d.window.pin.pad.entry.returnPressed.emit()
    d.wait(lambda: d.window.summary is not None)
    d.shot("11-clinician-summary")
    d.window.new_patient()
    d.wait()
    d.close()

    # The nurse screen with an interrupted session and a pending questionnaire (the tablet not yet enrolled with a
    # centre: the sync panel says so); then the admin screen.
    d = Driver(store, with_pin=False)
    d.start()
    d.close()
    d = Driver(store, with_pin=False, sync=offline_sync(store))
    d.shot("02-nurse-start")
    d.window.request_pin("admin")
    d.window.pin.pad.entry.setText(PIN)
    d.window.pin.pad.entry.returnPressed.emit()
    d.wait(lambda: d.window.current_page() is d.window.admin)
    d.shot("12-admin")
    d.close()

    # The admin screen of a provisioned tablet whose file has two bad values (each named; the rest applied).
    import tempfile

    from kiosk.viewmodels import provisioning

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "kiosk.toml"
        path.write_text('format = 1\nserver_url = "https://qlq.chu-lyon.fr"\nsite = "LYON-01"\n'
                        'speech_rate_percent = 85\nlanguage = "fr"\nlangue = "fr"\n', encoding="utf-8")
        prov = provisioning.load(path)
        prov = provisioning.Provisioning(Path("/etc/qlq-kiosk/kiosk.toml"), prov.exists, prov.connection,
                                         prov.settings, tuple(provisioning.ProvisioningProblem(
                                             Path("/etc/qlq-kiosk/kiosk.toml"), p.field, p.value, p.reason)
                                             for p in prov.problems))
    d = Driver(InMemorySessionStore(), provisioning=prov)
    d.window.request_pin("admin")
    d.window.pin.pad.entry.setText(PIN)
    d.window.pin.pad.entry.returnPressed.emit()
    d.wait(lambda: d.window.current_page() is d.window.admin)
    d.wait()
    scroll = d.window.admin.findChild(QScrollArea)
    scroll.verticalScrollBar().setValue(scroll.verticalScrollBar().maximum())
    d.wait()
    scroll.verticalScrollBar().setValue(scroll.verticalScrollBar().maximum())
    d.shot("12b-admin-provisioning")
    d.close()


if __name__ == "__main__":
    main()
