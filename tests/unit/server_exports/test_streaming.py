"""Every Python writer (.sav, FHIR) streams: it consumes the records lazily, writes while it reads, and keeps
memory flat. (CSV wide and long are written by PostgreSQL: tests/integration/server/test_csv_exports.py.)"""

from __future__ import annotations

import gc
import io
import tracemalloc
from typing import BinaryIO, cast

import pytest

from sync_server.exports import FORMATS, ExportError, file_extension, media_type, write_export
from tests.unit.server_exports.builders import copies, fr, voice_with_changes

PYTHON_FORMATS = ("sav", "fhir")


class RecordingOutput(io.RawIOBase):
    """Notes, for each write, how many records the generator had handed out; keeps only a byte count."""

    def __init__(self, consumed: list[int]) -> None:
        self.consumed = consumed
        self.writes: list[tuple[int, int]] = []  # (records consumed so far, bytes in this write)
        self.flushes = 0

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.writes.append((self.consumed[0], len(b)))
        return len(b)

    def flush(self) -> None:
        self.flushes += 1


@pytest.mark.parametrize("fmt", PYTHON_FORMATS)
def test_output_is_written_while_the_records_are_consumed(fmt: str) -> None:
    total = 1500
    consumed = [0]
    out = RecordingOutput(consumed)
    written = write_export(fmt, copies(voice_with_changes(), total, consumed), cast(BinaryIO, out), instrument=fr())
    assert consumed[0] == total
    assert written == total
    during = [n for n, size in out.writes if n < total and size]
    assert len(during) >= 5, out.writes[:10]  # many chunks went out before the last record was read
    assert max(size for _, size in out.writes) < 256 * 1024  # chunks, not one big blob
    assert out.flushes >= len(during)


def test_a_list_is_never_built_from_the_records() -> None:
    """A one-shot iterator is enough (consumed once, in order)."""
    records = copies(voice_with_changes(), 3)
    out = io.BytesIO()
    assert write_export("fhir", records, out, instrument=fr()) == 3
    assert next(records, None) is None


@pytest.mark.slow
@pytest.mark.parametrize(("fmt", "count"), [("fhir", 5_000), ("sav", 3_000)])
def test_memory_stays_flat(fmt: str, count: int) -> None:
    """Each record costs ~1 KB if kept (a Submission copy and its ExportRecord): keeping them, or the output
    (~750 bytes a row), would exceed the bound many times over. Measured peak: about 0.7 MB."""
    sub = voice_with_changes()
    sink = RecordingOutput([0])
    gc.collect()
    tracemalloc.start()
    try:
        written = write_export(fmt, copies(sub, count), cast(BinaryIO, sink), instrument=fr())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written == count
    assert peak < 2 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_formats_media_types_and_extensions() -> None:
    assert FORMATS == ("csv-wide", "csv-long", "sav", "fhir")
    assert [media_type(f) for f in FORMATS] == [
        "text/csv; charset=utf-8",
        "text/csv; charset=utf-8",
        "application/x-spss-sav",
        "application/fhir+json",
    ]
    assert [file_extension(f) for f in FORMATS] == [".csv", ".csv", ".sav", ".json"]


def test_unknown_format_is_refused_before_anything_is_read_or_written() -> None:
    consumed = [0]
    out = RecordingOutput(consumed)
    with pytest.raises(ExportError, match="unknown export format 'xlsx'") as info:
        write_export("xlsx", copies(voice_with_changes(), 5, consumed), cast(BinaryIO, out), instrument=fr())
    assert isinstance(info.value, ValueError)
    assert consumed == [0] and out.writes == []
    for helper in (media_type, file_extension):
        with pytest.raises(ExportError):
            helper("xlsx")
    with pytest.raises(ExportError, match="written by the database"):
        write_export("csv-wide", copies(voice_with_changes(), 5, consumed), cast(BinaryIO, out), instrument=fr())
    assert consumed == [0]


@pytest.mark.parametrize("fmt", PYTHON_FORMATS)
def test_anonymised_records_export_as_missing(fmt: str) -> None:
    """An anonymised session (the domain's AnonymisedSubmission: no initials, birth date or age) exports."""
    from tests.unit.server_exports.builders import record

    out = io.BytesIO()
    assert (
        write_export(
            fmt, [record(voice_with_changes(), anonymized=True)], out, instrument=fr(), include_birth_date=True
        )
        == 1
    )
    assert b"Q-X" not in out.getvalue() and b"1951-06-17" not in out.getvalue()
