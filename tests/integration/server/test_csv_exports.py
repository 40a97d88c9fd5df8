"""CSV wide and long, written by PostgreSQL (COPY): re-read with the csv module and compared with the stored
answers and the domain scorer; formula injection neutralised; extreme stored values exported; how an export
ends (completed, or failed mid-stream) is audited and counted."""

from __future__ import annotations

import csv
import io
import struct
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from kiosk.domain.instrument import parse_instrument
from kiosk.domain.scoring import score_answers, score_codes
from kiosk.domain.session import ItemStatus, Mode
from kiosk.domain.submission import Submission
from sync_server import metrics
from sync_server.exports import csv_sql
from sync_server.exports.columns import WideLayout
from sync_server.models import AuditEvent
from sync_server.repositories.submissions import SubmissionFilter
from sync_server.services.audit import Actor
from sync_server.services.exports import ExportJob, ExportStream, audit_export, write_job
from sync_server.services.gdpr import GdprService
from sync_server.services.instruments import InstrumentRegistry
from tests.conftest_pg import libpq_dsn
from tests.unit.server_exports.builders import (
    BIRTH,
    INITIALS,
    abandoned_early,
    all_submissions,
    fr,
    freeze,
    new_clock,
    partially_missing,
    start,
    touch_completed,
    voice_with_changes,
)

SITE = "CHU-LYON"
ADMIN = Actor("user:admin", "admin")


def export_rows(accounts, fmt: str, instrument=None, **options: bool) -> tuple[bytes, list[dict[str, str]]]:
    instrument = instrument or fr()
    job = ExportJob(
        fmt=fmt,
        instrument=instrument,
        include_birth_date=options.get("include_birth_date", False),
        where=SubmissionFilter(instrument_id=instrument.id, instrument_language=instrument.language),
    )
    out = io.BytesIO()
    with accounts.session() as db:
        count = write_job(db, job, out)
    raw = out.getvalue()
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert count == len(rows)
    return raw, rows


@pytest.fixture
def device_id(accounts) -> uuid.UUID:
    return accounts.device(SITE, "tablet-07")[1]


def store(accounts, device_id, *subs: Submission, **options) -> None:
    """Store through the ingest service, received three minutes after each was frozen (so the test knows it)."""
    assert set(accounts.store(SITE, *subs, device_id=device_id, **options)) == {"received"}
    with accounts.session() as db, db.begin():
        for sub in subs:
            db.execute(
                text("UPDATE submissions SET received_at = :at WHERE submission_id = :id"),
                {"at": sub.frozen_at + timedelta(minutes=3), "id": sub.submission_id},
            )


def expected_header(include_birth_date: bool) -> list[str]:
    items = [f"q{n}" for n in range(1, 31)]
    return [
        "submission_id",
        "legacy_id",
        "source",
        "site",
        "device_id",
        "session_date",
        "age_at_session",
        *(["birth_date"] if include_birth_date else []),
        "outcome",
        "mode",
        "initial_mode",
        "audio_enabled",
        "instrument_id",
        "instrument_language",
        "instrument_sha256",
        "started_at",
        "ended_at",
        "duration_seconds",
        *items,
        "QL2",
        "PF2",
        "RF2",
        "EF",
        "CF",
        "SF",
        "FA",
        "NV",
        "PA",
        "DY",
        "SL",
        "AP",
        "CO",
        "DI",
        "FI",
        "SUMSC",
        *(f"{q}_mode" for q in items),
        "n_voice_answers",
        "received_at",
    ]


@pytest.mark.parametrize("include_birth_date", [False, True])
def test_wide_header_follows_the_instrument(accounts, include_birth_date: bool) -> None:
    raw, _ = export_rows(accounts, "csv-wide", include_birth_date=include_birth_date)
    header = next(csv.reader(io.StringIO(raw.decode())))
    assert header == expected_header(include_birth_date)
    assert tuple(header) == WideLayout(fr(), include_birth_date=include_birth_date).names  # the .sav's columns


