"""The kiosk's audio output: clips from the audio pack, espeak-ng live when a clip is missing, else silence
with a visible "audio indisponible" — never a hang, never a crash.

For each prompt, in order:

1. the pack's clip for this prompt id whose text hash equals the text to speak, at the nurse's speaking rate;
2. the same at the nearest other rate the pack has (a Google voice at another pace is better than espeak-ng at
   the right pace; but an espeak-ng clip at another pace is not: then step 3 speaks it at the right one);
3. espeak-ng, live, at the nurse's rate (synthesised on a worker thread, never the GUI thread; cached for the
   life of the service so "Répéter" is instant), when espeak-ng is installed;
4. nothing: ``unavailable`` then ``finished`` at once.

A clip made for another wording is STALE (:meth:`kiosk.audio.pack.AudioPack.lookup`) and never played.
Prompts are logged by id only, never by text (a confirmation question names the patient's answer).

Prompts are short uncompressed WAV files, which is what QSoundEffect is made for (low latency, no decoder).
QMediaPlayer was used first and crashed natively about once in six plays on a machine without a sound card
(a segfault in a QtMultimedia/FFmpeg thread, seen in the test suite). Without an output device QSoundEffect
goes to its Error status: that prompt is reported ``unavailable`` and ends at once. A watchdog ends any prompt
that has not reported its end by its clip's length + 2 s, so a stuck backend cannot stall the session.
QtMultimedia is imported lazily, here only.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import wave
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal

from kiosk.audio.pack import DEFAULT_RATE, AudioPack, PackError, wav_info
from kiosk.audio.service import AudioService
from kiosk.audio.synth import EspeakSynthesizer, SynthesisError

if TYPE_CHECKING:
    from PySide6.QtMultimedia import QSoundEffect

log = logging.getLogger(__name__)

WATCHDOG_MARGIN_MS = 2000
LIVE_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class PlaybackSource:
    """Where the current prompt's sound comes from: ``pack``, ``pack-other-rate``, ``espeak-live`` or ``none``;
    ``reason`` says why it could not be heard, if it could not (then ``unavailable`` was emitted)."""

    kind: str
    path: Path | None = None
    reason: str = ""


class QtAudioService(AudioService):
    """QSoundEffect over an audio pack (``pack_dir`` = ``<packs root>/<language>``), with live espeak-ng."""

    _live_done = Signal(int, str, str)  # generation, wav path ("" on failure), error

    def __init__(
        self,
        pack_dir: Path,
        *,
        rate: float = DEFAULT_RATE,
        live: EspeakSynthesizer | bool | None = True,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._pack_dir = pack_dir
        self._pack: AudioPack | None = None
        self._rate = rate
        if live is True:
            try:
                live = EspeakSynthesizer(timeout=LIVE_TIMEOUT_S)
            except SynthesisError:
                live = None
        self._live: EspeakSynthesizer | None = live or None
        self._files = _LiveFiles()
        self._effect: QSoundEffect | None = None  # made on the first clip played: QtMultimedia is slow to start
        self._volume = 1.0
        self._playing: str | None = None
        self._generation = 0
        self._started = False  # the current effect has been seen playing (so "not playing" means it ended)
        self.source = PlaybackSource("none")
        self._watchdog = QTimer(self)
        self._watchdog.setSingleShot(True)
        self._watchdog.timeout.connect(self._on_watchdog)
        self._live_done.connect(self._on_live_done, Qt.ConnectionType.QueuedConnection)
        weakref.finalize(self, self._files.cleanup)  # also runs at interpreter exit

    # ------------------------------------------------------------------ configuration
    @property
    def live_available(self) -> bool:
        return self._live is not None

    def pack(self) -> AudioPack:
        """The current language's pack (loaded once; a damaged manifest is logged and treated as empty)."""
        if self._pack is None:
            try:
                self._pack = AudioPack.load(self._pack_dir)
            except PackError as exc:
                log.error("audio pack unusable, prompts will be spoken live or not at all: %s", exc)
                self._pack = AudioPack(self._pack_dir, self._pack_dir.name)
        return self._pack

    def set_language(self, language: str) -> None:
        """Play the pack of this language: ``<packs>/<language>/`` next to the current one."""
        target = self._pack_dir.parent / language
        if target != self._pack_dir:
            self._pack_dir = target
            self._pack = None

    @property
    def language(self) -> str:
        return self._pack_dir.name

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

    # ------------------------------------------------------------------ playing
    def play(self, prompt_id: str, text: str) -> None:
        self.stop()
        self._generation += 1
        self._playing = prompt_id
        self._last_prompt = (prompt_id, text)
        self.started.emit(prompt_id)
        pack = self.pack()
        lookup = pack.lookup(prompt_id, text, rate=self._rate)
        if lookup.ok and lookup.path is not None:
            self.source = PlaybackSource("pack", lookup.path)
            self._play_file(lookup.path)
            return
        nearest = pack.lookup(prompt_id, text, rate=self._rate, any_rate=True)
        same_voice_live = self._live is not None and nearest.clip is not None and nearest.clip.engine == "espeak"
        if nearest.ok and nearest.path is not None and not same_voice_live:
            self.source = PlaybackSource("pack-other-rate", nearest.path)
            self._play_file(nearest.path)
            return
        reason = f"no clip in the pack ({lookup.status.value})"
        if self._live is not None:
            log.info("prompt %s: %s, speaking it live with espeak-ng", prompt_id, reason)
            self.source = PlaybackSource("espeak-live", reason=reason)
            self._speak_live(text)
            return
        self.source = PlaybackSource("none")
        self._unavailable(prompt_id, f"{reason} and espeak-ng is not installed")

    def _speak_live(self, text: str) -> None:
        assert self._live is not None
        live = self._live
        key = hashlib.sha256(
            f"{self.language}|{self._rate}|{live.voice_for(self.language, None)}|{text}".encode()
        ).hexdigest()[:32]
        path = self._files.directory() / f"{key}.wav"
        generation = self._generation
        if path.is_file():
            self._on_live_done(generation, str(path), "")
            return
        language, rate, signal = self.language, self._rate, self._live_done

        def work() -> None:
            try:
                tmp = path.with_suffix(".part")
                live.synthesize_to(tmp, text, language=language, voice=None, rate=rate)
                tmp.replace(path)
            except (SynthesisError, OSError) as exc:
                signal.emit(generation, "", str(exc))
                return
            signal.emit(generation, str(path), "")

        self._files.executor().submit(work)
        # The GUI never waits on espeak-ng: if it is stuck, the prompt ends as unavailable.
        self._watchdog.start(round(LIVE_TIMEOUT_S * 1000) + WATCHDOG_MARGIN_MS)

    def _on_live_done(self, generation: int, path: str, error: str) -> None:
        if generation != self._generation or self._playing is None:
            return  # a newer prompt replaced this one: its sound must never come out
        if not path:
            self._unavailable(self._playing, f"espeak-ng failed: {error}")
            return
        self._play_file(Path(path))

    def _play_file(self, path: Path) -> None:
        try:
            duration_ms = wav_info(path).duration_ms
        except (OSError, EOFError, wave.Error) as exc:
            assert self._playing is not None
            self._unavailable(self._playing, f"unreadable clip {path.name}: {exc}")
            return
        effect = self._ensure_effect()
        self._started = False
        self._watchdog.start(duration_ms + WATCHDOG_MARGIN_MS)
        effect.setSource(QUrl.fromLocalFile(str(path)))
        if effect.status() == self._ready_status:
            effect.play()
        elif effect.status() == self._error_status:
            self._on_status()
        # else: play() once loaded (see _on_status), or end on Error

    def _unavailable(self, prompt_id: str, reason: str) -> None:
        log.warning("audio prompt %s cannot be heard: %s", prompt_id, reason)
        self.source = PlaybackSource(self.source.kind, self.source.path, reason)
        generation = self._generation
        self.unavailable.emit(prompt_id, reason)
        # finished follows on the event loop, like a real end of playback (callers connect after play())
        QTimer.singleShot(0, self, lambda: self._end(prompt_id, generation))  # cancelled if the service goes

    def _end(self, prompt_id: str | None, generation: int | None = None) -> None:
        if generation is not None and generation != self._generation:
            return
        if prompt_id is not None and self._playing == prompt_id:
            self._playing = None
            self._watchdog.stop()
            self.finished.emit(prompt_id)

    def _on_status(self) -> None:
        effect = self._effect
        if effect is None or self._playing is None:
            return
        if effect.status() == self._error_status:
            self._watchdog.stop()
            self._unavailable(self._playing, "no audio output device, or the clip could not be decoded")
        elif effect.status() == self._ready_status and not effect.isPlaying() and not self._started:
            effect.play()

    def _on_playing_changed(self) -> None:
        effect = self._effect
        if effect is None or self._playing is None:
            return
        if effect.isPlaying():
            self._started = True
            self.audible.emit(self._playing)
        elif self._started:
            self._end(self._playing)

    def _on_watchdog(self) -> None:
        if self._playing is not None:
            prompt_id = self._playing
            log.warning("audio prompt %s did not end in time: stopped", prompt_id)
            if self._effect is not None:
                self._effect.stop()
            if self.source.kind == "espeak-live" and not self._started:
                self._unavailable(prompt_id, "espeak-ng took too long")
            else:
                self._end(prompt_id)

    def stop(self) -> None:
        prompt_id = self._playing
        self._playing = None
        self._generation += 1  # a live synthesis still running for the old prompt is ignored when it lands
        self._watchdog.stop()
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


class _LiveFiles:
    """The live voice's worker thread and clip cache (a private temp folder, 0700), removed with the service."""

    def __init__(self) -> None:
        self._dir: Path | None = None
        self._executor: ThreadPoolExecutor | None = None

    def directory(self) -> Path:
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="qlq-live-tts-"))
        return self._dir

    def executor(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-tts")
        return self._executor

    def cleanup(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
