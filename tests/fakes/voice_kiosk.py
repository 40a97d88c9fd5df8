"""A voice session on screen for UI tests, screenshots and the latency benchmark: the real SessionView with the
voice widgets attached, the real VoiceViewModel and listening pipeline (Silero endpointing on espeak-ng audio
from the fake capture), a scripted recogniser, silent audio, an in-memory store and a fake clock."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from kiosk.audio.capture import PcmCapture
from kiosk.audio.silent import SilentAudioService
from kiosk.domain.clock import FakeClock
from kiosk.domain.instrument import load_instrument
from kiosk.domain.session import Mode
from kiosk.speech.endpointing import EndpointConfig, float_to_pcm16
from kiosk.speech.fake import Fail, FakeRecognizer, Say
from kiosk.storage.fake import InMemorySessionStore
from kiosk.tasks import TaskManager
from kiosk.ui import theme
from kiosk.ui.patient_screens import SessionView
from kiosk.ui.voice_panel import ConfirmationPanel, VoicePanel, attach_voice
from kiosk.viewmodels.options import KioskSettings
from kiosk.viewmodels.session_vm import SessionViewModel
from kiosk.viewmodels.start_form import StartForm, build_session
from kiosk.viewmodels.voice_vm import VoiceSettings, VoiceViewModel
from tests.fakes.voice_clips import compose

_SPEECH: bytes | None = None


def spoken_answer_pcm() -> bytes:
    """1 s of silence, an espeak-ng "un peu", then silence: what the fake microphone 'hears' each turn."""
    global _SPEECH  # noqa: PLW0603 - built once per process
    if _SPEECH is None:
        samples, _, _ = compose([("un peu", 0)], lead_s=0.6, tail_s=0.2)
        _SPEECH = float_to_pcm16(samples)
    return _SPEECH


@dataclass
class VoiceKiosk:
    view: SessionView
    vm: SessionViewModel
    voice: VoiceViewModel
    recognizer: FakeRecognizer
    audio: SilentAudioService
    store: InMemorySessionStore
    tasks: TaskManager
    panel: VoicePanel
    confirm: ConfirmationPanel
    captures: list[PcmCapture]
    window: QWidget


def make_voice_kiosk(
    script: Iterable[Say | Fail] = (),
    *,
    mode: Mode = Mode.VOICE_CONTINUOUS,
    audio: bool = True,
    unavailable: str | None = None,
    capture_fail: str | None = None,
    language: str = "fr",
    pcm: Callable[[], bytes] = spoken_answer_pcm,
    with_recognizer: bool = True,
    beat_ms: int = 0,
    realtime: bool = False,
) -> VoiceKiosk:
    instrument = load_instrument("qlq-c30", language)
    form = StartForm(
        initials="J D",
        birth_date="07/03/1952",
        session_date=FakeClock().today(),
        mode=mode,
        audio_enabled=audio,
        language=language,
        consent_answers=True,
        consent_voice=True,
    )
    clock = FakeClock()
    session, errors = build_session(
        form, instrument, session_id="6f1c2a52-4c1e-4a55-9a57-0c3b1a0e9d11", now=clock.now(), today=clock.today()
    )
    assert session is not None, errors
    store = InMemorySessionStore()
    tasks = TaskManager()
    silent = SilentAudioService()
    vm = SessionViewModel(
        session,
        store=store,
        tasks=tasks,
        audio=silent,
        clock=clock,
        settings=KioskSettings(answer_beat_ms=beat_ms),
        device_id="kiosk-test",
    )
    recognizer = FakeRecognizer(script)
    captures: list[PcmCapture] = []

    def capture() -> PcmCapture:
        c = PcmCapture(pcm(), fail=capture_fail, realtime=realtime)
        captures.append(c)
        return c

    voice = VoiceViewModel(
        vm,
        audio=silent,
        clock=clock,
        capture_factory=capture,
        recognizer=recognizer if with_recognizer else None,
        unavailable_reason=unavailable,
        settings=VoiceSettings(endpoint=EndpointConfig(start_timeout_ms=3000)),
    )
    prefs = theme.DisplayPrefs()
    view = SessionView(vm, prefs)
    panel, confirm = attach_voice(view.items, voice)
    view.setStyleSheet(theme.style_sheet(prefs.state))
    view.resize(1280, 800)
    view.show()
    view.start()
    voice.start()
    view.destroyed.connect(voice.shutdown)  # the test's end: no capture thread outlives the view model
    return VoiceKiosk(view, vm, voice, recognizer, silent, store, tasks, panel, confirm, captures, view)
