"""View-model logic without widgets: start form, settings, summary, the save-before-advance rule, timers,
the task manager and the audio services. (QtCore only: view models never import QtWidgets.)"""

from __future__ import annotations

import ast
import threading
import wave
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QThread

from kiosk.audio.qt_player import QtAudioService
from kiosk.audio.silent import SilentAudioService
from kiosk.domain.clock import FakeClock
from kiosk.domain.instrument import load_instrument
from kiosk.domain.session import ConsentKind, Method, Mode, Phase
from kiosk.storage.fake import InMemorySessionStore
from kiosk.tasks import TaskManager
from kiosk.viewmodels.options import KioskSettings, load_settings, save_settings
from kiosk.viewmodels.screens import ScreenKind
from kiosk.viewmodels.session_vm import SessionViewModel
from kiosk.viewmodels.start_form import StartForm, build_session, date_text
from kiosk.viewmodels.summary import summarise

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
FR = load_instrument("qlq-c30", "fr")
FORM = StartForm(initials="j d", birth_date="07/03/1952", session_date=date(2026, 11, 25), mode=Mode.TOUCH,
                 audio_enabled=True, language="fr", consent_answers=True, consent_voice=False)


def _session(**changes):
    form = StartForm(**{**FORM.__dict__, **changes})
    return build_session(form, FR, session_id="6f1c2a52-4c1e-4a55-9a57-0c3b1a0e9d11", now=NOW, today=NOW.date())


def test_view_models_do_not_import_widgets():
    for path in Path("kiosk/viewmodels").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
        assert not any("QtWidgets" in name or name.startswith("kiosk.ui") for name in names), path


def test_start_form_needs_the_consents():
    session, errors = _session(consent_answers=False, mode=Mode.VOICE_CONTINUOUS, initials="")
    assert session is None
    assert set(errors) == {"initials", "consent_answers", "consent_voice"}
    session, errors = _session(mode=Mode.VOICE_ON_DEMAND, consent_voice=True)
    assert errors == {} and session.mode is Mode.VOICE_ON_DEMAND and session.phase is Phase.CHECK
    assert {(c.kind, c.given, c.at) for c in session.consents} == {
        (ConsentKind.ANSWERS, True, NOW), (ConsentKind.CLOUD_VOICE, True, NOW)}
    assert session.patient.initials == "J D"
    assert date_text(7, 3, 1952) == "07/03/1952" and date_text(None, 3, 1952) == ""


def test_settings_round_trip_and_damaged_values():
    store = InMemorySessionStore()
    save_settings(KioskSettings(inactivity_seconds=120, default_mode=Mode.VOICE_ON_DEMAND), store.set_setting)
    assert load_settings(store.get_setting).inactivity_seconds == 120
    assert load_settings(store.get_setting).default_mode is Mode.VOICE_ON_DEMAND
    store.set_setting("kiosk.abandon_seconds", "bogus")
    store.set_setting("kiosk.default_mode", "telepathy")
    settings = load_settings(store.get_setting)
    assert settings.abandon_seconds == KioskSettings().abandon_seconds and settings.default_mode is Mode.TOUCH
    assert KioskSettings(inactivity_seconds=600, abandon_seconds=60).checked().abandon_seconds > 600


def test_summary_groups_missing_items_and_voice_count():
    session, _ = _session(mode=Mode.VOICE_CONTINUOUS, consent_voice=True)
    session = session.record_check(audio_ok=True, microphone_ok=True, now=NOW)
    session = session.begin_items(now=NOW)
    for number in FR.item_numbers:
        if number == 5:
            session = session.skip(now=NOW)
        elif number <= 3:
            session = session.answer(2, now=NOW, method=Method.VOICE, transcript="un peu", confidence=0.9)
        else:
            session = session.answer(1, now=NOW)
    session = session.decline_review(now=NOW)
    summary = summarise(session)
    assert [r.code for r in summary.group("symptom")] == ["FA", "NV", "PA", "DY", "SL", "AP", "CO", "DI", "FI"]
    assert [r.code for r in summary.group("functional")] == ["PF2", "RF2", "EF", "CF", "SF"]
    assert summary.group("summary")[0].code == "SUMSC"
    assert summary.missing_items == (5,) and summary.voice_answers == 3
    assert summary.group("global")[0].name == "Santé globale / qualité de vie"


@pytest.fixture
def tasks():
    manager = TaskManager()
    yield manager
    manager.shutdown(wait=True)


