"""The legacy prototype reader: good sessions, incomplete ones, duplicates, every malformed case."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import NAMESPACE_URL, uuid5

import pytest

from kiosk.domain.instrument import load_instrument
from kiosk.domain.scoring import score_answers
from kiosk.domain.session import Method, Mode
from kiosk.domain.submission import check_against_instrument
from sync_server.legacy import (
    LEGACY_INSTRUMENT_SHA256,
    LegacyProblem,
    LegacySession,
    legacy_instrument,
    legacy_submission_id,
    read_legacy_db,
)
from tests.unit.server_legacy.legacy_db import LegacyDb

FR = load_instrument("qlq-c30", "fr")


def read(db: LegacyDb) -> list[LegacySession | LegacyProblem]:
    return list(read_legacy_db(db.write(), instrument=FR))


def by_id(results: list) -> dict:
    return {r.legacy_id: r for r in results}


@pytest.fixture(params=[False, True], ids=["base-schema", "with-metadata-confidence"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> LegacyDb:
    return LegacyDb(tmp_path / "prototype.db", extended=request.param)


def assert_sound(session: LegacySession) -> None:
    """Every produced submission passes the server's checks against the legacy instrument variant."""
    problems = check_against_instrument(
        session.submission, legacy_instrument(FR), today=date(2026, 1, 1), require_consent=False
    )
    assert problems == []


def test_marker_and_ids_are_fixed() -> None:
    assert hashlib.sha256(b"legacy-prototype:qlq-c30:fr").hexdigest() == LEGACY_INSTRUMENT_SHA256
    namespace = uuid5(NAMESPACE_URL, "kiosque-qlq-c30:legacy")
    assert legacy_submission_id("abc") == uuid5(namespace, "abc")
    variant = legacy_instrument(FR)
    assert variant.content_sha256 == LEGACY_INSTRUMENT_SHA256 and variant.items == FR.items
    assert FR.content_sha256 != LEGACY_INSTRUMENT_SHA256


def test_a_complete_session(db: LegacyDb) -> None:
    [result] = read(db.full("s-1", initials="M-L B", mode="Standard"))
    assert isinstance(result, LegacySession) and result.completed
    sub = result.submission
    assert sub.submission_id == legacy_submission_id("s-1") and result.legacy_id == "s-1"
    assert sub.outcome == "completed" and sub.abandon_reason is None
    assert (sub.device.device_id, sub.device.app_version) == ("legacy-prototype", "prototype")
    assert (sub.instrument.id, sub.instrument.version, sub.instrument.language) == ("qlq-c30", "3.0", "fr")
    assert sub.instrument.content_sha256 == LEGACY_INSTRUMENT_SHA256 and sub.consents == ()
    assert (sub.patient.initials, sub.patient.birth_date, sub.patient.age_at_session) == (
        "M-L B",
        date(1950, 4, 12),
        73,
    )
    assert sub.session.mode is Mode.TOUCH and sub.session.initial_mode is Mode.TOUCH
    assert sub.session.started_at == datetime(2024, 3, 5, 9, 0, tzinfo=UTC)
    assert sub.session.ended_at == datetime(2024, 3, 5, 9, 45, tzinfo=UTC) == sub.frozen_at
    assert sub.session.duration_seconds == 45 * 60 and sub.session.audio_enabled
    assert [a.item for a in sub.answers] == list(range(1, 31))  # question 0 ignored
    values = {n: n % 4 + 1 if n <= 28 else 5 for n in range(1, 31)}
    assert sub.answer_values() == values
    assert sub.scores == score_answers(FR, values).as_dict()
    first = sub.answers[0]
    assert first.first_shown_at == first.answered_at == datetime(2024, 3, 5, 9, 1, 30, tzinfo=UTC)
    assert first.method is Method.TOUCH and first.times_shown == 1 and first.previous == ()
    assert_sound(result)


def test_plutot_label_is_value_3(db: LegacyDb) -> None:
    db.full("p", values={n: 3 for n in range(1, 29)})
    [result] = read(db)
    assert isinstance(result, LegacySession)
    assert all(v == 3 for n, v in result.submission.answer_values().items() if n <= 28)
    assert_sound(result)


