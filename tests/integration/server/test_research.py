"""Statistics, streamed exports (HTTP and CLI, audited) and the legacy import command."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import UTC, datetime

import pyreadstat
import pytest
from sqlalchemy import select

from sync_server.cli import main as cli
from sync_server.models import AuditEvent, StoredSubmission
from tests.integration.server.factories import BIRTH_DATE, INITIALS, bearer, make_submission

pytestmark = pytest.mark.anyio
MARCH = datetime(2025, 3, 10, 9, tzinfo=UTC)
APRIL = datetime(2025, 4, 2, 9, tzinfo=UTC)


def store(accounts, site: str, *subs) -> None:
    accounts.store(site, *subs)


@pytest.fixture
def populated(accounts):
    subs = {
        "a1": make_submission(started_at=MARCH, voice_items=[1, 2, 3, 4], confirmed_items=[1]),
        "a2": make_submission(started_at=MARCH, step_seconds=10),
        "a3": make_submission(started_at=MARCH, outcome="abandoned", abandon_after=5),
        "a4": make_submission(started_at=APRIL),
        "b1": make_submission(started_at=MARCH),
    }
    store(accounts, "SITE-A", subs["a1"], subs["a2"], subs["a3"], subs["a4"])
    store(accounts, "SITE-B", subs["b1"])
    return subs


async def test_stats_per_site_and_month(client, accounts, populated):
    token = accounts.user_token("researcher")
    rows = (await client.get("/v1/stats", headers=bearer(token))).json()["rows"]
    assert [(r["site"], r["month"]) for r in rows] == [
        ("SITE-A", "2025-03"),
        ("SITE-A", "2025-04"),
        ("SITE-B", "2025-03"),
    ]
    march = rows[0]
    assert (march["sessions_started"], march["sessions_completed"], march["sessions_abandoned"]) == (3, 2, 1)
    durations = sorted(populated[k].session.duration_seconds for k in ("a1", "a2"))
    assert march["median_duration_seconds"] == pytest.approx(sum(durations) / 2)
    assert march["answers"] == 30 + 30 + 5
    assert march["voice_answer_share"] == pytest.approx(4 / 65)
    assert march["voice_confirmation_share"] == pytest.approx(1 / 4)
    assert rows[1]["voice_confirmation_share"] is None
    filtered = (
        await client.get(
            "/v1/stats", params={"site": "SITE-B", "from": "2025-03-01", "to": "2025-03-31"}, headers=bearer(token)
        )
    ).json()["rows"]
    assert [(r["site"], r["sessions_started"]) for r in filtered] == [("SITE-B", 1)]
    unknown = await client.get("/v1/stats", params={"site": "NOPE"}, headers=bearer(token))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_site"
    backwards = await client.get("/v1/stats", params={"from": "2025-04-01", "to": "2025-03-01"}, headers=bearer(token))
    assert backwards.status_code == 422


async def test_export_csv_wide_streams_and_is_audited(client, accounts, populated):
    token = accounts.user_token("researcher", "rita")
    response = await client.get(
        "/v1/exports/csv-wide", params={"site": "SITE-A", "completed_only": "true"}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert sorted(r["submission_id"] for r in rows) == sorted(
        str(populated[k].submission_id) for k in ("a1", "a2", "a4")
    )
    assert INITIALS not in response.text and BIRTH_DATE.isoformat() not in response.text
    with_birth = await client.get("/v1/exports/csv-wide", params={"include_birth_date": "true"}, headers=bearer(token))
    assert BIRTH_DATE.isoformat() in with_birth.text
    with accounts.session() as db:
        audit = db.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(a.action, a.actor, a.row_count, a.include_birth_date) for a in audit] == [
        ("export", "user:rita", 3, False),
        ("export-completed", "user:rita", 3, False),
        ("export", "user:rita", 5, True),
        ("export-completed", "user:rita", 5, False),
    ]
    assert audit[1].detail == {"export_audit_id": audit[0].id, "format": "csv-wide", "rows_written": 3}
    audit = [a for a in audit if a.action == "export"]
    assert audit[0].detail["format"] == "csv-wide" and audit[0].detail["site"] == "SITE-A"
    assert sorted(map(str, audit[0].submission_ids)) == sorted(r["submission_id"] for r in rows)


async def test_the_audit_row_lists_the_exported_sessions_in_order_and_an_empty_selection_as_none(
    client, accounts, populated
):
    token = accounts.user_token("researcher", "rita")
    everything = await client.get("/v1/exports/csv-wide", headers=bearer(token))
    nothing = await client.get("/v1/exports/csv-wide", params={"from": "2099-01-01"}, headers=bearer(token))
    assert everything.status_code == nothing.status_code == 200
    exported = [r["submission_id"] for r in csv.DictReader(io.StringIO(everything.text))]
    assert len(exported) == 5 and nothing.text.count("\n") == 1  # the header alone
    with accounts.session() as db:
        audits = db.scalars(select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id)).all()
    assert [list(map(str, a.submission_ids)) for a in audits] == [exported, []]  # the export's order: by arrival
    assert [a.row_count for a in audits] == [5, 0]


async def test_export_every_format_and_anonymized_rows(client, accounts, populated):
    admin = accounts.user_token("admin")
    token = accounts.user_token("researcher")
    anonymized = populated["a2"].submission_id
    await client.post(f"/v1/admin/sessions/{anonymized}:anonymize", headers=bearer(admin))
    long = await client.get("/v1/exports/csv-long", headers=bearer(token))
    assert long.status_code == 200 and len(long.text.splitlines()) > 100
    fhir = await client.get("/v1/exports/fhir", headers=bearer(token))
    assert fhir.headers["content-type"].startswith("application/fhir+json")
    assert json.loads(fhir.content)["resourceType"] == "Bundle"
    sav = await client.get("/v1/exports/sav", params={"include_birth_date": "true"}, headers=bearer(token))
    assert sav.status_code == 200
    wide = await client.get("/v1/exports/csv-wide", params={"include_birth_date": "true"}, headers=bearer(token))
    row = next(
        r
        for r in csv.DictReader(io.StringIO(wide.content.decode("utf-8-sig")))
        if r["submission_id"] == str(anonymized)
    )
    assert row["birth_date"] == ""
    # the exact age is gone (the CSV writer renders the anonymized record's missing age; see the report)
    assert row["age_at_session"] != str(populated["a2"].patient.age_at_session)
    completed = (await client.get("/metrics")).text
    for fmt in ("csv-long", "fhir", "sav", "csv-wide"):
        assert f'qlq_exports_total{{format="{fmt}",outcome="completed"}}' in completed
    missing = await client.get("/v1/exports/xlsx", headers=bearer(token))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "unknown_export_format"
    other = await client.get("/v1/exports/csv-wide", params={"language": "xx"}, headers=bearer(token))
    assert other.status_code == 404


def test_cli_export_to_file_and_stdout(accounts, settings, populated, tmp_path, capsysbinary):
    url = ["--database-url", settings.database_url]
    target = tmp_path / "out.sav"
    assert cli([*url, "export", "--format", "sav", "-o", str(target), "--site", "SITE-A"]) == 0
    frame, _meta = pyreadstat.read_sav(str(target)) if _has_pandas() else (None, None)
    assert target.stat().st_size > 1000 and not (tmp_path / "out.sav.part").exists()
    if frame is not None:
        assert len(frame) == 4
    capsysbinary.readouterr()
    assert cli([*url, "export", "--format", "csv-wide", "--completed-only"]) == 0
    out, err = capsysbinary.readouterr()
    assert len(list(csv.DictReader(io.StringIO(out.decode("utf-8-sig"))))) == 4
    assert b"exported 4 row(s)" in err
    with accounts.session() as db:
        actors = db.scalars(select(AuditEvent.actor)).all()
    assert len(actors) == 2 and all(a.startswith("cli:") for a in actors)


def _has_pandas() -> bool:
    try:
        import pandas  # noqa: F401
    except ImportError:
        return False
    return True


def _legacy_db(path) -> None:
    labels = {1: "Pas du tout", 2: "Un peu", 3: "Plutôt", 4: "Beaucoup"}
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE sessions (id TEXT PRIMARY KEY, initials TEXT, birth_date TEXT, today_date TEXT, "
        "mode TEXT, audio_enabled INTEGER, created_at TEXT, completed_at TEXT)"
    )
    con.execute(
        "CREATE TABLE responses (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT, "
        "question_num INTEGER, question_text TEXT, score INTEGER, response_text TEXT, transcript TEXT, "
        "response_type TEXT, timestamp TEXT)"
    )
    for sid, last_item, completed in (("L1", 30, "2024-03-05 09:45:00"), ("L2", 12, None), ("L3", 30, "x")):
        con.execute(
            "INSERT INTO sessions VALUES (?, 'J.D.', '1950-04-12', '2024-03-05', 'Standard', 1, "
            "'2024-03-05 09:00:00', ?)",
            (sid, completed),
        )
        for n in range(1, last_item + 1):
            score = 3 if n <= 28 else 5
            con.execute(
                "INSERT INTO responses (session_id, question_num, question_text, score, response_text, "
                "transcript, response_type, timestamp) VALUES (?, ?, ?, ?, ?, NULL, ?, ?)",
                (
                    sid,
                    n,
                    f"Question {n}",
                    score if sid != "L3" or n != 7 else 9,
                    labels.get(score) if n <= 28 else None,
                    "manual",
                    f"2024-03-05T09:{n:02d}:30Z",
                ),
            )
    con.commit()
    con.close()


def test_cli_import_legacy_is_idempotent(accounts, settings, tmp_path, capsys):
    path = tmp_path / "prototype.db"
    _legacy_db(path)
    accounts.site("LEGACY")
    url = ["--database-url", settings.database_url]
    assert cli([*url, "import-legacy", str(path), "--site", "LEGACY"]) == 0
    out, err = capsys.readouterr()
    assert "imported: 2 (completed 1, incomplete 1)" in out
    assert "skipped as malformed: 1" in out and "L3" in err
    assert cli([*url, "import-legacy", str(path), "--site", "LEGACY"]) == 0
    out, _ = capsys.readouterr()
    assert "imported: 0" in out and "already present: 2" in out
    with accounts.session() as db:
        rows = db.execute(
            select(StoredSubmission.source, StoredSubmission.legacy_id, StoredSubmission.device_id).order_by(
                StoredSubmission.legacy_id
            )
        ).all()
    assert rows == [("legacy-prototype", "L1", None), ("legacy-prototype", "L2", None)]
    assert cli([*url, "import-legacy", str(tmp_path / "missing.db"), "--site", "LEGACY"]) == 2
    (tmp_path / "junk.db").write_text("not sqlite")
    assert cli([*url, "import-legacy", str(tmp_path / "junk.db"), "--site", "LEGACY"]) == 2


async def test_legacy_marker_is_refused_over_http(client, accounts):
    from sync_server.legacy import LEGACY_INSTRUMENT_SHA256
    from tests.integration.server.factories import payload, tampered

    token, _ = accounts.device()
    sub = make_submission()
    body = tampered(sub, **{"instrument.content_sha256": LEGACY_INSTRUMENT_SHA256})
    response = await client.post("/v1/submissions", json=body, headers=bearer(token))
    assert response.status_code == 422 and response.json()["error"]["code"] == "unknown_instrument"
    assert payload(sub)


async def test_a_format_that_cannot_hold_a_stored_value_fails_before_the_first_byte(
    client, accounts, populated, database_url
):
    """A stored session .sav/FHIR cannot represent (its end before year 1 in UTC): the whole file is written
    before the response starts, so the researcher gets an error response, never a cut stream; the CSV
    formats export it; the audit trail says which export failed."""
    import psycopg

    from tests.conftest_pg import libpq_dsn

    token = accounts.user_token("researcher", "rita")
    with psycopg.connect(libpq_dsn(database_url), autocommit=True) as conn:
        conn.execute(
            "UPDATE submissions SET payload = jsonb_set(payload::jsonb, '{session,ended_at}', "
            "'\"0001-01-01T00:00:00+15:00\"')::json WHERE submission_id = %s",
            (populated["a1"].submission_id,),
        )
    for fmt in ("sav", "fhir"):
        response = await client.get(f"/v1/exports/{fmt}", headers=bearer(token))
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "unexportable_session" and str(populated["a1"].submission_id) in error["message"]
    assert (await client.get("/v1/exports/csv-wide", headers=bearer(token))).status_code == 200
    with accounts.session() as db:
        actions = [a.action for a in db.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["export", "export-failed", "export", "export-failed", "export", "export-completed"]
