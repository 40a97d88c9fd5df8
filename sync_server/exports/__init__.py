"""Research exports of stored sessions: CSV wide, CSV long, SPSS ``.sav`` and FHIR R4B JSON.

CSV wide and long are written by PostgreSQL (``COPY (SELECT …) TO STDOUT``): their SELECTs are in
:mod:`.csv_sql`. ``.sav`` and FHIR are written in Python: the server calls :func:`write_export` with an iterable
of :class:`ExportRecord` (a database cursor wrapped in a generator) and a binary output. Each of those writers
consumes the iterable once, keeps no list of records and writes its output in chunks of about 64 KiB, so
memory stays constant whatever the size of the export. A writer that meets a record it cannot export raises
:class:`ExportError` and stops; the server writes these formats to a temporary file first, so such a failure is
an error response, never a cut stream.

Initials are never exported. The birth date appears only with ``include_birth_date=True`` (CSV wide and
SPSS) and only for records that were not anonymized.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import BinaryIO

from kiosk.domain.instrument import Instrument

from .records import ExportError, ExportRecord
from .sav import write_sav

__all__ = ["FORMATS", "ExportError", "ExportRecord", "file_extension", "media_type", "write_export"]

FORMATS = ("csv-wide", "csv-long", "sav", "fhir")

Writer = Callable[..., int]


def write_fhir(
    records: Iterable[ExportRecord], out: BinaryIO, *, instrument: Instrument, include_birth_date: bool = False
) -> int:
    """:func:`.fhir.write_fhir`, imported on first use: fhir.resources adds ~0.3 s to the server's start."""
    from .fhir import write_fhir as write

    return write(records, out, instrument=instrument, include_birth_date=include_birth_date)


_TYPES: dict[str, tuple[str, str]] = {
    "csv-wide": ("text/csv; charset=utf-8", ".csv"),
    "csv-long": ("text/csv; charset=utf-8", ".csv"),
    "sav": ("application/x-spss-sav", ".sav"),
    "fhir": ("application/fhir+json", ".json"),
}
_WRITERS: dict[str, Writer] = {"sav": write_sav, "fhir": write_fhir}


def _unknown(fmt: str) -> ExportError:
    return ExportError(f"unknown export format {fmt!r} (known: {', '.join(FORMATS)})")


def write_export(
    fmt: str,
    records: Iterable[ExportRecord],
    out: BinaryIO,
    *,
    instrument: Instrument,
    include_birth_date: bool = False,
) -> int:
    """Write ``records`` to ``out`` in a Python-written format (``sav``, ``fhir``); returns the number of rows
    written (cases for ``sav``, QuestionnaireResponse entries for ``fhir``). Raises :class:`ExportError` for
    another format (before anything is written) or a record that does not fit the instrument.
    """
    writer = _WRITERS.get(fmt)
    if writer is None:
        if fmt in _TYPES:
            raise ExportError(f"{fmt} is written by the database (sync_server.exports.csv_sql), not from records")
        raise _unknown(fmt)
    return writer(records, out, instrument=instrument, include_birth_date=include_birth_date)


def media_type(fmt: str) -> str:
    """The HTTP Content-Type of the format."""
    if fmt not in _TYPES:
        raise _unknown(fmt)
    return _TYPES[fmt][0]


def file_extension(fmt: str) -> str:
    """The file name extension of the format, with its dot (``.csv``, ``.sav``, ``.json``)."""
    if fmt not in _TYPES:
        raise _unknown(fmt)
    return _TYPES[fmt][1]
