"""What a production server shows the world: no secret in any refusal, weak secrets refused by entropy, API docs
and metrics closed unless opened on purpose, documentation pages with no asset from a CDN."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys

import httpx
import pytest

from sync_server.app import create_app
from sync_server.settings import Settings, SettingsError, production_problems
from tests.integration.server.factories import bearer

PRODUCTION = {"environment": "production", "behind_tls_proxy": True}
STRONG = secrets.token_urlsafe(48)


@pytest.mark.parametrize(
    "weak", ["abcdefgh" * 4, "0123456789" * 4, "Tr0ub4dor&3" * 3, "a1" * 20, "correcthorsebatterystaple" + "1234567"]
)
def test_a_long_but_predictable_secret_is_refused(weak):
    assert len(weak) >= 32
    with pytest.raises(SettingsError, match="QLQ_TOKEN_SECRET is too predictable"):
        Settings(**PRODUCTION, token_secret=weak)


def test_a_random_secret_is_accepted():
    assert production_problems(Settings(**PRODUCTION, token_secret=STRONG)) == []
    # zxcvbn reads dates and sequences into random hex: 6% of 128-bit hex secrets scored below the old threshold
    for _ in range(50):
        assert production_problems(Settings(**PRODUCTION, token_secret=secrets.token_hex(16))) == []


@pytest.mark.parametrize(
    "bad",
    [
        {"db_pool_size": "many"},
        {"forwarded_allow_ips": "*"},
        {"port": 0},
        {"metrics_allow_ips": ["not-a-network"]},
        {"metrics_token": "short"},
    ],
)
def test_no_refusal_repeats_a_secret(bad):
    secret = "abcdefgh" * 4 + "TAIL-" + secrets.token_hex(4)
    with pytest.raises(SettingsError) as caught:
        Settings(**PRODUCTION, token_secret=secret, database_url="postgresql+psycopg://u:hunter2-db@h/db", **bad)
    message = str(caught.value)
    for leaked in (secret, secret[-12:], "TAIL", "hunter2", "input_value", "short"):
        assert leaked not in message, message
    assert re.search(r"QLQ_[A-Z_]+", message), message


def test_the_cli_refusal_names_the_setting_but_not_the_secret(tmp_path):
    secret = "abcdefgh" * 4 + "-LEAKME-" + secrets.token_hex(4)
    result = subprocess.run(
        [sys.executable, "-m", "sync_server.cli", "serve"],
        capture_output=True,
        text=True,
        env={
            "QLQ_ENVIRONMENT": "production",
            "QLQ_TOKEN_SECRET": secret,
            "QLQ_BEHIND_TLS_PROXY": "true",
            "QLQ_DB_POOL_SIZE": "x",
            "PATH": "/usr/bin:/bin",
        },
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    output = result.stdout + result.stderr
    assert "QLQ_DB_POOL_SIZE" in output and "LEAKME" not in output and secret not in output, output


def test_the_settings_repr_hides_secrets():
    shown = repr(
        Settings(token_secret=STRONG, metrics_token=STRONG, database_url="postgresql+psycopg://u:hunter2-db@h/db")
    )
    assert STRONG not in shown and "hunter2" not in shown


def test_forwarded_headers_from_anyone_are_refused_in_production():
    with pytest.raises(SettingsError, match="QLQ_FORWARDED_ALLOW_IPS"):
        Settings(**PRODUCTION, token_secret=STRONG, forwarded_allow_ips="*")
    assert Settings(**PRODUCTION, token_secret=STRONG, forwarded_allow_ips="10.0.0.0/8, 192.168.1.1")


def _client(app, peer: str = "127.0.0.1") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(peer, 50000)), base_url="http://t")


@pytest.fixture
def production_settings(settings):
    return settings.model_copy(update={"environment": "production", "behind_tls_proxy": True})


@pytest.mark.postgres
@pytest.mark.anyio
async def test_production_closes_docs_and_metrics_by_default(production_settings, accounts):
    app = create_app(production_settings)
    admin = accounts.user_token("admin")
    async with _client(app) as client:
        for path in ("/docs", "/redoc", "/openapi.json", "/docs/assets/swagger-ui-bundle.js"):
            response = await client.get(path, headers=bearer(admin))
            assert response.status_code == 404, path
        metrics = await client.get("/metrics")
        assert metrics.status_code == 403 and metrics.json()["error"]["code"] == "metrics_forbidden"
        assert (await client.get("/health")).status_code == 200
    app.state.engine.dispose()


@pytest.mark.postgres
@pytest.mark.anyio
async def test_docs_for_admins_only(production_settings, accounts):
    app = create_app(production_settings.model_copy(update={"api_docs": "admin"}))
    admin, researcher = accounts.user_token("admin"), accounts.user_token("researcher")
    async with _client(app) as client:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert (await client.get(path)).status_code == 401, path
            assert (await client.get(path, headers=bearer(researcher))).status_code == 403, path
            assert (await client.get(path, headers=bearer(admin))).status_code == 200, path
        spec = (await client.get("/openapi.json", headers=bearer(admin))).json()
        assert "/v1/submissions" in spec["paths"] and "/docs" not in spec["paths"]
    app.state.engine.dispose()


@pytest.mark.postgres
@pytest.mark.anyio
async def test_metrics_for_the_scrape_address_or_token(production_settings):
    token = secrets.token_urlsafe(32)
    app = create_app(
        production_settings.model_copy(update={"metrics_allow_ips": ["10.0.0.0/8"], "metrics_token": token})
    )
    async with _client(app, "10.9.8.7") as scraper, _client(app, "198.51.100.1") as outsider:
        assert (await scraper.get("/metrics")).status_code == 200
        assert (await outsider.get("/metrics")).status_code == 403
        assert (await outsider.get("/metrics", headers=bearer("wrong"))).status_code == 403
        scraped = await outsider.get("/metrics", headers=bearer(token))
        assert scraped.status_code == 200 and "qlq_" in scraped.text
    app.state.engine.dispose()


@pytest.mark.postgres
@pytest.mark.anyio
async def test_the_docs_pages_load_nothing_from_another_host(client):
    """Development default: docs public, every script, style and icon served by the server itself."""
    for page in ("/docs", "/redoc"):
        html = (await client.get(page)).text
        urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html) + re.findall(r"url\(([^)]+)\)", html)
        assert urls, page
        assert not [u for u in urls if re.match(r"^(https?:)?//", u)], (page, urls)
        assert "cdn" not in html.lower() and "fonts.googleapis" not in html, page
        for url in urls:
            if url.startswith("/"):
                asset = await client.get(url)
                assert asset.status_code == 200 and len(asset.content) > 1000, url
    assert (await client.get("/openapi.json")).json()["openapi"].startswith("3.")
