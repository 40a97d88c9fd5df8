"""Plays recorded prompts from an audio pack with QtMultimedia, or stays silent when a recording is missing.

An audio pack is a folder ``resources/audio/<lang>/<prompt_id>.wav`` (the voice issue will generate them with
text-to-speech). A missing file is not an error: the kiosk must work silently, so the prompt is logged by its id
only (never its text: it may name the patient's answer) and reported finished at once.

Prompts are short uncompressed WAV files, which is what QSoundEffect is made for (low latency, no decoder).
QMediaPlayer was used first and crashed natively about once in six plays on a machine without a sound card
(a segfault in a QtMultimedia/FFmpeg thread, seen in the test suite). Without an output device QSoundEffect
goes to its Error status, which ends the prompt at once: the kiosk then behaves as with a missing recording.
QtMultimedia is imported lazily, here only.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, QUrl

from kiosk.audio.service import AudioService

if TYPE_CHECKING:
    from PySide6.QtMultimedia import QSoundEffect

log = logging.getLogger(__name__)


class QtAudioService(AudioService):
    """QSoundEffect over a folder of WAV files."""

    def __init__(self, pack_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pack_dir = pack_dir
        self._effect: QSoundEffect | None = None  # made on the first recording played: QtMultimedia is slow to start
        self._volume = 1.0
        self._playing: str | None = None
        self._started = False  # the current effect has been seen playing (so "not playing" means it ended)

    def _ensure_effect(self) -> QSoundEffect:
        if self._effect is None:
            from PySide6.QtMultimedia import QSoundEffect

            effect = QSoundEffect(self)
            effect.setVolume(self._volume)
            effect.playingChanged.connect(self._on_playing_changed)
            effect.statusChanged.connect(self._on_status)
            self._error_status = QSoundEffect.Status.Error
            self._ready_status = QSoundEffect.Status.Ready
            self._effect = effect
        return self._effect

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
        effect = self._ensure_effect()
        self._started = False
        effect.setSource(QUrl.fromLocalFile(str(path)))
        if effect.status() == self._ready_status:
            effect.play()
        # else: play() once loaded (see _on_status), or end on Error

    def _end(self, prompt_id: str | None) -> None:
        if prompt_id is not None and self._playing == prompt_id:
            self._playing = None
            self.finished.emit(prompt_id)

    def _on_status(self) -> None:
        effect = self._effect
        if effect is None or self._playing is None:
            return
        if effect.status() == self._error_status:
            log.warning("audio prompt %s could not be played (no output device or unreadable file)", self._playing)
            self._end(self._playing)
        elif effect.status() == self._ready_status and not effect.isPlaying() and not self._started:
            effect.play()

    def _on_playing_changed(self) -> None:
        effect = self._effect
        if effect is None:
            return
        if effect.isPlaying():
            self._started = True
        elif self._started:
            self._end(self._playing)

    def stop(self) -> None:
        prompt_id = self._playing
        self._playing = None
        if self._effect is not None:
            self._effect.stop()
        if prompt_id is not None:
            self.finished.emit(prompt_id)

    def set_volume(self, volume: float) -> None:
        self._volume = min(max(volume, 0.0), 1.0)
        if self._effect is not None:
            self._effect.setVolume(self._volume)

    def volume(self) -> float:
        return self._volume

    @property
    def playing(self) -> str | None:
        return self._playing