def test_task_manager_keeps_order_and_calls_back_on_the_gui_thread(qtbot, tasks):
    ran, delivered = [], []
    gui = QThread.currentThread()
    for n in range(20):
        tasks.run_in_background(lambda n=n: ran.append((n, threading.current_thread().name)) or n,
                                lambda n: delivered.append((n, QThread.currentThread() is gui)))
    errors = []
    tasks.run_in_background(lambda: 1 / 0, None, errors.append)
    qtbot.waitUntil(lambda: tasks.idle)
    assert [n for n, _ in ran] == list(range(20)) and len({name for _, name in ran}) == 1
    assert delivered == [(n, True) for n in range(20)]
    assert isinstance(errors[0], ZeroDivisionError)


class BlockingStore(InMemorySessionStore):
    """Holds every save until the test lets it through."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def save(self, session) -> None:
        assert self.gate.wait(5)
        super().save(session)


def _vm(store, tasks, clock=None, **settings):
    session, _ = _session(audio_enabled=True)
    session = session.record_check(audio_ok=True, microphone_ok=None, now=NOW)
    session = session.begin_items(now=NOW)
    audio = SilentAudioService()
    vm = SessionViewModel(session, store=store, tasks=tasks, audio=audio, clock=clock or FakeClock(NOW),
                          settings=KioskSettings(**settings), device_id="test-device")
    return vm, audio


def test_the_next_item_shows_only_after_the_save_returned(qtbot, tasks):
    store = BlockingStore()
    vm, audio = _vm(store, tasks, answer_beat_ms=0)
    assert vm.answer(3)
    assert vm.busy and vm.screen.item.number == 1  # saving: still item 1
    assert not vm.answer(4)  # a second touch while saving is ignored
    store.gate.set()
    qtbot.waitUntil(lambda: vm.screen.item.number == 2)
    assert not vm.busy and audio.played[-1][0] == "item-02"
    assert "(e)" not in audio.played[-1][1]


def test_a_failed_save_rolls_back_and_keeps_the_item(qtbot, tasks):
    store = InMemorySessionStore()
    vm, _ = _vm(store, tasks, answer_beat_ms=0)
    errors = []
    vm.error.connect(errors.append)
    store.fail_next("save")
    vm.answer(2)
    qtbot.waitUntil(lambda: bool(errors))
    assert vm.screen.item.number == 1 and vm.session.current_item == 1 and vm.session.status_of(1) is None


def test_the_beat_delays_the_next_item(qtbot, tasks):
    vm, _ = _vm(InMemorySessionStore(), tasks, answer_beat_ms=250)
    saved = []
    vm.answer_saved.connect(lambda item, value: saved.append(item))
    vm.answer(1)
    qtbot.waitUntil(lambda: saved == [1])
    assert vm.screen.item.number == 1
    qtbot.waitUntil(lambda: vm.screen.item.number == 2, timeout=2000)


def test_inactivity_pauses_then_abandons(qtbot, tasks):
    clock = FakeClock(NOW)
    store = InMemorySessionStore()
    vm, _ = _vm(store, tasks, clock, inactivity_seconds=60, abandon_seconds=300)
    clock.tick(59)
    vm.tick()
    assert vm.screen.kind is ScreenKind.ITEM
    clock.tick(2)
    vm.tick()
    qtbot.waitUntil(lambda: vm.screen.kind is ScreenKind.PAUSED)
    clock.tick(240)
    vm.tick()
    qtbot.waitUntil(lambda: vm.screen.kind is ScreenKind.END)
    assert vm.session.phase is Phase.ABANDONED and vm.session.abandon_reason == "inactivité"
    assert store.pending_count() == 1


def _wav(path: Path, seconds: float = 0.2) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\0\0" * int(16000 * seconds))


def test_qt_audio_service_plays_a_pack_file_or_stays_silent(qtbot, tmp_path):
    _wav(tmp_path / "intro.wav")
    service = QtAudioService(tmp_path)
    with qtbot.waitSignal(service.finished, timeout=3000) as blocker:
        service.play("item-01", "Avez-vous…")  # no recording: silent, finished at once
    assert blocker.args == ["item-01"]
    service.set_volume(0.5)
    assert service.volume() == 0.5
    with qtbot.waitSignal(service.finished, timeout=5000) as blocker:
        service.play("intro", "Nous nous intéressons…")
    assert blocker.args == ["intro"] and service.playing is None
