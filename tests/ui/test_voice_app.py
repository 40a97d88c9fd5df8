"""A voice session started from the nurse screen of the real window: the voice side is attached; on this
machine (no microphone, no Google credentials) it says why voice is unavailable and the patient answers by
touch, never stuck."""

from __future__ import annotations

from kiosk.domain.session import Method, Mode
from kiosk.storage.fake import InMemorySessionStore
from kiosk.viewmodels.screens import ScreenKind
from kiosk.viewmodels.voice_vm import VoiceState
from tests.ui.kiosk_harness import close_kiosk, make_kiosk


def test_a_voice_session_without_credentials_shows_unavailable_and_goes_on_by_touch(qtbot, monkeypatch) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    kiosk = make_kiosk(qtbot, InMemorySessionStore())
    kiosk.start(mode=Mode.VOICE_CONTINUOUS, audio=True)
    window = kiosk.window
    assert window.voice is not None
    session = window.session
    assert session is not None and session.screen.kind is ScreenKind.CHECK
    session.record_check(audio_ok=True, microphone_ok=True)
    kiosk.settle()
    kiosk.to_items()
    qtbot.waitUntil(lambda: window.voice.state is VoiceState.UNAVAILABLE, timeout=5000)
    assert "identifiants Google absents" in window.voice.unavailable_reason
    kiosk.answer(3)
    assert session.session.records[1].current.method is Method.TOUCH
    close_kiosk(kiosk)
