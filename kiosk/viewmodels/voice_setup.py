"""Build the voice side of a session for the running kiosk: the microphone (by name), the Google recogniser with
credentials from the secret store (or the standard Google environment), and the reason voice is unavailable
when one of them is missing. QtCore only; called by the window when a voice session starts."""

from __future__ import annotations

import logging

from kiosk.audio.capture import CaptureSettings, MicrophoneCapture
from kiosk.audio.service import AudioService
from kiosk.secrets.interface import SecretStore
from kiosk.speech.google import GoogleSpeechSettings, recognizer_from_environment
from kiosk.speech.recognizer import RecognitionError, Recognizer
from kiosk.viewmodels.clock import Clock
from kiosk.viewmodels.session_vm import SessionViewModel
from kiosk.viewmodels.voice_vm import VoiceSettings, VoiceViewModel

log = logging.getLogger(__name__)


def build_voice(session: SessionViewModel, *, audio: AudioService, clock: Clock, secrets: SecretStore | None,
                device_name: str = "", google: GoogleSpeechSettings | None = None,
                settings: VoiceSettings | None = None) -> VoiceViewModel:
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
