"""What an export is made of, and the buffered sink every writer streams through.

An :class:`ExportRecord` is one stored session as the server hands it to a writer: the submission exactly as
the kiosk (or the legacy importer) sent it, plus what the server knows about it (site, device, when it
arrived, where it came from). Writers read records one at a time and never keep them.

:class:`ChunkedSink` collects encoded output and passes it to the binary output in chunks of about 64 KiB,
flushing each time, so that an HTTP response (or a file) receives data as the export proceeds and memory stays
constant whatever the number of records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import BinaryIO

from kiosk.domain.anonymised import AnonymisedSubmission
from kiosk.domain.instrument import Instrument
from kiosk.domain.submission import Submission

CHUNK_BYTES = 64 * 1024


class ExportError(ValueError):
    """An export that cannot be written: unknown format, or a record that does not fit the export."""


@dataclass(frozen=True)
class ExportRecord:
    """One stored session, ready to export."""

    submission: Submission | AnonymisedSubmission  # anonymised: its patient has no birth date and no age
    site_code: str
    device_id: str | None
    received_at: datetime
    source: str  # "kiosk" | "legacy-prototype"
    legacy_id: str | None

    @property
    def anonymized(self) -> bool:
        return isinstance(self.submission, AnonymisedSubmission)


def check_record(record: ExportRecord, instrument: Instrument) -> None:
    """Refuse a record of another instrument: its answers would not fit the export's item columns."""
    ref = record.submission.instrument
    if ref.id != instrument.id:
        raise ExportError(
            f"submission {record.submission.submission_id} is for instrument {ref.id!r}; "
            f"this export is for {instrument.id!r} (export one instrument at a time)"
        )


def exported_birth_date(record: ExportRecord, include_birth_date: bool) -> date | None:
    """The birth date when it was asked for (an anonymised record has none)."""
    return record.submission.patient.birth_date if include_birth_date else None


def utc(value: datetime) -> datetime:
    """Every exported time is UTC, whatever offset the kiosk used."""
    return value.astimezone(UTC)


class ChunkedSink:
    """Buffer bytes and write them to ``out`` in chunks of about ``CHUNK_BYTES``, flushing after each."""

    def __init__(self, out: BinaryIO, chunk_bytes: int = CHUNK_BYTES) -> None:
        self._out = out
        self._chunk = chunk_bytes
        self._parts: list[bytes] = []
        self._size = 0
        self.bytes_written = 0

    def write(self, data: bytes) -> None:
        self._parts.append(data)
        self._size += len(data)
        if self._size >= self._chunk:
            self.flush()

    def flush(self) -> None:
        if self._parts:
            blob = b"".join(self._parts)
            self._out.write(blob)
            self.bytes_written += len(blob)
            self._parts.clear()
            self._size = 0
        self._out.flush()
