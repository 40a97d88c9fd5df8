"""A kiosk window on a fake clock, silent audio and a given store, plus helpers to drive it by touch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiosk.audio.silent import SilentAudioService
from kiosk.domain.clock import FakeClock
from kiosk.domain.session import Mode
from kiosk.storage.pin import hash_pin
from kiosk.tasks import TaskManager
from kiosk.ui.main_window import MainWindow
from kiosk.viewmodels.kiosk_vm import KioskViewModel
from kiosk.viewmodels.options import PIN_HASH_KEY, KioskSettings
from kiosk.viewmodels.screens import ScreenKind

PIN = "4321"
_PIN_HASH = hash_pin(PIN)  # argon2 is slow on purpose: hash once per test run


@dataclass
class Kiosk:
    window: MainWindow
    vm: KioskViewModel
    tasks: TaskManager
    clock: FakeClock
    audio: SilentAudioService
    store: object
    qtbot: QtBot

    # ------------------------------------------------------------------ waiting
    def settle(self) -> None:
        """Wait until every storage task ran and its callback was delivered."""
        session = self.window.session
        self.qtbot.waitUntil(lambda: self.tasks.idle and (session is None or not session.busy), timeout=5000)

    def click(self, widget) -> None:
        self.qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)
        self.settle()

    # ------------------------------------------------------------------ nurse side
    def fill_form(
        self,
        initials: str = "J D",
        birth: tuple[int, int, int] | None = (7, 3, 1952),
        consent: bool = True,
        mode: Mode = Mode.TOUCH,
        audio: bool = False,
    ) -> None:
        nurse = self.window.nurse
        nurse.initials.setText(initials)
        if birth is not None:
            picker = nurse.birth
            for box, part in zip((picker.day, picker.month, picker.year), birth, strict=True):
                box.setCurrentIndex(box.findData(part))
        nurse.consent_answers.setChecked(consent)
        if mode.is_voice:
            nurse.consent_voice.setChecked(True)
        nurse.mode_buttons[mode].setChecked(True)
        nurse.audio.setChecked(audio)

    def start(self, **form) -> None:
        self.fill_form(**form)
        self.click(self.window.nurse.start)
        assert self.window.session is not None

    # ------------------------------------------------------------------ patient side
    @property
    def screen(self):
        return self.window.session.screen

    def screen_kind(self) -> ScreenKind:
        """``self.screen.kind``, read through a call (why: tests/ui/fresh.py)."""
        return self.screen.kind

    def answer(self, value: int) -> None:
        item = self.screen.item
        assert item is not None
        button = next(b for b in self.window.session_view.items.buttons if b.value == value)
        self.click(button)

    def to_items(self) -> None:
        view = self.window.session_view
        if self.screen.kind is ScreenKind.INTRODUCTION:
            self.click(view.intro_start)
        assert self.screen.kind is ScreenKind.ITEM

    def enter_pin(self, pin: str) -> None:
        self.window.pin.pad.entry.setText(pin)
        self.window.pin.pad.entry.returnPressed.emit()
        self.settle()


def make_kiosk(
    qtbot,
    store,
    *,
    clock: FakeClock | None = None,
    with_pin: bool = True,
    settings: KioskSettings | None = None,
    store_factory=None,
    secrets=None,
    voice_check=None,
    stored_settings: bool = False,
    sync=None,
    provisioning=None,
    gate=None,
    updates=None,
    restart_idle_ms: int = 300_000,
) -> Kiosk:
    """``stored_settings``: the settings come from the store (as in the app), not a test override. ``sync``: a
    :class:`~kiosk.viewmodels.sync_vm.SyncViewModel`, connected and started as kiosk/app.py does.
    ``provisioning``: IT's file as read at start (applied on opening; with ``sync``, its enrollment too).
    ``gate``/``updates``: the session gate and an :class:`~kiosk.viewmodels.update_vm.UpdateViewModel`, started as
    kiosk/app.py does."""
    clock = clock or FakeClock()
    if with_pin and store is not None:
        store.set_setting(PIN_HASH_KEY, _PIN_HASH)
    tasks = TaskManager()
    audio = SilentAudioService()
    vm = KioskViewModel(
        store_factory or (lambda: store),
        tasks=tasks,
        audio=audio,
        clock=clock,
        settings=None if stored_settings else settings or KioskSettings(answer_beat_ms=0),
        secrets=secrets,
        voice_check=voice_check,
        provisioning=provisioning,
        gate=gate,
    )
    window = MainWindow(
        vm,
        tick_ms=3_600_000,
        sync=sync,
        updates=updates,  # the tests tick by hand
        restart_idle_ms=restart_idle_ms,
    )
    qtbot.addWidget(window)
    if sync is not None:
        from kiosk.app import connect_sync

        connect_sync(vm, sync, provisioning, device_name="tablette-test")  # the application's own wiring
    window.resize(1280, 800)
    window.show()
    kiosk = Kiosk(window, vm, tasks, clock, audio, store, qtbot)
    vm.open()
    if updates is not None:
        updates.start()
    if sync is not None:
        sync.start()
        qtbot.waitUntil(lambda: sync.ready or sync.problem is not None, timeout=5000)
    qtbot.waitUntil(lambda: window.current_page() is not window.loading, timeout=5000)
    kiosk.settle()
    return kiosk


def close_kiosk(kiosk: Kiosk) -> None:
    kiosk.settle()
    kiosk.window.allow_close = True
    kiosk.window.close()
    kiosk.tasks.shutdown(wait=True)


BIRTH = date(1952, 3, 7)
