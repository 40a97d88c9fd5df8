"""Payload 2.0: voice details per answer; 1.0 payloads still accepted with their exact canonical JSON and hash."""

from __future__ import annotations

import json
from datetime import timedelta

import jsonschema
import pytest
from pydantic import ValidationError

from kiosk.domain.clock import FakeClock as Clock
from kiosk.domain.instrument import load_instrument
from kiosk.domain.resources import schemas_dir
from kiosk.domain.session import ItemStatus, Method, Mode, Session
from kiosk.domain.submission import (
    Submission,
    SubmissionV1,
    build_submission,
    check_against_instrument,
    submission_json_schema,
)
from kiosk.domain.voice_record import Confirmation, Fallback, HeardAlternative, VoiceDetail
from tests.unit.domain_factory import TODAY, start_session


def detail(
    clock: Clock, *, confirmation: Confirmation = "none", attempts: int = 1, fallback: Fallback = ""
) -> VoiceDetail:
    t = clock.now() - timedelta(seconds=4)  # the answer event is at clock.now
    return VoiceDetail(
        alternatives=(HeardAlternative("un peu", 0.91), HeardAlternative("un peut", 0.42), HeardAlternative("impeu")),
        attempts=attempts,
        confirmation=confirmation,
        confirmation_transcript="oui" if confirmation == "voice" else None,
        engine="google-speech-v1",
        model="latest_short",
        language="fr-FR",
        prompt_end_at=t,
        speech_start_at=t + timedelta(seconds=1),
        speech_end_at=t + timedelta(seconds=2),
        result_at=t + timedelta(seconds=2.3),
        fallback=fallback,
    )


def voice_session() -> tuple[Session, Clock]:
    clock = Clock()
    s = start_session(Mode.VOICE_CONTINUOUS, clock=clock)
    s = s.record_check(audio_ok=True, microphone_ok=True, now=clock.tick())
    s = s.begin_items(now=clock.tick())
    s = s.answer(2, now=clock.tick(5), method=Method.VOICE, transcript="un peu", confidence=0.91, voice=detail(clock))
    s = s.answer(
        3,
        now=clock.tick(5),
        method=Method.VOICE,
        transcript="assez",
        confidence=0.5,
        confirmed=True,
        voice=detail(clock, confirmation="voice", attempts=2),
    )
    s = s.skip(
        now=clock.tick(5),
        status=ItemStatus.DONT_KNOW,
        method=Method.VOICE,
        transcript="je ne sais pas",
        confidence=0.9,
        voice=detail(clock),
    )
    s = s.answer(1, now=clock.tick(5), voice=detail(clock, attempts=2, fallback="not_understood"))
    while s.phase.value == "items":
        s = s.answer(2, now=clock.tick())
    if s.phase.value == "review_prompt":
        s = s.decline_review(now=clock.tick())
    return s, clock


def test_the_session_keeps_voice_details_through_its_snapshot() -> None:
    s, _ = voice_session()
    again = Session.from_dict(json.loads(json.dumps(s.to_dict())), s.instrument)
    assert again.records[2].current is not None and again.records[2].current.voice == s.records[2].current.voice
    assert again.to_dict() == s.to_dict()


