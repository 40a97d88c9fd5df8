"""End to end against ``qlq-server serve``: the kiosk's sync engine (httpx) with a tablet clock running ahead.

A clock ten minutes ahead is still accepted by the server (within its ``QLQ_CLOCK_SKEW_SECONDS``, 15 min by
default) but the nurse is warned; a day ahead, the server refuses the sessions as implausible and they are parked
with a message pointing at the clock.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from kiosk.domain.clock import SystemClock
from kiosk.storage.sqlite_store import SqliteSessionStore
from kiosk.sync.engine import SyncEngine
from kiosk.sync.transport import HttpxTransport
from tests.conftest_pg import *  # noqa: F403 - the PostgreSQL fixtures
from tests.e2e.test_server_serve import device_and_researcher, served  # noqa: F401 - the real server fixture
from tests.integration.server.factories import bearer
from tests.integration.sync.populate import queue_sessions


class AheadClock(SystemClock):
    """The system clock, ``ahead`` in advance: a tablet whose date was set wrong."""

    def __init__(self, ahead: timedelta) -> None:
        self.ahead = ahead

    def now(self) -> datetime:
        return super().now() + self.ahead


def _duration(ahead: timedelta) -> str:
    return f"{ahead.days} jour" if ahead.days else f"{ahead.seconds // 60} min"


@pytest.mark.parametrize(
    "ahead,accepted",
    [(timedelta(minutes=10), True), (timedelta(days=1), False)],
    ids=["ten-minutes-ahead", "one-day-ahead"],
)
def test_a_tablet_clock_ahead_of_the_server(
    served,  # noqa: F811
    tmp_path: Path,
    ahead: timedelta,
    accepted: bool,
) -> None:
    base, settings = served
    token, researcher = device_and_researcher(settings, "SITE-CLOCK")

    kiosk_clock = AheadClock(ahead)
    db = tmp_path / "kiosk.db"
    ids = queue_sessions(db, 3, start=kiosk_clock.now() - timedelta(hours=1))
    with SqliteSessionStore(db, clock=kiosk_clock) as store:
        transport = HttpxTransport(base, clock=kiosk_clock, timeout=10)
        try:
            engine = SyncEngine(store, transport, lambda: token, clock=kiosk_clock)
            report = engine.run_pass()
        finally:
            transport.close()
        status = engine.status
        assert status.clock_skew_seconds == pytest.approx(ahead.total_seconds(), abs=5)
        assert status.clock_warning is not None
        assert f"avance de {_duration(ahead)}" in status.clock_warning
        if accepted:
            assert (report.sent, report.rejected) == (3, 0)
            assert store.queue_counts().sent == 3
        else:
            assert (report.sent, report.rejected) == (0, 3)
            parked = store.queued(status="rejected")
            assert {q.submission_id for q in parked} == set(ids)
            assert all(q.last_error_code == "implausible_date" for q in parked)
            assert "horloge de la tablette" in (status.last_error or "")
    export = httpx.get(f"{base}/v1/exports/csv-long", headers=bearer(researcher), timeout=30).text
    assert all((sid in export) == accepted for sid in ids)
    if accepted:  # the happy path: each arrived once, scored, exportable
        wide = httpx.get(f"{base}/v1/exports/csv-wide", headers=bearer(researcher), timeout=30)
        assert wide.status_code == 200
        rows = [row for row in csv.DictReader(io.StringIO(wide.text)) if row["submission_id"] in ids]
        assert sorted(row["submission_id"] for row in rows) == sorted(ids)
        assert all(row["QL2"] not in ("", None) and 0 <= float(row["QL2"]) <= 100 for row in rows)
