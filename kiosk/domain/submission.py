"""The submission: a finished session (completed or abandoned) frozen into a versioned JSON payload.

The kiosk queues it and sends it; the sync server validates exactly this model (``Submission``) and then
checks it against the instrument with :func:`check_against_instrument`.

Two versions: ``schema_version`` "2.0" (what this kiosk sends) adds ``answers[].voice`` and
``answers[].previous[].voice`` (:class:`VoiceBlock`: every alternative with its confidence, attempts, how it
was confirmed, the recogniser, the times); "1.0" (older kiosks) has no voice blocks. :class:`Submission`
accepts both, so the server stores, checks and exports either; a 1.0 payload keeps its exact canonical JSON
(and hash). The JSON Schemas are committed as ``resources/schemas/submission-v1.schema.json`` and
``submission-v2.schema.json`` (regenerate with ``qlq-kiosk submission-schema --schema-version N -o FILE``;
tests keep them equal).

A submission never changes once frozen. Its identity is ``submission_id``; its ``content_sha256`` is the
sha256 of its canonical JSON, so the same payload always has the same hash and a server can tell a retry
(same id, same hash) from a conflict (same id, other content).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Final, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from kiosk.domain.instrument import Instrument, canonical_sha256
from kiosk.domain.patient import MAX_AGE, MIN_AGE, age_on
from kiosk.domain.plausibility import (
    DEFAULT_CLOCK_SKEW,
    ImplausibleSubmission,
    SubmissionProblem,
    plausibility_problems,
)
from kiosk.domain.scoring import score_answers
from kiosk.domain.session import AnswerEvent, ItemStatus, Method, Mode, Phase, Session
from kiosk.domain.voice_record import Confirmation, Fallback, VoiceDetail

__all__ = [
    "ImplausibleSubmission",
    "Submission",
    "SubmissionProblem",
    "build_submission",
    "check_against_instrument",
    "submission_json_schema",
]

SCHEMA_VERSION: Final = "2.0"
SCHEMA_VERSION_1: Final = "1.0"
SCORE_TOLERANCE = 1e-9

Confidence = Annotated[float, Field(ge=0.0, le=1.0)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InstrumentRef(_Model):
    id: str = Field(min_length=1, max_length=64, description="Instrument id, e.g. 'qlq-c30'")
    version: str = Field(min_length=1, max_length=32)
    language: str = Field(min_length=2, max_length=8)
    content_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="sha256 of the canonical instrument file that was administered"
    )


class DeviceRef(_Model):
    device_id: str = Field(min_length=1, max_length=128)
    app_version: str = Field(min_length=1, max_length=64)


class PatientBlock(_Model):
    initials: str = Field(min_length=1, max_length=12)
    birth_date: date
    age_at_session: int = Field(ge=0, le=150)


class ConsentRecord(_Model):
    kind: Literal["answers-processing", "cloud-voice-processing"]
    given: bool
    at: AwareDatetime


class CheckBlock(_Model):
    audio_ok: bool | None
    microphone_ok: bool | None
    at: AwareDatetime


class ModeChangeRecord(_Model):
    at: AwareDatetime
    from_mode: Mode
    to_mode: Mode
    reason: str = Field(max_length=200)


class PauseRecord(_Model):
    started_at: AwareDatetime
    ended_at: AwareDatetime | None


class SessionBlock(_Model):
    session_date: date
    mode: Mode = Field(description="Mode at the end of the session; see mode_changes for earlier ones")
    initial_mode: Mode
    audio_enabled: bool
    started_at: AwareDatetime
    ended_at: AwareDatetime
    duration_seconds: float = Field(ge=0)
    paused_seconds: float = Field(ge=0)
    check: CheckBlock | None
    mode_changes: tuple[ModeChangeRecord, ...] = ()
    pauses: tuple[PauseRecord, ...] = ()


class PreviousAnswer(_Model):
    status: ItemStatus
    value: int | None
    method: Method
    at: AwareDatetime
    transcript: str | None = Field(default=None, max_length=1000)
    confidence: Confidence | None = None
    confirmed: bool = False


class AnswerRecord(_Model):
    item: int = Field(ge=1, description="Item number in the instrument")
    status: ItemStatus
    value: int | None = Field(description="The answer; null when skipped or 'je ne sais pas'")
    method: Method
    transcript: str | None = Field(default=None, max_length=1000)
    confidence: Confidence | None = None
    confirmed: bool = False
    first_shown_at: AwareDatetime
    answered_at: AwareDatetime
    times_shown: int = Field(ge=1)
    previous: tuple[PreviousAnswer, ...] = Field(default=(), description="Earlier answers, oldest first")


class SubmissionV1(_Model):
    """Version 1 of the payload a kiosk sends for one finished session."""

    # Kept exactly as it was (older kiosks send it; it defines submission-v1.schema.json).

    model_config = ConfigDict(frozen=True, extra="forbid", title="Submission")

    schema_version: Literal["1.0"] = SCHEMA_VERSION_1
    submission_id: UUID
    outcome: Literal["completed", "abandoned"]
    abandon_reason: str | None = Field(default=None, max_length=200)
    frozen_at: AwareDatetime
    instrument: InstrumentRef
    device: DeviceRef
    patient: PatientBlock
    session: SessionBlock
    consents: tuple[ConsentRecord, ...] = Field(
        description="Consents recorded at the start; a kiosk submission needs answers-processing given"
    )
    answers: tuple[AnswerRecord, ...] = Field(description="One record per item that was shown, by item number")
    scores: dict[str, float | None] = Field(description="Every scale of the instrument, null when not computable")

    def canonical_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def content_sha256(self) -> str:
        return canonical_sha256(self.canonical_json())

    def answer_values(self) -> dict[int, int | None]:
        return {a.item: a.value for a in self.answers}


# --- Version 2: voice details -------------------------------------------------------------------------------
class HeardAlternativeRecord(_Model):
    transcript: str = Field(max_length=1000)
    confidence: Confidence | None = None


class RecogniserRef(_Model):
    engine: str = Field(max_length=64, description="e.g. 'google-speech-v1'")
    model: str = Field(max_length=64, description="e.g. 'latest_short'")
    language: str = Field(max_length=16, description="BCP-47, e.g. 'fr-FR'")


class VoiceTimes(_Model):
    prompt_end_at: AwareDatetime | None = Field(description="The item's prompt finished playing (null: none played)")
    speech_start_at: AwareDatetime | None
    speech_end_at: AwareDatetime | None
    result_at: AwareDatetime | None = Field(description="The recogniser's final result arrived")


class VoiceBlock(_Model):
    """How a voice answer was heard (or, with ``fallback``, why it was finally touched). Never any audio."""

    alternatives: tuple[HeardAlternativeRecord, ...] = Field(
        max_length=10, description="The recogniser's n-best list for the answer, best first"
    )
    attempts: int = Field(ge=0, le=50, description="Listening turns on this item that led to this answer")
    confirmation: Confirmation = Field(description="'none': accepted as heard; 'voice'/'touch': how confirmed")
    confirmation_transcript: str | None = Field(default=None, max_length=1000)
    recogniser: RecogniserRef
    times: VoiceTimes
    fallback: Fallback = Field(default="", description="Why the item fell back to touch, when it did")


class PreviousAnswerV2(PreviousAnswer):
    voice: VoiceBlock | None = None


class AnswerRecordV2(AnswerRecord):
    voice: VoiceBlock | None = None
    previous: tuple[PreviousAnswerV2, ...] = Field(default=(), description="Earlier answers, oldest first")


class Submission(SubmissionV1):
    """The payload of one finished session, version 2.0 (with voice details) or 1.0 (older kiosks)."""

    # Default 1.0: code that builds a payload without voice details (the legacy import) keeps producing exactly
    # the v1 payload, hash included; build_submission() sets 2.0.
    schema_version: Literal["1.0", "2.0"] = SCHEMA_VERSION_1  # type: ignore[assignment]
    answers: tuple[AnswerRecordV2, ...] = Field(description="One record per item that was shown, by item number")

    @field_validator("answers", mode="before")
    @classmethod
    def _accept_v1_records(cls, value: Any) -> Any:
        """v1 ``AnswerRecord`` objects (the legacy import builds them) are taken as they are."""
        if isinstance(value, (tuple, list)):
            return tuple(
                a.model_dump() if isinstance(a, AnswerRecord) and not isinstance(a, AnswerRecordV2) else a
                for a in value
            )
        return value

    @model_validator(mode="after")
    def _voice_needs_v2(self) -> Submission:
        if self.schema_version == SCHEMA_VERSION_1:
            for i, a in enumerate(self.answers):
                if a.voice is not None or any(p.voice is not None for p in a.previous):
                    raise ValueError(f"answers[{i}]: voice details need schema_version 2.0")
        return self

    def canonical_json(self) -> dict[str, Any]:
        if self.schema_version == SCHEMA_VERSION_1:  # exactly the v1 JSON: same hash as before v2 existed
            return self.model_dump(
                mode="json", exclude={"answers": {"__all__": {"voice": True, "previous": {"__all__": {"voice"}}}}}
            )
        return self.model_dump(mode="json")


class _SubmissionV2Schema(Submission):
    model_config = ConfigDict(frozen=True, extra="forbid", title="Submission")
    schema_version: Literal["2.0"] = SCHEMA_VERSION


def submission_json_schema(version: int = 1) -> dict[str, Any]:
    """The JSON Schema of payload version 1 (default, for compatibility) or 2."""
    if version not in (1, 2):
        raise ValueError(f"no submission schema version {version!r}")
    schema = (SubmissionV1 if version == 1 else _SubmissionV2Schema).model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://kiosque-qlq-c30.invalid/schemas/submission-v{version}.schema.json"
    return schema


def voice_block(detail: VoiceDetail | None) -> VoiceBlock | None:
    if detail is None:
        return None
    return VoiceBlock(
        alternatives=tuple(
            HeardAlternativeRecord(transcript=a.transcript[:1000], confidence=a.confidence)
            for a in detail.alternatives[:10]
        ),
        attempts=detail.attempts,
        confirmation=detail.confirmation,
        confirmation_transcript=detail.confirmation_transcript,
        recogniser=RecogniserRef(engine=detail.engine, model=detail.model, language=detail.language),
        times=VoiceTimes(
            prompt_end_at=detail.prompt_end_at,
            speech_start_at=detail.speech_start_at,
            speech_end_at=detail.speech_end_at,
            result_at=detail.result_at,
        ),
        fallback=detail.fallback,
    )


def _previous(e: AnswerEvent) -> PreviousAnswerV2:
    return PreviousAnswerV2(
        status=e.status,
        value=e.value,
        method=e.method,
        at=e.at,
        transcript=e.transcript,
        confidence=e.confidence,
        confirmed=e.confirmed,
        voice=voice_block(e.voice),
    )


def build_submission(session: Session, *, device_id: str, app_version: str, frozen_at: datetime) -> Submission:
    """Freeze a completed or abandoned session. The submission id is the session id.

    Raises :class:`ImplausibleSubmission` when the result breaks the plausibility rules the server applies
    (:func:`~kiosk.domain.plausibility.plausibility_problems`): the kiosk never queues what would be refused."""
    if not session.phase.is_final or session.ended_at is None:
        raise ValueError(f"only a finished session can be frozen (phase is {session.phase.value!r})")
    instrument = session.instrument
    answers = []
    for number in instrument.item_numbers:
        record = session.records.get(number)
        if record is None or record.current is None:
            continue
        current = record.current
        answers.append(
            AnswerRecordV2(
                item=number,
                status=current.status,
                value=current.value,
                method=current.method,
                transcript=current.transcript,
                confidence=current.confidence,
                confirmed=current.confirmed,
                first_shown_at=record.first_shown_at,
                answered_at=current.at,
                times_shown=record.times_shown,
                previous=tuple(_previous(e) for e in record.events[:-1]),
                voice=voice_block(current.voice),
            )
        )
    scores = score_answers(instrument, session.answers()).as_dict()
    initial_mode = session.mode_changes[0].from_mode if session.mode_changes else session.config.mode
    check = session.check
    submission = Submission(
        schema_version=SCHEMA_VERSION,
        submission_id=UUID(session.id),
        outcome="completed" if session.phase is Phase.COMPLETED else "abandoned",
        abandon_reason=session.abandon_reason,
        frozen_at=frozen_at,
        instrument=InstrumentRef(
            id=instrument.id,
            version=instrument.version,
            language=instrument.language,
            content_sha256=instrument.content_sha256,
        ),
        device=DeviceRef(device_id=device_id, app_version=app_version),
        patient=PatientBlock(
            initials=session.patient.initials,
            birth_date=session.patient.birth_date,
            age_at_session=session.patient.age_at_session,
        ),
        session=SessionBlock(
            session_date=session.patient.session_date,
            mode=session.config.mode,
            initial_mode=initial_mode,
            audio_enabled=session.config.audio_enabled,
            started_at=session.started_at,
            ended_at=session.ended_at,
            duration_seconds=(session.ended_at - session.started_at).total_seconds(),
            paused_seconds=session.paused_duration(session.ended_at).total_seconds(),
            check=None
            if check is None
            else CheckBlock(audio_ok=check.audio_ok, microphone_ok=check.microphone_ok, at=check.at),
            mode_changes=tuple(
                ModeChangeRecord(at=m.at, from_mode=m.from_mode, to_mode=m.to_mode, reason=m.reason)
                for m in session.mode_changes
            ),
            pauses=tuple(PauseRecord(started_at=p.started_at, ended_at=p.ended_at) for p in session.pauses),
        ),
        consents=tuple(ConsentRecord(kind=c.kind.value, given=c.given, at=c.at) for c in session.consents),
        answers=tuple(answers),
        scores=scores,
    )
    problems = plausibility_problems(submission, now=frozen_at)
    if problems:
        raise ImplausibleSubmission(problems)
    return submission


def check_against_instrument(
    sub: Submission,
    instrument: Instrument,
    *,
    today: date,
    require_consent: bool = True,
    now: datetime | None = None,
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
) -> list[SubmissionProblem]:
    """Everything a server must verify beyond the schema: the plausibility rules the kiosk applies too
    (:func:`~kiosk.domain.plausibility.plausibility_problems`), answers fit the items, scores recompute, dates
    hold, the patient consented. ``require_consent=False`` is for imported legacy data that never recorded
    consent (its initials and event order are kept as written). ``now`` is the checker's current time; times up
    to ``clock_skew`` after it are tolerated. A caller that knows only ``today`` keeps the date-based tolerance
    (the kiosk's local date may be a day ahead of the server's UTC date): the end of the next day.

    Returns every problem found (empty list when the submission is sound).
    """
    checked_at = now if now is not None else datetime.combine(today + timedelta(days=1), time.max, tzinfo=UTC)
    problems = plausibility_problems(sub, now=checked_at, clock_skew=clock_skew, kiosk=require_consent)
    if problems:
        return problems
    if require_consent:
        problems += _consent_problems(sub)
    ref = sub.instrument
    if (ref.id, ref.version, ref.language, ref.content_sha256) != (
        instrument.id,
        instrument.version,
        instrument.language,
        instrument.content_sha256,
    ):
        problems.append(
            SubmissionProblem("instrument_mismatch", "instrument", "the submission names another instrument file")
        )
        return problems
    problems += _answer_problems(sub, instrument)
    problems += check_voice_details(sub)
    if problems:
        return problems
    problems += _score_problems(sub, instrument)
    problems += _check_dates(sub, today)
    return problems


# Looked up once: on Python 3.11 a member looked up on its enum class costs a Python call (EnumType.__getattr__)
_ANSWERED: Final = ItemStatus.ANSWERED
_VOICE: Final = Method.VOICE


def _consent_problems(sub: Submission) -> list[SubmissionProblem]:
    """The patient consented to the processing of the answers, and to cloud voice processing if voice was used."""
    problems = []
    if not any(c.kind == "answers-processing" and c.given for c in sub.consents):
        problems.append(
            SubmissionProblem("consent_missing", "consents", "no consent to the processing of answers was recorded")
        )
    voice_used = any(a.method is _VOICE for a in sub.answers)
    if voice_used and not any(c.kind == "cloud-voice-processing" and c.given for c in sub.consents):
        problems.append(
            SubmissionProblem("consent_missing", "consents", "voice answers without consent to cloud voice processing")
        )
    return problems


def _answer_problems(sub: Submission, instrument: Instrument) -> list[SubmissionProblem]:
    """Each answer fits its item: a known item, seen once, a value of the item's scale exactly when answered
    (earlier answers too), not answered before it was shown."""
    if _answers_fit(sub.answers, instrument.values_by_item):
        return []  # the common case: one pass, no field path or message built
    problems = []  # something is wrong: name each problem with its field
    seen: set[int] = set()
    for index, answer in enumerate(sub.answers):
        where = f"answers[{index}]"
        if answer.item in seen:
            problems.append(SubmissionProblem("duplicate_item", f"{where}.item", f"item {answer.item} appears twice"))
        seen.add(answer.item)
        if answer.item not in instrument.item_numbers:
            problems.append(
                SubmissionProblem("unknown_item", f"{where}.item", f"item {answer.item} is not in {instrument.id}")
            )
            continue
        scale = instrument.scale_of(answer.item)
        for label, status, value in [("value", answer.status, answer.value)] + [
            (f"previous[{i}].value", p.status, p.value) for i, p in enumerate(answer.previous)
        ]:
            if status is ItemStatus.ANSWERED and (value is None or value not in scale.values):
                problems.append(
                    SubmissionProblem(
                        "answer_out_of_range",
                        f"{where}.{label}",
                        f"item {answer.item}: {value!r} is outside {scale.min}..{scale.max}",
                    )
                )
            if status is not ItemStatus.ANSWERED and value is not None:
                problems.append(
                    SubmissionProblem(
                        "answer_inconsistent",
                        f"{where}.{label}",
                        f"item {answer.item}: a {status.value} item has no value",
                    )
                )
        if answer.answered_at < answer.first_shown_at:
            problems.append(
                SubmissionProblem("implausible_date", f"{where}.answered_at", "answered before it was shown")
            )
    return problems


def _answers_fit(answers: tuple[AnswerRecordV2, ...], values_by_item: Mapping[int, range]) -> bool:
    """True when :func:`_answer_problems` finds nothing: its tests, negated, answer by answer (``values_by_item``
    holds the same scales as ``instrument.scale_of``, for the same item numbers as ``item_numbers``)."""
    seen: set[int] = set()
    for answer in answers:
        item = answer.item
        values = values_by_item.get(item)
        if (
            values is None
            or item in seen
            or not _value_fits(answer.status, answer.value, values)
            or (answer.previous and not all(_value_fits(p.status, p.value, values) for p in answer.previous))
            or answer.answered_at < answer.first_shown_at
        ):
            return False
        seen.add(item)
    return True


def _value_fits(status: ItemStatus, value: int | None, values: range) -> bool:
    """Neither ``answer_out_of_range`` nor ``answer_inconsistent``: a value of the scale when answered, none
    otherwise."""
    if status is _ANSWERED:
        return value is not None and value in values
    return value is None


def _score_problems(sub: Submission, instrument: Instrument) -> list[SubmissionProblem]:
    """The submitted scores are those the answers give (the same scales, each within :data:`SCORE_TOLERANCE`)."""
    problems = []
    expected = score_answers(instrument, sub.answer_values()).as_dict()
    if set(expected) != set(sub.scores):
        problems.append(
            SubmissionProblem(
                "scores_mismatch", "scores", f"expected the scales {sorted(expected)}, got {sorted(sub.scores)}"
            )
        )
        return problems
    for code, recomputed in expected.items():
        given = sub.scores[code]
        if (recomputed is None) != (given is None) or (
            recomputed is not None
            and given is not None
            and not math.isclose(recomputed, given, rel_tol=0, abs_tol=SCORE_TOLERANCE)
        ):
            problems.append(
                SubmissionProblem(
                    "scores_mismatch", f"scores.{code}", f"recomputed {recomputed!r}, submitted {given!r}"
                )
            )
    return problems


def check_voice_details(sub: Submission) -> list[SubmissionProblem]:
    """Version 2 voice blocks must be consistent: a voice answer confirmed 'none'/'voice' was heard (has
    alternatives), times run prompt end <= speech start <= speech end <= result <= answered."""
    problems = []
    for index, answer in enumerate(sub.answers):
        v = answer.voice
        if v is None:
            continue
        where = f"answers[{index}].voice"
        if answer.method is Method.VOICE and answer.status is ItemStatus.ANSWERED and not v.alternatives:
            problems.append(
                SubmissionProblem(
                    "voice_inconsistent", f"{where}.alternatives", "a voice answer without any recognised alternative"
                )
            )
        if answer.method is Method.VOICE and answer.confirmed != (v.confirmation != "none"):
            problems.append(
                SubmissionProblem(
                    "voice_inconsistent",
                    f"{where}.confirmation",
                    f"confirmed={answer.confirmed} but confirmation={v.confirmation!r}",
                )
            )
        t = v.times
        order = [
            (n, x)
            for n, x in (
                ("prompt_end_at", t.prompt_end_at),
                ("speech_start_at", t.speech_start_at),
                ("speech_end_at", t.speech_end_at),
                ("result_at", t.result_at),
                ("answered_at", answer.answered_at),
            )
            if x is not None
        ]
        for (n1, t1), (n2, t2) in itertools.pairwise(order):
            if t2 < t1 - timedelta(seconds=1):  # clocks of two threads: a second of slack
                problems.append(SubmissionProblem("implausible_date", f"{where}.times.{n2}", f"before {n1}"))
    return problems


def _check_dates(sub: Submission, today: date) -> list[SubmissionProblem]:
    problems = []
    s = sub.session
    # The kiosk's local date may be a day ahead of the server's UTC date around midnight.
    if s.session_date > today + timedelta(days=1):
        problems.append(SubmissionProblem("implausible_date", "session.session_date", "in the future"))
    if sub.patient.birth_date >= s.session_date:
        problems.append(SubmissionProblem("implausible_date", "patient.birth_date", "not before the session date"))
    else:
        age = age_on(sub.patient.birth_date, s.session_date)
        if not MIN_AGE <= age <= MAX_AGE:
            problems.append(
                SubmissionProblem(
                    "implausible_date", "patient.birth_date", f"age {age} is outside {MIN_AGE}..{MAX_AGE}"
                )
            )
        if age != sub.patient.age_at_session:
            problems.append(
                SubmissionProblem(
                    "implausible_date",
                    "patient.age_at_session",
                    f"is {sub.patient.age_at_session}, the dates give {age}",
                )
            )
    return problems
