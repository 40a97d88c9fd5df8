"""Build the voice side of a session for the running kiosk: the microphone (by name), the Google recogniser with
credentials from the secret store (or the standard Google environment), and the reason voice is unavailable
when one of them is missing. QtCore only; called by the window when a voice session starts.

What the nurse sets in the admin screen (:class:`~kiosk.viewmodels.options.KioskSettings`, stored with the other
settings): the microphone by name (the list comes from the capture adapter; empty = the default input), the
trailing silence that ends a turn, and the start timeout. :func:`check_voice` (run off the GUI thread, on the
nurse side) lists the microphones and says, in French, why voice modes cannot be offered.

IT sets the recogniser per tablet with environment variables (bad values are logged and ignored):

- ``QLQ_VOICE_MODEL``: Google model (default ``latest_short``)
- ``QLQ_VOICE_ENDPOINT``: Google endpoint (default ``speech.googleapis.com``; EU: ``eu-speech.googleapis.com``)
- ``QLQ_VOICE_TIMEOUT_S``: timeout of one recognition stream (default 12)
- ``QLQ_VOICE_MAX_ANSWER_MS``: longest answer (default 12000)
- ``QLQ_VOICE_MIN_CONFIDENCE``: below this recogniser confidence the answer is confirmed (default 0.6)

``QLQ_VOICE_DEVICE``, ``QLQ_VOICE_TRAILING_SILENCE_MS`` and ``QLQ_VOICE_START_TIMEOUT_MS`` of earlier versions
are read once, by the settings upgrade to version 2 (:func:`~kiosk.viewmodels.options_upgrade.upgrade_to_v2`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from kiosk.audio.capture import CaptureSettings, CaptureUnavailable, MicrophoneCapture, input_devices, probe_microphone
from kiosk.audio.service import AudioService
from kiosk.domain.clock import Clock
from kiosk.secrets.interface import SecretStore
from kiosk.speech.endpointing import EndpointConfig
from kiosk.speech.google import GoogleSpeechSettings, recognizer_from_environment
from kiosk.speech.recognizer import RecognitionError, Recognizer
from kiosk.viewmodels.options import KioskSettings
from kiosk.viewmodels.session_vm import SessionViewModel
from kiosk.viewmodels.voice_vm import VoiceSettings, VoiceViewModel

log = logging.getLogger(__name__)


def settings_from_environment(env: Mapping[str, str] | None = None) -> tuple[GoogleSpeechSettings, VoiceSettings]:
    """(Google settings, voice settings) from ``QLQ_VOICE_*`` (see the module docstring)."""
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

    google = replace(
        google,
        model=env.get("QLQ_VOICE_MODEL", "").strip() or google.model,
        endpoint=env.get("QLQ_VOICE_ENDPOINT", "").strip() or google.endpoint,
        timeout_s=number("QLQ_VOICE_TIMEOUT_S", float, google.timeout_s),
    )
    candidate = replace(
        endpoint, max_utterance_ms=int(number("QLQ_VOICE_MAX_ANSWER_MS", int, endpoint.max_utterance_ms))
    )
    try:
        endpoint = candidate.checked()
    except ValueError as exc:
        log.warning("voice endpointing settings refused (%s): using the defaults", exc)
    confidence = number("QLQ_VOICE_MIN_CONFIDENCE", float, voice.min_confidence)
    voice = replace(
        voice, endpoint=endpoint, min_confidence=confidence if 0.0 <= confidence <= 1.0 else voice.min_confidence
    )
    return google, voice


def with_kiosk_settings(voice: VoiceSettings, kiosk: KioskSettings) -> VoiceSettings:
    """The nurse's trailing silence and start timeout over IT's voice settings."""
    endpoint = replace(
        voice.endpoint,
        trailing_silence_ms=kiosk.voice_trailing_silence_ms,
        start_timeout_ms=kiosk.voice_start_timeout_ms,
    )
    return replace(voice, endpoint=endpoint.checked())


@dataclass(frozen=True)
class VoiceAvailability:
    """What the nurse side shows about voice: the microphones there are, and why voice modes cannot be used;
    and the recogniser built with the secret store's key (read here, off the GUI thread: a keyring call may
    block on D-Bus), for the next voice session."""

    microphones: tuple[str, ...] = ()  # input device names (PortAudio's), for the admin screen's list
    reason: str | None = None  # French; None when voice modes can be offered
    recognizer: Recognizer | None = field(default=None, compare=False, repr=False)


def check_voice(settings: KioskSettings, secrets: SecretStore | None) -> VoiceAvailability:
    """List the inputs, open the chosen microphone and close it at once (nothing recorded), check that the
    recogniser has credentials. Blocks (PortAudio, the keyring): call it off the GUI thread."""
    try:
        microphones = tuple(input_devices())
    except CaptureUnavailable as exc:
        return VoiceAvailability((), exc.reason)
    reason = probe_microphone(CaptureSettings(settings.microphone))
    recognizer: Recognizer | None = None
    try:
        recognizer = recognizer_from_environment(secrets, settings_from_environment()[0])
    except RecognitionError as exc:
        reason = reason or exc.message
    return VoiceAvailability(microphones, reason, recognizer)


def build_voice(
    session: SessionViewModel,
    *,
    audio: AudioService,
    clock: Clock,
    secrets: SecretStore | None,
    kiosk_settings: KioskSettings | None = None,
    google: GoogleSpeechSettings | None = None,
    settings: VoiceSettings | None = None,
    recognizer: Recognizer | None = None,
) -> VoiceViewModel:
    """The voice side of one session. ``recognizer``: the one the nurse side's voice check built off the GUI
    thread; without it (no check ran) it is built here from the secret store or the Google environment."""
    kiosk_settings = kiosk_settings or session.settings
    env_google, env_settings = settings_from_environment()
    google = google or env_google
    settings = settings or with_kiosk_settings(env_settings, kiosk_settings)
    device_name = kiosk_settings.microphone
    reason: str | None = None
    if recognizer is None:
        try:
            recognizer = recognizer_from_environment(secrets, google)
        except RecognitionError as exc:
            log.info("voice unavailable: %s", exc.kind)
            reason = exc.message
    return VoiceViewModel(
        session,
        audio=audio,
        clock=clock,
        capture_factory=lambda: MicrophoneCapture(CaptureSettings(device_name)),
        recognizer=recognizer,
        unavailable_reason=reason,
        settings=settings,
    )
