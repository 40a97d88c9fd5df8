"""The read path of the Python-written exports (.sav, FHIR): stored sessions as plain rows, in batches, read
ahead of the writer. (CSV wide and long are written by PostgreSQL itself: ``sync_server.exports.csv_sql``.)

Exports read every matching session, so the per-row cost decides their speed. This reader therefore selects
only what the writers need, with SQLAlchemy Core (no ORM entity, no identity map), the payload as its JSON
text (``payload::text``: the service validates that text with ``Submission.model_validate_json``, which parses
it natively instead of going through Python dicts), through a server-side cursor ``batch`` rows at a time, so
memory stays flat however many rows match.

:func:`read_ahead` runs such a batch iterator in a helper thread, so that PostgreSQL producing the next batch
(reading the stored payload text) overlaps with Python validating and writing the current one.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from sync_server.models import Site, StoredSubmission
from sync_server.repositories.submissions import SubmissionFilter

BATCH = 1000


class ExportRow(NamedTuple):
    """One stored session as the export reads it (``payload`` is the stored JSON text)."""

    payload: str
    anonymized: bool
    site_code: str
    device_id: UUID | None
    received_at: datetime
    source: str
    legacy_id: str | None
    age_band: str
    submission_id: UUID


def export_batches(session: Session, where: SubmissionFilter, batch: int = BATCH) -> Iterator[Sequence[Any]]:
    """Every matching session as :class:`ExportRow`-shaped rows, in primary-key order, ``batch`` at a time."""
    s = StoredSubmission
    query = (
        where.apply(
            select(
                cast(s.payload, Text),
                s.anonymized,
                Site.code,
                s.device_id,
                s.received_at,
                s.source,
                s.legacy_id,
                s.age_band,
                s.submission_id,
            ).join(Site, Site.id == s.site_id)
        )
        .order_by(s.id)
        .execution_options(yield_per=batch)
    )
    result = session.execute(query)
    try:
        yield from result.partitions()
    finally:
        result.close()


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_END = object()


def read_ahead(batches: Iterator[Sequence[Any]], depth: int = 2) -> Iterator[Sequence[Any]]:
    """Iterate ``batches`` in a helper thread, at most ``depth`` batches ahead of the consumer (the exports'
    one thread-and-queue helper).

    The helper thread is the only one touching the underlying session while this runs; it is stopped and
    joined before this generator returns (also when the consumer stops early or raises), so the session can
    be used again afterwards."""
    ahead: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for part in batches:
                if not put(part):
                    return
            put(_END)
        except BaseException as exc:
            put(_Failed(exc))
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()

    reader = threading.Thread(target=produce, name="qlq-export-read", daemon=True)
    reader.start()
    try:
        while True:
            item = ahead.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item
    finally:
        stop.set()
        reader.join()
