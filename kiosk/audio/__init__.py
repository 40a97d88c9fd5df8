"""Audio output of the kiosk: every prompt the patient hears goes through ONE :class:`AudioService`."""

from kiosk.audio.service import AudioService
from kiosk.audio.silent import SilentAudioService

__all__ = ["AudioService", "SilentAudioService"]
