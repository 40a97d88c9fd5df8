"""PostgreSQL for the server tests (never SQLite): find a server, create a fresh database, migrate it.

A pytest plugin, registered once for the whole run by ``pytest_plugins`` in tests/conftest.py, so every test
(integration and e2e alike) shares ONE server for the session. Where the server comes from, in order:
1. ``QLQ_TEST_DATABASE_URL`` (any database on the server; it is only used to create and drop ours);
2. ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres`` if it answers;
3. a throwaway cluster started with ``initdb``/``pg_ctl`` from ``/usr/lib/postgresql/*/bin`` on a free port of
   127.0.0.1 (run as the ``postgres`` user when we are root, socket and log in its data folder, fsync off); the
   folder is removed at the end, or at once when the cluster does not start, and the error then quotes the tail
   of the cluster's log;
4. otherwise the tests FAIL with a message saying how to get a server.

A fresh database ``qlq_test_<random>`` is created per test session, built by running the Alembic migrations,
emptied after every test (:func:`truncate_all`) and dropped at the end.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
HOW_TO = (
    "No PostgreSQL server for the tests. Either run one on 127.0.0.1:5432 with trust auth for user postgres, "
    "set QLQ_TEST_DATABASE_URL=postgresql+psycopg://user:password@host:port/postgres, or install the "
    "server binaries (Debian: apt-get install postgresql) so a throwaway cluster can be started."
)
START_ATTEMPTS = 3  # a free port can be taken by someone else between choosing it and the server binding it
LOG_TAIL_LINES = 20


@cache
def table_names() -> tuple[str, ...]:
    """The server's tables, from its SQLAlchemy metadata, dependents first (imported on first use: it is slow)."""
    from sync_server.models import Base

    return tuple(table.name for table in reversed(Base.metadata.sorted_tables))


def one_row(cursor: psycopg.Cursor[Any]) -> Any:
    """The row a query is known to return (``cursor.fetchone()``, which is None when there is none)."""
    row = cursor.fetchone()
    assert row is not None, "the query returned no row"
    return row


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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ClusterStartError(Exception):
    """The throwaway cluster did not start; the message carries the command's output and the log's tail."""


def _run(command: list[str], logfile: Path | None = None) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode == 0:
        return
    message = f"`{' '.join(command)}` exited with {done.returncode}"
    output = (done.stdout + done.stderr).strip()
    if output:
        message += f":\n{output}"
    if logfile is not None and logfile.exists():
        tail = logfile.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
        message += f"\nlast lines of the cluster's log ({logfile}):\n" + "\n".join(tail)
    raise ClusterStartError(message)


def _start_throwaway_cluster(bindir: Path) -> tuple[str, Callable[[], None]]:
    """Start a cluster in a new temporary folder; return its URL and the function that stops it and removes
    the folder. On failure the folder is removed and ClusterStartError raised."""
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise ClusterStartError(
                "running as root and there is no `postgres` user to run the cluster as "
                "(Debian's postgresql package creates it)"
            ) from None
        as_postgres = ["runuser", "-u", "postgres", "--"]
    datadir = Path(tempfile.mkdtemp(prefix="qlq-pg-"))
    try:
        if as_postgres:
            shutil.chown(datadir, "postgres", "postgres")
        _run([*as_postgres, str(bindir / "initdb"), "-D", str(datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
        logfile = datadir / "log"
        for attempt in range(1, START_ATTEMPTS + 1):
            port = _free_port()
            options = f"-p {port} -k {datadir} -c fsync=off -c listen_addresses=127.0.0.1"
            try:
                _run(
                    [
                        *as_postgres,
                        str(bindir / "pg_ctl"),
                        "-D",
                        str(datadir),
                        "-o",
                        options,
                        "-w",
                        "-l",
                        str(logfile),
                        "start",
                    ],
                    logfile,
                )
                break
            except ClusterStartError:
                if attempt == START_ATTEMPTS:
                    raise
    except BaseException:
        # pg_ctl may give up waiting on a server that still starts: stop it before removing its folder.
        subprocess.run(
            [*as_postgres, str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(datadir, ignore_errors=True)
        raise

    def stop() -> None:
        try:
            subprocess.run(
                [*as_postgres, str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "stop"],
                check=False,
                capture_output=True,
            )
        finally:
            shutil.rmtree(datadir, ignore_errors=True)

    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", stop


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
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries:
        pytest.fail(HOW_TO, pytrace=False)
    try:
        url, stop = _start_throwaway_cluster(Path(binaries[-1]).parent)
    except (OSError, ClusterStartError) as exc:
        pytest.fail(
            f"Nothing answers on 127.0.0.1:5432 and starting a throwaway PostgreSQL cluster with "
            f"{Path(binaries[-1]).parent} failed: {exc}",
            pytrace=False,
        )
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
    """Empty every table of the server's metadata (sync_server.models), in one transaction.

    DELETE, not TRUNCATE: a test leaves a handful of rows, and DELETE on a near-empty table costs almost nothing,
    whereas TRUNCATE gives every table and each of its indexes a new file on disk and takes an ACCESS EXCLUSIVE
    lock on each, which adds up when done after every test. Triggers are off for this transaction (replica role,
    superuser only) so the append-only audit table, whose trigger rejects DELETE, can be emptied between tests;
    the application itself can never do this. Identity sequences are not reset: tests must not expect ids."""
    with psycopg.connect(libpq_dsn(url)) as conn:
        conn.execute("SET LOCAL session_replication_role = replica")
        for table in table_names():
            conn.execute(f'DELETE FROM "{table}"')
