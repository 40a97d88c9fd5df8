"""Migrations up/down/up, the models matching the migrated schema, settings, and the CLI's plain commands."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlalchemy.pool import NullPool

from sync_server import migrate
from sync_server.cli import build_parser
from sync_server.cli import main as cli
from sync_server.models import Base
from sync_server.settings import Settings, SettingsError, load_settings, production_problems

GOOD_SECRET = "Zq8v1LrT0pXw3mNb6YcK2hJd9sGf5aEu7oRi4tWl"


def test_upgrade_downgrade_upgrade(make_database):
    url = make_database()
    migrate.upgrade(url)
    assert migrate.current_revision_for_url(url) == migrate.head_revision()
    migrate.downgrade(url, "base")
    engine = create_engine(url, poolclass=NullPool)
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    migrate.upgrade(url)
    assert {"submissions", "answers", "scores", "audit_events", "devices", "users"} <= set(
        inspect(engine).get_table_names()
    )
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []


def test_cli_migrate_from_another_directory(make_database, tmp_path):
    url = make_database()
    result = subprocess.run(
        [sys.executable, "-m", "sync_server.cli", "--database-url", url, "migrate"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f"empty -> {migrate.head_revision()}" in result.stdout
    result = subprocess.run(
        [sys.executable, "-m", "sync_server.cli", "--database-url", url, "migrate", "--downgrade", "base"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert f"{migrate.head_revision()} -> empty" in result.stdout


def test_production_refuses_placeholders_and_missing_tls(monkeypatch):
    with pytest.raises(ValueError, match="QLQ_TOKEN_SECRET"):
        Settings(environment="production", behind_tls_proxy=True)
    with pytest.raises(ValueError, match="placeholder"):
        Settings(environment="production", behind_tls_proxy=True, token_secret="change-me-" + "x" * 40)
    with pytest.raises(ValueError, match="TLS is required"):
        Settings(environment="production", token_secret=GOOD_SECRET)
    ok = Settings(environment="production", token_secret=GOOD_SECRET, tls_certfile="/c.pem", tls_keyfile="/k.pem")
    assert production_problems(ok) == [] and ok.tls_enabled
    monkeypatch.setenv("QLQ_ENVIRONMENT", "production")
    monkeypatch.setenv("QLQ_TOKEN_SECRET", "short")
    with pytest.raises(SettingsError, match="refusing to start"):
        load_settings()
    monkeypatch.setenv("QLQ_TOKEN_SECRET", GOOD_SECRET)
    monkeypatch.setenv("QLQ_BEHIND_TLS_PROXY", "true")
    monkeypatch.setenv("QLQ_CORS_ALLOW_ORIGINS", '["https://stats.example.org"]')
    assert load_settings().cors_allow_origins == ["https://stats.example.org"]


def test_serve_refuses_unsafe_production_settings(monkeypatch, capsys):
    monkeypatch.setenv("QLQ_ENVIRONMENT", "production")
    monkeypatch.setenv("QLQ_TOKEN_SECRET", "change-me")
    assert cli(["serve"]) == 2
    assert "refusing to start in production" in capsys.readouterr().err


def test_every_command_says_what_it_does(capsys):
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert commands is not None
    assert set(commands) >= {
        "serve",
        "migrate",
        "create-user",
        "enroll",
        "revoke-device",
        "export",
        "import-legacy",
        "gdpr",
        "create-site",
        "devices",
    }
    for name, sub in commands.items():
        assert sub.description, name
    with pytest.raises(SystemExit):
        cli(["gdpr", "--help"])
    assert "purge" in capsys.readouterr().out


def test_cli_create_user_site_enroll_revoke(settings, accounts, monkeypatch, capsys):
    url = ["--database-url", settings.database_url]
    monkeypatch.setenv("QLQ_TOKEN_SECRET", settings.token_secret)
    monkeypatch.setattr(sys, "stdin", io.StringIO("a very good password\n"))
    assert cli([*url, "create-user", "rose", "--role", "researcher", "--password-stdin"]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert cli([*url, "create-user", "rose2", "--role", "admin", "--password-stdin"]) == 1
    assert cli([*url, "create-site", "LYON-01", "--name", "Lyon"]) == 0
    capsys.readouterr()
    assert cli([*url, "enroll", "--site", "LYON-01"]) == 0
    out = capsys.readouterr().out
    code = out.split("LYON-01: ")[1].split()[0]
    assert len(code) == 14
    assert any(block in out for block in "█▀▄")  # the QR code, drawn with half blocks
    assert cli([*url, "enroll", "--site", "NOWHERE"]) == 1
    from sync_server.services.accounts import AccountService

    with accounts.session() as db, db.begin():
        issued = AccountService(db, settings).enroll(code, "tablette")
    assert cli([*url, "devices"]) == 0
    assert str(issued.device_id) in capsys.readouterr().out
    assert cli([*url, "revoke-device", str(issued.device_id)]) == 0


def test_payloads_stored_before_0002_survive_it_and_its_downgrade(make_database):
    """0002 turns the payload column from jsonb into json: existing payloads must come through unchanged."""
    import json

    import psycopg

    from kiosk.domain.submission import Submission
    from sync_server.services.ingest import prepare_submission
    from sync_server.services.instruments import InstrumentRegistry
    from tests.conftest_pg import libpq_dsn, one_row
    from tests.integration.server.factories import make_submission

    url = make_database()
    migrate.upgrade(url, "0001")
    sub = make_submission(voice_items=[1, 2], confirmed_items=[1])
    row = dict(prepare_submission(InstrumentRegistry.bundled(), sub, site_id=0, device_id=None).row)
    for added_by_0004 in (
        "initial_mode",
        "audio_enabled",
        "answer_values",
        "answer_methods",
        "voice_answers",
        "score_codes",
        "score_values",
    ):
        del row[added_by_0004]
    with psycopg.connect(libpq_dsn(url)) as conn:
        row["site_id"] = one_row(conn.execute("INSERT INTO sites (code, name) VALUES ('S1', 'Site') RETURNING id"))[0]
        columns = ", ".join(row)
        values = ", ".join(f"%({c})s" for c in row)
        conn.execute(
            f"INSERT INTO submissions ({columns}, payload) VALUES ({values}, %(payload)s::jsonb)",
            {**row, "payload": json.dumps(sub.canonical_json())},
        )
    migrate.upgrade(url)
    with psycopg.connect(libpq_dsn(url)) as conn:
        kind, text = one_row(conn.execute("SELECT pg_typeof(payload)::text, payload::text FROM submissions"))
    assert kind == "json"
    assert Submission.model_validate_json(text) == sub
    with psycopg.connect(libpq_dsn(url)) as conn:  # 0004 filled the new columns from the payload
        assert conn.execute("SELECT initial_mode, audio_enabled FROM submissions").fetchone() == (
            "voice-continuous",
            True,
        )
    migrate.downgrade(url, "0001")
    with psycopg.connect(libpq_dsn(url)) as conn:
        kind, text = one_row(conn.execute("SELECT pg_typeof(payload)::text, payload::text FROM submissions"))
    assert kind == "jsonb"
    assert Submission.model_validate_json(text) == sub


def test_0004_fills_the_export_columns_from_stored_payloads(make_database):
    """0004 adds submissions.initial_mode/audio_enabled and answers.transcript, filled from each payload."""
    import asyncio

    import psycopg

    from sync_server.db import libpq_conninfo
    from sync_server.repositories.submissions import IngestRepository
    from sync_server.services.ingest import IngestService
    from sync_server.services.instruments import InstrumentRegistry
    from tests.conftest_pg import libpq_dsn, one_row
    from tests.integration.server.factories import make_submission

    url = make_database()
    migrate.upgrade(url)
    sub = make_submission(voice_items=[1, 2], confirmed_items=[1])

    async def store() -> None:
        async with await psycopg.AsyncConnection.connect(libpq_conninfo(url), autocommit=True) as conn:
            site = await (
                await conn.execute("INSERT INTO sites (code, name) VALUES ('S1', 'S') RETURNING id")
            ).fetchone()
            assert site is not None
            await IngestService(IngestRepository(conn), InstrumentRegistry.bundled()).ingest(
                sub, site_id=site[0], device_id=None
            )

    asyncio.run(store())
    migrate.downgrade(url, "0002")
    migrate.upgrade(url)
    with psycopg.connect(libpq_dsn(url)) as conn:
        assert conn.execute("SELECT initial_mode, audio_enabled FROM submissions").fetchone() == (
            "voice-continuous",
            True,
        )
        values, methods, voice, codes, scores = one_row(
            conn.execute(
                "SELECT answer_values, answer_methods, voice_answers, score_codes, score_values FROM submissions"
            )
        )
        transcripts = conn.execute("SELECT item, transcript FROM answers ORDER BY item").fetchall()
    assert transcripts == [(a.item, a.transcript) for a in sub.answers]
    assert transcripts[0] == (1, "2")  # a voice answer's transcript, the touch ones stay None
    answers = sub.answer_values()
    assert values == [answers[n] for n in range(1, 31)] and voice == 2
    assert methods == [2, 2] + [1] * 28  # METHOD_CODES: 1 touch, 2 voice
    assert dict(zip(codes, scores, strict=True)) == sub.scores  # by code (ingest keeps the instrument's order)
