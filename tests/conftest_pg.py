"""PostgreSQL for the server tests (never SQLite): find a server, create a fresh database, migrate it.

Where the server comes from, in order:
1. ``QLQ_TEST_DATABASE_URL`` (any database on the server; it is only used to create and drop ours);
2. ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres`` if it answers;
3. a throwaway cluster started with ``initdb``/``pg_ctl`` from ``/usr/lib/postgresql/*/bin`` on port 5433
   (run as the ``postgres`` user when we are root, socket in /tmp, fsync off);
4. otherwise the tests FAIL with a message saying how to get a server.

A fresh database ``qlq_test_<random>`` is created per test session, built by running the Alembic migrations,
emptied after every test (TRUNCATE, with triggers off so the append-only audit table can be emptied too) and
dropped at the end. Import these fixtures with ``from tests.conftest_pg import *``.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
THROWAWAY_PORT = 5433
HOW_TO = ("No PostgreSQL server for the tests. Either run one on 127.0.0.1:5432 with trust auth for user postgres, "
          "set QLQ_TEST_DATABASE_URL=postgresql+psycopg://user:password@host:port/postgres, or install the "
          "server binaries (Debian: apt-get install postgresql) so a throwaway cluster can be started.")
TABLES = ("audit_events", "scores", "answers", "submissions", "user_tokens", "users", "devices",
          "enrollment_codes", "sites")

__all__ = ["database_url", "make_database", "pg_server_url", "truncate_all"]


def libpq_dsn(url: str, database: str | None = None) -> str:
    """SQLAlchemy URL → libpq connection string (optionally for another database)."""
    u = make_url(url)
    if database is not None:
        u = u.set(database=database)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(libpq_dsn(url), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _start_throwaway_cluster() -> tuple[str, Callable[[], None]] | None:
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries:
        return None
    bindir = Path(binaries[-1]).parent
    datadir = Path(tempfile.mkdtemp(prefix="qlq-pg-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(datadir, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_postgres, str(bindir / "initdb"), "-D", str(datadir), "-U", "postgres", "--auth=trust",
                    "-E", "UTF8"], check=True, capture_output=True)
    options = f"-p {THROWAWAY_PORT} -k /tmp -c fsync=off -c listen_addresses=127.0.0.1"
    subprocess.run([*as_postgres, str(bindir / "pg_ctl"), "-D", str(datadir), "-o", options, "-w", "-l",
                    str(datadir / "log"), "start"], check=True, capture_output=True)

    def stop() -> None:
        subprocess.run([*as_postgres, str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "stop"],
                       check=False, capture_output=True)
        shutil.rmtree(datadir, ignore_errors=True)

    return f"postgresql+psycopg://postgres@127.0.0.1:{THROWAWAY_PORT}/postgres", stop


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A URL of any database on a usable server (used to create and drop the test databases)."""
    env = os.environ.get("QLQ_TEST_DATABASE_URL")
    if env:
        if not _answers(env):
            pytest.fail(f"QLQ_TEST_DATABASE_URL={env} does not answer. {HOW_TO}", pytrace=False)
        yield env
        return
    if _answers(DEFAULT_URL):
        yield DEFAULT_URL
        return
    try:
        started = _start_throwaway_cluster()
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.fail(f"starting a throwaway PostgreSQL cluster failed ({exc}). {HOW_TO}", pytrace=False)
    if started is None:
        pytest.fail(HOW_TO, pytrace=False)
    url, stop = started
    try:
        yield url
    finally:
        stop()


@pytest.fixture(scope="session")
def make_database(pg_server_url: str) -> Iterator[Callable[[], str]]:
    """A factory of fresh empty databases (dropped at the end of the session); returns their URLs."""
    created: list[str] = []

    def make() -> str:
        name = f"qlq_test_{secrets.token_hex(6)}"
        with psycopg.connect(libpq_dsn(pg_server_url), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)

    yield make
    with psycopg.connect(libpq_dsn(pg_server_url), autocommit=True) as conn:
        for name in created:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(make_database: Callable[[], str]) -> str:
    """The session's database, with the schema built by the Alembic migrations."""
    from sync_server import migrate

    url = make_database()
    migrate.upgrade(url)
    return url


def truncate_all(url: str) -> None:
    """Empty every table. Triggers are off for this transaction (replica role, superuser only) so the
    append-only audit table can be emptied between tests; the application itself can never do this."""
    with psycopg.connect(libpq_dsn(url)) as conn:
        conn.execute("SET LOCAL session_replication_role = replica")
        for table in TABLES:  # DELETE beats TRUNCATE on tiny tables (no new files to create)
            conn.execute(f"DELETE FROM {table}")


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False
