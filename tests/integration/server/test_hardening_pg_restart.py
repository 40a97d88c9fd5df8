"""PostgreSQL restarts under the running server: the ingest pool hands out no dead connection afterwards, ingest
recovers within 2 s of the database coming back, and ``/ready`` reports the ingest pool's state too.

The machine's shared PostgreSQL cannot be restarted, so this test starts a throwaway cluster of its own on a
free port (``initdb``/``pg_ctl`` from ``/usr/lib/postgresql/*/bin``, as the root user runs them through
``runuser``), and skips when the server binaries are not installed.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from sync_server import migrate
from sync_server.app import create_app
from sync_server.settings import Settings
from tests.integration.server.factories import TEST_SECRET, Accounts, bearer, make_submission

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.anyio]
RECOVERY_BUDGET_SECONDS = 2.0


@dataclass
class Cluster:
    bindir: Path
    datadir: Path
    port: int
    as_postgres: list[str]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k /tmp -c fsync=off -c listen_addresses=127.0.0.1"
        result = subprocess.run(
            [
                *self.as_postgres,
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.datadir),
                "-o",
                options,
                "-w",
                "-l",
                str(self.datadir / "log"),
                *args,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            log = (self.datadir / "log").read_text(errors="replace")[-2000:] if (self.datadir / "log").exists() else ""
            raise RuntimeError(f"pg_ctl {' '.join(args)} failed: {result.stderr}\n{log}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries:
        pytest.skip("no PostgreSQL server binaries (apt-get install postgresql) for a throwaway cluster")
    datadir = Path(tempfile.mkdtemp(prefix="qlq-pg-restart-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(datadir, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    bindir = Path(binaries[-1]).parent
    subprocess.run(
        [*as_postgres, str(bindir / "initdb"), "-D", str(datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    found = Cluster(bindir, datadir, _free_port(), as_postgres)
    found.ctl("start")
    try:
        yield found
    finally:
        subprocess.run(
            [*as_postgres, str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(datadir, ignore_errors=True)


async def _post(client: httpx.AsyncClient, token: str) -> int:
    response = await client.post(
        "/v1/submissions", headers=bearer(token), json=make_submission().model_dump(mode="json")
    )
    return response.status_code


async def test_ingest_recovers_within_two_seconds_of_a_restart_and_ready_tells(cluster):
    migrate.upgrade(cluster.url)
    settings = Settings(
        database_url=cluster.url,
        token_secret=TEST_SECRET,
        db_pool_size=2,
        db_max_overflow=2,
        db_ingest_pool_size=4,
        db_pool_timeout_seconds=1.0,
    )
    accounts = Accounts(settings)
    token, _ = accounts.device("SITE-R")
    accounts.engine.dispose()
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        # every pool connection in use once, so each one is a dead socket after the restart
        assert [await _post(client, token) for _ in range(8)] == [201] * 8
        assert (await client.get("/ready")).status_code == 200

        # 1. a fast restart between two requests: no 503 at all afterwards (connections are checked)
        cluster.ctl("restart", "-m", "fast")
        assert [await _post(client, token) for _ in range(8)] == [201] * 8

        # 2. a crash, kiosks posting while the database is down, /ready saying so
        cluster.ctl("stop", "-m", "immediate")
        assert await _post(client, token) == 503
        ready = await client.get("/ready")
        assert ready.status_code == 503 and ready.json()["error"]["code"] == "database_unreachable"
        for _ in range(3):
            assert await _post(client, token) == 503
        cluster.ctl("start")
        back = time.monotonic()
        codes = []
        while True:
            codes.append(await _post(client, token))
            if codes[-1] == 201 or time.monotonic() - back > 15:
                break
        recovered_after = time.monotonic() - back
        print(f"ingest recovered {recovered_after:.2f} s after the database came back ({len(codes)} tries)")
        assert codes[-1] == 201 and recovered_after <= RECOVERY_BUDGET_SECONDS, (recovered_after, codes)
        assert [await _post(client, token) for _ in range(8)] == [201] * 8  # no dead connection left
        assert (await client.get("/ready")).status_code == 200
    app.state.engine.dispose()
