"""The audio service interface: play a prompt, stop, replay, set the volume and the speaking rate; tell when a
prompt has finished, and when it could not be heard.

Every sound the kiosk makes goes through one instance, so that text-to-speech packs, the live espeak-ng
fallback and the "do not listen while speaking" rule live in one place (like Anki's ``Player`` interface in
``aqt/sound.py``). A prompt has a stable ``prompt_id`` (:mod:`kiosk.domain.prompts` lists them) that names its
clip in the audio pack, and the exact ``text`` it says: a clip is played only if it was made from that text.

Signals, all on the GUI thread:

- ``started(prompt_id)``: ``play`` accepted the prompt (it may still be loading);
- ``audible(prompt_id)``: sound actually started on the output (the "audio indisponible" notice goes away);
- ``unavailable(prompt_id, reason)``: the prompt cannot be heard (no clip and no live voice, no output
  device, unreadable file); the text stays on screen and ``finished`` follows;
- ``finished(prompt_id)``: the prompt ended, was stopped, or could not be played. Always emitted, so a caller
  waiting for it (voice listening) never hangs.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class AudioService(QObject):
    """Base class of the audio backends. Playing is asynchronous: ``play`` returns at once."""

    started = Signal(str)  # prompt_id
    audible = Signal(str)  # prompt_id: sound is coming out
    unavailable = Signal(str, str)  # prompt_id, reason (English, for logs/support; never the prompt's text)
    finished = Signal(str)  # prompt_id; also emitted when a prompt is stopped or cannot be played

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._last_prompt: tuple[str, str] | None = None
        self._rate = 1.0

    def play(self, prompt_id: str, text: str) -> None:
        """Play one prompt, interrupting the one playing (the patient never hears two at once)."""
        raise NotImplementedError

    def replay(self) -> bool:
        """Play the last prompt again ("Répéter"); False when nothing was played yet."""
        if self._last_prompt is None:
            return False
        self.play(*self._last_prompt)
        return True

    @property
    def last_prompt(self) -> tuple[str, str] | None:
        return self._last_prompt

    def stop(self) -> None:
        """Stop the current prompt, if any."""
        raise NotImplementedError

    def set_volume(self, volume: float) -> None:
        """Set the output volume, 0.0 (mute) to 1.0."""
        raise NotImplementedError

    def volume(self) -> float:
        raise NotImplementedError

    def set_rate(self, rate: float) -> None:
        """Speaking rate, 1.0 = normal: picks the pack's clips of that rate (or speaks live at it)."""
        self._rate = min(max(float(rate), 0.25), 2.0)

    def rate(self) -> float:
        return self._rate

    def set_language(self, language: str) -> None:
        """Use the prompts of this language (the session's); backends without packs ignore it."""

    @property
    def playing(self) -> str | None:
        """The prompt id being played, or None."""
        raise NotImplementedError