def test_voice_session_with_transcripts(db: LegacyDb) -> None:
    db.session("v", mode="Continu (Web Speech)")
    for n in range(1, 31):
        db.response("v", n, 2, response_type="voice", transcript=f"  un   peu {n} ", confidence=0.8)
    [result] = read(db)
    assert isinstance(result, LegacySession)
    sub = result.submission
    assert sub.session.mode is Mode.VOICE_CONTINUOUS
    answer = sub.answers[4]
    assert answer.method is Method.VOICE and answer.transcript == "un   peu 5"
    assert answer.confidence == (0.8 if db.extended else None)
    assert_sound(result)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("Standard", Mode.TOUCH),
        ("manual", Mode.TOUCH),
        ("Continu (Web Speech)", Mode.VOICE_CONTINUOUS),
        (" continuous ", Mode.VOICE_CONTINUOUS),
        ("CONTINU  (web speech)", Mode.VOICE_CONTINUOUS),
    ],
)
def test_modes(tmp_path: Path, mode: str, expected: Mode) -> None:
    [result] = read(LegacyDb(tmp_path / "m.db").full("m", mode=mode))
    assert isinstance(result, LegacySession) and result.submission.session.mode is expected


def test_incomplete_sessions_are_abandoned(db: LegacyDb) -> None:
    db.session("no-end", completed_at=None)
    for n in range(1, 11):
        db.response("no-end", n, 2)
    db.session("missing-item")
    for n in range(1, 31):
        if n != 17:
            db.response("missing-item", n, 1)
    db.session("nothing", completed_at=None)
    results = by_id(read(db))
    for sid in ("no-end", "missing-item", "nothing"):
        result = results[sid]
        assert isinstance(result, LegacySession) and not result.completed, sid
        assert result.submission.outcome == "abandoned"
        assert result.submission.abandon_reason == "legacy-incomplete"
        assert_sound(result)
    no_end = results["no-end"].submission
    assert no_end.session.ended_at == datetime(2024, 3, 5, 9, 10, 30, tzinfo=UTC)  # the last response
    assert no_end.scores["PF2"] is not None and no_end.scores["QL2"] is None
    assert results["missing-item"].submission.scores["DI"] is None
    nothing = results["nothing"].submission
    assert nothing.answers == () and nothing.session.ended_at == nothing.session.started_at


def test_duplicates_keep_the_latest_as_current(db: LegacyDb) -> None:
    db.full("d")
    # Item 5 answered again twice; the row ids are not in time order.
    db.response("d", 5, 4, at="2024-03-05T09:20:00Z", rid=900, response_type="voice", transcript="beaucoup")
    db.response("d", 5, 1, at="2024-03-05T09:10:00Z", rid=901)
    [result] = read(db)
    assert isinstance(result, LegacySession)
    answer = result.submission.answers[4]
    assert (answer.value, answer.method, answer.transcript) == (4, Method.VOICE, "beaucoup")
    assert [p.value for p in answer.previous] == [2, 1]  # oldest first: 09:05:30, 09:10:00
    assert answer.times_shown == 3
    assert answer.first_shown_at == datetime(2024, 3, 5, 9, 5, 30, tzinfo=UTC)
    assert answer.answered_at == datetime(2024, 3, 5, 9, 20, tzinfo=UTC)
    assert result.submission.scores == score_answers(FR, result.submission.answer_values()).as_dict()
    assert_sound(result)


def test_date_forms(tmp_path: Path) -> None:
    db = LegacyDb(tmp_path / "dates.db")
    db.full(
        "iso-z",
        birth_date="12/04/1950",
        today_date="05/03/2024",
        created_at="2024-03-05T08:00:00Z",
        completed_at="2024-03-05T10:00:00+01:00",
    )
    db.full(
        "epoch",
        birth_date="1950-04-12T00:00:00.000Z",
        today_date=None,
        created_at=1709625600,
        completed_at="1709632800000",
    )
    results = by_id(read(db))
    iso = results["iso-z"].submission
    assert iso.patient.birth_date == date(1950, 4, 12) and iso.session.session_date == date(2024, 3, 5)
    assert iso.session.ended_at == datetime(2024, 3, 5, 9, 0, tzinfo=UTC)
    epoch = results["epoch"].submission
    assert epoch.session.session_date == date(2024, 3, 5)  # from created_at
    assert epoch.session.started_at == datetime(2024, 3, 5, 8, 0, tzinfo=UTC)
    assert epoch.session.ended_at == datetime(2024, 3, 5, 10, 0, tzinfo=UTC)


