"""Audio output of the kiosk: every prompt the patient hears goes through ONE :class:`AudioService`.

Submodules without Qt (``pack``, ``espeak``, ``google_tts``, ``build``) can be imported on a machine without
PySide6 (``qlq-kiosk prepare-audio``), so the Qt classes below are imported only when asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiosk.audio.service import AudioService
    from kiosk.audio.silent import SilentAudioService

__all__ = ["AudioService", "SilentAudioService"]


def __getattr__(name: str) -> Any:
    if name == "AudioService":
        from kiosk.audio.service import AudioService

        return AudioService
    if name == "SilentAudioService":
        from kiosk.audio.silent import SilentAudioService

        return SilentAudioService
    raise AttributeError(name)
