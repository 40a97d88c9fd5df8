"""The audio service interface: play a prompt, stop, set the volume; tell when a prompt has finished.

Every sound the kiosk makes goes through one instance, so that the voice issue can plug text-to-speech packs
and a "do not listen while speaking" rule in one place (like Anki's ``Player`` interface in ``aqt/sound.py``).
A prompt has a stable ``prompt_id`` (``item-05``, ``intro``, ``check-audio``...) that names its recorded file,
and the ``text`` it says, so a backend without a recording can synthesise it or at least log it.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class AudioService(QObject):
    """Base class of the audio backends. Playing is asynchronous: ``play`` returns at once."""

    started = Signal(str)  # prompt_id
    finished = Signal(str)  # prompt_id; also emitted when a prompt is stopped or cannot be played

    def play(self, prompt_id: str, text: str) -> None:
        """Play one prompt, interrupting the one playing (the patient never hears two at once)."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop the current prompt, if any."""
        raise NotImplementedError

    def set_volume(self, volume: float) -> None:
        """Set the output volume, 0.0 (mute) to 1.0."""
        raise NotImplementedError

    def volume(self) -> float:
        raise NotImplementedError

    def set_language(self, language: str) -> None:
        """Use the prompts of this language (the session's); backends without packs ignore it."""

    @property
    def playing(self) -> str | None:
        """The prompt id being played, or None."""
        raise NotImplementedError
