"""The recogniser interface: stream a turn's audio, get the n-best list. Implementations: Google Cloud
Speech-to-Text v1 (:class:`kiosk.speech.google.GoogleSpeechRecognizer`) and the scripted fake
(:class:`kiosk.speech.fake.FakeRecognizer`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from kiosk.domain.answers import lexicon_for

ErrorKind = Literal["unavailable", "timeout", "stream_cut", "refused", "no_credentials"]

#: French text shown with the fallback to touch, per error kind.
ERROR_MESSAGES: dict[ErrorKind, str] = {
    "unavailable": "La reconnaissance vocale ne répond pas (réseau ?).",
    "timeout": "La reconnaissance vocale a mis trop de temps à répondre.",
    "stream_cut": "La liaison avec la reconnaissance vocale a été coupée.",
    "refused": "La reconnaissance vocale a refusé la demande.",
    "no_credentials": "La reconnaissance vocale n'est pas configurée (identifiants Google absents).",
}


class RecognitionError(Exception):
    """The recogniser failed for this turn. ``kind`` says how; ``message`` is French for the screen."""

    def __init__(self, kind: ErrorKind, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind: ErrorKind = kind
        self.detail = detail
        self.message = ERROR_MESSAGES[kind]


@dataclass(frozen=True)
class RecognizedAlternative:
    transcript: str
    confidence: float | None = None  # Google gives it only on final results


@dataclass(frozen=True)
class RecognitionResult:
    """The final n-best list of a turn (empty: nothing recognised), and who produced it."""

    alternatives: tuple[RecognizedAlternative, ...]
    engine: str
    model: str
    language: str
    attempts: int = 1  # streams opened for this turn (our own retries included)


@dataclass(frozen=True)
class RecognitionRequest:
    """What the recogniser needs for one turn."""

    language: str  # BCP-47, e.g. "fr-FR"
    phrase_hints: tuple[str, ...] = ()
    boost: float = 10.0  # Google's phrase boost, 0..20
    max_alternatives: int = 5


InterimHandler = Callable[[str], None]


class Recognizer(Protocol):
    engine: str
    model: str

    def recognize(
        self, audio: Iterable[bytes], request: RecognitionRequest, on_interim: InterimHandler | None = None
    ) -> RecognitionResult:
        """Consume ``audio`` (16 kHz mono s16le chunks; the iterable ends when the turn ends) and return the
        final result. Blocks: call it off the GUI thread. Raises :class:`RecognitionError`."""
        ...


def phrase_hints(scale_labels: Sequence[str], language: str, *, scale_max: int) -> tuple[str, ...]:
    """The item's answer labels and numbers, plus the commands, as the recogniser's phrase hints."""
    lex = lexicon_for(language)
    numbers = [w for w, v in lex.NUMBERS.items() if 1 <= v <= scale_max and " " not in w]
    hints = [*scale_labels, *numbers, *lex.HINT_PHRASES]
    out: list[str] = []
    for h in hints:
        if h and h not in out and len(h) <= 100:
            out.append(h)
    return tuple(out[:500])  # Google's limit per context


@dataclass
class ReplayableAudio:
    """Audio chunks read once from the source and remembered, so that a retry can send the turn again from its
    first chunk in a FRESH request stream (the Google client's own retry would replay a half-consumed one)."""

    source: Iterator[bytes]
    seen: list[bytes] = field(default_factory=list)

    def stream(self) -> Iterator[bytes]:
        yield from list(self.seen)
        for chunk in self.source:
            self.seen.append(chunk)
            yield chunk
