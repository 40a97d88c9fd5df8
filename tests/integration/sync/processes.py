"""Real processes for the sync end-to-end tests: ``qlq-server serve`` (restartable on its port) and the kiosk CLI."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.integration.server.factories import TEST_SECRET


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``qlq-server serve`` (uvicorn, one worker) on a fixed loopback port, which can be killed and restarted."""

    def __init__(self, database_url: str, port: int | None = None, log_path: Path | None = None) -> None:
        self.database_url = database_url
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "QLQ_DATABASE_URL": self.database_url,
            "QLQ_TOKEN_SECRET": TEST_SECRET,
            "QLQ_LOG_JSON": "true",
            "QLQ_LOG_LEVEL": "WARNING",
            "QLQ_DB_POOL_TIMEOUT_SECONDS": "3",
        }

    def start(self, timeout: float = 60) -> None:
        out = self.log_path.open("ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sync_server.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
            ],
            env=self.env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if self.log_path:
            out.close()
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # bounded
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}")
            with contextlib.suppress(httpx.TransportError):  # not listening yet
                if httpx.get(f"{self.base}/ready", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError("the server did not become ready")

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, requests in flight are cut."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def qlq_kiosk(*args: str, env: dict[str, str], timeout: float = 300) -> tuple[int, dict[str, Any] | None, str]:
    """Run ``qlq-kiosk ARGS``; (exit status, the JSON it printed or None, stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "kiosk.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return done.returncode, (json.loads(lines[-1]) if lines else None), done.stderr


def enrollment_code(database_url: str, site: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "sync_server.cli", "enroll", "--site", site],
        env={**os.environ, "QLQ_DATABASE_URL": database_url, "QLQ_TOKEN_SECRET": TEST_SECRET},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    first = done.stdout.splitlines()[0]  # "Enrollment code for site SITE: CODE"
    return first.rsplit(":", 1)[1].strip()