def test_javascript_date_strings(tmp_path: Path) -> None:
    """The prototype's JavaScript may have stored Date.toString() / toUTCString() text rather than ISO."""
    db = LegacyDb(tmp_path / "js.db")
    db.full(
        "js",
        birth_date="Wed Apr 12 1950 00:00:00 GMT+0100 (heure normale d’Europe centrale)",
        today_date=None,
        created_at="Tue Mar 05 2024 09:00:00 GMT+0100 (heure normale d’Europe centrale)",
        completed_at="Tue, 05 Mar 2024 10:00:00 GMT",
    )
    sub = by_id(read(db))["js"].submission
    assert sub.patient.birth_date == date(1950, 4, 12)  # the calendar day as written, not shifted to UTC
    assert sub.session.session_date == date(2024, 3, 5)
    db = LegacyDb(tmp_path / "late.db")
    db.full("late", today_date=None, created_at="2024-03-05T00:30:00+01:00", completed_at="2024-03-05T11:00:00+01:00")
    late = by_id(read(db))["late"].submission
    assert late.session.session_date == date(2024, 3, 5)  # the clinic's day, though 23:30 UTC on the 4th
    assert (sub.session.started_at, sub.session.ended_at) == (
        datetime(2024, 3, 5, 8, 0, tzinfo=UTC),
        datetime(2024, 3, 5, 10, 0, tzinfo=UTC),
    )


def test_initials_are_kept_loosely(db: LegacyDb) -> None:
    db.full("long", initials="  Jean-Christophe Dupont ")
    db.full("blank", initials="   ")
    db.full("null", initials=None)
    results = by_id(read(db))
    assert results["long"].submission.patient.initials == "Jean-Christo"
    for sid in ("blank", "null"):
        problem = results[sid]
        assert isinstance(problem, LegacyProblem) and problem.row == f"sessions id={sid}"
        assert "initials are empty" in problem.message


def problem_of(tmp_path: Path, build, *, extended: bool = False) -> LegacyProblem:
    db = LegacyDb(tmp_path / "bad.db", extended=extended)
    db.full("good-before")
    build(db)
    db.full("zz-good-after")
    results = read(db)
    assert [r.legacy_id for r in results] == ["bad", "good-before", "zz-good-after"]
    assert all(isinstance(r, LegacySession) for r in results[1:])  # a problem does not stop the rest
    problem = results[0]
    assert isinstance(problem, LegacyProblem), problem
    return problem


@pytest.mark.parametrize(
    ("question", "score", "message"),
    [
        (7, 5, "score 5 of question 7 is outside 1..4"),
        (29, 0, "score 0 of question 29 is outside 1..7"),
        (3, "abc", "'abc' is not an integer"),
        (3, 2.5, "2.5 is not an integer"),
        (3, None, "None is not an integer"),
        (31, 2, "question_num 31 is not an item of qlq-c30"),
        ("x", 2, "'x' is not an integer"),
    ],
)
def test_bad_response_values_reject_the_whole_session(tmp_path: Path, question, score, message: str) -> None:
    def build(db: LegacyDb) -> None:
        db.full("bad")
        db.response("bad", question, score, rid=777, text="?")

    problem = problem_of(tmp_path, build)
    assert problem.row == "responses id=777" and message in problem.message


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("response_type", "gesture", "unknown response_type 'gesture'"),
        ("response_type", None, "unknown response_type None"),
        ("at", "yesterday", "'yesterday' is not a date or time"),
        ("text", "Beaucoup", "response_text 'Beaucoup' contradicts score 2"),
        ("text", "Plutôt", "response_text 'Plutôt' contradicts score 2"),
    ],
)
def test_bad_response_fields(tmp_path: Path, field: str, value, message: str) -> None:
    def build(db: LegacyDb) -> None:
        db.full("bad")
        db.response("bad", 6, 2, rid=555, **{field: value})

    problem = problem_of(tmp_path, build)
    assert problem.row == "responses id=555" and message in problem.message