def test_wide_values_equal_the_stored_answers_and_the_domain_scores(accounts, device_id) -> None:
    subs = all_submissions()
    store(accounts, device_id, *subs)
    _, rows = export_rows(accounts, "csv-wide")
    inst = fr()
    for sub, row in zip(subs, rows, strict=True):
        assert row["submission_id"] == str(sub.submission_id)
        assert row["outcome"] == sub.outcome and row["site"] == SITE and row["source"] == "kiosk"
        assert row["legacy_id"] == "" and row["device_id"] == str(device_id)
        assert row["session_date"] == sub.session.session_date.isoformat()
        assert row["age_at_session"] == str(sub.patient.age_at_session)
        assert row["instrument_sha256"] == inst.content_sha256
        assert datetime.fromisoformat(row["started_at"]) == sub.session.started_at
        assert datetime.fromisoformat(row["ended_at"]).tzinfo == UTC
        assert float(row["duration_seconds"]) == sub.session.duration_seconds
        values = sub.answer_values()
        for n in range(1, 31):
            assert row[f"q{n}"] == ("" if values.get(n) is None else str(values[n])), n
        expected = score_answers(inst, values).as_dict()
        for code in score_codes(inst):
            score = expected[code]
            assert row[code] == ("" if score is None else repr(score)), code
            if score is not None:
                assert float(row[code]) == score  # full precision, bit for bit
        assert row["received_at"] == (sub.frozen_at + timedelta(minutes=3)).astimezone(UTC).isoformat()


def test_wide_modes_and_voice_counts(accounts, device_id) -> None:
    sub, early = voice_with_changes(), abandoned_early()
    store(accounts, device_id, sub, early)
    _, [row, early_row] = export_rows(accounts, "csv-wide")
    assert (row["mode"], row["initial_mode"], row["audio_enabled"]) == ("touch", "voice-continuous", "1")
    assert row["q1_mode"] == "voice" and row["q2_mode"] == "touch" and row["q25_mode"] == "touch"
    assert row["q9"] == "" and row["q9_mode"] == "voice"  # "je ne sais pas" said aloud
    voice = [a for a in sub.answers if a.status is ItemStatus.ANSWERED and a.method.value == "voice"]
    assert row["n_voice_answers"] == str(len(voice)) == "17"
    assert early_row["q5_mode"] == "" and early_row["q5"] == "" and early_row["outcome"] == "abandoned"
    expected = score_answers(fr(), early.answer_values())
    assert early_row["PF2"] == repr(expected["PF2"]) == "50.0"  # 4 of 5 items: scored
    assert early_row["EF"] == "" and early_row["SUMSC"] == ""  # none answered: missing, never 0


def test_birth_date_only_when_asked_and_never_for_anonymized_sessions(accounts, device_id) -> None:
    sub = touch_completed()
    other = sub.model_copy(update={"submission_id": uuid.uuid4()})
    store(accounts, device_id, sub, other)
    with accounts.session() as db, db.begin():
        GdprService(db).anonymize(other.submission_id, ADMIN)
    _, [plain, _] = export_rows(accounts, "csv-wide")
    assert "birth_date" not in plain
    _, rows = export_rows(accounts, "csv-wide", include_birth_date=True)
    assert rows[0]["birth_date"] == BIRTH.isoformat() and rows[0]["age_at_session"] == "74"
    assert rows[1]["birth_date"] == "" and rows[1]["age_at_session"] == ""  # anonymised: no exact age either
    raw, long_rows = export_rows(accounts, "csv-long")
    assert len(long_rows) == 60 and BIRTH.isoformat().encode() not in raw


@pytest.mark.parametrize("fmt", ["csv-wide", "csv-long"])
def test_initials_are_never_exported(accounts, device_id, fmt: str) -> None:
    store(accounts, device_id, *all_submissions())
    raw, _ = export_rows(accounts, fmt, include_birth_date=True)
    assert INITIALS.encode() not in raw and b"initials" not in raw


