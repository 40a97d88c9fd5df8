"""Export benchmark: 100,000 stored sessions exported to CSV wide through the running server, as a ratio to
the COPY floor measured in the same run (``bench/floors.py``: a bare COPY of a 30-column pivot of the same
sessions' answers).

    uv run python bench/export.py [--sessions 100000] [--format csv-wide] [--workers 1] [--repeat 3]

Builds a throwaway database on the local PostgreSQL (``--server-url``), stores ``--seed`` real submissions
through the server's own ingest service (validated, rescored), then replicates them in SQL under fresh
submission ids until ``--sessions`` rows exist (the export reads the stored payloads; the replicas' answer and
score rows are not duplicated, which the export does not read). Then it starts ``qlq-server serve`` on loopback,
logs in as a researcher and downloads ``GET /v1/exports/{format}`` over HTTP ``--repeat`` times, each download
between two measurements of the floor (floor, export, floor, export, …, floor), checking the row count. It
prints each run, then the median export time, its throughput, the ratio of the median export to the median
floor, and the server's peak RSS (VmHWM of the server process and its workers, login included) against the
target: <= 1.5 x the COPY floor and <= 200 MB. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.floors import copy_floor
from bench.server_ingest import create_database, drop_database, free_port, libpq, start_server, wait_ready
from sync_server import migrate
from sync_server.repositories.submissions import IngestRepository
from sync_server.services.accounts import AccountService
from sync_server.services.ingest import IngestService
from sync_server.services.instruments import InstrumentRegistry
from sync_server.settings import Settings
from tests.integration.server.factories import make_submission

TARGET_RATIO = 1.5
TARGET_RSS_MB = 200.0
SECRET = "bench-secret-" + secrets.token_hex(16)
PASSWORD = "bench-" + secrets.token_hex(8)
USERNAME = "bench-researcher-" + secrets.token_hex(4)

_SUBMISSION_COLUMNS = (
    "site_id, device_id, content_sha256, instrument_id, instrument_language, instrument_sha256, "
    "outcome, mode, initial_mode, audio_enabled, session_date, started_at, ended_at, "
    "duration_seconds, answer_values, answer_methods, voice_answers, score_codes, score_values, "
    "age_at_session, age_band, patient_initials, patient_birth_date, source"
)
_ANSWER_COLUMNS = (
    "item, value, status, method, transcript, confidence, confirmed, first_shown_at, answered_at, times_shown, previous"
)
# Copies of the seed sessions under fresh ids, with their answers and scores (the CSV exports read those).
_REPLICATE = f"""
CREATE TEMPORARY TABLE copies ON COMMIT DROP AS
    SELECT seed.id AS seed_pk, nextval(pg_get_serial_sequence('submissions', 'id')) AS pk,
           gen_random_uuid() AS submission_id
    FROM (SELECT id FROM submissions ORDER BY id LIMIT %(seed)s) AS seed CROSS JOIN generate_series(1, %(copies)s);
INSERT INTO submissions (id, submission_id, {_SUBMISSION_COLUMNS}, legacy_id, anonymized, payload)
    SELECT c.pk, c.submission_id, {", ".join("s." + c.strip() for c in _SUBMISSION_COLUMNS.split(","))}, NULL, false,
           jsonb_set(s.payload::jsonb, '{{submission_id}}', to_jsonb(c.submission_id::text))::json
    FROM copies AS c JOIN submissions AS s ON s.id = c.seed_pk;
INSERT INTO answers (submission_pk, {_ANSWER_COLUMNS})
    SELECT c.pk, {", ".join("a." + c.strip() for c in _ANSWER_COLUMNS.split(","))}
    FROM copies AS c JOIN answers AS a ON a.submission_pk = c.seed_pk;
INSERT INTO scores (submission_pk, code, score)
    SELECT c.pk, sc.code, sc.score FROM copies AS c JOIN scores AS sc ON sc.submission_pk = c.seed_pk;
"""


def populate(url: str, *, sessions: int, seed: int) -> None:
    """A researcher account and ``sessions`` stored sessions: ``seed`` real submissions through the server's
    ingest service (validated, rescored), then copies of them made in SQL."""
    settings = Settings(database_url=url, token_secret=SECRET)
    engine = create_engine(url, poolclass=NullPool)
    with Session(engine) as db, db.begin():
        accounts = AccountService(db, settings)
        site = accounts.create_site("BENCH", "Benchmark site")
        accounts.create_user(USERNAME, PASSWORD, "researcher")
        site_id = site.id
    engine.dispose()

    async def store_seeds() -> None:
        async with await psycopg.AsyncConnection.connect(libpq(url), autocommit=True) as conn:
            ingest = IngestService(IngestRepository(conn), InstrumentRegistry.bundled())
            for i in range(seed):
                sub = make_submission(
                    voice_items=range(1, 1 + i % 6),
                    values={n: (n + i) % 4 + 1 if n <= 28 else (n + i) % 7 + 1 for n in range(1, 31)},
                )
                await ingest.ingest(sub, site_id=site_id, device_id=None)

    asyncio.run(store_seeds())
    remaining = sessions - seed
    with psycopg.connect(libpq(url)) as conn:
        while remaining > 0:
            copies = max(1, min(remaining // seed, 20))
            for statement in filter(str.strip, _REPLICATE.split(";\n")):
                params = {"seed": min(seed, remaining), "copies": copies} if "%(seed)s" in statement else None
                conn.execute(statement, params)
            conn.commit()
            remaining -= min(seed, remaining) * copies
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) submissions")
        conn.execute("VACUUM (ANALYZE) answers")
        conn.execute("VACUUM (ANALYZE) scores")


def peak_rss_mb(pid: int) -> float:
    """Sum of VmHWM (peak resident set) of a process and its direct children, in MB."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    total_kb = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return total_kb / 1024


