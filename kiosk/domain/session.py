"""The state machine of one administration of a questionnaire.

A session starts with the patient's details, the mode and the consents; goes through item 0 (the audio and
microphone check), the introduction, the items, an optional second look at the items left blank, and ends
completed or abandoned. Every call takes ``now`` (an aware UTC datetime) so the machine stays pure and testable
with a fake clock. An invalid call raises :class:`InvalidTransition` and changes nothing.

``to_dict``/``from_dict`` give a JSON-able snapshot so that storage can persist the session after every answer
and restore it after a crash, exactly where it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from kiosk.domain.instrument import Instrument
from kiosk.domain.patient import PatientDetails
from kiosk.domain.voice_record import VoiceDetail


class InvalidTransition(RuntimeError):
    """A call that the session's current state does not allow."""


class Mode(StrEnum):
    VOICE_CONTINUOUS = "voice-continuous"  # "voix continue": listens after each question is read
    VOICE_ON_DEMAND = "voice-on-demand"  # "voix à la demande": listens when the patient presses a button
    TOUCH = "touch"  # "tactile seulement"

    @property
    def is_voice(self) -> bool:
        return self is not Mode.TOUCH


class Method(StrEnum):
    TOUCH = "touch"
    VOICE = "voice"


class ItemStatus(StrEnum):
    ANSWERED = "answered"
    SKIPPED = "skipped"  # "Passer": left blank, as paper allows
    DONT_KNOW = "dont_know"  # "je ne sais pas": left missing


class Phase(StrEnum):
    CHECK = "check"  # item 0: audio and microphone check
    INTRODUCTION = "introduction"
    ITEMS = "items"
    REVIEW_PROMPT = "review_prompt"  # "Vous n'avez pas répondu à 2 questions. Voulez-vous y revenir ?"
    COMPLETED = "completed"
    ABANDONED = "abandoned"

    @property
    def is_final(self) -> bool:
        return self in (Phase.COMPLETED, Phase.ABANDONED)


class ConsentKind(StrEnum):
    ANSWERS = "answers-processing"  # the patient agreed to the processing of their answers
    CLOUD_VOICE = "cloud-voice-processing"  # the patient agreed to their voice being sent to a cloud recogniser


@dataclass(frozen=True)
class Consent:
    kind: ConsentKind
    given: bool
    at: datetime


@dataclass(frozen=True)
class SessionConfig:
    mode: Mode
    audio_enabled: bool
    language: str


@dataclass(frozen=True)
class CheckResult:
    audio_ok: bool | None  # None: not checked (audio off)
    microphone_ok: bool | None  # None: not checked (touch mode)
    at: datetime


@dataclass(frozen=True)
class AnswerEvent:
    """One answer given to an item. Changing an answer appends a new event; earlier ones are kept."""

    status: ItemStatus
    value: int | None
    method: Method
    at: datetime
    transcript: str | None = None
    confidence: float | None = None
    confirmed: bool = False  # voice: the patient confirmed an answer the recogniser was unsure of
    voice: VoiceDetail | None = None  # how a voice answer was heard (kiosk.domain.voice_record)


@dataclass
class ItemRecord:
    item: int
    first_shown_at: datetime
    last_shown_at: datetime
    times_shown: int = 1
    events: list[AnswerEvent] = field(default_factory=list)

    @property
    def current(self) -> AnswerEvent | None:
        return self.events[-1] if self.events else None

    @property
    def value(self) -> int | None:
        event = self.current
        return event.value if event is not None else None


@dataclass(frozen=True)
class ModeChange:
    at: datetime
    from_mode: Mode
    to_mode: Mode
    reason: str


@dataclass(frozen=True)
class Pause:
    started_at: datetime
    ended_at: datetime | None = None


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("times must be timezone-aware (UTC)")


