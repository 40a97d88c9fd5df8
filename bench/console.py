"""Console dashboard benchmark: ``GET /console/dashboard`` over 100,000 stored sessions (3 million answers).

    uv run python bench/console.py [--sessions 100000] [--requests 15]

Builds a throwaway database on the local PostgreSQL (``--server-url``), stores ``--seed`` real submissions
through the server's own ingest service (validated, rescored; voice answers, confirmations, skipped items and
abandoned sessions among them), then replicates them in SQL — submission rows AND their answer rows — under
fresh ids, spread over 4 sites and 24 months, until ``--sessions`` sessions exist. Then it starts
``qlq-server serve`` on loopback, signs in through the console's own login form (CSRF token and all), and
times the dashboard page: all sites and all dates (the worst case: every answer row is aggregated), one site,
and one site over three months. Each figure is the median of ``--requests`` requests after 3 warm-ups, timed at
the client over loopback (so it is the server's time plus a loopback round-trip). Target: <= 300 ms median.
The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.server_ingest import create_database, drop_database, free_port, libpq, start_server, wait_ready
from sync_server import migrate
from sync_server.repositories.submissions import IngestRepository
from sync_server.services.accounts import AccountService
from sync_server.services.ingest import IngestService
from sync_server.services.instruments import InstrumentRegistry
from sync_server.settings import Settings
from tests.integration.server.factories import make_submission

TARGET_MS = 300.0
SECRET = "bench-secret-" + secrets.token_hex(16)
PASSWORD = "bench-" + secrets.token_hex(8)
SITES = ("LYON-01", "NICE-02", "BREST-03", "LILLE-04")

_REPLICATE = """
WITH src AS MATERIALIZED (
    SELECT s.*, g AS copy, gen_random_uuid() AS new_id
    FROM (SELECT * FROM submissions ORDER BY id LIMIT %(seed)s) AS s
    CROSS JOIN generate_series(%(first)s::int, %(last)s::int) AS g
), ins AS (
    INSERT INTO submissions (submission_id, site_id, device_id, content_sha256, instrument_id, instrument_language,
        instrument_sha256, outcome, mode, initial_mode, audio_enabled, session_date, started_at, ended_at,
        duration_seconds, answer_values, answer_methods, voice_answers, score_codes, score_values, age_at_session,
        age_band, patient_initials, patient_birth_date, source, legacy_id, anonymized, payload, received_at)
    SELECT new_id, (%(site_ids)s::int[])[1 + (id + copy) %% %(n_sites)s], device_id, content_sha256, instrument_id,
        instrument_language, instrument_sha256, outcome, mode, initial_mode, audio_enabled,
        session_date - CAST((id * 7 + copy * 13) %% 730 AS int), started_at, ended_at, duration_seconds + (copy %% 97),
        answer_values, answer_methods, voice_answers, score_codes, score_values, age_at_session, age_band,
        patient_initials, patient_birth_date, source, NULL, false, payload, received_at
    FROM src
    RETURNING id, submission_id
), ans AS (
    INSERT INTO answers (submission_pk, item, value, status, method, transcript, confidence, confirmed,
                         first_shown_at, answered_at, times_shown, previous)
    SELECT ins.id, a.item, a.value, a.status, a.method, a.transcript, a.confidence, a.confirmed, a.first_shown_at,
           a.answered_at, a.times_shown, a.previous
    FROM ins JOIN src ON src.new_id = ins.submission_id JOIN answers AS a ON a.submission_pk = src.id
)
INSERT INTO scores (submission_pk, code, score)
SELECT ins.id, sc.code, sc.score
FROM ins JOIN src ON src.new_id = ins.submission_id JOIN scores AS sc ON sc.submission_pk = src.id
"""


def populate(url: str, *, sessions: int, seed: int) -> None:
    settings = Settings(database_url=url, token_secret=SECRET)
    engine = create_engine(url, poolclass=NullPool)
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    with Session(engine) as db, db.begin():
        accounts = AccountService(db, settings)
        site_ids = [accounts.create_site(code, f"Centre {code}").id for code in SITES]
        accounts.create_user("bench-researcher", PASSWORD, "researcher")
    engine.dispose()

    async def store_seeds() -> None:  # the server's ingest service runs on an async psycopg connection
        async with await psycopg.AsyncConnection.connect(libpq(url), autocommit=True) as conn:
            ingest = IngestService(IngestRepository(conn), InstrumentRegistry.bundled())
            for i in range(seed):
                values = {n: (n + i) % 4 + 1 if n <= 28 else (n + i) % 7 + 1 for n in range(1, 31) if (n + i) % 17}
                abandoned = i % 9 == 0
                sub = make_submission(
                    voice_items=range(1, 1 + i % 8),
                    confirmed_items=range(1, 1 + i % 3),
                    values=values,
                    started_at=today - timedelta(days=1 + i % 20),
                    outcome="abandoned" if abandoned else "completed",
                    abandon_after=12 if abandoned else None,
                    step_seconds=5 + i % 7,
                )
                await ingest.ingest(sub, site_id=site_ids[i % len(site_ids)], device_id=None)

    asyncio.run(store_seeds())
    made, copy = seed, 0
    per_statement = 20
    with psycopg.connect(libpq(url)) as conn:
        while made < sessions:
            copies = min(per_statement, (sessions - made + seed - 1) // seed)
            conn.execute(
                _REPLICATE,
                {
                    "seed": seed,
                    "first": copy + 1,
                    "last": copy + copies,
                    "site_ids": site_ids,
                    "n_sites": len(site_ids),
                },
            )
            conn.commit()
            made += seed * copies
            copy += copies
        # the sessions are history, received long ago (the dashboard rolls up what is older than a minute)
        conn.execute("UPDATE submissions SET received_at = received_at - interval '1 day'")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")  # as autovacuum leaves a table at rest
        conn.autocommit = False
        counts = conn.execute("SELECT (SELECT count(*) FROM submissions), (SELECT count(*) FROM answers)").fetchone()
    assert counts is not None
    print(f"stored: {counts[0]:,} sessions, {counts[1]:,} answer rows, {len(SITES)} sites, 24 months")


def sign_in(client: httpx.Client) -> None:
    """Through the console's own form: pre-session cookie and CSRF token from the login page."""
    page = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert token, "no CSRF token on the login page"
    done = client.post(
        "/console/login",
        data={
            "csrf_token": token.group(1),
            "username": "bench-researcher",
            "password": PASSWORD,
            "next": "/console/dashboard",
        },
    )
    assert done.status_code == 303, done.text


