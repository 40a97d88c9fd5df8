"""A voice session started from the nurse screen of the real window: the voice side is attached; on this
machine (no microphone, no Google credentials) it says why voice is unavailable and the patient answers by
touch, never stuck."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from kiosk.domain.session import Method, Mode
from kiosk.secrets import MemorySecretStore, SecretName
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
    assert window.voice.unavailable_reason is not None
    assert "identifiants Google absents" in window.voice.unavailable_reason
    kiosk.answer(3)
    assert session.session.records[1].current.method is Method.TOUCH
    close_kiosk(kiosk)


def _service_account_json() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "clinic-test",
            "private_key_id": "k1",
            "private_key": pem,
            "client_email": "kiosk-stt@clinic-test.iam.gserviceaccount.com",
            "token_uri": "https://oauth2.googleapis.com/token",
        }
    )


def test_the_google_credentials_come_from_the_injected_secret_store(qtbot, monkeypatch) -> None:
    """The window's voice set-up reads the key from the kiosk's secret store (given to the view model by the
    application): with it, the recogniser is built and what stops voice here is the missing microphone."""
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    secrets = MemorySecretStore({SecretName.GOOGLE_CREDENTIALS: _service_account_json()})
    kiosk = make_kiosk(qtbot, InMemorySessionStore(), secrets=secrets)
    kiosk.start(mode=Mode.VOICE_CONTINUOUS, audio=True)
    window = kiosk.window
    assert window.voice is not None and window.voice.unavailable_reason is None
    assert window.voice.recognizer is not None
    close_kiosk(kiosk)
