"""Plays recorded prompts from an audio pack with QtMultimedia, or stays silent when a recording is missing.

An audio pack is a folder ``resources/audio/<lang>/<prompt_id>.wav`` (the voice issue will generate them with
text-to-speech). A missing file is not an error: the kiosk must work silently, so the prompt is logged by its id
only (never its text: it may name the patient's answer) and reported finished at once.

QtMultimedia is imported lazily, here only: without a sound card QMediaPlayer still walks Playing →
EndOfMedia in real time, so the kiosk's behaviour does not depend on the hardware (see platform-notes).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QTimer, QUrl

from kiosk.audio.service import AudioService

log = logging.getLogger(__name__)


class QtAudioService(AudioService):
    """QMediaPlayer + QAudioOutput over a folder of WAV files."""

    def __init__(self, pack_dir: Path, parent=None) -> None:
        super().__init__(parent)
        self._pack_dir = pack_dir
        self._player = None  # created on the first recording played: QtMultimedia is slow to start
        self._output = None
        self._volume = 1.0
        self._playing: str | None = None

    def _ensure_player(self):
        if self._player is None:
            from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer

            self._output = QAudioOutput(self)
            self._output.setVolume(self._volume)
            self._player = QMediaPlayer(self)
            self._player.setAudioOutput(self._output)
            self._player.mediaStatusChanged.connect(self._on_status)
            self._player.errorOccurred.connect(self._on_error)
            self._end_status = (QMediaPlayer.MediaStatus.EndOfMedia, QMediaPlayer.MediaStatus.InvalidMedia)
        return self._player

    def set_language(self, language: str) -> None:
        """Play the pack of this language: ``<packs>/<language>/`` next to the current one."""
        self._pack_dir = self._pack_dir.parent / language

    def play(self, prompt_id: str, text: str) -> None:
        self.stop()
        path = self._pack_dir / f"{prompt_id}.wav"
        self._playing = prompt_id
        self.started.emit(prompt_id)
        if not path.is_file():
            log.info("no recording for prompt %s: silent", prompt_id)
            QTimer.singleShot(0, lambda: self._end(prompt_id))
            return
        player = self._ensure_player()
        player.setSource(QUrl.fromLocalFile(str(path)))
        player.play()

    def _end(self, prompt_id: str | None) -> None:
        if prompt_id is not None and self._playing == prompt_id:
            self._playing = None
            self.finished.emit(prompt_id)

    def _on_status(self, status) -> None:
        if status in self._end_status:
            self._end(self._playing)

    def _on_error(self, _error, message: str) -> None:
        log.warning("audio prompt %s failed: %s", self._playing, message)
        self._end(self._playing)

    def stop(self) -> None:
        prompt_id = self._playing
        self._playing = None
        if self._player is not None:
            self._player.stop()
        if prompt_id is not None:
            self.finished.emit(prompt_id)

    def set_volume(self, volume: float) -> None:
        self._volume = min(max(volume, 0.0), 1.0)
        if self._output is not None:
            self._output.setVolume(self._volume)

    def volume(self) -> float:
        return self._volume

    @property
    def playing(self) -> str | None:
        return self._playing
