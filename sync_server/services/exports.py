"""Research exports: audit, prepare, then stream — and an audit event saying how it ended.

1. **Audit first.** The audit row (who, format, filters, ``include_birth_date``, which sessions, how many) is
   committed before anything is read for the export; the export is then bounded to the primary keys that
   existed at audit time, so it never contains a session the audit row does not list.
2. **Prepare before the first byte.** CSV wide and long are produced by PostgreSQL (``COPY (SELECT …) TO
   STDOUT``, :mod:`sync_server.exports.csv_sql`): the statement runs and its first chunk is in hand before the
   response starts, so a statement that fails does so as an error response. ``.sav`` and FHIR are written by
   Python (:func:`sync_server.exports.write_export`) from one shared row builder (:func:`export_records`)
   into a temporary file, completely, before the response starts: whatever a stored row holds, a failure is an
   error response, never a cut stream.
3. **How it ended.** After the last byte an ``export-completed`` audit event is appended (rows written); an
   export that still fails mid-stream (the database connection lost during a COPY) or that the client abandons
   gets an ``export-failed`` event instead, is logged, counted in ``qlq_exports_total{outcome="failed"}``,
   and the exception propagates, so the server ends the response as an error (no clean end of the body) rather
   than a truncated file that looks complete. The audit table is append-only: events are added, never updated.

Memory stays constant whatever the export's size: COPY output is passed on in ~64 KiB chunks, and the Python
writers stream into their temporary file.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO

import orjson
import psycopg
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from kiosk.domain.anonymised import AnonymisedPatient, AnonymisedSubmission
from kiosk.domain.instrument import Instrument
from kiosk.domain.submission import Submission
from sync_server import exports, metrics
from sync_server.errors import AppError
from sync_server.exports.csv_sql import SESSION_SETTINGS, csv_select
from sync_server.repositories.export_reader import ExportRow, export_batches, read_ahead
from sync_server.repositories.submissions import SubmissionFilter
from sync_server.services.audit import Actor, record_access, record_selection_access

log = logging.getLogger(__name__)
CHUNK = 64 * 1024
CSV_FORMATS = ("csv-wide", "csv-long")


class UnknownFormat(AppError):
    status, code = 404, "unknown_export_format"


class UnexportableSession(AppError):
    """A stored session this format cannot represent (e.g. a time before year 1 once in UTC): the export is
    refused before its first byte (the CSV formats can always be written)."""

    status, code = 422, "unexportable_session"


def _unexportable(fmt: str, submission_id: object, exc: Exception) -> UnexportableSession:
    """The refusal, naming the session and the problem but never a stored value (it may be patient data)."""
    if isinstance(exc, ValidationError):
        where = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors(include_url=False)[:3])
        reason = f"its stored payload no longer validates ({where})"
    elif isinstance(exc, exports.ExportError):
        reason = str(exc)
    else:
        reason = f"a value is out of this format's range ({type(exc).__name__})"
    return UnexportableSession(
        f"session {submission_id} cannot be exported as {fmt}: {reason}; the CSV formats can export it"
    )


def check_format(fmt: str) -> None:
    if fmt not in exports.FORMATS:
        raise UnknownFormat(f"unknown export format {fmt!r} (known: {', '.join(exports.FORMATS)})", field="format")


@dataclass(frozen=True)
class ExportJob:
    fmt: str
    instrument: Instrument
    where: SubmissionFilter
    include_birth_date: bool = False
    filters: dict[str, Any] = field(default_factory=dict)  # as the caller gave them, for the audit row
    actor: Actor | None = None  # set by audit_export
    audit_id: int | None = None  # the audit row of this export, set by audit_export


def audit_export(session: Session, job: ExportJob, actor: Actor) -> ExportJob:
    """Write the audit row (in ``session``'s transaction) and bound the job to the sessions it lists."""
    audit_id, _rows, last = record_selection_access(
        session,
        actor,
        "export",
        job.where,
        include_birth_date=job.include_birth_date,
        detail={"format": job.fmt, "instrument": f"{job.instrument.id}/{job.instrument.language}", **job.filters},
    )
    return replace(job, where=replace(job.where, max_pk=last), actor=actor, audit_id=audit_id)


# ---------------------------------------------------------------------------------------------- row builder
def to_export_record(row: ExportRow) -> exports.ExportRecord:
    """One stored session for the Python writers (.sav, FHIR): its payload validated into the domain model —
    an :class:`AnonymisedSubmission` (patient: the age band only) for an anonymised one."""
    submission: Submission | AnonymisedSubmission
    if row.anonymized:
        payload = orjson.loads(row.payload)
        payload["patient"] = AnonymisedPatient(age_band=row.age_band)
        submission = AnonymisedSubmission.model_validate(payload)
    else:
        submission = Submission.model_validate_json(row.payload)
    return exports.ExportRecord(
        submission=submission,
        site_code=row.site_code,
        device_id=None if row.device_id is None else str(row.device_id),
        received_at=row.received_at,
        source=row.source,
        legacy_id=row.legacy_id,
    )


def export_records(
    session: Session,
    where: SubmissionFilter,
    progress: Callable[[int], None] | None = None,
    current: list[object] | None = None,
) -> Generator[exports.ExportRecord, None, None]:
    """Every matching stored session as an export record, read ahead of the writer (see ``read_ahead``);
    ``current[0]`` is the id of the session being handed over (to name it if it cannot be written)."""
    count = 0
    for batch in read_ahead(export_batches(session, where)):
        for row in batch:
            stored = ExportRow(*row)
            if current is not None:
                current[0] = stored.submission_id
            yield to_export_record(stored)
            count += 1
            if progress is not None:
                progress(count)


# ---------------------------------------------------------------------------------------------- writing
def _copy_chunks(session: Session, job: ExportJob, rows: list[int]) -> Iterator[bytes]:
    """The COPY output of a CSV format in chunks of ~``CHUNK`` bytes; ``rows[0]`` is set at the end."""
    sql, params = csv_select(job.fmt, job.instrument, job.where, include_birth_date=job.include_birth_date)
    driver = session.connection().connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    for statement in SESSION_SETTINGS:
        driver.execute(statement)
    buffer = bytearray()
    with driver.cursor() as cursor:
        with cursor.copy(sql, params) as copy:
            for data in copy:
                buffer += data
                if len(buffer) >= CHUNK:
                    yield bytes(buffer)
                    buffer.clear()
        rows[0] = max(cursor.rowcount, 0)
    if buffer:
        yield bytes(buffer)


def write_job(session: Session, job: ExportJob, out: BinaryIO, progress: Callable[[int], None] | None = None) -> int:
    """Write the whole export into ``out`` (the console command, and the spooled formats); returns the rows."""
    started = time.perf_counter()
    if job.fmt in CSV_FORMATS:
        count = [0]
        for chunk in _copy_chunks(session, job, count):
            out.write(chunk)
        out.flush()
        rows = count[0]
        if progress is not None:
            progress(rows)
    else:
        current: list[object] = [None]
        try:
            with _closing(export_records(session, job.where, progress, current)) as records:
                rows = int(
                    exports.write_export(
                        job.fmt, records, out, instrument=job.instrument, include_birth_date=job.include_birth_date
                    )
                )
        except (ValidationError, ValueError, OverflowError) as exc:  # ExportError is a ValueError
            raise _unexportable(job.fmt, current[0], exc) from exc
    metrics.EXPORT_DURATION.labels(job.fmt).observe(time.perf_counter() - started)
    metrics.EXPORT_ROWS.labels(job.fmt).inc(rows)
    return rows


class _closing:
    """Close a generator on exit (stops the read-ahead thread even when the writer raises)."""

    def __init__(self, generator: Generator[Any, None, None]) -> None:
        self.generator = generator

    def __enter__(self) -> Generator[Any, None, None]:
        return self.generator

    def __exit__(self, *_: object) -> None:
        self.generator.close()


# ---------------------------------------------------------------------------------------------- streaming
def _end_event(
    factory: sessionmaker[Session], job: ExportJob, action: str, rows: int, problem: BaseException | None = None
) -> None:
    """Append how the export ended to the audit trail (its own transaction)."""
    assert job.actor is not None
    detail: dict[str, Any] = {"export_audit_id": job.audit_id, "format": job.fmt, "rows_written": rows}
    if problem is not None:
        detail["error"] = type(problem).__name__
    try:
        with factory() as session, session.begin():
            record_access(session, job.actor, action, [], row_count=rows, detail=detail)
    except Exception:  # the database may be what failed: the log line and the metric still say it
        log.exception("could not audit the end of export %s", job.audit_id)


class ExportStream:
    """A prepared export: :meth:`open` does everything that can fail before the first byte; iterating yields
    the bytes and records how the export ended (see the module docstring)."""

    def __init__(self, factory: sessionmaker[Session], job: ExportJob) -> None:
        self.factory = factory
        self.job = job
        self.rows = [0]
        self._session: Session | None = None
        self._chunks: Iterator[bytes] = iter(())
        self._first = b""
        self.started = time.perf_counter()

    @classmethod
    def open(cls, factory: sessionmaker[Session], job: ExportJob) -> ExportStream:
        stream = cls(factory, job)
        try:
            stream._prepare()
        except BaseException as exc:
            stream._failed(exc, "preparing")
            raise
        return stream

    def _prepare(self) -> None:
        job = self.job
        self._session = self.factory()
        if job.fmt in CSV_FORMATS:
            self._chunks = _copy_chunks(self._session, job, self.rows)
        else:  # written completely before the response starts
            spool = tempfile.TemporaryFile(prefix="qlq-export-")  # noqa: SIM115 - closed by _file_chunks
            try:
                self.rows[0] = write_job(self._session, job, spool)
            except BaseException:
                spool.close()
                raise
            self._close_session()
            spool.seek(0)
            self._chunks = _file_chunks(spool)
        self._first = next(self._chunks, b"")

    def __iter__(self) -> Iterator[bytes]:
        try:
            if self._first:
                yield self._first
            yield from self._chunks
        except GeneratorExit as exc:  # the client went away: the export did not complete
            self._failed(exc, "cancelled")
            raise
        except BaseException as exc:
            self._failed(exc, "streaming")
            raise
        else:
            self._close_session()
            if self.job.fmt in CSV_FORMATS:
                metrics.EXPORT_DURATION.labels(self.job.fmt).observe(time.perf_counter() - self.started)
                metrics.EXPORT_ROWS.labels(self.job.fmt).inc(self.rows[0])
            metrics.EXPORTS.labels(self.job.fmt, "completed").inc()
            _end_event(self.factory, self.job, "export-completed", self.rows[0])

    def _failed(self, exc: BaseException, stage: str) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
        self._close_session()
        metrics.EXPORTS.labels(self.job.fmt, "failed").inc()
        if stage == "cancelled":
            log.warning("export %s (%s) abandoned by the client", self.job.audit_id, self.job.fmt)
        else:
            log.error("export %s (%s) failed while %s: %s", self.job.audit_id, self.job.fmt, stage, type(exc).__name__)
        _end_event(self.factory, self.job, "export-failed", self.rows[0], exc)

    def _close_session(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            try:
                session.close()
            except Exception:  # its connection is what failed: drop it instead of giving it back to the pool
                session.invalidate()


def _file_chunks(spool: BinaryIO) -> Iterator[bytes]:
    with spool:
        while block := spool.read(CHUNK):
            yield block