class Session:
    """One administration. Create with :meth:`start`; restore with :meth:`from_dict`."""

    def __init__(self, *, session_id: str, instrument: Instrument, patient: PatientDetails,
                 config: SessionConfig, consents: tuple[Consent, ...], started_at: datetime) -> None:
        self.id = session_id
        self.instrument = instrument
        self.patient = patient
        self.config = config
        self.consents = consents
        self.started_at = started_at
        self.ended_at: datetime | None = None
        self.abandon_reason: str | None = None
        self.phase = Phase.CHECK
        self.current_item: int | None = None
        self.reviewing = False
        self.review_offered = False
        self._review_queue: list[int] = []
        self.check: CheckResult | None = None
        self.records: dict[int, ItemRecord] = {}
        self.mode_changes: list[ModeChange] = []
        self.pauses: list[Pause] = []

    # ----------------------------------------------------------------- creation
    @classmethod
    def start(cls, *, session_id: str, instrument: Instrument, patient: PatientDetails, config: SessionConfig,
              consents: tuple[Consent, ...] | list[Consent], now: datetime) -> Session:
        _require_aware(now)
        consents = tuple(consents)
        if config.language != instrument.language:
            raise InvalidTransition(
                f"session language {config.language!r} does not match the instrument's {instrument.language!r}")
        if not _consented(consents, ConsentKind.ANSWERS):
            raise InvalidTransition("the patient's consent to the processing of their answers is required")
        if config.mode.is_voice and not _consented(consents, ConsentKind.CLOUD_VOICE):
            raise InvalidTransition("voice modes need the patient's consent to cloud voice processing")
        session = cls(session_id=session_id, instrument=instrument, patient=patient, config=config,
                      consents=consents, started_at=now)
        if not session.needs_check:
            session.phase = Phase.INTRODUCTION
        return session

    # ----------------------------------------------------------------- queries
    @property
    def mode(self) -> Mode:
        return self.config.mode

    @property
    def needs_check(self) -> bool:
        """Item 0 is skipped only in touch mode with audio off."""
        return self.config.audio_enabled or self.config.mode.is_voice

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1].ended_at is None

    @property
    def item_numbers(self) -> tuple[int, ...]:
        return self.instrument.item_numbers

    def answers(self) -> dict[int, int | None]:
        """Current value of every item (None where missing), for scoring."""
        return {n: (self.records[n].value if n in self.records else None) for n in self.item_numbers}

    def status_of(self, number: int) -> ItemStatus | None:
        record = self.records.get(number)
        event = record.current if record else None
        return event.status if event else None

    def unanswered(self) -> list[int]:
        return [n for n in self.item_numbers if self.status_of(n) is not ItemStatus.ANSWERED]

    def first_unanswered(self) -> int | None:
        """First item never answered nor skipped: where a resumed session picks up."""
        for n in self.item_numbers:
            if self.status_of(n) is None:
                return n
        return None

    def answered_count(self) -> int:
        return sum(1 for n in self.item_numbers if self.status_of(n) is ItemStatus.ANSWERED)

    def paused_duration(self, now: datetime) -> timedelta:
        total = timedelta()
        for pause in self.pauses:
            total += (pause.ended_at or now) - pause.started_at
        return total

    # ----------------------------------------------------------------- guards
    def _require(self, *phases: Phase) -> None:
        if self.phase not in phases:
            allowed = ", ".join(p.value for p in phases)
            raise InvalidTransition(f"not allowed in phase {self.phase.value!r} (allowed in: {allowed})")

    def _require_active(self, now: datetime) -> None:
        _require_aware(now)
        if self.phase.is_final:
            raise InvalidTransition(f"the session is {self.phase.value}; it can no longer change")
        if self.paused:
            raise InvalidTransition("the session is paused; resume it first")

    # ----------------------------------------------------------------- item 0 and introduction
    def record_check(self, *, audio_ok: bool | None, microphone_ok: bool | None, now: datetime) -> None:
        self._require_active(now)
        self._require(Phase.CHECK)
        if self.config.audio_enabled and audio_ok is None:
            raise InvalidTransition("audio is on: the audio check result is required")
        if self.config.mode.is_voice and microphone_ok is None:
            raise InvalidTransition("voice mode: the microphone check result is required")
        self.check = CheckResult(audio_ok=audio_ok, microphone_ok=microphone_ok, at=now)
        self.phase = Phase.INTRODUCTION

    def switch_mode(self, mode: Mode, *, now: datetime, reason: str, audio_enabled: bool | None = None) -> None:
        """Change mode mid-session (e.g. to touch only after a failed microphone check)."""
        self._require_active(now)
        if mode.is_voice and not _consented(self.consents, ConsentKind.CLOUD_VOICE):
            raise InvalidTransition("voice modes need the patient's consent to cloud voice processing")
        if mode is not self.config.mode:
            self.mode_changes.append(ModeChange(at=now, from_mode=self.config.mode, to_mode=mode, reason=reason))
        audio = self.config.audio_enabled if audio_enabled is None else audio_enabled
        self.config = replace(self.config, mode=mode, audio_enabled=audio)

    def begin_items(self, *, now: datetime) -> int:
        self._require_active(now)
        self._require(Phase.INTRODUCTION)
        self.phase = Phase.ITEMS
        self._show(self.item_numbers[0], now)
        return self.item_numbers[0]

    # ----------------------------------------------------------------- items
    def _show(self, number: int, now: datetime) -> None:
        self.current_item = number
        record = self.records.get(number)
        if record is None:
            self.records[number] = ItemRecord(item=number, first_shown_at=now, last_shown_at=now)
        else:
            record.last_shown_at = now
            record.times_shown += 1

    def _current_record(self) -> ItemRecord:
        assert self.current_item is not None
        return self.records[self.current_item]

    def answer(self, value: int, *, now: datetime, method: Method = Method.TOUCH, transcript: str | None = None,
               confidence: float | None = None, confirmed: bool = False, voice: VoiceDetail | None = None) -> None:
        """Record an answer to the current item, then move on."""
        self._require_active(now)
        self._require(Phase.ITEMS)
        assert self.current_item is not None
        scale = self.instrument.scale_of(self.current_item)
        if isinstance(value, bool) or not isinstance(value, int) or value not in scale.values:
            raise InvalidTransition(
                f"item {self.current_item}: answer {value!r} is outside {scale.min}..{scale.max}")
        if method is Method.VOICE and not self.config.mode.is_voice:
            raise InvalidTransition("a voice answer was given while the session is in touch mode")
        if confidence is not None and not 0.0 <= confidence <= 1.0:
            raise InvalidTransition(f"confidence {confidence!r} is outside 0..1")
        if method is Method.TOUCH and (transcript is not None or confidence is not None):
            raise InvalidTransition("a touch answer has no transcript or confidence")
        self._current_record().events.append(AnswerEvent(
            status=ItemStatus.ANSWERED, value=value, method=method, at=now,
            transcript=transcript, confidence=confidence, confirmed=confirmed, voice=voice))
        self._advance(now)

    def skip(self, *, now: datetime, status: ItemStatus = ItemStatus.SKIPPED, method: Method = Method.TOUCH,
             transcript: str | None = None, confidence: float | None = None,
             voice: VoiceDetail | None = None) -> None:
        """Leave the current item missing ("Passer" or "je ne sais pas"), then move on."""
        self._require_active(now)
        self._require(Phase.ITEMS)
        if status is ItemStatus.ANSWERED:
            raise InvalidTransition("skip() records a skipped or don't-know item, not an answer")
        self._current_record().events.append(AnswerEvent(
            status=status, value=None, method=method, at=now, transcript=transcript, confidence=confidence,
            voice=voice))
        self._advance(now)

    def _navigation_order(self) -> list[int]:
        if self.reviewing:
            return self._review_queue
        return list(self.item_numbers)

    def _advance(self, now: datetime) -> None:
        order = self._navigation_order()
        assert self.current_item is not None
        later = [n for n in order if n > self.current_item]
        if later:
            self._show(later[0], now)
        else:
            self._reach_end(now)

    def _reach_end(self, now: datetime) -> None:
        self.current_item = None
        if self.unanswered() and not self.review_offered:
            self.review_offered = True
            self.phase = Phase.REVIEW_PROMPT
        else:
            self._finish(Phase.COMPLETED, now)

    def back(self, *, now: datetime) -> int:
        """Go to the previous item (or, from the review prompt, to the last item)."""
        self._require_active(now)
        self._require(Phase.ITEMS, Phase.REVIEW_PROMPT)
        if self.phase is Phase.REVIEW_PROMPT:
            self.phase = Phase.ITEMS
            self.review_offered = False
            target = self.item_numbers[-1]
        else:
            assert self.current_item is not None
            earlier = [n for n in self._navigation_order() if n < self.current_item]
            if not earlier:
                raise InvalidTransition(f"item {self.current_item} is the first one; there is nothing before it")
            target = earlier[-1]
        self._show(target, now)
        return target

    def accept_review(self, *, now: datetime) -> int:
        """The patient chose to go back to the items left blank."""
        self._require_active(now)
        self._require(Phase.REVIEW_PROMPT)
        self._review_queue = self.unanswered()
        self.reviewing = True
        self.phase = Phase.ITEMS
        self._show(self._review_queue[0], now)
        return self._review_queue[0]

    def decline_review(self, *, now: datetime) -> None:
        self._require_active(now)
        self._require(Phase.REVIEW_PROMPT)
        self._finish(Phase.COMPLETED, now)

    # ----------------------------------------------------------------- pause, abandon
    def pause(self, *, now: datetime) -> None:
        self._require_active(now)
        self.pauses.append(Pause(started_at=now))

    def resume(self, *, now: datetime) -> None:
        _require_aware(now)
        if not self.paused:
            raise InvalidTransition("the session is not paused")
        self.pauses[-1] = replace(self.pauses[-1], ended_at=now)

    def abandon(self, *, now: datetime, reason: str) -> None:
        """Close the session unfinished (inactivity, nurse's decision, unfinished session found at start)."""
        _require_aware(now)
        if self.phase.is_final:
            raise InvalidTransition(f"the session is already {self.phase.value}")
        if self.paused:
            self.pauses[-1] = replace(self.pauses[-1], ended_at=now)
        self.abandon_reason = reason
        self._finish(Phase.ABANDONED, now)

    def _finish(self, phase: Phase, now: datetime) -> None:
        self.phase = phase
        self.current_item = None
        self.reviewing = False
        self.ended_at = now

    # ----------------------------------------------------------------- snapshot
    def to_dict(self) -> dict[str, Any]:
        """A JSON-able snapshot of everything the session holds."""
        return {
            "snapshot_version": 1,
            "id": self.id,
            "instrument": {"id": self.instrument.id, "language": self.instrument.language,
                           "content_sha256": self.instrument.content_sha256},
            "patient": {"initials": self.patient.initials, "birth_date": self.patient.birth_date.isoformat(),
                        "session_date": self.patient.session_date.isoformat()},
            "config": {"mode": self.config.mode.value, "audio_enabled": self.config.audio_enabled,
                       "language": self.config.language},
            "consents": [{"kind": c.kind.value, "given": c.given, "at": c.at.isoformat()} for c in self.consents],
            "started_at": self.started_at.isoformat(),
            "ended_at": _iso(self.ended_at),
            "abandon_reason": self.abandon_reason,
            "phase": self.phase.value,
            "current_item": self.current_item,
            "reviewing": self.reviewing,
            "review_offered": self.review_offered,
            "review_queue": list(self._review_queue),
            "check": None if self.check is None else {
                "audio_ok": self.check.audio_ok, "microphone_ok": self.check.microphone_ok,
                "at": self.check.at.isoformat()},
            "records": [
                {"item": r.item, "first_shown_at": r.first_shown_at.isoformat(),
                 "last_shown_at": r.last_shown_at.isoformat(), "times_shown": r.times_shown,
                 "events": [_event_to_dict(e) for e in r.events]}
                for r in sorted(self.records.values(), key=lambda r: r.item)
            ],
            "mode_changes": [{"at": m.at.isoformat(), "from": m.from_mode.value, "to": m.to_mode.value,
                              "reason": m.reason} for m in self.mode_changes],
            "pauses": [{"started_at": p.started_at.isoformat(), "ended_at": _iso(p.ended_at)} for p in self.pauses],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], instrument: Instrument) -> Session:
        """Restore a snapshot. The instrument must be the very file the session started with."""
        if data.get("snapshot_version") != 1:
            raise ValueError(f"unknown session snapshot version {data.get('snapshot_version')!r}")
        if data["instrument"]["content_sha256"] != instrument.content_sha256:
            raise ValueError("the session was started with another version of the instrument file")
        patient = PatientDetails(initials=data["patient"]["initials"],
                                 birth_date=date.fromisoformat(data["patient"]["birth_date"]),
                                 session_date=date.fromisoformat(data["patient"]["session_date"]))
        config = SessionConfig(mode=Mode(data["config"]["mode"]), audio_enabled=bool(data["config"]["audio_enabled"]),
                               language=data["config"]["language"])
        consents = tuple(Consent(kind=ConsentKind(c["kind"]), given=bool(c["given"]),
                                 at=datetime.fromisoformat(c["at"])) for c in data["consents"])
        session = cls(session_id=data["id"], instrument=instrument, patient=patient, config=config,
                      consents=consents, started_at=datetime.fromisoformat(data["started_at"]))
        session.ended_at = _parse_iso(data["ended_at"])
        session.abandon_reason = data["abandon_reason"]
        session.phase = Phase(data["phase"])
        session.current_item = data["current_item"]
        session.reviewing = bool(data["reviewing"])
        session.review_offered = bool(data["review_offered"])
        session._review_queue = list(data.get("review_queue", []))
        check = data["check"]
        if check is not None:
            session.check = CheckResult(audio_ok=check["audio_ok"], microphone_ok=check["microphone_ok"],
                                        at=datetime.fromisoformat(check["at"]))
        for r in data["records"]:
            session.records[r["item"]] = ItemRecord(
                item=r["item"], first_shown_at=datetime.fromisoformat(r["first_shown_at"]),
                last_shown_at=datetime.fromisoformat(r["last_shown_at"]), times_shown=r["times_shown"],
                events=[_event_from_dict(e) for e in r["events"]])
        session.mode_changes = [ModeChange(at=datetime.fromisoformat(m["at"]), from_mode=Mode(m["from"]),
                                           to_mode=Mode(m["to"]), reason=m["reason"]) for m in data["mode_changes"]]
        session.pauses = [Pause(started_at=datetime.fromisoformat(p["started_at"]), ended_at=_parse_iso(p["ended_at"]))
                          for p in data["pauses"]]
        return session


def _consented(consents: tuple[Consent, ...], kind: ConsentKind) -> bool:
    return any(c.kind is kind and c.given for c in consents)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _event_to_dict(e: AnswerEvent) -> dict[str, Any]:
    return {"status": e.status.value, "value": e.value, "method": e.method.value, "at": e.at.isoformat(),
            "transcript": e.transcript, "confidence": e.confidence, "confirmed": e.confirmed,
            **({"voice": e.voice.to_dict()} if e.voice is not None else {})}


def _event_from_dict(d: dict[str, Any]) -> AnswerEvent:
    return AnswerEvent(status=ItemStatus(d["status"]), value=d["value"], method=Method(d["method"]),
                       at=datetime.fromisoformat(d["at"]), transcript=d["transcript"],
                       confidence=d["confidence"], confirmed=bool(d["confirmed"]),
                       voice=VoiceDetail.from_dict(d["voice"]) if d.get("voice") else None)
