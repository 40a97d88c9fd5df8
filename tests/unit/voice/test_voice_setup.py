"""IT's recogniser settings from QLQ_VOICE_* variables (bad values fall back to the defaults); the nurse's
listening settings over them; what the nurse side is told about voice on this machine."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from kiosk.audio.capture import DEVICE_NOT_FOUND, NO_DEVICE, NO_PYAUDIO
from kiosk.secrets import MemorySecretStore, SecretName
from kiosk.speech.google import EU_ENDPOINT
from kiosk.viewmodels.options import KioskSettings
from kiosk.viewmodels.voice_setup import check_voice, settings_from_environment, with_kiosk_settings


def test_defaults_and_overrides() -> None:
    google, voice = settings_from_environment({})
    assert (google.model, google.endpoint, voice.endpoint.trailing_silence_ms) == (
        "latest_short",
        "speech.googleapis.com",
        1000,
    )
    google, voice = settings_from_environment(
        {
            "QLQ_VOICE_MODEL": "command_and_search",
            "QLQ_VOICE_ENDPOINT": EU_ENDPOINT,
            "QLQ_VOICE_MAX_ANSWER_MS": "15000",
            "QLQ_VOICE_MIN_CONFIDENCE": "0.75",
            "QLQ_VOICE_TIMEOUT_S": "8",
        }
    )
    assert (google.model, google.endpoint, google.timeout_s) == ("command_and_search", EU_ENDPOINT, 8)
    assert (voice.endpoint.max_utterance_ms, voice.min_confidence) == (15000, 0.75)


def test_bad_values_fall_back() -> None:
    _, voice = settings_from_environment({"QLQ_VOICE_MAX_ANSWER_MS": "50", "QLQ_VOICE_MIN_CONFIDENCE": "7"})
    assert voice.endpoint.max_utterance_ms == 12_000 and voice.min_confidence == 0.6
    google, _ = settings_from_environment({"QLQ_VOICE_TIMEOUT_S": "vite"})
    assert google.timeout_s == 12.0


def test_the_nurse_settings_set_the_endpointing() -> None:
    _, voice = settings_from_environment({"QLQ_VOICE_MAX_ANSWER_MS": "15000"})
    chosen = KioskSettings().with_changes(voice_trailing_silence_ms=1500, voice_start_timeout_ms=12_000)
    endpoint = with_kiosk_settings(voice, chosen).endpoint
    assert (endpoint.trailing_silence_ms, endpoint.start_timeout_ms, endpoint.max_utterance_ms) == (
        1500,
        12_000,
        15_000,
    )


def test_a_microphone_that_is_not_there_is_reported_in_french() -> None:
    """Voice modes are unavailable with the capture adapter's French reason (this machine has no sound card, or
    no input of that name)."""
    name = "Micro de la salle 12 (absent)"
    availability = check_voice(KioskSettings(microphone=name), None)
    assert availability.reason in {NO_DEVICE, NO_PYAUDIO, DEVICE_NOT_FOUND.format(name=name)}
    assert name not in availability.microphones


def test_the_check_builds_the_recogniser_from_the_secret_store(monkeypatch) -> None:
    """Off the GUI thread, with the key from the store; the microphone's reason comes first when both fail."""
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    secret = json.dumps(
        {
            "type": "service_account",
            "project_id": "clinic-test",
            "private_key_id": "k1",
            "private_key": pem,
            "client_email": "kiosk@clinic-test.iam.gserviceaccount.com",
            "token_uri": "https://oauth2.googleapis.com/token",
        }
    )
    with_key = check_voice(KioskSettings(), MemorySecretStore({SecretName.GOOGLE_CREDENTIALS: secret}))
    assert with_key.recognizer is not None
    without = check_voice(KioskSettings(), MemorySecretStore())
    assert without.recognizer is None and without.reason is not None
    if with_key.reason is None:  # a machine with a microphone: only the credentials are missing
        assert "identifiants Google absents" in without.reason
