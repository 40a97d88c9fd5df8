"""Request CPU benchmark: the server's CPU per whole ``POST /v1/submissions``, the app driven in-process (its ASGI
interface, 20 requests in flight, a real PostgreSQL; no sockets on the HTTP side), optionally against another
checkout of the code in the same run.

    uv run python bench/ingest_request_cpu.py [--against ../other-checkout] [--rounds 10] [--requests 1000]

``bench/server_ingest.py`` measures what a deployment gets, but on a shared 2-core machine its figures move
by 30 % from one run to the next, which hides any change smaller than that. This one measures the process CPU
time of the app alone per stored submission, for this checkout and — with ``--against`` — another one (e.g. a
``git worktree`` of an older commit), each in its own process with its own throwaway database, in alternating
batches of ``--requests``: the machine's drift hits both alike, and the paired ratio of each round says what
the change did. Every request is a first receipt of a real domain submission that the server fully
validates, rescores and stores (``bench/server_ingest.py``'s payloads and devices).

Needs the local PostgreSQL (``--server-url`` as in ``bench/server_ingest.py``); the databases it creates are
dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
IN_FLIGHT = 20
WARM_UP = 300


def serve(code: Path, server_url: str) -> None:
    """The worker: the app of the checkout at ``code``; on stdin ``run N``, prints its CPU ms per request."""
    sys.path.insert(0, str(code))
    from bench.server_ingest import SECRET, create_database, drop_database, enroll_devices, templates
    from sync_server import migrate
    from sync_server.app import create_app
    from sync_server.settings import Settings

    name, url = create_database(server_url)
    try:
        migrate.upgrade(url)
        tokens = enroll_devices(url, 20)
        bodies = templates(24)
        app = create_app(Settings(database_url=url, token_secret=SECRET, log_level="WARNING"))
        asyncio.run(_serve(app, tokens, bodies))
        app.state.engine.dispose()
    finally:
        drop_database(server_url, name)


async def _serve(app: Any, tokens: list[str], bodies: list[tuple[bytes, bytes]]) -> None:
    sent = 0

    async def one(index: int) -> None:
        body, old_id = bodies[index % len(bodies)]
        data = body.replace(old_id, str(uuid.uuid4()).encode())
        headers = [
            (b"host", b"bench"),
            (b"authorization", f"Bearer {tokens[index % len(tokens)]}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(data)).encode()),
        ]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/v1/submissions",
            "raw_path": b"/v1/submissions",
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
            "state": {},
        }
        messages = [{"type": "http.request", "body": data, "more_body": False}]
        status: list[int] = []

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop()
            await asyncio.Event().wait()  # the client never disconnects
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        await app(scope, receive, send)
        if status != [201]:
            raise SystemExit(f"a submission was answered {status}, not 201")

    async def run(count: int) -> None:
        nonlocal sent
        indices = iter(range(sent, sent + count))
        sent += count

        async def lane() -> None:
            for index in indices:
                await one(index)

        await asyncio.gather(*(lane() for _ in range(IN_FLIGHT)))

    loop = asyncio.get_running_loop()
    async with app.router.lifespan_context(app):
        await run(WARM_UP)
        print("ready", flush=True)
        while (line := await loop.run_in_executor(None, sys.stdin.readline)).startswith("run "):
            count = int(line.split()[1])
            started = time.process_time()
            await run(count)
            print(f"{1000 * (time.process_time() - started) / count:.4f}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--against", type=Path, help="another checkout of the project, measured alongside")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--requests", type=int, default=1000, help="requests per batch")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.server_url)
        return 0
    codes = [ROOT] + ([args.against.resolve()] if args.against else [])
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, "--serve", str(code), "--server-url", args.server_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for code in codes
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            if worker.stdout.readline().strip() != "ready":
                print("FAIL: a worker did not start")
                return 1
        figures: list[list[float]] = [[] for _ in workers]
        for round_ in range(args.rounds):
            order = range(len(workers)) if round_ % 2 == 0 else reversed(range(len(workers)))
            for i in order:
                stdin, stdout = workers[i].stdin, workers[i].stdout
                assert stdin is not None and stdout is not None
                stdin.write(f"run {args.requests}\n")
                stdin.flush()
                figures[i].append(float(stdout.readline()))
    finally:
        for worker in workers:
            if worker.stdin is not None:
                worker.stdin.write("quit\n")
                worker.stdin.close()
            worker.wait(60)
    print(f"load1={os.getloadavg()[0]:.1f} cpus={os.cpu_count()} rounds={args.rounds} x {args.requests} requests")
    for code, values in zip(codes, figures, strict=True):
        runs = " ".join(f"{v:.2f}" for v in values)
        print(f"{code}: CPU per submission, median {statistics.median(values):.3f} ms (runs: {runs})")
    if len(figures) == 2:
        paired = statistics.median(this / other for this, other in zip(figures[0], figures[1], strict=True))
        print(f"this checkout / --against: {paired:.3f} (median of the rounds' ratios)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
