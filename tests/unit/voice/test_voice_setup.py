"""IT's voice settings from QLQ_VOICE_* variables; bad values fall back to the defaults."""

from __future__ import annotations

from kiosk.speech.google import EU_ENDPOINT
from kiosk.viewmodels.voice_setup import settings_from_environment


def test_defaults_and_overrides() -> None:
    device, google, voice = settings_from_environment({})
    assert (device, google.model, google.endpoint, voice.endpoint.trailing_silence_ms) == (
        "", "latest_short", "speech.googleapis.com", 1000)
    device, google, voice = settings_from_environment({
        "QLQ_VOICE_DEVICE": "USB", "QLQ_VOICE_MODEL": "command_and_search", "QLQ_VOICE_ENDPOINT": EU_ENDPOINT,
        "QLQ_VOICE_TRAILING_SILENCE_MS": "1400", "QLQ_VOICE_START_TIMEOUT_MS": "10000",
        "QLQ_VOICE_MIN_CONFIDENCE": "0.75", "QLQ_VOICE_TIMEOUT_S": "8"})
    assert (device, google.model, google.endpoint, google.timeout_s) == ("USB", "command_and_search", EU_ENDPOINT, 8)
    assert (voice.endpoint.trailing_silence_ms, voice.endpoint.start_timeout_ms, voice.min_confidence) == (
        1400, 10000, 0.75)


def test_bad_values_fall_back() -> None:
    _, _, voice = settings_from_environment({"QLQ_VOICE_TRAILING_SILENCE_MS": "50", "QLQ_VOICE_MIN_CONFIDENCE": "7"})
    assert voice.endpoint.trailing_silence_ms == 1000 and voice.min_confidence == 0.6
    _, google, voice = settings_from_environment({"QLQ_VOICE_TIMEOUT_S": "vite", "QLQ_VOICE_START_TIMEOUT_MS": "x"})
    assert google.timeout_s == 12.0 and voice.endpoint.start_timeout_ms == 8000
