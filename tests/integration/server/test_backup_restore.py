"""deploy/backup.sh and deploy/restore.sh: dump a populated database, restore it into a fresh one, compare."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.pool import NullPool

from tests.conftest_pg import table_names
from tests.integration.server.factories import make_submission

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        result = {t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in table_names()}
    engine.dispose()
    return result


@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
def test_backup_then_restore_into_a_fresh_database(accounts, settings, make_database, tmp_path):
    accounts.device("SITE-A")
    accounts.user_token("admin")
    accounts.store("SITE-A", *(make_submission() for _ in range(3)))
    dump = tmp_path / "qlq.dump"
    env = {**os.environ, "QLQ_DATABASE_URL": settings.database_url}
    subprocess.run(["sh", str(DEPLOY / "backup.sh"), str(dump)], env=env, check=True, capture_output=True)
    assert dump.stat().st_size > 0
    fresh = make_database()
    subprocess.run(
        ["sh", str(DEPLOY / "restore.sh"), str(dump)],
        env={**env, "QLQ_DATABASE_URL": fresh},
        check=True,
        capture_output=True,
    )
    before = counts(settings.database_url)
    assert before["submissions"] == 3 and before["answers"] == 90
    assert counts(fresh) == before
    # the restored audit table is still append-only
    engine = create_engine(fresh, poolclass=NullPool)
    with engine.connect() as connection, pytest.raises(ProgrammingError, match="append-only") as refused:
        connection.execute(text("TRUNCATE audit_events"))
    assert isinstance(refused.value.orig, psycopg.errors.InsufficientPrivilege)
    engine.dispose()


def test_scripts_refuse_missing_arguments():
    result = subprocess.run(
        ["sh", str(DEPLOY / "backup.sh")],
        capture_output=True,
        text=True,
        env={**os.environ, "QLQ_DATABASE_URL": "postgresql+psycopg://x@127.0.0.1:1/x"},
    )
    assert result.returncode == 64 and "usage" in result.stderr