def test_a_v2_payload_carries_every_alternative_attempts_confirmation_recogniser_and_times() -> None:
    s, clock = voice_session()
    sub = build_submission(s, device_id="d", app_version="0.1.0", frozen_at=clock.tick())
    assert sub.schema_version == "2.0"
    a2 = sub.answers[1]
    assert a2.voice is not None and a2.confirmed
    assert [(x.transcript, x.confidence) for x in a2.voice.alternatives] == [
        ("un peu", 0.91),
        ("un peut", 0.42),
        ("impeu", None),
    ]
    assert (a2.voice.attempts, a2.voice.confirmation, a2.voice.confirmation_transcript) == (2, "voice", "oui")
    assert (a2.voice.recogniser.engine, a2.voice.recogniser.model, a2.voice.recogniser.language) == (
        "google-speech-v1",
        "latest_short",
        "fr-FR",
    )
    times = a2.voice.times
    assert times.prompt_end_at and times.speech_start_at and times.speech_end_at and times.result_at
    assert times.prompt_end_at < times.speech_start_at < times.speech_end_at < times.result_at
    assert sub.answers[2].status is ItemStatus.DONT_KNOW and sub.answers[2].voice is not None
    assert sub.answers[3].method is Method.TOUCH and sub.answers[3].voice.fallback == "not_understood"
    assert sub.answers[10].voice is None
    jsonschema.validate(sub.canonical_json(), submission_json_schema(2))
    again = Submission.model_validate_json(json.dumps(sub.canonical_json()))
    assert again == sub and again.content_sha256() == sub.content_sha256()
    assert check_against_instrument(sub, load_instrument(), today=TODAY) == []


def test_a_v1_payload_is_still_accepted_with_the_same_canonical_json_and_hash() -> None:
    s, clock = voice_session()
    v2 = build_submission(s, device_id="d", app_version="0.1.0", frozen_at=clock.tick()).canonical_json()
    v1 = json.loads(json.dumps(v2))
    v1["schema_version"] = "1.0"
    for a in v1["answers"]:
        a.pop("voice")
        for p in a["previous"]:
            p.pop("voice")
    jsonschema.validate(v1, submission_json_schema(1))
    old = SubmissionV1.model_validate(v1)
    new = Submission.model_validate(v1)
    assert new.canonical_json() == old.canonical_json() == v1
    assert new.content_sha256() == old.content_sha256()
    assert check_against_instrument(new, load_instrument(), today=TODAY) == []


def test_voice_details_need_version_2() -> None:
    s, clock = voice_session()
    data = build_submission(s, device_id="d", app_version="0.1.0", frozen_at=clock.tick()).canonical_json()
    data["schema_version"] = "1.0"
    with pytest.raises(ValidationError, match=r"answers\[0\]: voice details need schema_version 2.0"):
        Submission.model_validate(data)


@pytest.mark.parametrize(
    ("mutate", "code", "field"),
    [
        (lambda a: a["voice"].update(alternatives=[]), "voice_inconsistent", "answers[0].voice.alternatives"),
        (lambda a: a["voice"].update(confirmation="voice"), "voice_inconsistent", "answers[0].voice.confirmation"),
        (
            lambda a: a["voice"]["times"].update(speech_start_at="2026-11-25T08:00:00+00:00"),
            "implausible_date",
            "answers[0].voice.times.speech_start_at",
        ),
    ],
)
def test_inconsistent_voice_blocks_are_named(mutate, code, field) -> None:
    s, clock = voice_session()
    data = build_submission(s, device_id="d", app_version="0.1.0", frozen_at=clock.tick()).canonical_json()
    mutate(data["answers"][0])
    problems = check_against_instrument(Submission.model_validate(data), load_instrument(), today=TODAY)
    assert (code, field) in [(p.code, p.field) for p in problems], problems


def test_bad_voice_blocks_are_refused_by_the_schema() -> None:
    s, clock = voice_session()
    data = build_submission(s, device_id="d", app_version="0.1.0", frozen_at=clock.tick()).canonical_json()
    data["answers"][0]["voice"]["alternatives"][0]["confidence"] = 1.5
    with pytest.raises(ValidationError):
        Submission.model_validate(data)
    data["answers"][0]["voice"]["alternatives"][0]["confidence"] = 0.5
    data["answers"][0]["voice"]["audio"] = "UklGR..."
    with pytest.raises(ValidationError):
        Submission.model_validate(data)


def test_schema_files_are_current() -> None:
    for version in (1, 2):
        on_disk = json.loads((schemas_dir() / f"submission-v{version}.schema.json").read_text(encoding="utf-8"))
        assert on_disk == submission_json_schema(version), (
            f"regenerate: qlq-kiosk submission-schema --schema-version {version} "
            f"-o resources/schemas/submission-v{version}.schema.json"
        )