def time_page(client: httpx.Client, path: str, requests: int) -> list[float]:
    for _ in range(3):
        assert client.get(path).status_code == 200
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200 and 'id="chart-sessions"' in response.text, response.text[:500]
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=50)
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--server-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    name, url = create_database(args.server_url)
    process = None
    try:
        migrate.upgrade(url)
        started = time.perf_counter()
        populate(url, sessions=args.sessions, seed=args.seed)
        print(f"seeded in {time.perf_counter() - started:.0f} s")
        port = free_port()
        env = {**os.environ, "QLQ_DATABASE_URL": url, "QLQ_TOKEN_SECRET": SECRET, "QLQ_LOG_LEVEL": "WARNING"}
        process = start_server(port, env, workers=1)
        base = f"http://127.0.0.1:{port}"
        if not wait_ready(process, base):
            print("the server did not become ready")
            return 1
        today = datetime.now(UTC).date()
        quarter = f"from={(today - timedelta(days=92)).isoformat()}&to={today.isoformat()}"
        cases = [
            ("all sites, all dates", "/console/dashboard"),
            ("one site, all dates", f"/console/dashboard?site={SITES[0]}"),
            ("one site, last 3 months", f"/console/dashboard?site={SITES[0]}&{quarter}"),
        ]
        worst = 0.0
        with httpx.Client(base_url=base, timeout=60) as client:
            sign_in(client)
            for label, path in cases:
                samples = time_page(client, path, args.requests)
                median = statistics.median(samples)
                worst = max(worst, median)
                print(
                    f"{label:26s} median {median:6.1f} ms  min {min(samples):6.1f}  max {max(samples):6.1f}  "
                    f"(n={len(samples)})"
                )
        load = os.getloadavg()
        verdict = "PASS" if worst <= TARGET_MS else "FAIL"
        print(
            f"dashboard over {args.sessions:,} sessions: worst median {worst:.1f} ms (target <= {TARGET_MS:.0f} ms) "
            f"{verdict}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores"
        )
        return 0 if worst <= TARGET_MS else 1
    finally:
        if process is not None:
            process.terminate()
            process.wait(10)
        drop_database(args.server_url, name)


if __name__ == "__main__":
    raise SystemExit(main())
