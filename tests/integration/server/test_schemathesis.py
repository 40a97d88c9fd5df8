"""Property-based requests generated from the OpenAPI schema: whatever comes in, never a 5xx.

Runs in-process against the ASGI app with its lifespan running (the async ingest pool open), so it fuzzes the
code production runs, with a valid token of the role each operation needs (so generated inputs reach the
services, not just the auth check). Few examples per operation: the suite stays fast.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.python import asgi

from sync_server.app import create_app
from sync_server.settings import Settings
from tests.integration.server.factories import TEST_SECRET

schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(scope="module")
def fuzzed_app(settings):
    """An app of its own: schemathesis runs its lifespan (on schemathesis' own event loop thread) at the first
    call and keeps it running, so the calls reach the async ingest pool exactly as under uvicorn."""
    application = create_app(settings)
    yield application
    asgi.shutdown_lifespans()
    application.state.engine.dispose()


@pytest.fixture
def api_schema(fuzzed_app):
    return schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app)


@pytest.fixture
def tokens(accounts):
    device, _ = accounts.device("SITE-A")
    return {"device": device, "researcher": accounts.user_token("researcher"), "admin": accounts.user_token("admin")}


def _role(path: str) -> str:
    if path.startswith(("/v1/submissions", "/v1/releases")):
        return "device"
    if path.startswith("/v1/admin"):
        return "admin"
    return "researcher"


@schema.parametrize()
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error(case, tokens, fuzzed_app):
    response = case.call(headers={"Authorization": f"Bearer {tokens[_role(case.path)]}"})
    assert fuzzed_app.state.ingest_pool is not None  # the lifespan runs: production's submission path
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
    )


def test_settings_unused_import_guard():
    assert Settings(token_secret=TEST_SECRET) and create_app  # type: ignore[truthy-function]  # the import, used
