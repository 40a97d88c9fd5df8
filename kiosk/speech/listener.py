"""One listening turn, from the microphone to the recogniser's result, on worker threads (never the GUI's).

:class:`ListeningTurn` opens the capture, runs the endpointing on each chunk in the capture's thread (Silero:
~0.15 ms per 32 ms frame), reports the level, and from the start of speech streams the audio (with ~300 ms of
pre-roll, so the first syllable is not cut) to the recogniser on its own thread. When the endpointing says
the turn is over (trailing silence, maximum length) the audio stream ends, the capture stops, and the final
result comes back. Every outcome is one callback: ``on_result``, ``on_no_speech`` (start timeout),
``on_error`` (the recogniser failed: :class:`RecognitionError`; the microphone failed:
:class:`CaptureUnavailable`). Callbacks run on worker threads: the view model turns them into queued Qt
signals. Nothing is written to disk.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kiosk.audio.capture import NO_AUDIO, AudioCapture, CaptureUnavailable
from kiosk.speech.endpointing import EndpointConfig, Endpointer, EndpointEvent, SileroDetector, SpeechDetector, level_of
from kiosk.speech.recognizer import RecognitionError, RecognitionRequest, RecognitionResult, Recognizer

log = logging.getLogger(__name__)

PRE_ROLL_CHUNKS = 3  # 300 ms of audio before the detected start goes to the recogniser too
SILENT_MIC_GRACE_S = 2.0  # no chunk at all this long after the start timeout: the microphone is dead


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class TurnTiming:
    """Wall-clock times of a turn (UTC). Speech times are listen start + audio position."""

    listen_started_at: datetime
    speech_start_at: datetime | None
    speech_end_at: datetime | None
    result_at: datetime | None
    decision_perf: float | None  # time.perf_counter() when the endpointing decided the turn was over
    speech_start_ms: int | None = None  # audio positions from the start of listening
    speech_end_ms: int | None = None


@dataclass
class TurnCallbacks:
    on_level: Callable[[float], None] = lambda _level: None
    on_speech_start: Callable[[], None] = lambda: None
    on_speech_end: Callable[[], None] = lambda: None
    on_interim: Callable[[str], None] = lambda _text: None
    on_result: Callable[[RecognitionResult, TurnTiming], None] = lambda _r, _t: None
    on_no_speech: Callable[[TurnTiming], None] = lambda _t: None
    on_error: Callable[[Exception, TurnTiming], None] = lambda _e, _t: None


_END = object()


class ListeningTurn:
    """Listen once. ``start`` returns at once; exactly one of on_result/on_no_speech/on_error follows, unless
    :meth:`cancel` was called first (then nothing follows)."""

    def __init__(
        self,
        capture: AudioCapture,
        recognizer: Recognizer,
        request: RecognitionRequest,
        callbacks: TurnCallbacks,
        *,
        config: EndpointConfig | None = None,
        detector: SpeechDetector | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._capture = capture
        self._recognizer = recognizer
        self._request = request
        self._cb = callbacks
        self._config = (config or EndpointConfig()).checked()
        self._endpointer = Endpointer(detector or SileroDetector(), self._config)
        self._clock = clock
        self._events: queue.Queue[EndpointEvent | str] = queue.Queue()
        self._audio: queue.Queue[bytes | object] = queue.Queue()
        self._pre_roll: deque[bytes] = deque(maxlen=PRE_ROLL_CHUNKS)
        self._streaming = False
        self._cancelled = threading.Event()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._started_at = clock()
        self._decision_perf: float | None = None
        self._start_seen_at: datetime | None = None  # wall clock when the endpointing saw the start / the end
        self._end_seen_at: datetime | None = None
        self._thread: threading.Thread | None = None

    # -- the capture thread
    def _on_chunk(self, chunk: bytes) -> None:
        if self._stopped.is_set():
            return
        self._cb.on_level(level_of(chunk))
        ended = False
        with self._lock:
            events = self._endpointer.feed(chunk)
            for event in events:
                if event.kind == "speech_start":
                    self._start_seen_at = self._clock()
                    self._streaming = True
                    for early in self._pre_roll:
                        self._audio.put(early)
                    self._pre_roll.clear()
            if self._streaming:
                self._audio.put(chunk)
            else:
                self._pre_roll.append(chunk)
            for event in events:
                if event.kind in ("speech_end", "max_length", "no_speech"):
                    self._decision_perf = time.perf_counter()
                    self._end_seen_at = self._clock()
                    self._stopped.set()
                    if self._streaming:
                        self._audio.put(_END)
                        ended = True
                self._events.put(event)
        if ended:
            self._cb.on_speech_end()  # "Je réfléchis…" as soon as the endpointing ends the turn

    def force_end(self) -> None:
        """End the turn now (the patient released the microphone button): close what was heard."""
        with self._lock:
            if self._stopped.is_set():
                return
            events = self._endpointer.finish()
            self._decision_perf = time.perf_counter()
            self._end_seen_at = self._clock()
            self._stopped.set()
            streaming = self._streaming
            if streaming:
                self._audio.put(_END)
            for event in events:
                self._events.put(event)
        if streaming:
            self._cb.on_speech_end()

    # -- the turn's worker thread
    def _audio_stream(self) -> Iterator[bytes]:
        while True:
            item = self._audio.get()
            if item is _END or self._cancelled.is_set():
                self._capture.stop()
                return
            assert isinstance(item, bytes)
            yield item

    def _timing(self, result_at: datetime | None = None) -> TurnTiming:
        e = self._endpointer

        def at(ms: int | None, seen: datetime | None) -> datetime | None:
            # listen start + audio position; never later than when it was seen (a source faster than real time)
            if ms is None:
                return None
            t = self._started_at + timedelta(milliseconds=ms)
            return min(t, seen) if seen is not None else t

        start = at(e.speech_start_ms, self._start_seen_at)
        end = at(e.speech_end_ms, self._end_seen_at)
        return TurnTiming(
            self._started_at, start, end, result_at, self._decision_perf, e.speech_start_ms, e.speech_end_ms
        )

    def _run(self) -> None:
        try:
            self._started_at = self._clock()
            self._capture.start(self._on_chunk)
        except CaptureUnavailable as exc:
            self._stopped.set()
            if not self._cancelled.is_set():
                self._cb.on_error(exc, self._timing())
            return
        wait_s = self._config.start_timeout_ms / 1000 + SILENT_MIC_GRACE_S
        try:
            event = self._events.get(timeout=wait_s)
        except queue.Empty:
            event = "dead"
        if self._cancelled.is_set() or event == "cancel":
            self._capture.stop()
            return
        if event == "dead":
            self._stopped.set()
            self._capture.stop()
            self._cb.on_error(CaptureUnavailable(NO_AUDIO, "no audio chunks"), self._timing())
            return
        assert isinstance(event, EndpointEvent)
        if event.kind == "no_speech":
            self._capture.stop()
            self._cb.on_no_speech(self._timing())
            return
        self._cb.on_speech_start()
        try:
            result = self._recognizer.recognize(self._audio_stream(), self._request, self._cb.on_interim)
        except RecognitionError as exc:
            self._stopped.set()
            self._capture.stop()
            if not self._cancelled.is_set():
                self._cb.on_error(exc, self._timing())
            return
        except Exception as exc:  # an unexpected recogniser bug must not leave the patient waiting
            log.exception("recogniser failed unexpectedly")
            self._stopped.set()
            self._capture.stop()
            if not self._cancelled.is_set():
                self._cb.on_error(RecognitionError("stream_cut", type(exc).__name__), self._timing())
            return
        self._capture.stop()
        if not self._cancelled.is_set():
            self._cb.on_result(result, self._timing(self._clock()))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="listening-turn", daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        """Stop listening and drop the outcome (a new prompt, a touch answer, the session left the item)."""
        self._cancelled.set()
        self._stopped.set()
        self._events.put("cancel")
        self._audio.put(_END)

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def speech_ended(self) -> bool:
        return self._stopped.is_set()
