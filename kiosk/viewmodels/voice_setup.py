"""Build the voice side of a session for the running kiosk: the microphone (by name), the Google recogniser with
credentials from the secret store (or the standard Google environment), and the reason voice is unavailable
when one of them is missing. QtCore only; called by the window when a voice session starts.

IT sets the voice up per tablet with environment variables (bad values are logged and ignored):

- ``QLQ_VOICE_DEVICE``: input device name, or part of it (default: the default input)
- ``QLQ_VOICE_MODEL``: Google model (default ``latest_short``)
- ``QLQ_VOICE_ENDPOINT``: Google endpoint (default ``speech.googleapis.com``; EU: ``eu-speech.googleapis.com``)
- ``QLQ_VOICE_TIMEOUT_S``: timeout of one recognition stream (default 12)
- ``QLQ_VOICE_TRAILING_SILENCE_MS``: silence that ends the patient's turn, 200..5000 (default 1000)
- ``QLQ_VOICE_START_TIMEOUT_MS``: no speech within this: re-prompt, then touch (default 8000)
- ``QLQ_VOICE_MAX_ANSWER_MS``: longest answer (default 12000)
- ``QLQ_VOICE_MIN_CONFIDENCE``: below this recogniser confidence the answer is confirmed (default 0.6)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import replace

from kiosk.audio.capture import CaptureSettings, MicrophoneCapture
from kiosk.audio.service import AudioService
from kiosk.domain.clock import Clock
from kiosk.secrets.interface import SecretStore
from kiosk.speech.endpointing import EndpointConfig
from kiosk.speech.google import GoogleSpeechSettings, recognizer_from_environment
from kiosk.speech.recognizer import RecognitionError, Recognizer
from kiosk.viewmodels.session_vm import SessionViewModel
from kiosk.viewmodels.voice_vm import VoiceSettings, VoiceViewModel

log = logging.getLogger(__name__)


def settings_from_environment(env: Mapping[str, str] | None = None) -> tuple[str, GoogleSpeechSettings, VoiceSettings]:
    """(device name, Google settings, voice settings) from ``QLQ_VOICE_*`` (see the module docstring)."""
    env = os.environ if env is None else env
    google, endpoint, voice = GoogleSpeechSettings(), EndpointConfig(), VoiceSettings()

    def number(name: str, kind: type[int] | type[float], default: float) -> float:
        raw = env.get(name, "").strip()
        if not raw:
            return default
        try:
            return kind(raw)
        except ValueError:
            log.warning("%s=%r is not a number: using %s", name, raw, default)
            return default

    google = replace(google, model=env.get("QLQ_VOICE_MODEL", "").strip() or google.model,
                     endpoint=env.get("QLQ_VOICE_ENDPOINT", "").strip() or google.endpoint,
                     timeout_s=number("QLQ_VOICE_TIMEOUT_S", float, google.timeout_s))
    candidate = replace(endpoint,
                        trailing_silence_ms=int(number("QLQ_VOICE_TRAILING_SILENCE_MS", int,
                                                       endpoint.trailing_silence_ms)),
                        start_timeout_ms=int(number("QLQ_VOICE_START_TIMEOUT_MS", int, endpoint.start_timeout_ms)),
                        max_utterance_ms=int(number("QLQ_VOICE_MAX_ANSWER_MS", int, endpoint.max_utterance_ms)))
    try:
        endpoint = candidate.checked()
    except ValueError as exc:
        log.warning("voice endpointing settings refused (%s): using the defaults", exc)
    confidence = number("QLQ_VOICE_MIN_CONFIDENCE", float, voice.min_confidence)
    voice = replace(voice, endpoint=endpoint,
                    min_confidence=confidence if 0.0 <= confidence <= 1.0 else voice.min_confidence)
    return env.get("QLQ_VOICE_DEVICE", "").strip(), google, voice


def build_voice(session: SessionViewModel, *, audio: AudioService, clock: Clock, secrets: SecretStore | None,
                device_name: str | None = None, google: GoogleSpeechSettings | None = None,
                settings: VoiceSettings | None = None) -> VoiceViewModel:
    env_device, env_google, env_settings = settings_from_environment()
    device_name = env_device if device_name is None else device_name
    google, settings = google or env_google, settings or env_settings
    recognizer: Recognizer | None = None
    reason: str | None = None
    try:
        recognizer = recognizer_from_environment(secrets, google)
    except RecognitionError as exc:
        log.info("voice unavailable: %s", exc.kind)
        reason = exc.message
    return VoiceViewModel(session, audio=audio, clock=clock,
                          capture_factory=lambda: MicrophoneCapture(CaptureSettings(device_name)),
                          recognizer=recognizer, unavailable_reason=reason, settings=settings)
