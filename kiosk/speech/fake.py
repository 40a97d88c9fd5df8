"""The scripted fake recogniser, next to the real one: for UI tests, benchmarks and the demo.

Each call to :meth:`FakeRecognizer.recognize` consumes the turn's audio, then plays the next script entry: a
:class:`Say` (the n-best list, optional interim texts and delay) or a :class:`Fail` (a
:class:`~kiosk.speech.recognizer.RecognitionError` kind). An empty script answers nothing (empty n-best).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from kiosk.speech.recognizer import (
    ErrorKind,
    InterimHandler,
    RecognitionError,
    RecognitionRequest,
    RecognitionResult,
    RecognizedAlternative,
)


@dataclass(frozen=True)
class Say:
    alternatives: tuple[tuple[str, float | None], ...]
    interim: tuple[str, ...] = ()
    delay_s: float = 0.0

    @classmethod
    def text(cls, transcript: str, confidence: float | None = 0.95, *others: tuple[str, float | None]) -> Say:
        return cls(((transcript, confidence), *others))


@dataclass(frozen=True)
class Fail:
    kind: ErrorKind


class FakeRecognizer:
    engine = "fake"
    model = "scripted"

    def __init__(self, script: Iterable[Say | Fail] = (), *, consume_audio: bool = True) -> None:
        self._script: deque[Say | Fail] = deque(script)
        self._lock = threading.Lock()
        self.requests: list[RecognitionRequest] = []
        self.audio_bytes: list[int] = []
        self._consume = consume_audio

    def push(self, *entries: Say | Fail) -> None:
        with self._lock:
            self._script.extend(entries)

    @property
    def remaining(self) -> int:
        with self._lock:
            return len(self._script)

    def recognize(
        self, audio: Iterable[bytes], request: RecognitionRequest, on_interim: InterimHandler | None = None
    ) -> RecognitionResult:
        total = 0
        if self._consume:
            for chunk in audio:
                total += len(chunk)
        with self._lock:
            self.requests.append(request)
            self.audio_bytes.append(total)
            entry = self._script.popleft() if self._script else Say(())
        if isinstance(entry, Fail):
            raise RecognitionError(entry.kind, "scripted failure")
        for text in entry.interim:
            if on_interim is not None:
                on_interim(text)
        if entry.delay_s:
            time.sleep(entry.delay_s)
        return RecognitionResult(
            tuple(RecognizedAlternative(t, c) for t, c in entry.alternatives),
            engine=self.engine,
            model=self.model,
            language=request.language,
        )