@pytest.mark.parametrize("confidence", [1.5, -0.1, "high"])
def test_bad_confidence(tmp_path: Path, confidence) -> None:
    def build(db: LegacyDb) -> None:
        db.full("bad")
        db.response("bad", 6, 2, rid=556, response_type="voice", confidence=confidence)

    problem = problem_of(tmp_path, build, extended=True)
    assert problem.row == "responses id=556" and "confidence" in problem.message


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"birth_date": "2030-01-01"}, "is after the session date"),
        ({"birth_date": "1850-01-01"}, "age 174"),
        ({"birth_date": "2015-01-01"}, "fails the server's checks: patient.birth_date: age 9 is outside 18..120"),
        ({"birth_date": "31/02/1950"}, "birth_date: '31/02/1950' is not a valid date"),
        ({"birth_date": None}, "birth_date is empty"),
        ({"today_date": "05/03/24"}, "today_date: '05/03/24'"),
        ({"today_date": None, "created_at": None}, "neither today_date nor created_at"),
        ({"mode": "Vocal à la demande"}, "unknown mode 'Vocal à la demande'"),
        ({"mode": None}, "unknown mode None"),
        ({"audio_enabled": "maybe"}, "audio_enabled: 'maybe' is not a yes/no value"),
        ({"completed_at": "2024-03-05 08:00:00"}, "ends (2024-03-05T08:00:00+00:00) before it starts"),
        ({"created_at": "soon"}, "created_at: 'soon'"),
        (
            {"today_date": "2099-01-01", "created_at": "2099-01-01 09:00", "completed_at": "2099-01-01 10:00"},
            "in the future",
        ),
    ],
)
def test_bad_sessions(tmp_path: Path, fields: dict, message: str) -> None:
    problem = problem_of(tmp_path, lambda db: db.full("bad", **fields))
    assert problem.row == "sessions id=bad" and message in problem.message, problem.message


def test_orphan_responses_and_null_ids(tmp_path: Path) -> None:
    db = LegacyDb(tmp_path / "orphans.db")
    db.full("b-session")
    db.response("a-ghost", 1, 2, rid=401).response("a-ghost", 2, 2, rid=402)
    db.response("c-ghost", 1, 2, rid=403)
    db.response(None, 1, 2, rid=404)
    db.session(None)
    results = read(db)
    problems = [r for r in results if isinstance(r, LegacyProblem)]
    assert [(p.legacy_id, p.row) for p in problems] == [
        (None, "sessions id=NULL"),
        (None, "responses id=404"),
        ("a-ghost", "responses id=401"),
        ("c-ghost", "responses id=403"),
    ]
    assert "2 response(s) point to session 'a-ghost'" in problems[2].message
    assert [r.legacy_id for r in results if isinstance(r, LegacySession)] == ["b-session"]


def test_numeric_session_ids_and_question_zero_oddities(tmp_path: Path) -> None:
    path = tmp_path / "numeric.db"
    with sqlite3.connect(path) as con:
        con.execute(
            "CREATE TABLE sessions (id, initials, birth_date, today_date, mode, audio_enabled, "
            "created_at, completed_at)"
        )
        con.execute(
            "CREATE TABLE responses (id, session_id, question_num, question_text, score, response_text, "
            "transcript, response_type, timestamp)"
        )
        con.execute(
            "INSERT INTO sessions VALUES (12, 'AB', '1960-01-01', '2024-01-02', 'manual', 0, "
            "'2024-01-02 10:00:00', NULL)"
        )
        con.execute("INSERT INTO responses VALUES (1, 12, 0, 'son ?', 'n/a', NULL, NULL, NULL, 'garbage')")
        con.execute(
            "INSERT INTO responses VALUES (2, '12', 1, 'q1', '3', 'Plutôt', NULL, 'manual', '2024-01-02 10:01:00')"
        )
    [result] = read_legacy_db(path, instrument=FR)
    assert isinstance(result, LegacySession) and result.legacy_id == "12"
    assert result.submission.answer_values() == {1: 3}
    assert not result.submission.session.audio_enabled


def test_reimport_is_identical(db: LegacyDb) -> None:
    db.full("x1").full("x2", completed_at=None)
    path = db.write()
    first = list(read_legacy_db(path, instrument=FR))
    second = list(read_legacy_db(path, instrument=FR))
    assert [r.submission.content_sha256() for r in first] == [r.submission.content_sha256() for r in second]
    assert [r.submission.submission_id for r in first] == [legacy_submission_id("x1"), legacy_submission_id("x2")]


def test_odd_text_is_kept_not_fatal(tmp_path: Path) -> None:
    db = LegacyDb(tmp_path / "odd.db")
    db.session("t")
    for n in range(1, 31):
        db.response("t", n, 1, response_type="voice", transcript="pas du tout " * 120 if n == 1 else None)
    path = db.write()
    with sqlite3.connect(path) as con:  # bytes that are not UTF-8, as a broken client might have stored
        con.execute("UPDATE sessions SET initials = CAST(X'4A2EFF44' AS TEXT) WHERE id = 't'")
    [result] = read_legacy_db(path, instrument=FR)
    assert isinstance(result, LegacySession)
    assert result.submission.patient.initials == "J.\ufffdD"
    assert len(result.submission.answers[0].transcript or "") == 1000  # cut to the payload's limit
    assert result.submission.answers[1].transcript is None
