"""Ingest benchmark: ``qlq-server serve --workers 2`` on loopback against a throwaway database, 100 concurrent
kiosk-like clients posting completed sessions for ~20 s. Prints sessions/s and p50/p95/p99 latency over the
steady state (the ramp-up while kiosks connect is left out) and PASS/FAIL against the target, as ratios to the
floors measured in the same run (``bench/floors.py``): capacity (back to back) >= 1.0 x PostgreSQL's
one-client floor (measured before, between and after the two runs; their median), and p95 <= 200 ms at an
offered load of half the measured capacity (a second run).

    uv run python bench/server_ingest.py [--seconds 20] [--clients 100] [--workers 2] [--rate SESSIONS_PER_S]

By default the clients post back to back (a closed loop), which measures capacity; there, by Little's law, mean
latency = clients / throughput, so 100 clients can only see p95 <= 200 ms at >= 500 sessions/s: the default
run checks both numbers at once. ``--rate 300`` makes the 100 clients together offer 300 sessions/s (each waits
for its next slot, as kiosks do between patients): the latency a kiosk sees at that load.

Needs the local PostgreSQL (``--server-url``, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres);
the ``qlq_bench_<random>`` database it creates is dropped at the end. Payloads are real domain submissions
(built once with ``kiosk.domain.session``) cloned under fresh submission ids, so every post is a first receipt
that the server fully validates, rescores and stores.

The load generator (:class:`KioskConnection`) is a lean HTTP/1.1 keep-alive client on asyncio streams (one
connection per kiosk; it checks every 201 acknowledges the id it sent): it shares the 2 cores with the server,
and httpx cost ~10 ms of CPU per request here. It prints its own CPU use so a reader can check it stays small,
and the mean size of the groups the server stored the submissions in (group commit; from its ``/metrics``).
On a 2-core machine the server, PostgreSQL and the client compete for the same cores: run it on an otherwise idle
machine (``top``), or the figures mostly measure the neighbours.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import functools
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import NamedTuple

import httpx
import psycopg
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sync_server import migrate
from sync_server.services.accounts import AccountService
from sync_server.settings import Settings
from tests.integration.server.factories import make_submission, payload

TARGET_RATIO = 1.0
TARGET_P95_MS = 200.0
SECRET = "bench-secret-" + secrets.token_hex(16)
METRICS_TOKEN = secrets.token_hex(16)


def libpq(url: str, database: str | None = None) -> str:
    u = make_url(url)
    if database:
        u = u.set(database=database)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def create_database(server_url: str) -> tuple[str, str]:
    """A fresh ``qlq_bench_<random>`` database on the server: (its name, its SQLAlchemy URL)."""
    name = f"qlq_bench_{secrets.token_hex(4)}"
    with psycopg.connect(libpq(server_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(libpq(server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, env: dict[str, str], *, workers: int) -> subprocess.Popen[bytes]:
    """``qlq-server serve`` on loopback, as IT would run it."""
    return subprocess.Popen(
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
            str(workers),
        ],
        env=env,
    )


def wait_ready(process: subprocess.Popen[bytes], base: str, timeout: float = 60) -> bool:
    """Poll ``/ready`` until the server answers 200 (False if it died or the timeout passed)."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                return True
        if process.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.2)


def enroll_devices(url: str, count: int) -> list[str]:
    settings = Settings(database_url=url, token_secret=SECRET)
    engine = create_engine(url, poolclass=NullPool)
    tokens = []
    with Session(engine) as db, db.begin():
        service = AccountService(db, settings)
        service.create_site("BENCH", "Benchmark site")
        for i in range(count):
            tokens.append(service.enroll(service.create_enrollment_code("BENCH", "bench").code, f"kiosk-{i}").token)
    engine.dispose()
    return tokens


