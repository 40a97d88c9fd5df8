"""The voice settings on the nurse side: voice modes shown unavailable with the French reason (no microphone,
no credentials), the microphone chosen by name from the capture adapter's list, the trailing silence and the
start timeout set in the admin screen, kept in the store, and used by the next voice session."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from kiosk.domain.session import Mode
from kiosk.speech.fake import FakeRecognizer
from kiosk.speech.recognizer import Recognizer
from kiosk.storage.fake import InMemorySessionStore
from kiosk.viewmodels.options import KioskSettings, load_settings
from kiosk.viewmodels.voice_setup import VoiceAvailability
from tests.ui.kiosk_harness import PIN, close_kiosk, make_kiosk

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
NO_MIC = "Aucun microphone n'est branché sur la tablette."


class FakeVoiceCheck:
    """Stands in for ``voice_setup.check_voice`` (PortAudio + keyring): what it was asked, what it answers."""

    def __init__(self, microphones: tuple[str, ...] = (), reason: str | None = None) -> None:
        self.microphones, self.reason = microphones, reason
        self.recognizer: Recognizer | None = None
        self.asked: list[str] = []  # the microphone name of each check

    def __call__(self, settings: KioskSettings, _secrets: object) -> VoiceAvailability:
        self.asked.append(settings.microphone)
        return VoiceAvailability(self.microphones, self.reason, self.recognizer)


def open_admin(kiosk) -> None:
    kiosk.window.request_pin("admin")
    kiosk.enter_pin(PIN)
    assert kiosk.window.current_page() is kiosk.window.admin


def test_no_microphone_shows_voice_modes_unavailable_with_the_reason(qtbot) -> None:
    check = FakeVoiceCheck(reason=NO_MIC)
    kiosk = make_kiosk(qtbot, InMemorySessionStore(), voice_check=check)
    kiosk.settle()
    nurse = kiosk.window.nurse
    nurse.consent_voice.setChecked(True)  # even with the patient's consent
    assert not nurse.mode_buttons[Mode.VOICE_CONTINUOUS].isEnabled()
    assert not nurse.mode_buttons[Mode.VOICE_ON_DEMAND].isEnabled()
    assert nurse.mode_buttons[Mode.TOUCH].isEnabled() and nurse.selected_mode() is Mode.TOUCH
    assert nurse.voice_unavailable.isVisible()
    assert nurse.voice_unavailable.text() == f"Modes vocaux indisponibles : {NO_MIC}"
    assert nurse.mode_buttons[Mode.VOICE_CONTINUOUS].toolTip() == NO_MIC
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert kiosk.window.grab().save(str(SHOTS / "02-nurse-voice-unavailable.png"))
    # a voice session cannot be started behind the buttons' back either
    errors: list[dict] = []
    kiosk.vm.form_errors.connect(errors.append)
    kiosk.fill_form(mode=Mode.VOICE_CONTINUOUS)
    form = replace(nurse.form(), mode=Mode.VOICE_CONTINUOUS)
    assert not kiosk.vm.start_session(form)
    assert errors[-1] == {"mode": f"Modes vocaux indisponibles : {NO_MIC}"}
    # the microphone comes back: the next check offers the voice modes again
    check.reason, check.microphones = None, ("USB Audio Device",)
    kiosk.vm.check_voice()
    kiosk.settle()
    assert nurse.mode_buttons[Mode.VOICE_CONTINUOUS].isEnabled() and not nurse.voice_unavailable.isVisible()
    close_kiosk(kiosk)


def test_admin_screen_chooses_the_microphone_and_timings_and_they_persist(qtbot) -> None:
    store = InMemorySessionStore()
    check = FakeVoiceCheck(microphones=("USB Audio Device", "Jabra Speak 410 USB"))
    kiosk = make_kiosk(qtbot, store, voice_check=check, stored_settings=True)
    kiosk.settle()
    open_admin(kiosk)
    kiosk.settle()
    admin = kiosk.window.admin
    names = [admin.microphone.itemText(i) for i in range(admin.microphone.count())]
    assert names == ["Micro par défaut de la tablette", "USB Audio Device", "Jabra Speak 410 USB"]
    assert admin.microphone.currentData() == "" and admin.trailing_silence.value() == 1.0
    assert admin.start_timeout.value() == 8
    admin.microphone.setCurrentIndex(admin.microphone.findData("Jabra Speak 410 USB"))
    admin.trailing_silence.setValue(1.4)
    admin.start_timeout.setValue(12)
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert kiosk.window.height() == 800  # the page still fits the tablet's screen
    assert kiosk.window.grab().save(str(SHOTS / "12-admin-voice.png"))
    kiosk.click(admin.save_button)
    s = kiosk.vm.settings
    assert (s.microphone, s.voice_trailing_silence_ms, s.voice_start_timeout_ms) == (
        "Jabra Speak 410 USB",
        1400,
        12_000,
    )
    assert check.asked[-1] == "Jabra Speak 410 USB"  # the new microphone is checked at once
    stored = load_settings(store).settings  # what the next start reads
    assert (stored.microphone, stored.voice_trailing_silence_ms, stored.voice_start_timeout_ms) == (
        "Jabra Speak 410 USB",
        1400,
        12_000,
    )
    close_kiosk(kiosk)

    # unplugged since: the chosen microphone stays chosen, marked, and the reason is shown
    again = make_kiosk(
        qtbot,
        store,
        voice_check=FakeVoiceCheck(reason="Le microphone « Jabra Speak 410 USB » est introuvable."),
        stored_settings=True,
    )
    again.settle()
    open_admin(again)
    again.settle()
    admin = again.window.admin
    assert admin.microphone.currentText() == "Jabra Speak 410 USB (non branché)"
    assert admin.microphone.currentData() == "Jabra Speak 410 USB"
    assert "introuvable" in admin.voice_reason.text() and admin.voice_reason.isVisible()
    close_kiosk(again)


def test_the_next_voice_session_listens_with_the_nurse_settings(qtbot, monkeypatch) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    settings = KioskSettings(answer_beat_ms=0, voice_trailing_silence_ms=1500, voice_start_timeout_ms=15_000)
    kiosk = make_kiosk(qtbot, InMemorySessionStore(), settings=settings)
    kiosk.start(mode=Mode.VOICE_CONTINUOUS, audio=True)
    endpoint = kiosk.window.voice.settings.endpoint
    assert (endpoint.trailing_silence_ms, endpoint.start_timeout_ms) == (1500, 15_000)
    close_kiosk(kiosk)


class GuiThreadForbiddenStore:
    """A secret store that records from which thread it is read (a keyring call may block on D-Bus)."""

    def __init__(self) -> None:
        self.reads_on_gui_thread = 0

    def get(self, _name):
        if threading.current_thread() is threading.main_thread():
            self.reads_on_gui_thread += 1
        return None

    def set(self, _name, _value) -> None: ...

    def delete(self, _name) -> None: ...


def test_the_voice_session_uses_the_recogniser_the_check_built_off_the_gui_thread(qtbot) -> None:
    recognizer = FakeRecognizer([])
    check = FakeVoiceCheck(microphones=("USB Audio Device",))
    check.recognizer = recognizer
    secrets = GuiThreadForbiddenStore()
    kiosk = make_kiosk(qtbot, InMemorySessionStore(), voice_check=check, secrets=secrets)
    kiosk.settle()
    kiosk.start(mode=Mode.VOICE_CONTINUOUS, audio=True)
    assert kiosk.window.voice.recognizer is recognizer and kiosk.window.voice.unavailable_reason is None
    assert secrets.reads_on_gui_thread == 0
    close_kiosk(kiosk)
