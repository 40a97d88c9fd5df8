"""Floors: what PostgreSQL (or the domain) alone needs for the work a benchmark measures, timed in the same run,
so the benchmarks report ratios that mean something on a shared machine (absolute figures here move 2–4× from
one hour to the next).

    uv run python bench/floors.py [--sessions 100000]

- **ingest floor** (sessions/s): one client on one connection, one statement per session storing the payload row
  and its 30 answers (and scores): the server's own ``INSERT_ALL_SQL``, parameters built beforehand, autocommit.
  ``bench/server_ingest.py`` compares 100 concurrent kiosks going through the whole server with it.
- **COPY floor** (s): a bare ``COPY (SELECT …) TO STDOUT WITH (FORMAT csv, HEADER)`` of a 30-column pivot of the
  stored answers of N sessions (``max(value) FILTER (WHERE item = n)`` for n in 1..30, grouped by session), read
  by a psycopg client. ``bench/export.py`` compares the CSV-wide export of the same N sessions over HTTP with it.
- **hash floor** (µs): the domain's canonical JSON of one submission and its sha256 (``Submission.content_sha256``),
  the CPU every submission costs before any I/O.

Run alone it builds a throwaway database, fills it (``bench/export.py``'s populate) and prints the three floors.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import timeit
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.server_ingest import create_database, drop_database, libpq
from sync_server import migrate
from sync_server.repositories.submissions import INSERT_ALL_SQL, insert_params
from sync_server.services.ingest import prepare_submission
from sync_server.services.instruments import InstrumentRegistry
from tests.integration.server.factories import make_submission

PIVOT_SQL = (
    "COPY (SELECT submission_pk, "
    + ", ".join(f"max(value) FILTER (WHERE item = {n}) AS q{n}" for n in range(1, 31))
    + " FROM answers GROUP BY submission_pk) TO STDOUT WITH (FORMAT csv, HEADER)"
)


def ingest_floor(url: str, *, sessions: int = 1500) -> float:
    """Sessions/s stored by one client, one INSERT_ALL_SQL statement per session (autocommit)."""
    registry = InstrumentRegistry.bundled()
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        row = conn.execute("INSERT INTO sites (code, name) VALUES ('FLOOR', 'floor') RETURNING id").fetchone()
        assert row is not None
        site_id = int(row[0])
        params = []
        for i in range(sessions):
            prepared = prepare_submission(
                registry, make_submission(voice_items=range(1, 1 + i % 6)), site_id=site_id, device_id=None
            )
            params.append(insert_params(prepared.row, prepared.payload_json))
        for warm in params[:50]:  # connection warm (prepared statement, caches); not counted
            conn.execute(INSERT_ALL_SQL, warm)
        started = time.perf_counter()
        for p in params[50:]:
            conn.execute(INSERT_ALL_SQL, p).fetchone()
        elapsed = time.perf_counter() - started
        conn.execute("DELETE FROM submissions WHERE site_id = %s", (site_id,))
        conn.execute("DELETE FROM sites WHERE id = %s", (site_id,))
    return (sessions - 50) / elapsed


def copy_floor(url: str) -> tuple[float, int]:
    """Seconds to COPY a 30-column pivot of every stored session's answers to a psycopg client; and its rows."""
    with psycopg.connect(libpq(url)) as conn, conn.cursor() as cursor:
        started = time.perf_counter()
        with cursor.copy(PIVOT_SQL) as copy:
            for _ in copy:
                pass
        return time.perf_counter() - started, cursor.rowcount


def hash_floor() -> float:
    """Microseconds for the canonical JSON + sha256 of one submission (median of 5 runs)."""
    sub = make_submission(voice_items=range(1, 6))
    runs = [min(timeit.repeat(sub.content_sha256, number=200, repeat=3)) / 200 * 1e6 for _ in range(5)]
    return statistics.median(runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--sessions", type=int, default=100_000)
    args = parser.parse_args()
    from bench.export import populate

    name, url = create_database(args.server_url)
    try:
        migrate.upgrade(url)
        populate(url, sessions=args.sessions, seed=min(500, args.sessions))
        rate = ingest_floor(url)
        seconds, rows = copy_floor(url)
        micro = hash_floor()
    finally:
        drop_database(args.server_url, name)
    print(f"load1={os.getloadavg()[0]:.1f} cpus={os.cpu_count()}")
    print(f"ingest floor: {rate:,.0f} sessions/s (PostgreSQL alone, one client, one statement per session)")
    print(f"COPY floor: {seconds:.2f} s for a 30-column pivot of {rows:,} sessions")
    print(f"hash floor: {micro:.0f} µs (canonical JSON + sha256 of one submission)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
