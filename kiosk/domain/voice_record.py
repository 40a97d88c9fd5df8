"""What the kiosk keeps about how a voice answer was heard (mode-equivalence research needs it).

A :class:`VoiceDetail` rides on the session's answer event (:class:`kiosk.domain.session.AnswerEvent`) and goes
into the submission (schema 2.0, ``answers[].voice``): every alternative of the recognition that produced the
answer with its confidence, how many listening attempts the item took, whether and how the answer was
confirmed (by voice or by touch), the recogniser (engine, model, language), and the times — prompt end, speech
start, speech end, result. A touch answer given after voice failed on the item keeps a detail too, with the
``fallback`` reason, so that the attempts are not lost. No audio, ever: only text and times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

Confirmation = Literal["none", "voice", "touch"]
Fallback = Literal["", "not_understood", "no_speech", "recogniser_error", "microphone"]
CONFIRMATIONS: tuple[Confirmation, ...] = ("none", "voice", "touch")
FALLBACKS: tuple[Fallback, ...] = ("", "not_understood", "no_speech", "recogniser_error", "microphone")


@dataclass(frozen=True)
class HeardAlternative:
    transcript: str
    confidence: float | None = None


@dataclass(frozen=True)
class VoiceDetail:
    alternatives: tuple[HeardAlternative, ...] = ()
    attempts: int = 1  # listening turns on this item that led here (re-prompts and confirmations included)
    confirmation: Confirmation = "none"  # "none": accepted as heard (the parser was sure)
    confirmation_transcript: str | None = None  # what the patient said to "Est-ce bien cela ?"
    engine: str = ""
    model: str = ""
    language: str = ""
    prompt_end_at: datetime | None = None  # the item's prompt finished playing (None: no prompt played)
    speech_start_at: datetime | None = None
    speech_end_at: datetime | None = None
    result_at: datetime | None = None
    fallback: Fallback = ""  # why the answer was finally touched, when it was

    def __post_init__(self) -> None:
        if self.attempts < 0:
            raise ValueError("attempts must be >= 0")
        if self.confirmation not in CONFIRMATIONS:
            raise ValueError(f"unknown confirmation {self.confirmation!r}")
        if self.fallback not in FALLBACKS:
            raise ValueError(f"unknown fallback {self.fallback!r}")
        for a in self.alternatives:
            if a.confidence is not None and not 0.0 <= a.confidence <= 1.0:
                raise ValueError(f"confidence {a.confidence!r} is outside 0..1")

    def to_dict(self) -> dict[str, Any]:
        def iso(t: datetime | None) -> str | None:
            return t.isoformat() if t is not None else None

        return {
            "alternatives": [{"transcript": a.transcript, "confidence": a.confidence} for a in self.alternatives],
            "attempts": self.attempts,
            "confirmation": self.confirmation,
            "confirmation_transcript": self.confirmation_transcript,
            "engine": self.engine,
            "model": self.model,
            "language": self.language,
            "prompt_end_at": iso(self.prompt_end_at),
            "speech_start_at": iso(self.speech_start_at),
            "speech_end_at": iso(self.speech_end_at),
            "result_at": iso(self.result_at),
            "fallback": self.fallback,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VoiceDetail:
        def parse(t: str | None) -> datetime | None:
            return datetime.fromisoformat(t) if t is not None else None

        return cls(
            alternatives=tuple(HeardAlternative(a["transcript"], a["confidence"]) for a in d["alternatives"]),
            attempts=int(d["attempts"]),
            confirmation=d["confirmation"],
            confirmation_transcript=d.get("confirmation_transcript"),
            engine=d["engine"],
            model=d["model"],
            language=d["language"],
            prompt_end_at=parse(d["prompt_end_at"]),
            speech_start_at=parse(d["speech_start_at"]),
            speech_end_at=parse(d["speech_end_at"]),
            result_at=parse(d["result_at"]),
            fallback=d.get("fallback", ""),
        )
