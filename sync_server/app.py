"""The FastAPI application factory.

``create_app(settings)`` wires everything from explicit settings (tests build apps against their own
database); ``app_from_env()`` is what uvicorn loads (``sync_server.app:app_from_env``, factory mode).
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.models import OpenAPI
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from kiosk import __version__
from kiosk.domain.submission import Submission
from sync_server.console import install_console
from sync_server.db import make_engine, make_ingest_pool, make_sessionmaker
from sync_server.errors import install_error_handlers
from sync_server.logging import configure_logging
from sync_server.middleware import RequestContextMiddleware
from sync_server.migrate import head_revision
from sync_server.ratelimit import SlidingWindowLimiter
from sync_server.routers import admin, auth, health, releases, research, submissions
from sync_server.services.instruments import InstrumentRegistry
from sync_server.settings import Settings, load_settings

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
        try:
            yield
        finally:
            application.state.ingest_pool = None
            await pool.close()
            engine.dispose()

    app = FastAPI(title="Kiosque QLQ-C30 sync server", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.ingest_pool = None  # set while the lifespan runs (uvicorn always runs it)
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.instruments = InstrumentRegistry.bundled()
    app.state.head_revision = head_revision()
    app.state.auth_limiter = SlidingWindowLimiter(settings.auth_rate_limit_attempts,
                                                  settings.auth_rate_limit_window_seconds)
    install_error_handlers(app)
    for router in (health.router, auth.router, submissions.router, research.router, admin.router, releases.router):
        app.include_router(router)
    install_console(app)  # the web console under /console/ (sync_server/console)
    if settings.cors_allow_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_allow_origins, allow_credentials=False,
                           allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
                           expose_headers=["X-Request-ID"])
    app.add_middleware(RequestContextMiddleware, settings=settings)
    _document_models(app, Submission)
    return app


def _document_models(app: FastAPI, *models: type[BaseModel]) -> None:
    """Add request models that endpoints validate themselves (no FastAPI body parameter, see
    ``routers/submissions.py``) to the OpenAPI components, exactly as a body parameter would have."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            _, top = models_json_schema([(m, "validation") for m in models],
                                        ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, definition in top.get("$defs", {}).items():
                components.setdefault(name, definition)
            schema["components"]["schemas"] = dict(sorted(components.items()))
            # through FastAPI's own OpenAPI model, as get_openapi() does, so the result is normalised the same way
            app.openapi_schema = jsonable_encoder(OpenAPI(**schema), by_alias=True, exclude_none=True)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


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
