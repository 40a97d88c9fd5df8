"""Browser tests of the web console: Debian's Chromium driven by Playwright, against ``qlq-server serve``
(uvicorn on a free loopback port) on a fresh PostgreSQL database, with axe-core injected into the pages.

Chromium is Debian's (``/usr/bin/chromium``, installed by scripts/bootstrap.sh when the tests run); Playwright
never downloads a browser here. axe-core is the copy vendored in the ``axe-playwright-python`` wheel (pinned
in uv.lock). Set ``QLQ_CONSOLE_SCREENSHOTS=docs/screenshots`` to also save every page as a PNG (1366×768).
"""

from __future__ import annotations

import functools
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from sync_server import migrate
from sync_server.settings import Settings
from tests.conftest_pg import *  # noqa: F403 - the PostgreSQL fixtures
from tests.conftest_pg import truncate_all
from tests.integration.server.factories import TEST_SECRET, Accounts

CHROMIUM = os.environ.get("QLQ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 768}
RATE_LIMIT_ATTEMPTS = 6
PASSWORD = "correct horse battery staple"
IDLE_MINUTES = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    base: str
    settings: Settings
    accounts: Accounts

    def user(self, role: str, username: str | None = None, password: str = PASSWORD) -> str:
        """A real account (argon2), created through the service; returns its username."""
        from sqlalchemy.orm import Session

        from sync_server.services.accounts import AccountService

        username = username or f"{role}-{secrets.token_hex(4)}"
        with Session(self.accounts.engine) as db, db.begin():
            AccountService(db, self.settings).create_user(username, password, role)
        return username


@pytest.fixture(scope="session")
def server(make_database) -> Iterator[Server]:
    url = make_database()
    migrate.upgrade(url)
    port = free_port()
    env = {
        **os.environ,
        "QLQ_DATABASE_URL": url,
        "QLQ_TOKEN_SECRET": TEST_SECRET,
        "QLQ_LOG_JSON": "true",
        # every test signs in from 127.0.0.1: the per-address budget is large, the per-account one is the
        # one test_wrong_password_then_the_rate_limit uses up; a long window, so a slow machine cannot let
        # its attempts age out of it
        "QLQ_ENVIRONMENT": "development",
        "QLQ_AUTH_RATE_LIMIT_ATTEMPTS": "10000",
        "QLQ_AUTH_RATE_LIMIT_ACCOUNT_ATTEMPTS": str(RATE_LIMIT_ATTEMPTS),
        "QLQ_AUTH_RATE_LIMIT_WINDOW_SECONDS": "3600",
        "QLQ_CONSOLE_IDLE_MINUTES": str(IDLE_MINUTES),
    }
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"qlq-console-server-{port}.log"
    with log.open("wb") as out:
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
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    settings = Settings(database_url=url, token_secret=TEST_SECRET)
    accounts = Accounts(settings)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the server did not become ready:\n{log.read_text(errors='replace')}")
            time.sleep(0.2)
        yield Server(base, settings, accounts)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        accounts.engine.dispose()


@pytest.fixture(autouse=True)
def _empty(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "server" in request.fixturenames:
        truncate_all(request.getfixturevalue("server").settings.database_url)


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: run scripts/run-tests.sh (it installs Debian's chromium) or set QLQ_CHROMIUM",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT, base_url=server.base, locale="fr-FR", accept_downloads=True)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


def login(page: Any, username: str, password: str = PASSWORD) -> None:
    page.goto("/console/login")
    page.get_by_label("Identifiant", exact=True).fill(username)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


@functools.cache
def _axe() -> Any:
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the current page (WCAG 2.0/2.1/2.2 A and AA rules)."""
    results = _axe().run(
        page,
        options={
            "runOnly": {
                "type": "tag",
                "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
            },
            "resultTypes": ["violations"],
        },
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def screenshot(page: Any, name: str) -> None:
    folder = os.environ.get("QLQ_CONSOLE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"console-{name}.png"), full_page=True)


__all__ = ["PASSWORD", "RATE_LIMIT_ATTEMPTS", "Server", "axe_violations", "login", "screenshot", "shutil"]
