"""The submission payload: freezing, determinism, schema file, and the server-side checks."""

from __future__ import annotations

import json
from datetime import timedelta

import jsonschema
import pytest
from pydantic import ValidationError

from kiosk.domain.clock import FakeClock
from kiosk.domain.instrument import load_instrument
from kiosk.domain.resources import schemas_dir
from kiosk.domain.scoring import score_answers
from kiosk.domain.session import ItemStatus, Method, Mode
from kiosk.domain.submission import (
    Submission,
    build_submission,
    check_against_instrument,
    submission_json_schema,
)
from tests.unit.domain_factory import TODAY, answer_all, start_session


def completed(values: dict[int, int | None] | None = None, mode: Mode = Mode.TOUCH) -> Submission:
    clock = FakeClock(step=5)
    s = start_session(mode, clock=clock)
    s = answer_all(s, clock, values if values is not None else {n: 2 for n in range(1, 31)})
    if s.phase.value == "review_prompt":
        s = s.decline_review(now=clock.tick())
    return build_submission(s, device_id="device-1", app_version="0.1.0", frozen_at=clock.tick())


def test_schema_file_in_repo_is_current() -> None:
    on_disk = json.loads((schemas_dir() / "submission-v1.schema.json").read_text(encoding="utf-8"))
    assert on_disk == submission_json_schema(), (
        "regenerate: qlq-kiosk submission-schema -o resources/schemas/submission-v1.schema.json"
    )


def test_payload_validates_against_the_json_schema() -> None:
    schema = submission_json_schema(2)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(completed().canonical_json(), schema)


def test_completed_submission_content() -> None:
    sub = completed({n: (2 if n <= 28 else 6) for n in range(1, 31)})
    assert sub.outcome == "completed" and sub.schema_version == "2.0"
    assert len(sub.answers) == 30 and all(a.method is Method.TOUCH for a in sub.answers)
    inst = load_instrument()
    assert sub.instrument.content_sha256 == inst.content_sha256
    assert sub.scores == score_answers(inst, sub.answer_values()).as_dict()
    assert sub.patient.age_at_session == 74
    assert sub.session.duration_seconds > 0
    assert {c.kind for c in sub.consents} == {"answers-processing", "cloud-voice-processing"}


def test_same_payload_same_hash_and_round_trip() -> None:
    sub = completed()
    again = Submission.model_validate_json(json.dumps(sub.canonical_json()))
    assert again == sub and again.content_sha256() == sub.content_sha256()
    other = sub.model_copy(update={"abandon_reason": "x"})
    assert other.content_sha256() != sub.content_sha256()


def test_abandoned_session_keeps_partial_answers_and_missing_scores() -> None:
    clock = FakeClock(step=5)
    s = start_session(clock=clock)
    s = s.record_check(audio_ok=True, microphone_ok=None, now=clock.tick())
    s = s.begin_items(now=clock.tick())
    for v in (1, 2):
        s = s.answer(v, now=clock.tick())
    s = s.abandon(now=clock.tick(), reason="inactivity")
    sub = build_submission(s, device_id="d", app_version="0.1.0", frozen_at=clock.tick())
    assert sub.outcome == "abandoned" and sub.abandon_reason == "inactivity"
    assert [a.item for a in sub.answers] == [1, 2]  # item 3 was shown but not answered
    assert sub.scores["PF2"] is None  # 2 of 5 items: under the half-items rule
    assert sub.scores["QL2"] is None and sub.scores["SUMSC"] is None


def test_changed_answers_keep_previous_values() -> None:
    clock = FakeClock(step=5)
    s = start_session(Mode.VOICE_CONTINUOUS, clock=clock)
    s = s.record_check(audio_ok=True, microphone_ok=True, now=clock.tick())
    s = s.begin_items(now=clock.tick())
    s = s.answer(2, now=clock.tick(), method=Method.VOICE, transcript="un peu", confidence=0.5, confirmed=True)
    s = s.back(now=clock.tick())
    s = s.answer(4, now=clock.tick())
    s = answer_all(s, clock, {n: 1 for n in range(2, 31)})
    sub = build_submission(s, device_id="d", app_version="0.1.0", frozen_at=clock.tick())
    first = sub.answers[0]
    assert first.value == 4 and first.method is Method.TOUCH and first.times_shown == 2
    assert [(p.value, p.method, p.transcript, p.confirmed) for p in first.previous] == [
        (2, Method.VOICE, "un peu", True)
    ]


