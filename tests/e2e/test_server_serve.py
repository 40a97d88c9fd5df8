"""End to end: ``qlq-server serve`` for real (uvicorn on a free loopback port), a kiosk-like client posting a
finished session over HTTP, then a researcher reading it back through the export."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from sync_server import migrate
from sync_server.settings import Settings
from tests.integration.server.factories import TEST_SECRET, Accounts, bearer, make_submission, payload


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(make_database) -> Iterator[tuple[str, Settings]]:
    url = make_database()
    migrate.upgrade(url)
    port = free_port()
    env = {**os.environ, "QLQ_DATABASE_URL": url, "QLQ_TOKEN_SECRET": TEST_SECRET, "QLQ_LOG_JSON": "true"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sync_server.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                out = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"the server did not become ready:\n{out}")
            time.sleep(0.2)
        yield base, Settings(database_url=url, token_secret=TEST_SECRET)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


def device_and_researcher(settings, site: str) -> tuple[str, str]:
    """A device token on a new site, and a researcher's token, made in the served database."""
    accounts = Accounts(settings)
    try:
        device, _ = accounts.device(site)
        return device, accounts.user_token("researcher")
    finally:
        accounts.engine.dispose()


def test_serve_receives_a_submission_and_exports_it(served):
    base, settings = served
    device, researcher = device_and_researcher(settings, "SITE-E2E")
    sub = make_submission()
    with httpx.Client(base_url=base, timeout=10) as client:
        assert client.get("/health").json() == {"status": "ok"}
        first = client.post("/v1/submissions", json=payload(sub), headers=bearer(device))
        assert first.status_code == 201, first.text
        assert first.headers["x-request-id"]
        assert client.post("/v1/submissions", json=payload(sub), headers=bearer(device)).status_code == 200
        export = client.get("/v1/exports/csv-wide", headers=bearer(researcher))
        assert export.status_code == 200
        assert str(sub.submission_id) in export.text
        assert "qlq_submissions_received_total" in client.get("/metrics").text
        assert client.get("/docs").status_code == 200
