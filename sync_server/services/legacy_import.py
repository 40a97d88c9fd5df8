"""Importing the old prototype's SQLite database, through the legacy reader of ``sync_server.legacy``.

Each session is stored like a kiosk submission but with ``source='legacy-prototype'`` and its ``legacy_id``,
checked with ``require_consent=False`` (the prototype never recorded consent) against our instrument carrying
the legacy content-hash marker (its wording differed: "Plutôt" for 3). That marker is accepted only here:
the HTTP ingest path knows nothing of it. Re-running an import stores nothing twice (``legacy_id`` is unique
and checked first). Sessions are stored by the same async ingest service as the kiosks' submissions, each in
its own statement (an autocommit connection of its own), so one bad row does not spoil the others and an
interrupted import is simply run again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from psycopg import AsyncConnection
from sqlalchemy.orm import Session

from kiosk.domain.instrument import Instrument
from sync_server.db import libpq_conninfo
from sync_server.errors import AppError
from sync_server.repositories.accounts import SiteRepository
from sync_server.repositories.submissions import IngestRepository
from sync_server.services.audit import Actor, record_access
from sync_server.services.ingest import IngestService
from sync_server.services.instruments import InstrumentRegistry


@dataclass
class ImportSummary:
    imported: int = 0
    already_present: int = 0
    malformed: int = 0
    completed: int = 0  # of the sessions imported by this run
    incomplete: int = 0
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"imported: {self.imported} (completed {self.completed}, incomplete {self.incomplete})",
            f"already present: {self.already_present}",
            f"skipped as malformed: {self.malformed}",
        ]


def import_legacy_db(
    session: Session,
    path: Path,
    *,
    site_code: str,
    instrument: Instrument,
    instruments: InstrumentRegistry,
    actor: Actor,
    report: Callable[[str], None] = lambda _: None,
) -> ImportSummary:
    """Import every session of the legacy database into ``site_code`` (in the caller's transaction)."""
    from sync_server import legacy

    site = SiteRepository(session).get_by_code(site_code)
    if site is None:
        raise AppError(f"no site {site_code!r}; create it first", field="site", code="unknown_site")
    marked = legacy.legacy_instrument(instrument)
    summary = ImportSummary()
    imported_ids: list[uuid.UUID] = []

    async def store_all() -> None:
        url = session.get_bind().url.render_as_string(hide_password=False)  # type: ignore[union-attr]
        async with await AsyncConnection.connect(libpq_conninfo(url), autocommit=True) as connection:
            repo = IngestRepository(connection)
            ingest = IngestService(repo, instruments)
            for result in legacy.read_legacy_db(path, instrument=instrument):
                if isinstance(result, legacy.LegacyProblem):
                    summary.malformed += 1
                    _problem(summary, report, result.legacy_id, f"{result.row}: {result.message}")
                    continue
                if await repo.legacy_exists(result.legacy_id):
                    summary.already_present += 1
                    continue
                try:
                    outcome = await ingest.ingest(
                        result.submission,
                        site_id=site.id,
                        device_id=None,
                        source="legacy-prototype",
                        legacy_id=result.legacy_id,
                        instrument=marked,
                        require_consent=False,
                    )
                except AppError as exc:
                    summary.malformed += 1
                    where = f" ({exc.field})" if exc.field else ""
                    _problem(summary, report, result.legacy_id, f"{exc.code}{where}: {exc.message}")
                    continue
                if outcome.status == "already_received":
                    summary.already_present += 1
                    continue
                summary.imported += 1
                imported_ids.append(result.submission.submission_id)
                if result.completed:
                    summary.completed += 1
                else:
                    summary.incomplete += 1

    asyncio.run(store_all())
    record_access(
        session,
        actor,
        "import-legacy",
        imported_ids,
        row_count=len(imported_ids),
        detail={
            "file": path.name,
            "site": site_code,
            "already_present": summary.already_present,
            "malformed": summary.malformed,
        },
    )
    return summary


def _problem(summary: ImportSummary, report: Callable[[str], None], legacy_id: str | None, text: str) -> None:
    line = f"legacy session {legacy_id or '?'}: {text}"
    summary.problems.append(line)
    report(line)
