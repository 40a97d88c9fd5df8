"""Fixtures of the server integration tests: a migrated PostgreSQL database, the app, an in-process client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI

from sync_server.app import create_app
from sync_server.settings import Settings
from tests.conftest_pg import truncate_all
from tests.integration.server.factories import TEST_SECRET, Accounts


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        token_secret=TEST_SECRET,
        environment="development",
        db_pool_size=5,
        db_max_overflow=5,
        db_ingest_pool_size=2,
        auth_rate_limit_attempts=1000,
        log_json=True,
    )


@pytest.fixture(scope="session")
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture(autouse=True)
def _empty_database(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test starts from empty tables (only for tests that touched the database)."""
    yield
    if "database_url" in request.fixturenames:
        truncate_all(request.getfixturevalue("database_url"))
        if "app" in request.fixturenames:
            state = request.getfixturevalue("app").state
            state.auth_limiter.reset()
            state.device_cache.clear()  # its devices were just deleted


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of the app with its lifespan running, as uvicorn runs it (the device endpoints need
    the async ingest pool it opens)."""
    async with app.router.lifespan_context(app):
        assert app.state.ingest_pool is not None
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
            yield c


@pytest.fixture
def accounts(settings: Settings) -> Iterator[Accounts]:
    helper = Accounts(settings)
    yield helper
    helper.engine.dispose()
