"""Research exports: audit, then stream stored sessions through the format writers of ``sync_server.exports``.

The audit row (who, format, filters, ``include_birth_date``, which sessions, how many) is committed before the
first byte leaves, so an export can never happen unaudited; the stream is then bounded to the primary keys
that existed at audit time, so it never contains a session the audit row does not list.

Rows are read by :mod:`sync_server.repositories.export_reader` (Core, server-side cursor, the payload as JSON
text, batches read ahead in a helper thread so PostgreSQL works while Python validates); each payload is
re-validated with ``Submission.model_validate_json`` (pydantic-core parses the JSON natively: about half the
cost of psycopg parsing JSON into dicts and validating those) and handed to the writer, which runs in a
worker thread writing into a bounded queue that the HTTP response drains: memory stays constant whatever the
export's size. ``.sav`` is written to a temporary file first (so the writer can patch the case count in its
header) and the file is then streamed.
"""

from __future__ import annotations

import contextlib
import io
import json
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO

from sqlalchemy.orm import Session, sessionmaker

from kiosk.domain.instrument import Instrument
from kiosk.domain.submission import PatientBlock, Submission
from sync_server import metrics
from sync_server.errors import AppError
from sync_server.repositories.export_reader import ExportRow, export_batches, read_ahead
from sync_server.repositories.submissions import SubmissionFilter, SubmissionRepository
from sync_server.services.audit import Actor, record_access

CHUNK = 64 * 1024
_PLACEHOLDER_PATIENT = {"initials": "-", "birth_date": "1900-01-01", "age_at_session": 0}


class ExportsUnavailable(AppError):
    status, code = 503, "exports_unavailable"


class UnknownFormat(AppError):
    status, code = 404, "unknown_export_format"


def _writers() -> Any:
    try:
        from sync_server import exports
    except ImportError as exc:  # pragma: no cover - the writers ship with the server
        raise ExportsUnavailable(f"the export writers are not installed: {exc}") from None
    return exports


def check_format(fmt: str) -> None:
    if fmt not in _writers().FORMATS:
        raise UnknownFormat(f"unknown export format {fmt!r} (known: {', '.join(_writers().FORMATS)})",
                            field="format")


@dataclass(frozen=True)
class ExportJob:
    fmt: str
    instrument: Instrument
    where: SubmissionFilter
    include_birth_date: bool = False
    filters: dict[str, Any] = field(default_factory=dict)  # as the caller gave them, for the audit row


def to_export_record(row: ExportRow) -> Any:
    """Re-validate a stored payload (its JSON text) into the domain model. Anonymized rows get a patient block
    holding placeholders (empty initials, no birth date, no age), which the writers know to leave out."""
    if row.anonymized:
        payload = json.loads(row.payload)
        sub = Submission.model_validate({**payload, "patient": _PLACEHOLDER_PATIENT})
        # anonymized: no birth date, no age (model_construct skips validation on purpose)
        placeholders = PatientBlock.model_construct(initials="", birth_date=None, age_at_session=None)  # type: ignore[arg-type]
        sub = sub.model_copy(update={"patient": placeholders})
    else:
        sub = Submission.model_validate_json(row.payload)
    device_id = row.device_id
    return _writers().ExportRecord(submission=sub, site_code=row.site_code,
                                   device_id=None if device_id is None else str(device_id),
                                   received_at=row.received_at, source=row.source, legacy_id=row.legacy_id,
                                   anonymized=row.anonymized)


def audit_export(session: Session, job: ExportJob, actor: Actor) -> ExportJob:
    """Write the audit row (in ``session``'s transaction) and bound the job to the sessions it lists."""
    pairs = SubmissionRepository(session).matching_keys(job.where)
    record_access(session, actor, "export", [sid for _, sid in pairs], row_count=len(pairs),
                  include_birth_date=job.include_birth_date,
                  detail={"format": job.fmt, "instrument": f"{job.instrument.id}/{job.instrument.language}",
                          **job.filters})
    last = pairs[-1][0] if pairs else 0
    return replace(job, where=replace(job.where, max_pk=last))


def write_job(session: Session, job: ExportJob, out: BinaryIO,
              progress: Callable[[int], None] | None = None) -> int:
    """Write the export into ``out``; returns the rows the writer reports."""
    started = time.perf_counter()

    def records() -> Generator[Any, None, None]:
        validate_json, record = Submission.model_validate_json, _writers().ExportRecord
        count = 0
        for batch in read_ahead(export_batches(session, job.where)):
            for row in batch:
                if row[1]:  # anonymized
                    yield to_export_record(ExportRow(*row))
                else:
                    device_id = row[3]
                    yield record(validate_json(row[0]), row[2], None if device_id is None else str(device_id),
                                 row[4], row[5], row[6], False)
                count += 1
                if progress is not None:
                    progress(count)

    with contextlib.closing(records()) as stream:  # stops the read-ahead thread even if the writer raises
        rows = int(_writers().write_export(job.fmt, stream, out, instrument=job.instrument,
                                           include_birth_date=job.include_birth_date))
    metrics.EXPORT_DURATION.labels(job.fmt).observe(time.perf_counter() - started)
    metrics.EXPORT_ROWS.labels(job.fmt).inc(rows)
    return rows


class _Cancelled(Exception):
    """The client went away: the writer thread stops instead of filling a queue nobody reads."""


class _QueuePipe(io.RawIOBase):
    """A write-only stream feeding a bounded queue; blocks when the reader is slow (back-pressure)."""

    def __init__(self, chunks: queue.Queue[Any], cancelled: threading.Event) -> None:
        self._chunks = chunks
        self._cancelled = cancelled

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        blob = bytes(data)
        while True:
            if self._cancelled.is_set():
                raise _Cancelled
            try:
                self._chunks.put(blob, timeout=0.5)
                return len(blob)
            except queue.Full:
                continue


_DONE = object()


def stream_job(factory: sessionmaker[Session], job: ExportJob) -> Iterator[bytes]:
    """Run the export in a worker thread and yield its output chunk by chunk."""
    chunks: queue.Queue[Any] = queue.Queue(maxsize=8)
    cancelled = threading.Event()

    def work() -> None:
        try:
            with factory() as session:
                if job.fmt == "sav":
                    with tempfile.TemporaryFile(prefix="qlq-export-") as tmp:
                        write_job(session, job, tmp)
                        tmp.seek(0)
                        pipe = _QueuePipe(chunks, cancelled)
                        while block := tmp.read(CHUNK):
                            pipe.write(block)
                else:
                    out = io.BufferedWriter(_QueuePipe(chunks, cancelled), buffer_size=CHUNK)
                    write_job(session, job, out)
                    out.flush()
            chunks.put(_DONE)
        except _Cancelled:
            return
        except BaseException as exc:
            if not cancelled.is_set():
                chunks.put(exc)

    worker = threading.Thread(target=work, name="qlq-export", daemon=True)
    worker.start()
    try:
        while True:
            item = chunks.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        cancelled.set()
        while worker.is_alive():
            try:
                chunks.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.1)