def stored_counts(url: str) -> tuple[int, int]:
    """The benchmark site's stored submissions and all stored answers: what was acknowledged must be there."""
    with psycopg.connect(libpq(url)) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM submissions WHERE site_id = (SELECT id FROM sites "
            "WHERE code = 'BENCH')), (SELECT count(*) FROM answers)"
        ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def templates(count: int) -> list[tuple[bytes, bytes]]:
    """(JSON body, its submission id as bytes) for a few distinct completed sessions, some with voice."""
    out = []
    for i in range(count):
        sub = make_submission(
            voice_items=range(1, 1 + i % 6),
            confirmed_items=[1] if i % 3 == 0 else [],
            values={n: (n + i) % 4 + 1 if n <= 28 else (n + i) % 7 + 1 for n in range(1, 31)},
        )
        out.append((json.dumps(payload(sub)).encode(), str(sub.submission_id).encode()))
    return out


class KioskConnection:
    """One kiosk: a persistent HTTP/1.1 keep-alive connection over loopback, speaking plain HTTP/1.1.

    A deliberately lean client. httpx's shared pool costs ~10 ms of CPU per request here (its pool scans every
    connection per request, and httpcore retries a failing ``import sniffio`` on every call), which on this 2-core
    machine stole CPU from the server it was measuring. This one writes the request (headers + JSON body) and
    reads the whole response (status line, headers, ``Content-Length`` body); nothing is skipped on the wire.
    """

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.head = (
            f"POST /v1/submissions HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nAccept: application/json\r\nContent-Length: "
        ).encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(b"%s%d\r\n\r\n%s" % (self.head, len(body), body))
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("the server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        length, close = None, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and b"close" in value.lower():
                close = True
            elif name == b"transfer-encoding":
                raise ConnectionError("chunked responses are not expected from this endpoint")
        if length is None:
            raise ConnectionError("response without Content-Length")
        content = await self.reader.readexactly(length)
        if close:
            await self.close()
        return status, content

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


def _processes() -> list[tuple[int, int, str, float]]:
    """(pid, parent pid, name, user + system CPU seconds) of every process (Linux ``/proc``; empty elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    out = []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = entry.read_text()
            name = text[text.index("(") + 1 : text.rindex(")")]
            fields = text[text.rindex(")") + 2 :].split()
            out.append((int(entry.parent.name), int(fields[1]), name, (int(fields[11]) + int(fields[12])) / tick))
    return out


def server_cpu(server_pid: int) -> tuple[float, float]:
    """CPU seconds used so far by the server (its process and its workers) and by PostgreSQL's processes."""
    processes = _processes()
    server = sum(cpu for pid, ppid, _name, cpu in processes if server_pid in (pid, ppid))
    postgres = sum(cpu for _pid, _ppid, name, cpu in processes if name == "postgres")
    return server, postgres


STAGGER_S = 0.005  # between two kiosks' first connections


class Sample(NamedTuple):
    client: int  # which kiosk
    sent: float  # perf_counter when the request was written
    latency: float  # seconds until the whole response was read
    status: int


async def run_clients(
    base: str,
    tokens: list[str],
    bodies: list[tuple[bytes, bytes]],
    *,
    clients: int,
    seconds: float,
    max_sessions: int,
    rate: float = 0.0,
) -> tuple[list[Sample], float]:
    """Each client posts one session after another. With ``rate`` > 0 the clients together offer that many
    sessions per second (each waits for its next slot, as kiosks do between patients); with 0 they post back to
    back (a closed loop: mean latency is then clients / throughput by Little's law). Returns every request's
    sample and the time the run started."""
    samples: list[Sample] = []
    sent = 0
    url = httpx.URL(base)
    host, port = url.host, url.port or 80
    started = time.perf_counter()
    deadline = started + seconds

    async def worker(index: int) -> None:
        nonlocal sent
        kiosk = KioskConnection(host, port, tokens[index % len(tokens)])
        # Kiosks connect independently, not in one burst: a burst of 100 connects is accepted by whichever
        # worker process wakes first (asyncio accepts a whole backlog at once), leaving the others idle.
        await asyncio.sleep(index * STAGGER_S)
        interval = clients / rate if rate > 0 else 0.0
        slot = time.perf_counter()
        try:
            while time.perf_counter() < deadline and sent < max_sessions:
                if interval:  # wait for this client's next slot; a late reply makes the next send immediate
                    await asyncio.sleep(max(0.0, slot - time.perf_counter()))
                    slot += interval
                sent += 1
                body, old_id = bodies[sent % len(bodies)]
                new_id = str(uuid.uuid4()).encode()
                data = body.replace(old_id, new_id)
                t0 = time.perf_counter()
                status, content = await kiosk.post(data)
                latency = time.perf_counter() - t0
                if status == 201 and json.loads(content) != {"submission_id": new_id.decode(), "status": "received"}:
                    status = -201  # a 201 that does not acknowledge this submission: counted as a failure
                samples.append(Sample(index, t0, latency, status))
        finally:
            await kiosk.close()

    await asyncio.gather(*(worker(i) for i in range(clients)))
    return samples, started


def steady_state(samples: list[Sample], started: float, *, seconds: float, ramp: float) -> tuple[list[Sample], float]:
    """The requests sent after the ramp-up (kiosks still connecting) and before the deadline, and that window's
    length: throughput and latency are read there, not over the start and the drain."""
    window = [s for s in samples if started + ramp <= s.sent < started + seconds]
    return window, seconds - ramp


def group_counts(base: str) -> tuple[float, float]:
    """(groups stored, submissions in them) so far, summed over the server's workers (its ``/metrics``)."""
    text = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    found = {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "qlq_ingest_group_size"
        for sample in family.samples
    }
    return found.get("qlq_ingest_group_size_count", 0.0), found.get("qlq_ingest_group_size_sum", 0.0)


def measure(
    base: str,
    tokens: list[str],
    bodies: list[tuple[bytes, bytes]],
    *,
    clients: int,
    seconds: float,
    max_sessions: int,
    rate: float,
    server_pid: int,
) -> dict[str, object]:
    """One run of the clients and its figures over the steady state."""
    cpu_before = time.process_time()
    server_before, postgres_before = server_cpu(server_pid)
    groups_before, grouped_before = group_counts(base)
    samples, started = asyncio.run(
        run_clients(base, tokens, bodies, clients=clients, seconds=seconds, max_sessions=max_sessions, rate=rate)
    )
    elapsed = time.perf_counter() - started
    client_cpu = time.process_time() - cpu_before
    server_after, postgres_after = server_cpu(server_pid)
    groups_after, grouped_after = group_counts(base)
    ramp = clients * STAGGER_S + 1.0
    window, length = steady_state(samples, started, seconds=seconds, ramp=ramp)
    latencies = [s.latency for s in window]
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    per_kiosk = collections.defaultdict(list)
    for sample in window:
        per_kiosk[sample.client].append(sample.latency)
    return {
        "samples": samples,
        "elapsed": elapsed,
        "ramp": ramp,
        "length": length,
        "window": len(window),
        "rate": sum(1 for s in window if s.status == 201) / length,
        "p50": quantiles[49] * 1000,
        "p95": quantiles[94] * 1000,
        "p99": quantiles[98] * 1000,
        "client_cpu": client_cpu,
        "server_cpu": server_after - server_before,
        "postgres_cpu": postgres_after - postgres_before,
        "group_size": (grouped_after - grouped_before) / max(1.0, groups_after - groups_before),
        "means": sorted(statistics.fmean(v) * 1000 for v in per_kiosk.values()),
    }


def report(title: str, run: dict[str, object]) -> None:
    samples = run["samples"]
    assert isinstance(samples, list)
    statuses = collections.Counter(s.status for s in samples)
    print(
        f"{title}: steady state {run['length']:.1f} s after a {run['ramp']:.1f} s ramp-up, {run['window']} "
        f"requests; responses by status {dict(sorted(statuses.items()))}"
    )
    print(
        f"  sessions/s: {run['rate']:.1f}   p50: {run['p50']:.1f} ms   p95: {run['p95']:.1f} ms   "
        f"p99: {run['p99']:.1f} ms"
    )
    means = run["means"]
    assert isinstance(means, list)
    if means:
        print(
            f"  mean latency per kiosk: lowest {means[0]:.1f} ms, median {statistics.median(means):.1f} ms, "
            f"highest {means[-1]:.1f} ms (an even spread means no kiosk is starved)"
        )
    cpu, elapsed = float(run["client_cpu"]), float(run["elapsed"])  # type: ignore[arg-type]
    print(
        f"  load generator CPU: {100 * cpu / elapsed:.0f}% of one core "
        f"({1000 * cpu / max(1, len(samples)):.2f} ms per request)"
    )
    served = max(1, sum(1 for s in samples if s.status == 201))
    server, postgres = float(run["server_cpu"]), float(run["postgres_cpu"])  # type: ignore[arg-type]
    if server:
        print(
            f"  CPU per stored session: server {1000 * server / served:.2f} ms, PostgreSQL "
            f"{1000 * postgres / served:.2f} ms ({100 * server / elapsed:.0f}% and {100 * postgres / elapsed:.0f}% "
            "of one core)"
        )
    print(f"  stored in groups of {float(run['group_size']):.1f} submissions on average (group commit)")  # type: ignore[arg-type]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="offered sessions/s of the latency run (default 0: half the measured capacity)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--max-sessions", type=int, default=200_000)
    args = parser.parse_args()
    from bench.floors import hash_floor, ingest_floor

    name, url = create_database(args.server_url)
    process = None
    try:
        migrate.upgrade(url)
        floors = [ingest_floor(url)]  # again between and after the runs: one client's latency moves by the minute
        micro = hash_floor()
        tokens = enroll_devices(url, args.devices)
        bodies = templates(24)
        port = free_port()
        env = {
            **os.environ,
            "QLQ_DATABASE_URL": url,
            "QLQ_TOKEN_SECRET": SECRET,
            "QLQ_METRICS_TOKEN": METRICS_TOKEN,
            "QLQ_LOG_LEVEL": "WARNING",
            "QLQ_DB_POOL_SIZE": os.environ.get("BENCH_POOL", "20"),
            "QLQ_DB_MAX_OVERFLOW": os.environ.get("BENCH_OVERFLOW", "10"),
        }
        process = start_server(port, env, workers=args.workers)
        base = f"http://127.0.0.1:{port}"
        if not wait_ready(process, base):
            print("FAIL: the server did not start")
            return 1
        # warm-up: every worker process imports lazily-loaded code and opens pool connections
        warm_up, _ = asyncio.run(run_clients(base, tokens, bodies, clients=10, seconds=2, max_sessions=200))
        clients_run = functools.partial(
            measure,
            base,
            tokens,
            bodies,
            clients=args.clients,
            seconds=args.seconds,
            max_sessions=args.max_sessions,
            server_pid=process.pid,
        )
        capacity = clients_run(rate=0.0)
        floors.append(ingest_floor(url))
        offered = args.rate or float(capacity["rate"]) / 2  # type: ignore[arg-type]
        half = clients_run(rate=offered)
        floors.append(ingest_floor(url))
        stored, answers = stored_counts(url)
    finally:
        if process is not None:
            process.terminate()
            process.wait(20)
        drop_database(args.server_url, name)

    print(f"clients={args.clients} workers={args.workers} cpus={os.cpu_count()} load1={os.getloadavg()[0]:.1f}")
    floor = statistics.median(floors)
    print(
        f"floors: PostgreSQL alone {' / '.join(f'{f:,.0f}' for f in floors)} sessions/s before, between and after "
        f"the runs, median {floor:,.0f} (one client, one statement per session); canonical JSON + sha256 "
        f"{micro:.0f} µs per submission"
    )
    report("capacity (back to back)", capacity)
    report(f"latency at {offered:.0f} sessions/s offered", half)
    return verdict(capacity, half, warm_up, floor=floor, offered=offered, stored=stored, answers=answers)


def verdict(
    capacity: dict[str, object],
    half: dict[str, object],
    warm_up: list[Sample],
    *,
    floor: float,
    offered: float,
    stored: int,
    answers: int,
) -> int:
    """Print the ratio to the floor and PASS/FAIL (every acknowledged session stored with its 30 answers)."""
    statuses: collections.Counter[int] = collections.Counter()
    for run in (capacity, half):
        statuses.update(s.status for s in run["samples"])  # type: ignore[attr-defined]
    acknowledged = statuses[201] + sum(1 for s in warm_up if s.status == 201)
    ratio = float(capacity["rate"]) / floor  # type: ignore[arg-type]
    kept_up = float(half["rate"]) >= 0.98 * offered  # type: ignore[arg-type]
    complete = set(statuses) == {201} and stored == acknowledged and answers == 30 * acknowledged
    print(
        f"capacity / floor: {ratio:.2f}   p95 at half capacity: {half['p95']:.1f} ms   "
        f"stored afterwards: {stored} submissions, {answers} answers (acknowledged {acknowledged})"
    )
    passed = ratio >= TARGET_RATIO and float(half["p95"]) <= TARGET_P95_MS and kept_up and complete  # type: ignore[arg-type]
    print(
        f"{'PASS' if passed else 'FAIL'} (target: capacity >= {TARGET_RATIO} x the PostgreSQL floor, "
        f"p95 <= {TARGET_P95_MS:.0f} ms at half the capacity)"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
