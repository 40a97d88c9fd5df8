"""Streaming research exports of stored sessions: CSV wide, CSV long, SPSS ``.sav`` and FHIR R4B JSON.

The server calls :func:`write_export` with an iterable of :class:`ExportRecord` (typically a database cursor
wrapped in a generator) and a binary output (a file, a pipe, a response body). Every writer consumes the
iterable once, keeps no list of records and writes its output in chunks of about 64 KiB, flushing each, so
memory stays constant whatever the size of the export. A writer that meets a record it cannot export raises
:class:`ExportError` and stops; what was already written stays written, so the caller should discard the
partial output (write to a temporary file, or abort the HTTP response).

Initials are never exported. The birth date appears only with ``include_birth_date=True`` (CSV wide and
SPSS) and only for records that were not anonymized.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import BinaryIO

from kiosk.domain.instrument import Instrument

from .csv_writers import write_csv_long, write_csv_wide
from .records import ExportError, ExportRecord
from .sav import write_sav

__all__ = ["FORMATS", "ExportError", "ExportRecord", "file_extension", "media_type", "write_export"]

FORMATS = ("csv-wide", "csv-long", "sav", "fhir")

Writer = Callable[..., int]


def write_fhir(records: Iterable[ExportRecord], out: BinaryIO, *, instrument: Instrument,
               include_birth_date: bool = False) -> int:
    """:func:`.fhir.write_fhir`, imported on first use: fhir.resources adds ~0.3 s to the server's start."""
    from .fhir import write_fhir as write

    return write(records, out, instrument=instrument, include_birth_date=include_birth_date)


_WRITERS: dict[str, tuple[Writer, str, str]] = {
    "csv-wide": (write_csv_wide, "text/csv; charset=utf-8", ".csv"),
    "csv-long": (write_csv_long, "text/csv; charset=utf-8", ".csv"),
    "sav": (write_sav, "application/x-spss-sav", ".sav"),
    "fhir": (write_fhir, "application/fhir+json", ".json"),
}


def _entry(fmt: str) -> tuple[Writer, str, str]:
    try:
        return _WRITERS[fmt]
    except KeyError:
        raise ExportError(f"unknown export format {fmt!r} (known: {', '.join(FORMATS)})") from None


def write_export(fmt: str, records: Iterable[ExportRecord], out: BinaryIO, *, instrument: Instrument,
                 include_birth_date: bool = False) -> int:
    """Write ``records`` to ``out`` in format ``fmt``; returns the number of rows written.

    Rows are: sessions for ``csv-wide``, answer records for ``csv-long``, cases for ``sav`` and
    QuestionnaireResponse entries for ``fhir``. Raises :class:`ExportError` for an unknown format (before
    anything is written) or a record that does not fit the instrument.
    """
    writer = _entry(fmt)[0]
    return writer(records, out, instrument=instrument, include_birth_date=include_birth_date)


def media_type(fmt: str) -> str:
    """The HTTP Content-Type of the format."""
    return _entry(fmt)[1]


def file_extension(fmt: str) -> str:
    """The file name extension of the format, with its dot (``.csv``, ``.sav``, ``.json``)."""
    return _entry(fmt)[2]