def test_only_finished_sessions_freeze() -> None:
    s = start_session()
    with pytest.raises(ValueError, match="only a finished session"):
        build_submission(s, device_id="d", app_version="v", frozen_at=s.started_at)


def test_sound_submission_has_no_problems() -> None:
    assert check_against_instrument(completed(), load_instrument(), today=TODAY) == []


def _tamper(sub: Submission, path: list, value) -> Submission:
    data = sub.canonical_json()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return Submission.model_validate(data)


@pytest.mark.parametrize(
    ("path", "value", "code", "field"),
    [
        (["answers", 0, "value"], 5, "answer_out_of_range", "answers[0].value"),
        (["answers", 29, "value"], 8, "answer_out_of_range", "answers[29].value"),
        (["answers", 3, "item"], 31, "unknown_item", "answers[3].item"),
        (["answers", 3, "item"], 1, "duplicate_item", "answers[3].item"),
        (["scores", "PF2"], 12.5, "scores_mismatch", "scores.PF2"),
        (["scores", "SUMSC"], None, "scores_mismatch", "scores.SUMSC"),
        (["instrument", "content_sha256"], "0" * 64, "instrument_mismatch", "instrument"),
        (["session", "session_date"], "2027-01-01", "implausible_date", "session.session_date"),
        (["patient", "birth_date"], "2020-01-01", "implausible_date", "patient.birth_date"),
        (["patient", "age_at_session"], 30, "implausible_date", "patient.age_at_session"),
        (["consents"], [], "consent_missing", "consents"),
    ],
)
def test_problems_name_code_and_field(path, value, code, field) -> None:
    sub = _tamper(completed(), path, value)
    problems = check_against_instrument(sub, load_instrument(), today=TODAY)
    assert (code, field) in [(p.code, p.field) for p in problems], problems


def test_skipped_item_with_a_value_is_inconsistent() -> None:
    sub = completed({n: 2 for n in range(1, 30)})
    assert sub.answers[29].status is ItemStatus.SKIPPED
    bad = _tamper(sub, ["answers", 29, "value"], 3)
    assert [p.code for p in check_against_instrument(bad, load_instrument(), today=TODAY)] == ["answer_inconsistent"]


def test_voice_answers_need_voice_consent_unless_legacy() -> None:
    clock = FakeClock(step=5)
    s = start_session(Mode.VOICE_CONTINUOUS, clock=clock)
    s = s.record_check(audio_ok=True, microphone_ok=True, now=clock.tick())
    s = s.begin_items(now=clock.tick())
    s = s.answer(2, now=clock.tick(), method=Method.VOICE, transcript="un peu", confidence=0.9)
    s = s.abandon(now=clock.tick(), reason="nurse")
    sub = build_submission(s, device_id="d", app_version="v", frozen_at=clock.tick())
    data = sub.canonical_json()
    data["consents"] = [c for c in data["consents"] if c["kind"] == "answers-processing"]
    bad = Submission.model_validate(data)
    assert [p.code for p in check_against_instrument(bad, load_instrument(), today=TODAY)] == ["consent_missing"]
    data["consents"] = []
    assert (
        check_against_instrument(Submission.model_validate(data), load_instrument(), today=TODAY, require_consent=False)
        == []
    )


@pytest.mark.parametrize(
    "mutation",
    [
        lambda d: d.update(schema_version="3.0"),
        lambda d: d.update(submission_id="not-a-uuid"),
        lambda d: d.update(outcome="finished"),
        lambda d: d.update(extra_field=1),
        lambda d: d["session"].update(started_at="2026-11-25T09:00:00"),  # naive time
        lambda d: d["answers"][0].update(confidence=1.2),
        lambda d: d["answers"][0].update(method="telepathy"),
    ],
)
def test_schema_refuses_malformed_payloads(mutation) -> None:
    data = completed().canonical_json()
    mutation(data)
    with pytest.raises(ValidationError):
        Submission.model_validate(data)


def test_clock_skew_of_a_few_hours_is_tolerated() -> None:
    sub = completed()
    assert check_against_instrument(sub, load_instrument(), today=TODAY - timedelta(days=1)) == []
