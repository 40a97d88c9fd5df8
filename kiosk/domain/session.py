"""The state machine of one administration of a questionnaire.

A session starts with the patient's details, the mode and the consents; goes through item 0 (the audio and
microphone check), the introduction, the items, an optional second look at the items left blank, and ends
completed or abandoned. Every call takes ``now`` (an aware UTC datetime) so the machine stays pure and testable
with a fake clock.

A :class:`Session` is immutable: each transition returns the NEW session and leaves the one it was called on as
it was (``session = session.answer(2, now=now)``). An invalid call raises :class:`InvalidTransition`; nothing
changed, since nothing ever does. So a caller can save the new state and adopt it only once it is on disk, with
no copy to take and no rollback to do.

The snapshot that storage persists after every answer (``to_dict``/``from_dict``) is derived from these very
types by a pydantic ``TypeAdapter``: there is no second, hand-written schema. Its layout is the one kiosks have
written since snapshot version 1 (the ``from``/``to`` keys of a mode change, the records as a list sorted by
item, the instrument as its id, language and content hash), so snapshots already on tablets load unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    Field,
    PlainSerializer,
    PlainValidator,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    WrapSerializer,
)

from kiosk.domain.instrument import Instrument
from kiosk.domain.patient import PatientDetails
from kiosk.domain.voice_record import VoiceDetail

SNAPSHOT_VERSION = 1


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("times must be timezone-aware (UTC)")


def _parse_instant(value: object) -> datetime:
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(parsed, datetime):
        raise ValueError(f"expected an ISO 8601 time, got {type(value).__name__}")
    _require_aware(parsed)
    return parsed


# An aware time, stored as ``datetime.isoformat()`` text ("…+00:00", as version 1 wrote it) and read back with
# ``datetime.fromisoformat``: the restored value is the very object the session held.
Instant = Annotated[datetime, PlainValidator(_parse_instant), PlainSerializer(datetime.isoformat, when_used="json")]


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
    at: Instant


@dataclass(frozen=True)
class SessionConfig:
    mode: Mode
    audio_enabled: bool
    language: str


@dataclass(frozen=True)
class CheckResult:
    audio_ok: bool | None  # None: not checked (audio off)
    microphone_ok: bool | None  # None: not checked (touch mode)
    at: Instant


@dataclass(frozen=True)
class AnswerEvent:
    """One answer given to an item. Changing an answer appends a new event; earlier ones are kept."""

    status: ItemStatus
    value: int | None
    method: Method
    at: Instant
    transcript: str | None
    confidence: float | None
    confirmed: bool  # voice: the patient confirmed an answer the recogniser was unsure of
    # How a voice answer was heard (kiosk.domain.voice_record). Added after snapshot version 1 shipped: older
    # snapshots have no such key (hence the default), and a session without one writes none (byte-identical).
    voice: Annotated[VoiceDetail | None, Field(exclude_if=lambda v: v is None)] = None


@dataclass(frozen=True)
class ItemRecord:
    item: int
    first_shown_at: Instant
    last_shown_at: Instant
    times_shown: int
    events: tuple[AnswerEvent, ...]

    @property
    def current(self) -> AnswerEvent | None:
        return self.events[-1] if self.events else None

    @property
    def value(self) -> int | None:
        event = self.current
        return event.value if event is not None else None


@dataclass(frozen=True)
class ModeChange:
    at: Instant
    from_mode: Annotated[Mode, Field(alias="from")]
    to_mode: Annotated[Mode, Field(alias="to")]
    reason: str


@dataclass(frozen=True)
class Pause:
    started_at: Instant
    ended_at: Instant | None


# ----------------------------------------------------------------- how the snapshot writes what the types don't say
def _instrument_reference(instrument: Instrument) -> dict[str, str]:
    return {"id": instrument.id, "language": instrument.language, "content_sha256": instrument.content_sha256}


def _same_instrument(reference: Any, info: ValidationInfo) -> Instrument:
    """The snapshot names its instrument; the caller of ``from_dict`` gives the very file (in the context)."""
    instrument = (info.context or {}).get("instrument")
    if not isinstance(instrument, Instrument):
        raise ValueError("restoring a session needs its instrument (from_dict's instrument argument)")
    if not isinstance(reference, Mapping) or reference.get("content_sha256") != instrument.content_sha256:
        raise ValueError("the session was started with another version of the instrument file")
    return instrument


def _records_by_item(value: Any) -> Any:
    """The snapshot lists the records sorted by item; the session looks them up by item number."""
    if not isinstance(value, list | tuple):
        return value  # a mapping already, or refused by the mapping's own validation
    by_item: dict[Any, Any] = {}
    for position, record in enumerate(value):
        number = (
            record.item
            if isinstance(record, ItemRecord)
            else (record.get("item") if isinstance(record, Mapping) else None)
        )
        if number is None:
            raise ValueError(f"record {position} has no item number")
        if number in by_item:
            raise ValueError(f"item {number} has two records")
        by_item[number] = record
    return by_item


def _records_as_list(records: Mapping[int, ItemRecord], handler: SerializerFunctionWrapHandler) -> Any:
    return list(handler(dict(sorted(records.items()))).values())


InstrumentField = Annotated[Instrument, PlainValidator(_same_instrument), PlainSerializer(_instrument_reference)]
Records = Annotated[Mapping[int, ItemRecord], BeforeValidator(_records_by_item), WrapSerializer(_records_as_list)]


@dataclass(frozen=True, repr=False)  # no repr: it would print the patient's details into a log or a traceback
class Session:
    """One administration. Create with :meth:`start`; restore with :meth:`from_dict`. Immutable.

    No field has a default, here and in the records below: a snapshot missing a key is refused, never completed
    with a guess.
    """

    id: str
    instrument: InstrumentField = field(compare=False)
    patient: PatientDetails
    config: SessionConfig
    consents: tuple[Consent, ...]
    started_at: Instant
    ended_at: Instant | None
    abandon_reason: str | None
    phase: Phase
    current_item: int | None
    reviewing: bool
    review_offered: bool
    review_queue: tuple[int, ...]
    check: CheckResult | None
    records: Records  # item number -> record, for every item shown
    mode_changes: tuple[ModeChange, ...]
    pauses: tuple[Pause, ...]

    # ----------------------------------------------------------------- creation
    @classmethod
    def start(
        cls,
        *,
        session_id: str,
        instrument: Instrument,
        patient: PatientDetails,
        config: SessionConfig,
        consents: tuple[Consent, ...] | list[Consent],
        now: datetime,
    ) -> Session:
        _require_aware(now)
        consents = tuple(consents)
        if config.language != instrument.language:
            raise InvalidTransition(
                f"session language {config.language!r} does not match the instrument's {instrument.language!r}"
            )
        if not _consented(consents, ConsentKind.ANSWERS):
            raise InvalidTransition("the patient's consent to the processing of their answers is required")
        if config.mode.is_voice and not _consented(consents, ConsentKind.CLOUD_VOICE):
            raise InvalidTransition("voice modes need the patient's consent to cloud voice processing")
        needs_check = config.audio_enabled or config.mode.is_voice
        return cls(
            id=session_id,
            instrument=instrument,
            patient=patient,
            config=config,
            consents=consents,
            started_at=now,
            ended_at=None,
            abandon_reason=None,
            phase=Phase.CHECK if needs_check else Phase.INTRODUCTION,
            current_item=None,
            reviewing=False,
            review_offered=False,
            review_queue=(),
            check=None,
            records={},
            mode_changes=(),
            pauses=(),
        )

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
    def record_check(self, *, audio_ok: bool | None, microphone_ok: bool | None, now: datetime) -> Session:
        self._require_active(now)
        self._require(Phase.CHECK)
        if self.config.audio_enabled and audio_ok is None:
            raise InvalidTransition("audio is on: the audio check result is required")
        if self.config.mode.is_voice and microphone_ok is None:
            raise InvalidTransition("voice mode: the microphone check result is required")
        return replace(
            self, check=CheckResult(audio_ok=audio_ok, microphone_ok=microphone_ok, at=now), phase=Phase.INTRODUCTION
        )

    def switch_mode(self, mode: Mode, *, now: datetime, reason: str, audio_enabled: bool | None = None) -> Session:
        """Change mode mid-session (e.g. to touch only after a failed microphone check)."""
        self._require_active(now)
        if mode.is_voice and not _consented(self.consents, ConsentKind.CLOUD_VOICE):
            raise InvalidTransition("voice modes need the patient's consent to cloud voice processing")
        changes = self.mode_changes
        if mode is not self.config.mode:
            changes += (ModeChange(at=now, from_mode=self.config.mode, to_mode=mode, reason=reason),)
        audio = self.config.audio_enabled if audio_enabled is None else audio_enabled
        return replace(self, config=replace(self.config, mode=mode, audio_enabled=audio), mode_changes=changes)

    def begin_items(self, *, now: datetime) -> Session:
        self._require_active(now)
        self._require(Phase.INTRODUCTION)
        return replace(self, phase=Phase.ITEMS)._showing(self.item_numbers[0], now)

    # ----------------------------------------------------------------- items
    def _showing(self, number: int, now: datetime) -> Session:
        record = self.records.get(number)
        if record is None:
            record = ItemRecord(item=number, first_shown_at=now, last_shown_at=now, times_shown=1, events=())
        else:
            record = replace(record, last_shown_at=now, times_shown=record.times_shown + 1)
        return replace(self, current_item=number, records={**self.records, number: record})

    def _with_event(self, event: AnswerEvent) -> Session:
        assert self.current_item is not None
        record = self.records[self.current_item]
        return replace(self, records={**self.records, record.item: replace(record, events=(*record.events, event))})

    def answer(
        self,
        value: int,
        *,
        now: datetime,
        method: Method = Method.TOUCH,
        transcript: str | None = None,
        confidence: float | None = None,
        confirmed: bool = False,
        voice: VoiceDetail | None = None,
    ) -> Session:
        """Record an answer to the current item, then move on."""
        self._require_active(now)
        self._require(Phase.ITEMS)
        assert self.current_item is not None
        scale = self.instrument.scale_of(self.current_item)
        if isinstance(value, bool) or not isinstance(value, int) or value not in scale.values:
            raise InvalidTransition(f"item {self.current_item}: answer {value!r} is outside {scale.min}..{scale.max}")
        if method is Method.VOICE and not self.config.mode.is_voice:
            raise InvalidTransition("a voice answer was given while the session is in touch mode")
        if confidence is not None and not 0.0 <= confidence <= 1.0:
            raise InvalidTransition(f"confidence {confidence!r} is outside 0..1")
        if method is Method.TOUCH and (transcript is not None or confidence is not None):
            raise InvalidTransition("a touch answer has no transcript or confidence")
        return self._with_event(
            AnswerEvent(
                status=ItemStatus.ANSWERED,
                value=value,
                method=method,
                at=now,
                transcript=transcript,
                confidence=confidence,
                confirmed=confirmed,
                voice=voice,
            )
        )._advanced(now)

    def skip(
        self,
        *,
        now: datetime,
        status: ItemStatus = ItemStatus.SKIPPED,
        method: Method = Method.TOUCH,
        transcript: str | None = None,
        confidence: float | None = None,
        voice: VoiceDetail | None = None,
    ) -> Session:
        """Leave the current item missing ("Passer" or "je ne sais pas"), then move on."""
        self._require_active(now)
        self._require(Phase.ITEMS)
        if status is ItemStatus.ANSWERED:
            raise InvalidTransition("skip() records a skipped or don't-know item, not an answer")
        return self._with_event(
            AnswerEvent(
                status=status,
                value=None,
                method=method,
                at=now,
                transcript=transcript,
                confidence=confidence,
                confirmed=False,
                voice=voice,
            )
        )._advanced(now)

    def _navigation_order(self) -> tuple[int, ...]:
        return self.review_queue if self.reviewing else self.item_numbers

    def _advanced(self, now: datetime) -> Session:
        assert self.current_item is not None
        later = [n for n in self._navigation_order() if n > self.current_item]
        if later:
            return self._showing(later[0], now)
        if self.unanswered() and not self.review_offered:
            return replace(self, current_item=None, review_offered=True, phase=Phase.REVIEW_PROMPT)
        return self._finished(Phase.COMPLETED, now)

    def back(self, *, now: datetime) -> Session:
        """Go to the previous item (or, from the review prompt, to the last item)."""
        self._require_active(now)
        self._require(Phase.ITEMS, Phase.REVIEW_PROMPT)
        if self.phase is Phase.REVIEW_PROMPT:
            return replace(self, phase=Phase.ITEMS, review_offered=False)._showing(self.item_numbers[-1], now)
        assert self.current_item is not None
        earlier = [n for n in self._navigation_order() if n < self.current_item]
        if not earlier:
            raise InvalidTransition(f"item {self.current_item} is the first one; there is nothing before it")
        return self._showing(earlier[-1], now)

    def accept_review(self, *, now: datetime) -> Session:
        """The patient chose to go back to the items left blank."""
        self._require_active(now)
        self._require(Phase.REVIEW_PROMPT)
        queue = tuple(self.unanswered())
        return replace(self, review_queue=queue, reviewing=True, phase=Phase.ITEMS)._showing(queue[0], now)

    def decline_review(self, *, now: datetime) -> Session:
        self._require_active(now)
        self._require(Phase.REVIEW_PROMPT)
        return self._finished(Phase.COMPLETED, now)

    # ----------------------------------------------------------------- pause, abandon
    def pause(self, *, now: datetime) -> Session:
        self._require_active(now)
        return replace(self, pauses=(*self.pauses, Pause(started_at=now, ended_at=None)))

    def resume(self, *, now: datetime) -> Session:
        _require_aware(now)
        if not self.paused:
            raise InvalidTransition("the session is not paused")
        return replace(self, pauses=(*self.pauses[:-1], replace(self.pauses[-1], ended_at=now)))

    def abandon(self, *, now: datetime, reason: str) -> Session:
        """Close the session unfinished (inactivity, nurse's decision, unfinished session found at start)."""
        _require_aware(now)
        if self.phase.is_final:
            raise InvalidTransition(f"the session is already {self.phase.value}")
        session = self.resume(now=now) if self.paused else self
        return replace(session, abandon_reason=reason)._finished(Phase.ABANDONED, now)

    def _finished(self, phase: Phase, now: datetime) -> Session:
        return replace(self, phase=phase, current_item=None, reviewing=False, ended_at=now)

    # ----------------------------------------------------------------- snapshot
    def to_dict(self) -> dict[str, Any]:
        """A JSON-able snapshot of everything the session holds."""
        return {"snapshot_version": SNAPSHOT_VERSION, **_snapshot().dump_python(self, mode="json", by_alias=True)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], instrument: Instrument) -> Session:
        """Restore a snapshot (any error is a ``ValueError``). The instrument must be the very file it started with."""
        if not isinstance(data, Mapping) or data.get("snapshot_version") != SNAPSHOT_VERSION:
            version = data.get("snapshot_version") if isinstance(data, Mapping) else None
            raise ValueError(f"unknown session snapshot version {version!r}")
        try:
            return _snapshot().validate_python(data, context={"instrument": instrument})
        except ValidationError as exc:  # where and what, never the stored value: it may be patient data
            problems = "; ".join(
                f"{'.'.join(map(str, error['loc'])) or 'snapshot'}: {error['msg']}"
                for error in exc.errors(include_input=False, include_url=False)
            )
            raise ValueError(f"invalid session snapshot: {problems}") from None


@cache
def _snapshot() -> TypeAdapter[Session]:
    """Built on first use (about 25 ms), off the kiosk's start-up path: the first save runs on the DB thread."""
    return TypeAdapter(Session)


def _consented(consents: tuple[Consent, ...], kind: ConsentKind) -> bool:
    return any(c.kind is kind and c.given for c in consents)
