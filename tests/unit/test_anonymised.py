"""The anonymised submission: the kiosk's submission with its patient reduced to the age band."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kiosk.domain.anonymised import AnonymisedPatient, AnonymisedSubmission, anonymise, anonymised_patient_block
from kiosk.domain.submission import Submission
from tests.unit.server_exports.builders import INITIALS, voice_with_changes


def test_same_fields_as_the_submission_but_the_patient() -> None:
    mine = {name: f.annotation for name, f in AnonymisedSubmission.model_fields.items() if name != "patient"}
    theirs = {name: f.annotation for name, f in Submission.model_fields.items() if name != "patient"}
    assert mine == theirs
    assert AnonymisedSubmission.model_fields["patient"].annotation is AnonymisedPatient


def test_anonymising_keeps_the_session_and_drops_the_identity() -> None:
    sub = voice_with_changes()
    anonymous = anonymise(sub, "70-79")
    assert anonymous.answers == sub.answers and anonymous.scores == sub.scores
    patient = anonymous.patient
    assert (patient.initials, patient.birth_date, patient.age_at_session, patient.age_band) == (
        None,
        None,
        None,
        "70-79",
    )
    assert INITIALS not in anonymous.model_dump_json()
    assert anonymised_patient_block("70-79") == {
        "age_band": "70-79",
        "initials": None,
        "birth_date": None,
        "age_at_session": None,
    }


def test_an_anonymised_patient_holds_nothing_else() -> None:
    with pytest.raises(ValidationError):
        AnonymisedPatient.model_validate({"age_band": "70-79", "initials": "AB"})
    with pytest.raises(ValidationError):
        AnonymisedPatient(age_band="seventy")
