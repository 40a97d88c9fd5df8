"""View-model logic without widgets: start form, settings, summary, the save-before-advance rule, timers,
the task manager and the audio services. (QtCore only: view models never import QtWidgets.)"""

from __future__ import annotations

import ast
import dataclasses
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
from kiosk.viewmodels.kiosk_vm import KioskViewModel
from kiosk.viewmodels.options import SETTING_LABELS, KioskSettings, load_settings, save_settings
from kiosk.viewmodels.options_upgrade import SETTINGS_VERSION, UPGRADES, VERSION_KEY, upgrade_settings
from kiosk.viewmodels.screens import ScreenKind
from kiosk.viewmodels.session_vm import SessionViewModel
from kiosk.viewmodels.start_form import StartForm, build_session, date_text
from kiosk.viewmodels.summary import summarise
from tests.ui.fresh import screen_kind

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
FR = load_instrument("qlq-c30", "fr")
FORM = StartForm(
    initials="j d",
    birth_date="07/03/1952",
    session_date=date(2026, 11, 25),
    mode=Mode.TOUCH,
    audio_enabled=True,
    language="fr",
    consent_answers=True,
    consent_voice=False,
)


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
        (ConsentKind.ANSWERS, True, NOW),
        (ConsentKind.CLOUD_VOICE, True, NOW),
    }
    assert session.patient.initials == "J D"
    assert date_text(7, 3, 1952) == "07/03/1952" and date_text(None, 3, 1952) == ""


def test_settings_round_trip_and_damaged_values():
    store = InMemorySessionStore()
    save_settings(KioskSettings(inactivity_seconds=120, default_mode=Mode.VOICE_ON_DEMAND), store)
    assert load_settings(store).settings.inactivity_seconds == 120
    assert load_settings(store).settings.default_mode is Mode.VOICE_ON_DEMAND
    assert load_settings(store).problems == ()
    store.set_setting("kiosk.abandon_seconds", "bogus")
    store.set_setting("kiosk.default_mode", "telepathy")
    loaded = load_settings(store)
    settings = loaded.settings
    assert settings.abandon_seconds == KioskSettings().abandon_seconds and settings.default_mode is Mode.TOUCH
    assert settings.inactivity_seconds == 120  # the sound values keep theirs
    assert KioskSettings(inactivity_seconds=600, abandon_seconds=60).checked().abandon_seconds > 600
    assert [(p.name, p.stored, p.default) for p in loaded.problems] == [
        ("abandon_seconds", "bogus", 1200),
        ("default_mode", "telepathy", Mode.TOUCH),
    ]
    assert "integer" in loaded.problems[0].reason and "voice-continuous" in loaded.problems[1].reason
    assert loaded.french().splitlines() == [
        "Réglage « Abandon après inactivité » : la valeur enregistrée « bogus » n'est pas valable ; "
        "la valeur par défaut (1200) est utilisée. Corrigez-la dans les réglages.",
        "Réglage « Mode par défaut » : la valeur enregistrée « telepathy » n'est pas valable ; "
        "la valeur par défaut (Tactile seulement) est utilisée. Corrigez-la dans les réglages.",
    ]


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("inactivity_seconds", "240", 240),
        ("inactivity_seconds", " 240 ", 240),
        ("inactivity_seconds", "4.5", None),
        ("inactivity_seconds", "", None),
        ("answer_beat_ms", "0", 0),
        ("answer_beat_ms", "beaucoup", None),
        ("default_mode", "voice-continuous", Mode.VOICE_CONTINUOUS),
        ("default_mode", "TOUCH", None),
        ("default_text_size", "3", 3),
        ("default_text_size", "2e3", None),
    ],
)
def test_each_setting_is_parsed_by_its_type(name, raw, expected):
    store = InMemorySessionStore()
    store.set_setting(f"kiosk.{name}", raw)
    loaded = load_settings(store)
    if expected is None:
        [problem] = loaded.problems
        assert problem.name == name and getattr(loaded.settings, name) == getattr(KioskSettings(), name)
    else:
        assert loaded.problems == () and getattr(loaded.settings, name) == expected