def test_long_has_one_row_per_answer_with_history(accounts, device_id) -> None:
    sub, missing = voice_with_changes(), partially_missing()
    store(accounts, device_id, sub, missing)
    _, all_rows = export_rows(accounts, "csv-long")
    rows = [r for r in all_rows if r["submission_id"] == str(sub.submission_id)]
    assert [int(r["item"]) for r in rows] == [a.item for a in sub.answers] == list(range(1, 31))
    by_item = {int(r["item"]): r for r in rows}
    q1, q2, q9 = by_item[1], by_item[2], by_item[9]
    assert (q1["value"], q1["method"], q1["transcript"], q1["confidence"]) == ("1", "voice", "pas du tout", "0.93")
    assert (q2["value"], q2["method"], q2["previous_values"], q2["times_shown"]) == ("4", "touch", "2;3", "3")
    assert (q9["value"], q9["status"], q9["transcript"]) == ("", "dont_know", "je ne sais pas")
    answer2 = sub.answers[1]
    assert float(q2["response_seconds"]) == (answer2.answered_at - answer2.first_shown_at).total_seconds()
    assert (by_item[5]["confirmed"], by_item[5]["confidence"]) == ("1", "0.45")
    assert q2["confirmed"] == "0" and by_item[3]["confirmed"] == "0"
    assert all(r["site"] == SITE for r in rows)
    assert datetime.fromisoformat(q1["answered_at"]) == sub.answers[0].answered_at
    skipped = [r for r in all_rows if r["submission_id"] == str(missing.submission_id)]
    assert {r["item"] for r in skipped if r["status"] == "skipped"} == {"3", "12", "18", "29", "30"}


def test_long_of_an_abandoned_session_has_the_items_shown(accounts, device_id) -> None:
    store(accounts, device_id, abandoned_early())
    _, rows = export_rows(accounts, "csv-long")
    assert [(r["item"], r["value"]) for r in rows] == [("1", "2"), ("2", "3"), ("3", "1"), ("4", "4")]


def small_instrument():
    """Another module: 3 items, one 1–5 scale, one scale score. No code knows it."""
    raw = {
        "instrument": {
            "id": "demo-mod",
            "version": "1.0",
            "language": "fr",
            "title": "Demo",
            "verification": "unverified-transcription",
        },
        "text": {"introduction": "Intro", "progress": "{number}/{total}"},
        "check": {
            "audio_text": "a",
            "audio_spoken": "a",
            "microphone_text": "m",
            "microphone_spoken": "m",
            "expected_word": "bonjour",
        },
        "response_scales": [
            {"id": "five", "min": 1, "max": 5, "kind": "numeric", "labels": {"1": "Jamais", "5": "Toujours"}}
        ],
        "sections": [{"id": "s"}],
        "items": [{"number": n, "section": "s", "scale": "five", "text": f"Question {n} ?"} for n in (1, 2, 3)],
        "scoring": {"scales": [{"code": "XY", "name": "Demo scale", "kind": "symptom", "items": [1, 2, 3]}]},
    }
    return parse_instrument(raw, "demo.toml")


def test_another_instrument_gives_other_columns_without_code_change(accounts, device_id) -> None:
    inst = small_instrument()
    clock = new_clock()
    s = start(inst, Mode.TOUCH, clock)
    for value in (5, 1, 3):
        s = s.answer(value, now=clock.tick())
    sub: Submission = freeze(s, clock)
    store(accounts, device_id, sub, registry=InstrumentRegistry([inst, fr()]))
    _, [row] = export_rows(accounts, "csv-wide", instrument=inst)
    assert [k for k in row if k.startswith("q")] == ["q1", "q2", "q3", "q1_mode", "q2_mode", "q3_mode"]
    assert row["XY"] == repr(score_answers(inst, {1: 5, 2: 1, 3: 3})["XY"]) and "QL2" not in row
    _, others = export_rows(accounts, "csv-wide")  # a qlq-c30 export never holds the other module's sessions
    assert others == []


def test_text_cells_are_quoted_like_the_csv_module_would(accounts, database_url) -> None:
    site = 'Site "Nord", bât. B'
    with psycopg.connect(libpq_dsn(database_url), autocommit=True) as conn:
        conn.execute("INSERT INTO sites (code, name) VALUES (%s, 'odd')", (site,))
    sub = touch_completed()
    assert accounts.store(site, sub, legacy_id="L-1\r\nsuite") == ["received"]
    raw, [row] = export_rows(accounts, "csv-wide")
    assert row["site"] == site and row["legacy_id"] == "L-1\r\nsuite" and row["device_id"] == ""
    line = raw.decode().split("\n", 1)[1]
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\n").writerow([str(sub.submission_id), "L-1\r\nsuite", "kiosk", site, ""])
    assert line.startswith(expected.getvalue().rstrip("\n"))


