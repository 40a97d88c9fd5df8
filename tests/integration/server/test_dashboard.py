"""The console dashboard's aggregates: the roll-up path (roll-ups + live tail) always equals the direct
aggregate over every answer row — as sessions arrive, age into the roll-ups, are anonymized, deleted, purged —
and both agree with hand-counted numbers and with ``GET /v1/stats``."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from sync_server.repositories.accounts import SiteRepository
from sync_server.repositories.dashboard import DashboardRepository
from sync_server.repositories.stats import StatsRepository
from sync_server.repositories.submissions import SubmissionFilter
from sync_server.services.audit import Actor
from sync_server.services.dashboard import DashboardService
from sync_server.services.gdpr import GdprService
from sync_server.services.instruments import InstrumentRegistry
from sync_server.services.stats import StatsService
from tests.conftest_pg import libpq_dsn, one_row
from tests.integration.server.factories import make_submission

pytestmark = pytest.mark.postgres
REGISTRY = InstrumentRegistry.bundled()
ADMIN = Actor("user:admin", "admin")


def store(accounts, site: str, *subs) -> list[str]:
    """Store through the server's one (async) ingest service; returns the submission ids."""
    assert set(accounts.store(site, *subs, registry=REGISTRY)) == {"received"}
    return [str(s.submission_id) for s in subs]


def age_everything(database_url: str) -> None:
    """Make every stored session old enough for the roll-ups (received an hour ago)."""
    with psycopg.connect(libpq_dsn(database_url)) as conn:
        conn.execute("UPDATE submissions SET received_at = now() - interval '1 hour'")


def both(accounts, where: SubmissionFilter):
    with accounts.session() as db, db.begin():
        repo = DashboardRepository(db)
        return repo.answer_aggregates(where), repo.answer_aggregates_direct(where)


def sessions_both(accounts, where: SubmissionFilter):
    with accounts.session() as db, db.begin():
        return DashboardRepository(db).sessions_by_site_month(where), StatsRepository(db).sessions_by_site_month(where)


def same_sessions(rolled, reference) -> bool:
    def key(row):
        median = row["median_duration_seconds"]
        return (
            row["site"],
            row["month"],
            row["started"],
            row["completed"],
            row["abandoned"],
            None if median is None else round(float(median), 6),
        )

    return [key(r) for r in rolled] == [key(r) for r in reference]


def random_sessions(rng: random.Random, count: int, month: int) -> list:
    subs = []
    for _ in range(count):
        voice = set(rng.sample(range(1, 31), rng.randint(0, 6)))
        confirmed = {i for i in voice if rng.random() < 0.4}
        values = {n: (rng.randint(1, 7) if n >= 29 else rng.randint(1, 4)) for n in range(1, 31) if rng.random() > 0.08}
        abandoned = rng.random() < 0.15
        subs.append(
            make_submission(
                started_at=datetime(2026, month, rng.randint(1, 28), 9, tzinfo=UTC),
                voice_items=voice,
                confirmed_items=confirmed,
                values=values,
                outcome="abandoned" if abandoned else "completed",
                abandon_after=rng.randint(3, 25) if abandoned else None,
            )
        )
    return subs


FILTERS = [
    SubmissionFilter(),
    SubmissionFilter(date_from=date(2026, 9, 10)),
    SubmissionFilter(date_from=date(2026, 8, 1), date_to=date(2026, 9, 15)),
    SubmissionFilter(date_from=date(2026, 8, 1), date_to=date(2026, 9, 30)),  # two whole months
    SubmissionFilter(date_from=date(2026, 8, 5), date_to=date(2026, 8, 20)),  # inside one month
    SubmissionFilter(date_to=date(2026, 8, 31)),
]


def test_rollups_equal_the_direct_aggregate_through_arrivals_deletions_and_purges(accounts, settings):
    rng = random.Random(13)
    lyon = store(accounts, "LYON-01", *random_sessions(rng, 25, 8))
    store(accounts, "NICE-02", *random_sessions(rng, 15, 9))

    def check() -> None:
        with accounts.session() as db:
            site_id = SiteRepository(db).get_by_code("NICE-02").id
        for where in [*FILTERS, SubmissionFilter(site_id=site_id)]:
            via_rollup, direct = both(accounts, where)
            assert via_rollup == direct, where
            assert direct.by_site_month  # something to compare
            rolled, reference = sessions_both(accounts, where)
            assert reference and same_sessions(rolled, reference), (where, rolled, reference)

    check()  # everything fresh: all from the live tail
    age_everything(settings.database_url)
    check()  # now all from the roll-ups
    with psycopg.connect(libpq_dsn(settings.database_url)) as conn:
        covered = one_row(conn.execute("SELECT max_pk FROM dashboard_rollup_state"))[0]
        assert covered == one_row(conn.execute("SELECT max(id) FROM submissions"))[0]
    store(accounts, "LYON-01", *random_sessions(rng, 10, 9))
    check()  # roll-ups + a live tail
    with accounts.session() as db, db.begin():
        GdprService(db).anonymize(uuid.UUID(lyon[0]), ADMIN)
        GdprService(db).delete(uuid.UUID(lyon[1]), ADMIN)  # a covered session disappears: rebuilt
    check()
    age_everything(settings.database_url)
    with accounts.session() as db, db.begin():
        GdprService(db).purge(10, ADMIN, today=date(2026, 8, 25))  # August before the 15th
    check()


def test_dashboard_numbers_by_hand_and_as_the_stats_endpoint(accounts, settings):
    march = datetime(2026, 3, 10, 9, tzinfo=UTC)
    skip_7 = {n: (5 if n >= 29 else 2) for n in range(1, 31) if n != 7}
    store(
        accounts,
        "SITE-A",
        make_submission(started_at=march, voice_items=[1, 2, 3, 4], confirmed_items=[1]),
        make_submission(started_at=march, values=skip_7, step_seconds=10),
        make_submission(started_at=march + timedelta(days=1), outcome="abandoned", abandon_after=5),
    )
    for aged in (False, True):
        if aged:
            age_everything(settings.database_url)
        with accounts.session() as db, db.begin():
            board = DashboardService(db).build(SubmissionFilter(), list(range(1, 31)))
            api = StatsService(db).by_site_month(SubmissionFilter())
        (row,) = board.rows
        assert (row.started, row.completed, row.abandoned) == (3, 2, 1)
        assert (row.answers, row.voice_answers, row.voice_confirmed) == (30 + 30 + 5, 4, 1)
        assert row.voice_share == pytest.approx(4 / 65) and row.confirmation_share == pytest.approx(0.25)
        assert {m.item: m.missing for m in board.missing if m.missing} == {7: 1}
        assert board.completed_sessions == 2
        assert api[0]["voice_answer_share"] == pytest.approx(row.voice_share)
        assert api[0]["voice_confirmation_share"] == pytest.approx(row.confirmation_share)
        assert api[0]["median_duration_seconds"] == pytest.approx(row.median_duration_seconds)


def test_an_empty_database_and_an_unmatched_filter(accounts):
    via_rollup, direct = both(accounts, SubmissionFilter())
    assert via_rollup == direct and not via_rollup.by_site_month and not via_rollup.answered_by_item
    store(accounts, "SITE-A", make_submission())
    via_rollup, direct = both(accounts, SubmissionFilter(date_from=date(2001, 1, 1), date_to=date(2001, 1, 2)))
    assert via_rollup == direct and not via_rollup.by_site_month
