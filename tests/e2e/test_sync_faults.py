"""End to end, real processes: the kiosk's ``qlq-kiosk enroll`` / ``qlq-kiosk sync`` (its real sync worker, the
device token in a real GNOME Keyring), ``qlq-server serve`` under uvicorn, PostgreSQL — through a fault-injecting
TCP proxy on loopback, while a chaos thread restarts the server and kills PostgreSQL connections, and the kiosk
process itself is SIGKILLed during sends. 1,000 sessions (one of them wrong on the server's check) must end on
the server exactly once each, the wrong one parked on the kiosk with its reason, the queue empty.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from kiosk.storage import database
from sync_server import migrate
from sync_server.settings import Settings
from tests.conftest_pg import *  # noqa: F403 - the PostgreSQL fixtures
from tests.conftest_pg import libpq_dsn
from tests.integration.secrets.conftest import SecretService, start_secret_service
from tests.integration.server.factories import TEST_SECRET, Accounts
from tests.integration.sync.fault_proxy import FaultPlan, FaultProxy
from tests.integration.sync.populate import queue_sessions, tamper_scores
from tests.integration.sync.processes import ServerProcess, enrollment_code, qlq_kiosk

SESSIONS = 1000
SEED = int(os.environ.get("QLQ_SYNC_E2E_SEED", "20261203"))
FAULTS = {"refuse": 0.06, "cut_request": 0.06, "cut_response": 0.08, "stall": 0.04, "http500": 0.05, "http503": 0.05}
SYNC_FLAGS = ("--http-timeout", "5", "--max-backoff", "1")


@pytest.fixture
def keyring_service(tmp_path: Path) -> Iterator[SecretService]:
    service = start_secret_service(tmp_path / "keyring-home")
    try:
        yield service
    finally:
        service.stop()


class Chaos(threading.Thread):
    """Server killed and restarted, stopped for a while, PostgreSQL backends terminated: until told to stop."""

    def __init__(self, server: ServerProcess, database_url: str, rng: random.Random) -> None:
        super().__init__(name="chaos", daemon=True)
        self.server = server
        self.dsn = libpq_dsn(database_url)
        self.database = database_url.rsplit("/", 1)[1]
        self.rng = rng
        self.halt = threading.Event()
        self.events: Counter[str] = Counter()
        self.error: BaseException | None = None
        self.script = ["restart", "pg", "down"]  # each at least once, then random draws

    def kill_pg_connections(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            killed = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (self.database,),
            ).fetchone()
        self.events["pg_backends_killed"] += int(killed[0]) if killed else 0
        self.events["pg_kill_rounds"] += 1

    def run(self) -> None:
        deadline = time.monotonic() + 180  # bounded even if nobody stops it
        try:
            while not self.halt.is_set() and time.monotonic() < deadline:
                action = (
                    self.script.pop(0)
                    if self.script
                    else self.rng.choices(["pg", "restart", "down"], weights=[6, 2, 1])[0]
                )
                if action == "pg":
                    self.kill_pg_connections()
                elif action == "restart":
                    self.server.kill()  # mid-batch, with no warning
                    self.events["server_sigkill_restart"] += 1
                    self.server.start()
                else:
                    self.server.stop()
                    self.events["server_down_2s"] += 1
                    self.halt.wait(2)
                    self.server.start()
                self.halt.wait(self.rng.uniform(1.5, 4.0))  # the server gets up time between blows
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            if self.server.process is None or self.server.process.poll() is not None:
                self.server.start()


def database_key_in(service: SecretService, monkeypatch: pytest.MonkeyPatch) -> str:
    """The database key the kiosk made and kept in the real keyring (read back as the kiosk would)."""
    from keyring.backends import SecretService as SecretServiceBackend

    from kiosk.secrets.interface import SecretName
    from kiosk.secrets.keyring_store import KeyringSecretStore

    with monkeypatch.context() as patch:
        patch.setenv("DBUS_SESSION_BUS_ADDRESS", service.address)
        key = KeyringSecretStore(SecretServiceBackend.Keyring()).get(SecretName.DATABASE_KEY)
    assert key is not None, "no database key in the keyring"
    return key


def kiosk_rows(db: Path, key: str) -> list[tuple[str, str, str, str | None]]:
    conn = database.connect(f"{db.resolve().as_uri()}?mode=ro", key=key, uri=True)
    try:
        return conn.execute(
            "SELECT submission_id, status, content_sha256, last_error_code FROM submissions ORDER BY created_at"
        ).fetchall()
    finally:
        conn.close()


def test_a_thousand_sessions_through_random_faults_arrive_exactly_once(
    make_database, tmp_path: Path, keyring_service: SecretService, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(SEED)
    url = make_database()
    migrate.upgrade(url)
    accounts = Accounts(Settings(database_url=url, token_secret=TEST_SECRET))
    try:
        accounts.site("SITE-SYNC", "Site sync")
    finally:
        accounts.engine.dispose()
    server = ServerProcess(url, log_path=tmp_path / "server.log")
    server.start()
    script = list(FAULTS)  # every fault at least once, in a random order, then random draws
    rng.shuffle(script)
    proxy = FaultProxy(server.port, FaultPlan(weights=FAULTS, seed=SEED, stall_seconds=6.0, script=script)).start()
    chaos = Chaos(server, url, rng)
    data = tmp_path / "kiosk"
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": keyring_service.address, "QLQ_KIOSK_DATA_DIR": str(data)}
    env.pop("PYTHON_KEYRING_BACKEND", None)
    timings: dict[str, float] = {}
    started = time.monotonic()
    try:
        ids = queue_sessions(data / "kiosk.db", SESSIONS, start=datetime.now(UTC) - timedelta(hours=8), seed=SEED)
        bad = ids[SESSIONS // 3]
        tamper_scores(data / "kiosk.db", bad)
        timings["queue_1000"] = time.monotonic() - started

        proxy.enabled = False
        code = enrollment_code(url, "SITE-SYNC")
        status, enrolled, err = qlq_kiosk(
            "enroll",
            "--server",
            f"http://127.0.0.1:{proxy.port}",
            "--code",
            code,
            "--name",
            "tablette-e2e",
            "--insecure-http-for-development",
            "--data-dir",
            str(data),
            env=env,
        )
        assert status == 0, err
        assert enrolled is not None and enrolled["site"] == "SITE-SYNC"
        proxy.enabled = True

        chaos.start()
        timings["enrolled"] = time.monotonic() - started
        kills = 0
        for _ in range(5):  # the kiosk process SIGKILLed while it sends
            before = sum(proxy.counts.values())
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "kiosk.cli.main",
                    "sync",
                    "--data-dir",
                    str(data),
                    "--timeout",
                    "30",
                    *SYNC_FLAGS,
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + 20
            while sum(proxy.counts.values()) == before and time.monotonic() < deadline and process.poll() is None:
                time.sleep(0.02)  # wait for its first request to be on the wire
            time.sleep(rng.uniform(0.0, 0.6))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
            process.wait(30)
        timings["kills_done"] = time.monotonic() - started
        status, during, err = qlq_kiosk("sync", "--data-dir", str(data), "--timeout", "30", *SYNC_FLAGS, env=env)
        timings["sync_under_chaos"] = time.monotonic() - started
        chaos.halt.set()
        chaos.join(60)
        assert chaos.error is None, repr(chaos.error)

        final = during
        for _ in range(10):  # faults still injected, no more chaos: bounded retries until nothing waits
            if final is not None and final["waiting"] == 0:
                break
            status, final, err = qlq_kiosk("sync", "--data-dir", str(data), "--timeout", "60", *SYNC_FLAGS, env=env)
        assert final is not None, err
        assert final["waiting"] == 0 and status == 0, (final, err)
        timings["drained"] = time.monotonic() - started

        # The plaintext queue written above was encrypted in place by the first command (enroll), with a key it
        # made and kept in the real keyring; nothing of it is readable in the file any more.
        assert not database.is_plaintext(data / "kiosk.db")
        rows = kiosk_rows(data / "kiosk.db", database_key_in(keyring_service, monkeypatch))
        by_status = Counter(row[1] for row in rows)
        with psycopg.connect(libpq_dsn(url)) as conn:
            stored = conn.execute("SELECT submission_id::text, content_sha256 FROM submissions").fetchall()
        stored_ids = [row[0] for row in stored]
        print(
            json.dumps(
                {
                    "sessions": SESSIONS,
                    "server_stored": len(stored_ids),
                    "server_distinct": len(set(stored_ids)),
                    "kiosk": dict(by_status),
                    "kiosk_sigkills": kills,
                    "proxy_connections": dict(proxy.counts),
                    "chaos": dict(chaos.events),
                    "server_starts": server.starts,
                    "last_sync_output": final,
                    "sync_under_chaos_output": during,
                    "seconds": {k: round(v, 1) for k, v in timings.items()},
                },
                indent=1,
            )
        )

        assert len(rows) == SESSIONS
        assert by_status == {"sent": SESSIONS - 1, "rejected": 1}
        assert len(stored_ids) == len(set(stored_ids)) == SESSIONS - 1  # none lost, none twice
        assert set(stored_ids) == set(ids) - {bad}
        parked = next(row for row in rows if row[0] == bad)
        assert parked[1] == "rejected" and parked[3] == "scores_mismatch"
        assert final["parked"] == 1
        # the faults did happen
        assert kills >= 3
        assert all(proxy.counts[fault] > 0 for fault in FAULTS), proxy.counts
        assert chaos.events["pg_kill_rounds"] > 0 and chaos.events["server_sigkill_restart"] > 0
        assert chaos.events["server_down_2s"] > 0
    finally:
        chaos.halt.set()
        if chaos.is_alive():
            chaos.join(60)
        proxy.stop()
        server.stop()