def download(url: str, token: str) -> tuple[float, int, int] | str:
    """One export over HTTP: its seconds, bytes and lines (or what went wrong)."""
    started = time.perf_counter()
    size = lines = 0
    with httpx.stream("GET", url, headers={"Authorization": f"Bearer {token}"}, timeout=600) as response:
        if response.status_code != 200:
            return f"export answered {response.status_code}: {response.read()[:300]!r}"
        for chunk in response.iter_bytes():
            size += len(chunk)
            lines += chunk.count(b"\n")
    return time.perf_counter() - started, size, lines


def main() -> int:  # noqa: PLR0915 - one benchmark's steps, in order
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=500)
    parser.add_argument("--format", default="csv-wide")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="exports, each between two floor measurements")
    parser.add_argument("--keep", action="store_true", help="keep the populated database (prints its name)")
    parser.add_argument("--database", help="reuse a database kept by --keep (its --sessions must match)")
    args = parser.parse_args()

    if args.database:
        name = args.database
        url = make_url(args.server_url).set(database=name).render_as_string(hide_password=False)
        engine = create_engine(url, poolclass=NullPool)
        with Session(engine) as db, db.begin():  # this run's researcher (the password is per run)
            AccountService(db, Settings(database_url=url, token_secret=SECRET)).create_user(
                USERNAME, PASSWORD, "researcher"
            )
        engine.dispose()
    else:
        name, url = create_database(args.server_url)
    process = None
    try:
        if not args.database:
            migrate.upgrade(url)
            t0 = time.perf_counter()
            populate(url, sessions=args.sessions, seed=min(args.seed, args.sessions))
            print(f"populated {args.sessions:,} sessions in {time.perf_counter() - t0:.1f}s")
        port = free_port()
        env = {**os.environ, "QLQ_DATABASE_URL": url, "QLQ_TOKEN_SECRET": SECRET, "QLQ_LOG_LEVEL": "WARNING"}
        process = start_server(port, env, workers=args.workers)
        base = f"http://127.0.0.1:{port}"
        if not wait_ready(process, base):
            print("FAIL: the server did not start")
            return 1
        token = httpx.post(f"{base}/v1/auth/token", json={"username": USERNAME, "password": PASSWORD}).json()[
            "access_token"
        ]
        rss_before = peak_rss_mb(process.pid)
        floors = [copy_floor(url)[0]]
        times: list[float] = []
        for _ in range(max(1, args.repeat)):
            outcome = download(f"{base}/v1/exports/{args.format}", token)
            if isinstance(outcome, str):
                print(f"FAIL: {outcome}")
                return 1
            elapsed, size, lines = outcome
            rows = lines - 1 if args.format.startswith("csv") else None  # the header line
            if rows not in (None, args.sessions):
                print(f"FAIL: expected {args.sessions:,} rows, got {rows:,}")
                return 1
            times.append(elapsed)
            floors.append(copy_floor(url)[0])
            print(f"  run {len(times)}: export {elapsed:.2f}s between floors {floors[-2]:.2f}s and {floors[-1]:.2f}s")
        rss = peak_rss_mb(process.pid)
    finally:
        if process is not None:
            process.terminate()
            process.wait(20)
        if args.keep or args.database:
            print(f"database kept: {name} (reuse with --database {name})")
        else:
            drop_database(args.server_url, name)

    print(
        f"format={args.format} sessions={args.sessions:,} rows={rows if rows is not None else '-'} "
        f"bytes={size:,} workers={args.workers} load1={os.getloadavg()[0]:.1f}"
    )
    elapsed, floor = statistics.median(times), statistics.median(floors)
    print(
        f"elapsed (median of {len(times)}): {elapsed:.2f}s   sessions/s: {args.sessions / elapsed:,.0f}   "
        f"server peak RSS: {rss:.0f} MB (idle before the exports: {rss_before:.0f} MB)"
    )
    ratio = elapsed / floor
    print(
        f"COPY floor (30-column pivot of the same sessions, median of {len(floors)}): {floor:.2f} s   "
        f"export / floor: {ratio:.2f}"
    )
    passed = ratio <= TARGET_RATIO and rss <= TARGET_RSS_MB
    print(
        f"{'PASS' if passed else 'FAIL'} (target: {args.format} <= {TARGET_RATIO} x the COPY floor, "
        f"server RSS <= {TARGET_RSS_MB:.0f} MB)"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
