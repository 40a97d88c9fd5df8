"""The submission: a finished session (completed or abandoned) frozen into a versioned JSON payload.

The kiosk queues it and sends it; the sync server validates exactly this model (``Submission``) and then
checks it against the instrument with :func:`check_against_instrument`. The JSON Schema of the payload is
committed as ``resources/schemas/submission-v1.schema.json`` (regenerate with
``qlq-kiosk submission-schema -o resources/schemas/submission-v1.schema.json``; a test keeps them equal).

A submission never changes once frozen. Its identity is ``submission_id``; its ``content_sha256`` is the
sha256 of its canonical JSON, so the same payload always has the same hash and a server can tell a retry
(same id, same hash) from a conflict (same id, other content).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Final, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kiosk.domain.instrument import Instrument, canonical_sha256
from kiosk.domain.patient import MAX_AGE, MIN_AGE, age_on
from kiosk.domain.plausibility import (
    DEFAULT_CLOCK_SKEW,
    ImplausibleSubmission,
    SubmissionProblem,
    plausibility_problems,
)
from kiosk.domain.scoring import score_answers
from kiosk.domain.session import ItemStatus, Method, Mode, Phase, Session

__all__ = ["ImplausibleSubmission", "Submission", "SubmissionProblem", "build_submission",
           "check_against_instrument", "submission_json_schema"]

SCHEMA_VERSION: Final = "1.0"
SCORE_TOLERANCE = 1e-9

Confidence = Annotated[float, Field(ge=0.0, le=1.0)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InstrumentRef(_Model):
    id: str = Field(min_length=1, max_length=64, description="Instrument id, e.g. 'qlq-c30'")
    version: str = Field(min_length=1, max_length=32)
    language: str = Field(min_length=2, max_length=8)
    content_sha256: str = Field(pattern=r"^[0-9a-f]{64}$",
                                description="sha256 of the canonical instrument file that was administered")


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


class Submission(_Model):
    """Version 1 of the payload a kiosk sends for one finished session."""

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    submission_id: UUID
    outcome: Literal["completed", "abandoned"]
    abandon_reason: str | None = Field(default=None, max_length=200)
    frozen_at: AwareDatetime
    instrument: InstrumentRef
    device: DeviceRef
    patient: PatientBlock
    session: SessionBlock
    consents: tuple[ConsentRecord, ...] = Field(
        description="Consents recorded at the start; a kiosk submission needs answers-processing given")
    answers: tuple[AnswerRecord, ...] = Field(description="One record per item that was shown, by item number")
    scores: dict[str, float | None] = Field(description="Every scale of the instrument, null when not computable")

    def canonical_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def content_sha256(self) -> str:
        return canonical_sha256(self.canonical_json())

    def answer_values(self) -> dict[int, int | None]:
        return {a.item: a.value for a in self.answers}


def submission_json_schema() -> dict[str, Any]:
    schema = Submission.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://kiosque-qlq-c30.invalid/schemas/submission-v1.schema.json"
    return schema


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
        answers.append(AnswerRecord(
            item=number, status=current.status, value=current.value, method=current.method,
            transcript=current.transcript, confidence=current.confidence, confirmed=current.confirmed,
            first_shown_at=record.first_shown_at, answered_at=current.at, times_shown=record.times_shown,
            previous=tuple(PreviousAnswer(status=e.status, value=e.value, method=e.method, at=e.at,
                                          transcript=e.transcript, confidence=e.confidence, confirmed=e.confirmed)
                           for e in record.events[:-1])))
    scores = score_answers(instrument, session.answers()).as_dict()
    initial_mode = session.mode_changes[0].from_mode if session.mode_changes else session.config.mode
    check = session.check
    submission = Submission(
        submission_id=UUID(session.id),
        outcome="completed" if session.phase is Phase.COMPLETED else "abandoned",
        abandon_reason=session.abandon_reason,
        frozen_at=frozen_at,
        instrument=InstrumentRef(id=instrument.id, version=instrument.version, language=instrument.language,
                                 content_sha256=instrument.content_sha256),
        device=DeviceRef(device_id=device_id, app_version=app_version),
        patient=PatientBlock(initials=session.patient.initials, birth_date=session.patient.birth_date,
                             age_at_session=session.patient.age_at_session),
        session=SessionBlock(
            session_date=session.patient.session_date, mode=session.config.mode, initial_mode=initial_mode,
            audio_enabled=session.config.audio_enabled, started_at=session.started_at, ended_at=session.ended_at,
            duration_seconds=(session.ended_at - session.started_at).total_seconds(),
            paused_seconds=session.paused_duration(session.ended_at).total_seconds(),
            check=None if check is None else CheckBlock(audio_ok=check.audio_ok, microphone_ok=check.microphone_ok,
                                                        at=check.at),
            mode_changes=tuple(ModeChangeRecord(at=m.at, from_mode=m.from_mode, to_mode=m.to_mode, reason=m.reason)
                               for m in session.mode_changes),
            pauses=tuple(PauseRecord(started_at=p.started_at, ended_at=p.ended_at) for p in session.pauses)),
        consents=tuple(ConsentRecord(kind=c.kind.value, given=c.given, at=c.at) for c in session.consents),
        answers=tuple(answers),
        scores=scores,
    )
    problems = plausibility_problems(submission, now=frozen_at)
    if problems:
        raise ImplausibleSubmission(problems)
    return submission


def check_against_instrument(sub: Submission, instrument: Instrument, *, today: date,
                             require_consent: bool = True, now: datetime | None = None,
                             clock_skew: timedelta = DEFAULT_CLOCK_SKEW) -> list[SubmissionProblem]:
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
    if require_consent and not any(c.kind == "answers-processing" and c.given for c in sub.consents):
        problems.append(SubmissionProblem("consent_missing", "consents",
                                          "no consent to the processing of answers was recorded"))
    voice_used = any(a.method is Method.VOICE for a in sub.answers)
    if require_consent and voice_used and not any(c.kind == "cloud-voice-processing" and c.given
                                                  for c in sub.consents):
        problems.append(SubmissionProblem("consent_missing", "consents",
                                          "voice answers without consent to cloud voice processing"))
    ref = sub.instrument
    if (ref.id, ref.version, ref.language, ref.content_sha256) != (
            instrument.id, instrument.version, instrument.language, instrument.content_sha256):
        problems.append(SubmissionProblem("instrument_mismatch", "instrument",
                                          "the submission names another instrument file"))
        return problems
    seen: set[int] = set()
    for index, answer in enumerate(sub.answers):
        where = f"answers[{index}]"
        if answer.item in seen:
            problems.append(SubmissionProblem("duplicate_item", f"{where}.item", f"item {answer.item} appears twice"))
        seen.add(answer.item)
        if answer.item not in instrument.item_numbers:
            problems.append(SubmissionProblem("unknown_item", f"{where}.item",
                                              f"item {answer.item} is not in {instrument.id}"))
            continue
        scale = instrument.scale_of(answer.item)
        for label, status, value in [("value", answer.status, answer.value)] + [
                (f"previous[{i}].value", p.status, p.value) for i, p in enumerate(answer.previous)]:
            if status is ItemStatus.ANSWERED and (value is None or value not in scale.values):
                problems.append(SubmissionProblem(
                    "answer_out_of_range", f"{where}.{label}",
                    f"item {answer.item}: {value!r} is outside {scale.min}..{scale.max}"))
            if status is not ItemStatus.ANSWERED and value is not None:
                problems.append(SubmissionProblem("answer_inconsistent", f"{where}.{label}",
                                                  f"item {answer.item}: a {status.value} item has no value"))
        if answer.answered_at < answer.first_shown_at:
            problems.append(SubmissionProblem("implausible_date", f"{where}.answered_at",
                                              "answered before it was shown"))
    if problems:
        return problems
    expected = score_answers(instrument, sub.answer_values()).as_dict()
    if set(expected) != set(sub.scores):
        problems.append(SubmissionProblem("scores_mismatch", "scores",
                                          f"expected the scales {sorted(expected)}, got {sorted(sub.scores)}"))
    else:
        for code, recomputed in expected.items():
            given = sub.scores[code]
            if (recomputed is None) != (given is None) or (
                    recomputed is not None and given is not None and not math.isclose(
                        recomputed, given, rel_tol=0, abs_tol=SCORE_TOLERANCE)):
                problems.append(SubmissionProblem("scores_mismatch", f"scores.{code}",
                                                  f"recomputed {recomputed!r}, submitted {given!r}"))
    problems += _check_dates(sub, today)
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
            problems.append(SubmissionProblem("implausible_date", "patient.birth_date",
                                              f"age {age} is outside {MIN_AGE}..{MAX_AGE}"))
        if age != sub.patient.age_at_session:
            problems.append(SubmissionProblem("implausible_date", "patient.age_at_session",
                                              f"is {sub.patient.age_at_session}, the dates give {age}"))
    return problems
