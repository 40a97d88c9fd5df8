"""End to end against ``qlq-server serve``: the kiosk's sync engine (httpx) with a tablet clock running ahead.

A clock a day ahead is still accepted by the server (it tolerates one day) but the nurse is warned; three days
ahead, the server refuses the sessions as implausible and they are parked with a message pointing at the clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from kiosk.storage.sqlite_store import SqliteSessionStore
from kiosk.sync.engine import SyncEngine
from kiosk.sync.transport import HttpxTransport
from tests.conftest_pg import *  # noqa: F403 - the PostgreSQL fixtures
from tests.e2e.test_server_serve import served  # noqa: F401 - the real server fixture
from tests.integration.server.factories import Accounts, bearer
from tests.integration.sync.populate import queue_sessions


@pytest.mark.parametrize("ahead,accepted", [(timedelta(days=1), True), (timedelta(days=3), False)],
                         ids=["one-day-ahead", "three-days-ahead"])
def test_a_tablet_clock_ahead_of_the_server(served, tmp_path: Path, ahead: timedelta,  # noqa: F811
                                            accepted: bool) -> None:
    base, settings = served
    accounts = Accounts(settings)
    try:
        token, _ = accounts.device("SITE-CLOCK")
        researcher = accounts.user_token("researcher")
    finally:
        accounts.engine.dispose()

    def kiosk_clock() -> datetime:
        return datetime.now(UTC) + ahead

    db = tmp_path / "kiosk.db"
    ids = queue_sessions(db, 3, start=kiosk_clock() - timedelta(hours=1))
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
        assert f"avance de {ahead.days} jour" in status.clock_warning
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
