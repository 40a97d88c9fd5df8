"""The FastAPI application factory.

``create_app(settings)`` wires everything from explicit settings (tests build apps against their own
database); ``app_from_env()`` is what uvicorn loads (``sync_server.app:app_from_env``, factory mode).
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from kiosk import __version__
from sync_server.console import install_console
from sync_server.db import make_engine, make_ingest_pool, make_sessionmaker
from sync_server.errors import install_error_handlers
from sync_server.group_commit import GroupCommit
from sync_server.logging import configure_logging
from sync_server.middleware import RequestContextMiddleware
from sync_server.migrate import head_revision
from sync_server.ratelimit import RateLimiter
from sync_server.routers import admin, auth, docs, health, releases, research, submissions
from sync_server.services.instruments import InstrumentRegistry
from sync_server.settings import Settings, load_settings
from sync_server.state import ServerState

DESCRIPTION = """Central sync server of Kiosque QLQ-C30: kiosks submit finished EORTC QLQ-C30 sessions,
researchers read statistics and exports, admins manage sites, devices, users and GDPR requests.

Errors are `{"error": {"code", "message", "field"}}` with a stable `code`."""


def create_app(settings: Settings) -> FastAPI:
    engine = make_engine(settings)

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[None]:
        # The ingest pool lives on the server's event loop. Opening does not wait for connections: a database
        # that is down at start is reported by /ready and the pool keeps trying in the background.
        pool = make_ingest_pool(settings)
        await pool.open()
        application.state.ingest_pool = pool
        application.state.group_commit = GroupCommit(
            pool, max_size=settings.ingest_group_max, in_flight=settings.ingest_groups_in_flight
        )
        try:
            yield
        finally:
            application.state.group_commit = None
            application.state.ingest_pool = None
            await pool.close()
            engine.dispose()

    # The API docs are served by routers/docs.py (local assets, access per QLQ_API_DOCS), never FastAPI's own.
    app = FastAPI(
        title="Kiosque QLQ-C30 sync server",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state = ServerState(
        settings=settings,
        engine=engine,
        sessionmaker=make_sessionmaker(engine),
        instruments=InstrumentRegistry.bundled(),
        head_revision=head_revision(),
        auth_limiter=RateLimiter(engine, settings.auth_rate_limit_window_seconds),
    )
    install_error_handlers(app)
    for router in (health.router, auth.router, submissions.router, research.router, admin.router, releases.router):
        app.include_router(router)
    install_console(app)  # the web console under /console/ (sync_server/console)
    docs.install(app, settings.docs_access)
    if settings.cors_allow_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allow_origins,
            allow_credentials=False,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
        )
    app.add_middleware(RequestContextMiddleware, settings=settings)
    return app


def app_from_env() -> FastAPI:
    """The app uvicorn runs: settings from the environment, JSON logs."""
    settings = load_settings()
    configure_logging(settings.log_level, json_format=settings.log_json)
    app = create_app(settings)
    # Everything imported and built so far lives as long as the process: move it out of the cyclic garbage
    # collector's sight, so its full collections no longer walk the whole application every few thousand
    # requests. Those pauses were the latency tail of the ingest benchmark (p95 ~160 → ~115 ms, p99 ~190 →
    # ~135 ms with 100 kiosks; bench/server_ingest.py). Reference counting still frees everything as usual.
    gc.collect()
    gc.freeze()
    return app
