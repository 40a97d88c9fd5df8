"""A silent audio service: records what it was asked to play and reports each prompt as finished.

Used by the UI tests, the benchmarks and the autopilot, and by the app when audio is switched off, so the
screens run the very same code paths with or without a sound card.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from kiosk.audio.service import AudioService


class SilentAudioService(AudioService):
    """Plays nothing. ``played`` lists ``(prompt_id, text)`` in order; ``finished`` follows on the event loop."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.played: list[tuple[str, str]] = []
        self._volume = 1.0
        self._playing: str | None = None

    def play(self, prompt_id: str, text: str) -> None:
        if self._playing is not None:
            self.stop()
        self.played.append((prompt_id, text))
        self._last_prompt = (prompt_id, text)
        self._playing = prompt_id
        self.started.emit(prompt_id)
        # Asynchronous like a real player: the caller returns before "finished" arrives.
        QTimer.singleShot(0, lambda: self._end(prompt_id))

    def _end(self, prompt_id: str) -> None:
        if self._playing == prompt_id:
            self._playing = None
            self.finished.emit(prompt_id)

    def stop(self) -> None:
        prompt_id, self._playing = self._playing, None
        if prompt_id is not None:
            self.finished.emit(prompt_id)

    def set_volume(self, volume: float) -> None:
        self._volume = min(max(volume, 0.0), 1.0)

    def volume(self) -> float:
        return self._volume

    @property
    def playing(self) -> str | None:
        return self._playing

    @property
    def prompt_ids(self) -> list[str]:
        return [p for p, _ in self.played]
