"""Engine, session factory, the request-scoped session dependency, and the ingest connection pool.

The dependency is the only place that commits: it commits when the endpoint returns and
rolls back when it raises, so a request is one transaction and nothing is ever half-written. It is declared with
``scope="function"`` so the commit happens before the response is sent (a failed commit is then an error
response, not a 201 for data that was never stored).

Device requests (``POST /v1/submissions``, every kiosk, every session, and batches) do not use the engine:
they run on the event loop with an asynchronous psycopg pool (:func:`make_ingest_pool`, opened and closed by
the app's lifespan, which every client of the app runs — uvicorn and the tests alike) in autocommit mode: one
INSERT statement stores a submission whole, alone or — one statement, one transaction — with the others the
worker's group commit (``group_commit.py``) holds, and a device lookup, when the worker does not know the device yet, is
another. No worker thread, no ORM: see ``routers/submissions.py``.
"""

from __future__ import annotations

import select
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Request
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from sync_server import metrics
from sync_server.errors import DatabaseUnavailable
from sync_server.settings import Settings
from sync_server.state import server_state


def make_engine(settings: Settings) -> Engine:
    # No pre-ping (it costs a round-trip per request): connections are recycled every 30 min, and after a
    # database restart SQLAlchemy invalidates the whole pool on the first disconnect error it sees.
    return create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=False,
        pool_recycle=1800,
        pool_timeout=settings.db_pool_timeout_seconds,
        connect_args={"application_name": "qlq-server"},
    )


def libpq_conninfo(database_url: str) -> str:
    """The libpq connection string of a SQLAlchemy URL (``postgresql+psycopg://…`` → ``postgresql://…``)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


# How long the ingest pool keeps retrying one lost connection before it gives up on it (and opens a new one at the
# next request). Short, because psycopg_pool's retries back off exponentially: with its default (5 min) a database
# down for a minute is retried a minute after it came back; with 2 s, the next request after it came back connects.
INGEST_RECONNECT_TIMEOUT_SECONDS = 2.0


def server_spoke(connection: AsyncConnection) -> bool:
    """Whether PostgreSQL sent anything to this idle connection, or closed it: one ``poll(2)``, no round-trip.

    An idle autocommit connection that listens to nothing receives nothing, except when the server drops it (a
    restart, a failover, ``pg_terminate_backend``): it then sends the reason and closes the socket, which makes
    the socket readable."""
    if connection.closed or connection.broken:
        return True
    fd = connection.fileno()
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    return bool(select.select([fd], [], [], 0)[0])  # Windows: no poll(2)


class IngestPool(AsyncConnectionPool[AsyncConnection]):
    """The submission endpoint's pool: a connection the database dropped is never handed out, and finding one
    makes the pool check all its idle ones at once, so a waiting request gets a fresh connection instead of the
    next dead one (psycopg_pool would otherwise back off for a second between two failed checks: one 503 per
    dead connection).

    A connection is checked with a round-trip only when the server said something to it (:func:`server_spoke`):
    a round-trip per request cost as much as the device lookup. A connection whose network path died without
    the server closing it passes the check; the request it serves then fails as a 503 (the kiosk retries) and
    psycopg_pool discards the broken connection."""

    def __init__(self, conninfo: str, **kwargs: Any) -> None:
        super().__init__(
            conninfo, check=self._check_alive, reconnect_timeout=INGEST_RECONNECT_TIMEOUT_SECONDS, **kwargs
        )

    async def _check_alive(self, connection: AsyncConnection) -> None:
        if not server_spoke(connection):
            return
        try:
            await self.check_connection(connection)
        except Exception:
            await self.check()  # replace every dead idle connection now
            raise


def make_ingest_pool(settings: Settings) -> IngestPool:
    """The submission endpoint's pool, not yet opened (the lifespan opens it on the server's event loop).

    Fixed size (``QLQ_DB_INGEST_POOL_SIZE`` per worker): a request holds a connection for two short statements,
    so a few connections serve hundreds of submissions per second. Waiting callers are served in arrival order;
    one that waits longer than ``QLQ_DB_POOL_TIMEOUT_SECONDS`` gets a 503 ``database_unavailable``."""
    size = settings.db_ingest_pool_size
    return IngestPool(
        libpq_conninfo(settings.database_url),
        min_size=size,
        max_size=size,
        open=False,
        timeout=settings.db_pool_timeout_seconds,
        name="ingest",
        # every statement prepared on its first use: these connections only ever run a handful of statements,
        # each of them thousands of times
        kwargs={"autocommit": True, "prepare_threshold": 0, "application_name": "qlq-server-ingest"},
    )


@asynccontextmanager
async def pooled_connection(pool: AsyncConnectionPool[AsyncConnection] | None) -> AsyncIterator[AsyncConnection]:
    """A connection of the ingest pool; no pool (only an app whose lifespan is not running: every client of the
    app runs it), no connection within the pool timeout, or a database that cannot be reached (also while the
    connection is in use), is a 503 ``database_unavailable`` (the kiosk keeps the session queued and retries)."""
    if pool is None:
        raise DatabaseUnavailable()
    asked = time.perf_counter()
    try:
        async with pool.connection() as connection:
            metrics.INGEST_POOL_WAIT.observe(time.perf_counter() - asked)
            yield connection
    except (PoolTimeout, psycopg.OperationalError) as exc:
        metrics.DATABASE_UNAVAILABLE.inc()
        raise DatabaseUnavailable() from exc


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit when the block ends normally, roll back on any error, always close."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_db(request: Request) -> Iterator[Session]:
    """One session per request: commit on success, roll back on any error."""
    with unit_of_work(server_state(request).sessionmaker) as session:
        yield session


DbSession = Annotated[Session, Depends(get_db, scope="function")]


def database_reachable(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