FORMULAS = ['=HYPERLINK("http://x","y")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\tx", "\rx"]


def test_formula_cells_are_neutralised_and_numbers_left_alone(accounts, device_id, database_url) -> None:
    """OWASP CSV injection: a text cell starting with = + - @ tab or CR gets a leading quote; numbers (even
    negative ones) are never touched."""
    sub = voice_with_changes()
    store(accounts, device_id, sub)
    with psycopg.connect(libpq_dsn(database_url), autocommit=True) as conn:
        for item, formula in enumerate(FORMULAS, start=1):
            conn.execute("UPDATE answers SET transcript = %s WHERE item = %s", (formula, item))
        conn.execute("UPDATE submissions SET legacy_id = '=cmd', duration_seconds = -12.5")
        conn.execute("UPDATE sites SET code = '@site'")
    _, rows = export_rows(accounts, "csv-long")
    assert [r["transcript"] for r in rows[: len(FORMULAS)]] == ["'" + f for f in FORMULAS]
    assert rows[0]["site"] == "'@site" and rows[0]["confidence"] == "0.93"
    assert rows[7]["transcript"].startswith("réponse ")  # other text as it is
    _, [wide] = export_rows(accounts, "csv-wide")
    assert (wide["legacy_id"], wide["site"], wide["duration_seconds"]) == ("'=cmd", "'@site", "-12.5")


def test_any_stored_value_exports_to_csv(accounts, device_id, database_url) -> None:
    """Values ingest could store that Python cannot represent (a BC timestamp, an infinite duration, NaN) are
    written as PostgreSQL's text for them: the export completes."""
    sub = touch_completed()
    store(accounts, device_id, sub)
    with psycopg.connect(libpq_dsn(database_url), autocommit=True) as conn:
        conn.execute(
            "UPDATE submissions SET started_at = '0001-01-01T00:00:00+15:00', "
            "duration_seconds = 'Infinity', received_at = 'infinity', session_date = '0100-06-01'"
        )
        conn.execute("UPDATE answers SET confidence = 'NaN', answered_at = '9999-12-31T23:59:59-14:00' WHERE item = 1")
    _, [row] = export_rows(accounts, "csv-wide")
    assert row["started_at"] == "0001-12-31 09:00:00+00 BC" and row["duration_seconds"] == "Infinity"
    assert row["received_at"] == "infinity" and row["session_date"] == "0100-06-01"
    _, rows = export_rows(accounts, "csv-long")
    assert (rows[0]["confidence"], rows[0]["answered_at"]) == ("NaN", "10000-01-01 13:59:59+00")
    assert len(rows) == 30


def _outcomes(fmt: str, outcome: str) -> float:
    return metrics.REGISTRY.get_sample_value("qlq_exports_total", {"format": fmt, "outcome": outcome}) or 0.0


def test_an_export_cut_mid_stream_ends_as_an_error_and_is_audited(accounts, device_id, database_url, app) -> None:
    """The database connection of a running COPY is killed after the first chunk: iterating raises (the
    server then ends the response as an error), the audit trail says the export failed, the metric counts it."""
    store(accounts, device_id, touch_completed())
    with psycopg.connect(libpq_dsn(database_url), autocommit=True) as conn:  # ~20,000 sessions: many chunks
        conn.execute(
            "INSERT INTO submissions (submission_id, site_id, device_id, content_sha256, instrument_id, "
            "instrument_language, instrument_sha256, outcome, mode, initial_mode, audio_enabled, "
            "session_date, started_at, ended_at, duration_seconds, answer_values, answer_methods, "
            "voice_answers, score_codes, score_values, age_at_session, age_band, source, anonymized, "
            "payload) SELECT gen_random_uuid(), site_id, device_id, content_sha256, instrument_id, "
            "instrument_language, instrument_sha256, outcome, mode, initial_mode, audio_enabled, "
            "session_date, started_at, ended_at, duration_seconds, answer_values, answer_methods, "
            "voice_answers, score_codes, score_values, age_at_session, age_band, source, false, payload "
            "FROM submissions CROSS JOIN generate_series(1, 20000)"
        )
    factory = app.state.sessionmaker
    with factory() as db, db.begin():
        job = audit_export(db, ExportJob(fmt="csv-wide", instrument=fr(), where=SubmissionFilter()), ADMIN)
    failed = _outcomes("csv-wide", "failed")
    stream = ExportStream.open(factory, job)
    chunks = iter(stream)
    assert next(chunks).startswith(b"submission_id,")
    with psycopg.connect(libpq_dsn(database_url), autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
            "AND query LIKE 'COPY%%' AND pid <> pg_backend_pid()"
        )
    with pytest.raises(psycopg.OperationalError):
        for _ in chunks:
            pass
    assert _outcomes("csv-wide", "failed") == failed + 1
    with accounts.session() as db:
        events = db.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["export", "export-failed"]
    assert events[1].detail["export_audit_id"] == events[0].id and events[1].detail["error"] == "AdminShutdown"


def voice_detailed() -> Submission:
    """A v2 session whose voice answers carry their full voice record: auto-accepted (two alternatives),
    confirmed by voice (the reply a formula), confirmed by touch, and one that fell back to touch."""
    from kiosk.domain.session import Method
    from kiosk.domain.voice_record import HeardAlternative, VoiceDetail

    clock = new_clock(T0_VOICE)

    def heard(*alternatives: tuple[str, float | None], **more: Any) -> VoiceDetail:
        prompt_end = clock.tick()
        clock.tick(3)  # the answer is taken after the recogniser's result
        return VoiceDetail(
            alternatives=tuple(HeardAlternative(t, c) for t, c in alternatives),
            engine="google-speech-v1",
            model="latest_short",
            language="fr-FR",
            prompt_end_at=prompt_end,
            speech_start_at=prompt_end + timedelta(seconds=1),
            speech_end_at=prompt_end + timedelta(seconds=2),
            result_at=prompt_end + timedelta(seconds=2, milliseconds=250),
            **more,
        )

    s = start(fr(), Mode.VOICE_CONTINUOUS, clock)
    v = heard(("un peu", 0.93), ("un feu", 0.41))  # heard before the answer is taken (argument order)
    s = s.answer(2, now=clock.tick(), method=Method.VOICE, transcript="un peu", confidence=0.93, voice=v)
    v = heard(("assez", 0.52), attempts=2, confirmation="voice", confirmation_transcript="=oui")
    s = s.answer(3, now=clock.tick(), method=Method.VOICE, transcript="assez", confidence=0.52, confirmed=True, voice=v)
    v = heard(("beaucoup", 0.48), confirmation="touch")
    s = s.answer(
        4, now=clock.tick(), method=Method.VOICE, transcript="beaucoup", confidence=0.48, confirmed=True, voice=v
    )
    v = heard(("euh", None), attempts=2, fallback="not_understood")
    s = s.answer(1, now=clock.tick(), voice=v)
    while s.phase.value == "items":
        s = s.answer(1, now=clock.tick())
    if s.phase.value == "review_prompt":
        s = s.decline_review(now=clock.tick())
    return freeze(s, clock)


T0_VOICE = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_long_has_each_voice_answer_s_record(accounts, device_id) -> None:
    """Payload 2.0: every alternative with its confidence, attempts, confirmation (how, and the reply, formula
    neutralised), recogniser and times per voice answer; touch answers leave the voice columns empty."""
    import json

    sub = voice_detailed()
    assert sub.schema_version == "2.0"
    store(accounts, device_id, sub)
    raw, rows = export_rows(accounts, "csv-long")
    header = next(csv.reader(io.StringIO(raw.decode())))
    assert header[-12:] == [
        "voice_alternatives",
        "voice_attempts",
        "voice_confirmation",
        "voice_confirmation_transcript",
        "voice_engine",
        "voice_model",
        "voice_language",
        "voice_prompt_end_at",
        "voice_speech_start_at",
        "voice_speech_end_at",
        "voice_result_at",
        "voice_fallback",
    ]
    by_item = {int(r["item"]): r for r in rows}
    for record in sub.answers:
        row, voice = by_item[record.item], record.voice
        if voice is None:
            assert all(row[c] == "" for c in header if c.startswith("voice_")), record.item
            continue
        assert json.loads(row["voice_alternatives"]) == [
            {"transcript": a.transcript, "confidence": a.confidence} for a in voice.alternatives
        ]
        assert int(row["voice_attempts"]) == voice.attempts
        assert row["voice_confirmation"] == voice.confirmation
        assert (row["voice_engine"], row["voice_model"], row["voice_language"]) == (
            "google-speech-v1",
            "latest_short",
            "fr-FR",
        )
        for name in ("prompt_end_at", "speech_start_at", "speech_end_at", "result_at"):
            assert datetime.fromisoformat(row[f"voice_{name}"]) == getattr(voice.times, name), name
        assert row["voice_fallback"] == voice.fallback
    assert by_item[1]["voice_confirmation"] == "none" and by_item[1]["voice_confirmation_transcript"] == ""
    assert by_item[2]["voice_confirmation_transcript"] == "'=oui"  # OWASP: a formula is shown as text
    assert by_item[3]["voice_confirmation"] == "touch"
    assert (by_item[4]["method"], by_item[4]["voice_fallback"]) == ("touch", "not_understood")
    assert by_item[4]["voice_result_at"].endswith("+00:00")
    assert all(r["voice_alternatives"] == "" for r in rows if int(r["item"]) > 4)


def test_the_voice_columns_of_stored_sessions_are_filled_by_migration_0006(accounts, device_id, database_url) -> None:
    """Sessions stored before 0006 get their voice records from their payload when it runs."""
    from sync_server import migrate

    sub = voice_detailed()
    store(accounts, device_id, sub)
    _, before = export_rows(accounts, "csv-long")
    migrate.downgrade(database_url, "0005")
    try:
        with psycopg.connect(libpq_dsn(database_url), autocommit=True) as conn:
            assert conn.execute(
                "SELECT count(*) FROM information_schema.columns WHERE table_name = 'answers' AND column_name = 'voice'"
            ).fetchone() == (0,)
    finally:
        migrate.upgrade(database_url)
    _, after = export_rows(accounts, "csv-long")
    assert after == before and sum(r["voice_alternatives"] != "" for r in after) == 4


_FINITE = st.floats(allow_nan=False, allow_infinity=False)
_NEAR_BOUNDS = st.sampled_from(
    [0.0, -0.0, 1e15, -1e15, 1e15 - 1, 1e15 + 0.5, -9999999999999998.0, 1e16, 1e-4, 1e-5, 5e-324]
)
_TIMES = st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-9, minutes=-30))]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    value=_FINITE | _NEAR_BOUNDS,
    moment=_TIMES | _TIMES.map(lambda t: t.replace(microsecond=0)),
    cell=st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8) | st.sampled_from(FORMULAS),
)
def test_the_cell_formulas_write_what_python_writes(database_url, value: float, moment: datetime, cell: str) -> None:
    """The SQL cell expressions against Python's own text of a value, for any value: ``repr`` of a float (an
    integral one with ``.0``, -0.0, the switch to exponents at 1e16 and 1e-5), ``isoformat`` of a time in UTC
    (with and without microseconds, years 1–9999), a text neutralised against formulas exactly when it starts
    with one of their characters."""
    sql = f"SELECT {csv_sql.number('%(v)s::float8')}, {csv_sql.timestamp('%(t)s::timestamptz')}, " + csv_sql.text(
        "%(c)s::text"
    )
    with psycopg.connect(libpq_dsn(database_url)) as conn:
        for statement in csv_sql.SESSION_SETTINGS:
            conn.execute(statement)
        row = conn.execute(sql, {"v": value, "t": moment, "c": cell}).fetchone()
    assert row is not None
    number_text, time_text, text_cell = row
    assert text_cell == ("'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell), cell
    in_utc = moment.astimezone(UTC)
    if 1 <= in_utc.year <= 9999:  # outside Python's years: PostgreSQL's own text (tested above)
        assert time_text == in_utc.isoformat(), moment
    assert struct.pack("<d", float(number_text)) == struct.pack("<d", value)  # the same double, bit for bit
    if abs(value) < 2**53:  # above, where the shortest text can be a tie, PostgreSQL may write one digit more
        assert number_text == repr(value)
