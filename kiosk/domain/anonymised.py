"""An anonymised session: what the server keeps of a patient once their identity is removed (GDPR).

Anonymising drops the initials, the birth date and the exact age; the ten-year age band stays, so research
by age group still works. :class:`AnonymisedPatient` is that block, and :class:`AnonymisedSubmission` a stored
submission holding one: every other field is the submission as the kiosk sent it (same names, same types,
checked by ``tests/unit/test_anonymised.py``). Code reading either kind (the exports) sees the same attributes;
an anonymised patient's ``initials``, ``birth_date`` and ``age_at_session`` are ``None``.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kiosk.domain.submission import (
    SCHEMA_VERSION_1,
    AnswerRecordV2,
    ConsentRecord,
    DeviceRef,
    InstrumentRef,
    SessionBlock,
    Submission,
)


class AnonymisedPatient(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    age_band: str = Field(pattern=r"^\d{1,3}-\d{1,3}$", description='Ten-year age band, e.g. "60-69"')
    initials: None = None
    birth_date: None = None
    age_at_session: None = None


class AnonymisedSubmission(BaseModel):
    """A stored submission whose patient block was anonymised (its stored payload's shape)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal["1.0", "2.0"] = SCHEMA_VERSION_1
    submission_id: UUID
    outcome: Literal["completed", "abandoned"]
    abandon_reason: str | None = Field(default=None, max_length=200)
    frozen_at: AwareDatetime
    instrument: InstrumentRef
    device: DeviceRef
    patient: AnonymisedPatient
    session: SessionBlock
    consents: tuple[ConsentRecord, ...]
    answers: tuple[AnswerRecordV2, ...]  # 1.0 answers are 2.0 ones without voice details
    scores: dict[str, float | None]


def anonymise(sub: Submission, age_band: str) -> AnonymisedSubmission:
    """The submission with its patient replaced by the anonymised block."""
    return AnonymisedSubmission.model_validate({**dict(sub), "patient": AnonymisedPatient(age_band=age_band)})


def anonymised_patient_block(age_band: str) -> dict[str, object]:
    """The payload's ``patient`` block after anonymisation, as stored (JSON)."""
    return AnonymisedPatient(age_band=age_band).model_dump(mode="json")
