"""CSV wide and long: re-read with the csv module and compare with the stored answers and the domain scorer."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from kiosk.domain.instrument import parse_instrument
from kiosk.domain.scoring import score_answers, score_codes
from kiosk.domain.session import ItemStatus, Mode
from kiosk.domain.submission import PatientBlock, Submission
from sync_server.exports import ExportError, write_export
from tests.unit.server_exports.builders import (
    BIRTH,
    INITIALS,
    abandoned_early,
    all_submissions,
    fr,
    freeze,
    new_clock,
    partially_missing,
    record,
    start,
    touch_completed,
    voice_with_changes,
)


def export_rows(fmt: str, records: list, **options: bool) -> tuple[bytes, list[dict[str, str]]]:
    out = io.BytesIO()
    count = write_export(fmt, records, out, instrument=fr(), **options)
    raw = out.getvalue()
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert count == len(rows)
    return raw, rows


def expected_header(include_birth_date: bool) -> list[str]:
    items = [f"q{n}" for n in range(1, 31)]
    return ["submission_id", "legacy_id", "source", "site", "device_id", "session_date", "age_at_session",
            *(["birth_date"] if include_birth_date else []), "outcome", "mode", "initial_mode", "audio_enabled",
            "instrument_id", "instrument_language", "instrument_sha256", "started_at", "ended_at",
            "duration_seconds", *items, "QL2", "PF2", "RF2", "EF", "CF", "SF", "FA", "NV", "PA", "DY", "SL", "AP",
            "CO", "DI", "FI", "SUMSC", *(f"{q}_mode" for q in items), "n_voice_answers", "received_at"]


@pytest.mark.parametrize("include_birth_date", [False, True])
def test_wide_header_follows_the_instrument(include_birth_date: bool) -> None:
    raw, _ = export_rows("csv-wide", [], include_birth_date=include_birth_date)
    header = next(csv.reader(io.StringIO(raw.decode())))
    assert header == expected_header(include_birth_date)


def test_wide_values_equal_the_stored_answers_and_the_domain_scores() -> None:
    subs = all_submissions()
    _, rows = export_rows("csv-wide", [record(s) for s in subs])
    inst = fr()
    for sub, row in zip(subs, rows, strict=True):
        assert row["submission_id"] == str(sub.submission_id)
        assert row["outcome"] == sub.outcome and row["site"] == "CHU-LYON" and row["source"] == "kiosk"
        assert row["legacy_id"] == "" and row["device_id"] == "tablet-07"
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


def test_wide_modes_and_voice_counts() -> None:
    sub = voice_with_changes()
    _, [row] = export_rows("csv-wide", [record(sub)])
    assert (row["mode"], row["initial_mode"], row["audio_enabled"]) == ("touch", "voice-continuous", "1")
    assert row["q1_mode"] == "voice" and row["q2_mode"] == "touch" and row["q25_mode"] == "touch"
    assert row["q9"] == "" and row["q9_mode"] == "voice"  # "je ne sais pas" said aloud
    voice = [a for a in sub.answers if a.status is ItemStatus.ANSWERED and a.method.value == "voice"]
    assert row["n_voice_answers"] == str(len(voice)) == "17"
    _, [early] = export_rows("csv-wide", [record(abandoned_early())])
    assert early["q5_mode"] == "" and early["q5"] == "" and early["outcome"] == "abandoned"
    expected = score_answers(fr(), abandoned_early().answer_values())
    assert early["PF2"] == repr(expected["PF2"]) == "50.0"  # 4 of 5 items: scored
    assert early["EF"] == "" and early["SUMSC"] == ""  # none answered: missing, never 0


def test_birth_date_only_when_asked_and_never_for_anonymized_records() -> None:
    sub = touch_completed()
    _, [plain] = export_rows("csv-wide", [record(sub)])
    assert "birth_date" not in plain
    _, rows = export_rows("csv-wide", [record(sub), record(sub, anonymized=True)], include_birth_date=True)
    assert rows[0]["birth_date"] == BIRTH.isoformat()
    assert rows[1]["birth_date"] == ""


@pytest.mark.parametrize("fmt", ["csv-wide", "csv-long"])
def test_initials_are_never_exported(fmt: str) -> None:
    raw, _ = export_rows(fmt, [record(s) for s in all_submissions()], include_birth_date=True)
    assert INITIALS.encode() not in raw and b"initials" not in raw


def test_long_has_one_row_per_answer_with_history() -> None:
    sub = voice_with_changes()
    _, rows = export_rows("csv-long", [record(sub)])
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
    assert all(r["site"] == "CHU-LYON" and r["submission_id"] == str(sub.submission_id) for r in rows)
    _, skipped = export_rows("csv-long", [record(partially_missing())])
    assert {r["item"] for r in skipped if r["status"] == "skipped"} == {"3", "12", "18", "29", "30"}


def test_long_of_an_abandoned_session_has_the_items_shown() -> None:
    _, rows = export_rows("csv-long", [record(abandoned_early())])
    assert [(r["item"], r["value"]) for r in rows] == [("1", "2"), ("2", "3"), ("3", "1"), ("4", "4")]


def small_instrument():
    """Another module: 3 items, one 1–5 scale, one scale score. No code knows it."""
    raw = {
        "instrument": {"id": "demo-mod", "version": "1.0", "language": "fr", "title": "Demo",
                       "verification": "unverified-transcription"},
        "text": {"introduction": "Intro", "progress": "{number}/{total}"},
        "check": {"audio_text": "a", "audio_spoken": "a", "microphone_text": "m", "microphone_spoken": "m",
                  "expected_word": "bonjour"},
        "response_scales": [{"id": "five", "min": 1, "max": 5, "kind": "numeric", "labels": {"1": "Jamais",
                                                                                             "5": "Toujours"}}],
        "sections": [{"id": "s"}],
        "items": [{"number": n, "section": "s", "scale": "five", "text": f"Question {n} ?"} for n in (1, 2, 3)],
        "scoring": {"scales": [{"code": "XY", "name": "Demo scale", "kind": "symptom", "items": [1, 2, 3]}]},
    }
    return parse_instrument(raw, "demo.toml")


def test_another_instrument_gives_other_columns_without_code_change() -> None:
    inst = small_instrument()
    clock = new_clock()
    s = start(inst, Mode.TOUCH, clock)
    for value in (5, 1, 3):
        s = s.answer(value, now=clock.tick())
    sub: Submission = freeze(s, clock)
    out = io.BytesIO()
    write_export("csv-wide", [record(sub)], out, instrument=inst)
    [row] = list(csv.DictReader(io.StringIO(out.getvalue().decode())))
    assert [k for k in row if k.startswith("q")] == ["q1", "q2", "q3", "q1_mode", "q2_mode", "q3_mode"]
    assert row["XY"] == repr(score_answers(inst, {1: 5, 2: 1, 3: 3})["XY"]) and "QL2" not in row
    with pytest.raises(ExportError, match="demo-mod"):
        write_export("csv-wide", [record(sub)], io.BytesIO(), instrument=fr())


def test_text_cells_are_quoted_like_the_csv_module_would() -> None:
    sub = touch_completed()
    odd = record(sub, site='Site "Nord", bât. B', legacy_id="L-1\r\nsuite", device_id=None)
    raw, [row] = export_rows("csv-wide", [odd])
    assert row["site"] == 'Site "Nord", bât. B' and row["legacy_id"] == "L-1\r\nsuite" and row["device_id"] == ""
    line = raw.decode().split("\r\n", 1)[1]
    expected = io.StringIO()
    csv.writer(expected).writerow([str(sub.submission_id), "L-1\r\nsuite", "kiosk", 'Site "Nord", bât. B', ""])
    assert line.startswith(expected.getvalue().rstrip("\r\n"))


def anonymized_like_the_server(sub: Submission) -> Submission:
    """What the server hands over for an anonymized row: a placeholder patient block without age or birth."""
    return sub.model_copy(update={"patient": PatientBlock.model_construct(initials="", birth_date=None,
                                                                          age_at_session=None)})


@pytest.mark.parametrize("fmt", ["csv-wide", "csv-long", "sav", "fhir"])
def test_server_placeholders_of_anonymized_rows_export_as_missing(fmt: str) -> None:
    sub = anonymized_like_the_server(voice_with_changes())
    out = io.BytesIO()
    assert write_export(fmt, [record(sub, anonymized=True)], out, instrument=fr(), include_birth_date=True) == (
        30 if fmt == "csv-long" else 1)
    if fmt == "csv-wide":
        [row] = list(csv.DictReader(io.StringIO(out.getvalue().decode())))
        assert row["age_at_session"] == "" and row["birth_date"] == "" and "None" not in out.getvalue().decode()