def test_every_setting_has_a_label_for_the_nurse():
    assert set(SETTING_LABELS) == {f.name for f in dataclasses.fields(KioskSettings)}


def test_settings_of_today_get_a_version_and_later_steps_run_once_in_order():
    store = InMemorySessionStore()
    for key, value in {"kiosk.inactivity_seconds": "240", "kiosk.default_mode": "touch"}.items():
        store.set_setting(key, value)  # as every kiosk wrote them before settings had a version
    loaded = load_settings(store)
    assert loaded.upgraded_from == 0 and store.get_setting(VERSION_KEY) == str(SETTINGS_VERSION) == "2"
    assert loaded.settings.inactivity_seconds == 240 and loaded.problems == ()
    assert load_settings(store).upgraded_from is None  # done once

    ran = []

    def to_v3(s):  # e.g. a release that stores the pause in minutes under a new name
        ran.append(3)
        s.set_setting("kiosk.pause_minutes", str(int(s.get_setting("kiosk.inactivity_seconds")) // 60))

    def to_v4(s):
        ran.append(4)
        assert s.get_setting(VERSION_KEY) == "3"  # each version is recorded as soon as its step is done

    assert upgrade_settings(store, {**UPGRADES, 3: to_v3, 4: to_v4}) == 2
    assert ran == [3, 4] and store.get_setting("kiosk.pause_minutes") == "4" and store.get_setting(VERSION_KEY) == "4"
    assert upgrade_settings(store, {**UPGRADES, 3: to_v3, 4: to_v4}) is None and ran == [3, 4]


def test_version_2_carries_the_voice_variables_it_replaces_into_the_settings(monkeypatch):
    """A tablet IT had set up with QLQ_VOICE_* keeps its microphone and timings after the update (valid values
    only; a value already stored wins); a version-1 tablet without them gets the defaults."""
    store = InMemorySessionStore()
    store.set_setting(VERSION_KEY, "1")
    store.set_setting("kiosk.voice_start_timeout_ms", "12000")  # already chosen: kept
    monkeypatch.setenv("QLQ_VOICE_DEVICE", " USB Audio ")
    monkeypatch.setenv("QLQ_VOICE_TRAILING_SILENCE_MS", "1400")
    monkeypatch.setenv("QLQ_VOICE_START_TIMEOUT_MS", "9000")
    loaded = load_settings(store)
    assert loaded.upgraded_from == 1 and store.get_setting(VERSION_KEY) == "2" and loaded.problems == ()
    s = loaded.settings
    assert (s.microphone, s.voice_trailing_silence_ms, s.voice_start_timeout_ms) == ("USB Audio", 1400, 12000)
    monkeypatch.setenv("QLQ_VOICE_TRAILING_SILENCE_MS", "2500")  # read once, by the step, never again
    assert load_settings(store).settings.voice_trailing_silence_ms == 1400

    other = InMemorySessionStore()
    other.set_setting(VERSION_KEY, "1")
    monkeypatch.setenv("QLQ_VOICE_TRAILING_SILENCE_MS", "50")  # outside 600..3000: not carried over
    monkeypatch.setenv("QLQ_VOICE_START_TIMEOUT_MS", "bientôt")
    monkeypatch.delenv("QLQ_VOICE_DEVICE")
    s = load_settings(other).settings
    assert (s.microphone, s.voice_trailing_silence_ms, s.voice_start_timeout_ms) == ("", 1000, 8000)
    assert other.get_setting("kiosk.voice_trailing_silence_ms") is None


def test_voice_settings_persist_and_are_clamped():
    store = InMemorySessionStore()
    chosen = KioskSettings().with_changes(
        microphone="Jabra Speak 410", voice_trailing_silence_ms=50, voice_start_timeout_ms=10_000
    )
    assert chosen.voice_trailing_silence_ms == 600  # never so short that "euh…" ends the turn
    save_settings(chosen, store)
    assert load_settings(store).settings == chosen


def test_settings_from_a_newer_kiosk_are_read_and_never_downgraded():
    store = InMemorySessionStore()
    store.set_setting(VERSION_KEY, "7")
    store.set_setting("kiosk.answer_beat_ms", "500")
    loaded = load_settings(store)
    assert loaded.upgraded_from is None and loaded.settings.answer_beat_ms == 500
    assert store.get_setting(VERSION_KEY) == "7"
    store.set_setting(VERSION_KEY, "sept")  # unreadable: no step runs, the values are still read
    assert load_settings(store).settings.answer_beat_ms == 500 and store.get_setting(VERSION_KEY) == "sept"


def test_damaged_settings_are_shown_to_the_nurse_at_start(qtbot):
    store = InMemorySessionStore()
    store.set_setting("kiosk.inactivity_seconds", "trois minutes")
    manager = TaskManager()
    try:
        vm = KioskViewModel(lambda: store, tasks=manager, audio=SilentAudioService(), clock=FakeClock(NOW))
        with qtbot.waitSignal(vm.message, timeout=5000) as blocker:
            vm.open()
        assert blocker.args == [
            "Réglage « Pause après inactivité » : la valeur enregistrée « trois minutes » "
            "n'est pas valable ; la valeur par défaut (180) est utilisée. "
            "Corrigez-la dans les réglages."
        ]
        assert vm.settings.inactivity_seconds == 180
    finally:
        manager.shutdown(wait=True)


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
    ran: list[tuple[int, str]] = []
    delivered: list[tuple[int, bool]] = []
    gui = QThread.currentThread()
    for n in range(20):
        tasks.run_in_background(
            # (the ignore: append's None is used on purpose, to note the call and then return n)
            lambda n=n: ran.append((n, threading.current_thread().name)) or n,  # type: ignore[func-returns-value]
            lambda n: delivered.append((n, QThread.currentThread() is gui)),
        )
    errors: list[BaseException] = []
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
    vm = SessionViewModel(
        session,
        store=store,
        tasks=tasks,
        audio=audio,
        clock=clock or FakeClock(NOW),
        settings=KioskSettings(**settings),
        device_id="test-device",
    )
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


def test_a_failed_save_keeps_the_saved_session_and_the_item(qtbot, tasks):
    store = InMemorySessionStore()
    vm, _ = _vm(store, tasks, answer_beat_ms=0)
    saved = vm.session
    errors: list[str] = []
    vm.error.connect(errors.append)
    store.fail_next("save")
    vm.answer(2)
    qtbot.waitUntil(lambda: bool(errors))
    assert vm.screen.item.number == 1 and vm.session.current_item == 1 and vm.session.status_of(1) is None
    assert vm.session is saved  # nothing to roll back: the new state was never adopted
    assert vm.answer(2)  # touching again saves it
    qtbot.waitUntil(lambda: vm.screen.item.number == 2)
    assert vm.session.answers()[1] == 2


def test_the_session_is_the_saved_state_and_an_abandon_builds_on_the_save_in_flight(qtbot, tasks):
    store = BlockingStore()
    vm, _ = _vm(store, tasks, answer_beat_ms=0)
    saved = vm.session
    assert vm.answer(3)
    assert vm.session is saved and vm.session.status_of(1) is None  # not on disk yet
    assert vm.abandon("interrompue par l'équipe soignante")  # the nurse closes it meanwhile
    store.gate.set()
    qtbot.waitUntil(lambda: screen_kind(vm) is ScreenKind.END)
    assert vm.session.phase is Phase.ABANDONED and vm.session.answers()[1] == 3  # the answer is not lost
    assert store.load(vm.session.id, FR).to_dict() == vm.session.to_dict() and store.pending_count() == 1


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
    assert screen_kind(vm) is ScreenKind.ITEM
    clock.tick(2)
    vm.tick()
    qtbot.waitUntil(lambda: screen_kind(vm) is ScreenKind.PAUSED)
    clock.tick(240)
    vm.tick()
    qtbot.waitUntil(lambda: screen_kind(vm) is ScreenKind.END)
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
