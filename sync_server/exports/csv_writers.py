"""CSV exports: wide (one row per session) and long (one row per answer).

Both are UTF-8 without a byte-order mark, comma-separated, RFC 4180 quoting and CRLF line ends (Python's
``csv`` defaults). Missing values are empty cells; scores are written with ``repr`` (full float precision, the
exact numbers the domain scorer produced); times are ISO 8601 in UTC; booleans are 1/0.

Rows are formatted into a small text buffer that is encoded and handed to the output every ~64 KiB, so a
100,000-session export never holds more than one chunk.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any, BinaryIO

from kiosk.domain.instrument import Instrument

from .columns import WideLayout
from .records import CHUNK_BYTES, ExportRecord, check_record, utc

LONG_COLUMNS = ("submission_id", "site", "item", "value", "status", "method", "transcript", "confidence",
                "confirmed", "first_shown_at", "answered_at", "times_shown", "previous_values", "response_seconds")


class _CsvStream:
    """A ``csv.writer`` over a text buffer that is emptied into ``out`` whenever it reaches a chunk."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._buffer = io.StringIO()
        self.writer = csv.writer(self._buffer)

    def row_written(self) -> None:
        if self._buffer.tell() >= CHUNK_BYTES:
            self.flush()

    def write_lines(self, lines: list[str]) -> None:
        """Rows already formatted (without line ends): written after what the csv writer buffered."""
        if lines:
            self._buffer.write("\r\n".join(lines))
            self._buffer.write("\r\n")
            self.flush()

    def flush(self) -> None:
        text = self._buffer.getvalue()
        if text:
            self._out.write(text.encode("utf-8"))
            self._buffer.seek(0)
            self._buffer.truncate(0)
        self._out.flush()


def _quote(text: str) -> str:
    """RFC 4180 quoting, exactly as ``csv.writer`` (QUOTE_MINIMAL) does it."""
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def write_csv_wide(records: Iterable[ExportRecord], out: BinaryIO, *, instrument: Instrument,
                   include_birth_date: bool = False) -> int:
    """One row per session; returns the number of rows written (the header not counted).

    The hot loop joins the cells itself instead of calling ``csv.writer`` (much faster on these ~110-cell
    rows): missing cells come as ``""`` from :meth:`WideLayout.values`, numbers go through ``str`` (``repr``
    for floats), and only the text columns, the only ones that can hold a comma or a quote, are quoted like
    ``csv.writer`` would.
    """
    layout = WideLayout(instrument, include_birth_date=include_birth_date)
    iso_columns = [i for i, c in enumerate(layout.columns) if c.kind in ("date", "datetime")]
    text_columns = [i for i, c in enumerate(layout.columns) if c.kind == "string"]
    stream = _CsvStream(out)
    stream.writer.writerow(layout.names)
    lines: list[str] = []
    size = 0
    count = 0
    for record in records:
        row = layout.values(record, missing="")
        for i in iso_columns:
            value = row[i]
            if value != "":
                row[i] = value.isoformat()
        for i in text_columns:
            row[i] = _quote(row[i])
        line = ",".join(map(str, row))
        lines.append(line)
        size += len(line)
        count += 1
        if size >= CHUNK_BYTES:
            stream.write_lines(lines)
            lines.clear()
            size = 0
    stream.write_lines(lines)
    stream.flush()
    return count


def write_csv_long(records: Iterable[ExportRecord], out: BinaryIO, *, instrument: Instrument,
                   include_birth_date: bool = False) -> int:
    """One row per answer record (every item that was shown); returns the number of rows written.

    ``previous_values`` lists earlier answers to the item, oldest first, separated by ``;``: the value, or the
    status (``skipped``, ``dont_know``) for an earlier answer without a value. ``response_seconds`` is the time
    from the item's first display to its current answer. The long table holds no patient data, so
    ``include_birth_date`` has no effect here.
    """
    del include_birth_date
    stream = _CsvStream(out)
    stream.writer.writerow(LONG_COLUMNS)
    count = 0
    for record in records:
        check_record(record, instrument)
        sub = record.submission
        submission_id = str(sub.submission_id)
        for a in sub.answers:
            first_shown, answered = utc(a.first_shown_at), utc(a.answered_at)
            previous = ";".join(p.status.value if p.value is None else str(p.value) for p in a.previous)
            row: list[Any] = [submission_id, record.site_code, a.item, a.value, a.status.value, a.method.value,
                              a.transcript, a.confidence, int(a.confirmed), first_shown.isoformat(),
                              answered.isoformat(), a.times_shown, previous,
                              (answered - first_shown).total_seconds()]
            stream.writer.writerow(row)
            count += 1
        stream.row_written()
    stream.flush()
    return count
