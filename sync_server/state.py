"""The application's shared objects, typed: what ``create_app`` builds once and every request uses.

``app.state`` is a :class:`ServerState` (a Starlette ``State`` with declared attributes), so code reads
``server_state(request).settings`` with its real type instead of an untyped ``request.app.state.settings``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker as SessionFactory
from starlette.datastructures import State
from starlette.requests import HTTPConnection

from sync_server.device_cache import DeviceCache
from sync_server.errors import DatabaseUnavailable
from sync_server.ratelimit import RateLimiter
from sync_server.services.instruments import InstrumentRegistry
from sync_server.settings import Settings

if TYPE_CHECKING:  # it imports db, which imports this module
    from sync_server.group_commit import GroupCommit


class ServerState(State):
    """Everything ``create_app`` wires, plus the ingest pool and its group commit while the lifespan runs."""

    settings: Settings
    engine: Engine
    sessionmaker: SessionFactory[Session]
    instruments: InstrumentRegistry
    head_revision: str | None
    auth_limiter: RateLimiter
    device_cache: DeviceCache
    ingest_pool: AsyncConnectionPool[AsyncConnection] | None
    group_commit: GroupCommit | None

    def __init__(
        self,
        *,
        settings: Settings,
        engine: Engine,
        sessionmaker: SessionFactory[Session],
        instruments: InstrumentRegistry,
        head_revision: str | None,
        auth_limiter: RateLimiter,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.engine = engine
        self.sessionmaker = sessionmaker
        self.instruments = instruments
        self.head_revision = head_revision
        self.auth_limiter = auth_limiter
        self.device_cache = DeviceCache(settings.device_cache_seconds)
        self.ingest_pool = None  # set while the lifespan runs (uvicorn always runs it)
        self.group_commit = None  # stores submissions on the ingest pool, set with it

    def submission_store(self) -> GroupCommit:
        """Where submissions are stored; a 503 ``database_unavailable`` while the lifespan is not running."""
        if self.group_commit is None:
            raise DatabaseUnavailable()
        return self.group_commit


def app_state(app: Any) -> ServerState:
    """The typed state of an application built by ``create_app``."""
    state = app.state
    if not isinstance(state, ServerState):
        raise TypeError("not an application built by sync_server.app.create_app")
    return state


def server_state(connection: HTTPConnection) -> ServerState:
    """The typed state of the application serving this request."""
    return app_state(connection.app)
