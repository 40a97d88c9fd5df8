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
from kiosk.domain.session import ItemStatus, Method

from .columns import WideLayout
from .records import CHUNK_BYTES, ExportError, ExportRecord, check_record, exported_birth_date, utc

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


class _FloatText(dict[float, str]):
    """``str`` of floats, remembered: a scale score takes few distinct values (its items' sums), and a lookup is
    several times cheaper than formatting. Bounded: forgets everything past ``limit`` entries. Only for
    ``float`` keys (``50 == 50.0`` would otherwise share an entry)."""

    def __init__(self, limit: int = 50_000) -> None:
        super().__init__()
        self.limit = limit

    def __missing__(self, value: float) -> str:
        if len(self) >= self.limit:
            self.clear()
        text = self[value] = str(value)
        return text


class _WideCsvRows:
    """Formats one record as a CSV-wide line: the same cells as :meth:`WideLayout.values` turned into text
    (``str``; ISO 8601 for dates and times; RFC 4180 quoting for the text columns), built straight as strings.

    This is the hot loop of a 100,000-session export, so it avoids the generic path's second pass over the
    row: small integers and scores come from lookup tables (``str``/``repr`` of the same numbers, computed
    once), answer methods are ``StrEnum`` members (already ``str``), and only the columns that can hold a
    comma or a quote go through :func:`_quote`.
    """

    def __init__(self, layout: WideLayout) -> None:
        self.layout = layout
        self.instrument = layout.instrument
        self.include_birth_date = layout.include_birth_date
        self.position = layout._position
        self.item_count = len(layout.item_numbers)
        self.score_codes = layout.score_codes
        self.ints = {i: str(i) for i in range(-1, 256)}
        self.floats = _FloatText()

    def line(self, record: ExportRecord) -> str:
        check_record(record, self.instrument)
        sub = record.submission
        s = sub.session
        ints = self.ints
        legacy_id, device_id, age = record.legacy_id, record.device_id, sub.patient.age_at_session
        cells: list[str] = [_quote(str(sub.submission_id)), "" if legacy_id is None else _quote(legacy_id),
                            _quote(record.source), _quote(record.site_code),
                            "" if device_id is None else _quote(device_id), s.session_date.isoformat(),
                            "" if age is None else ints.get(age) or str(age)]
        if self.include_birth_date:
            birth = exported_birth_date(record, True)
            cells.append("" if birth is None else birth.isoformat())
        ref = sub.instrument
        cells += [sub.outcome, s.mode, s.initial_mode, "1" if s.audio_enabled else "0", _quote(ref.id),
                  _quote(ref.language), _quote(ref.content_sha256), utc(s.started_at).isoformat(),
                  utc(s.ended_at).isoformat(), str(s.duration_seconds)]
        values = [""] * self.item_count
        methods = [""] * self.item_count
        voice = 0
        answered, by_voice, position = ItemStatus.ANSWERED, Method.VOICE, self.position
        for a in sub.answers:
            i = position.get(a.item)
            if i is None:
                raise ExportError(f"submission {sub.submission_id} answers item {a.item}, which "
                                  f"{self.instrument.id} does not have")
            method = a.method
            methods[i] = method  # a StrEnum member: its text
            if a.status is answered and (value := a.value) is not None:
                values[i] = ints.get(value) or str(value)
                voice += method is by_voice
        get, floats = sub.scores.get, self.floats
        cells += values
        cells += ["" if (v := get(code)) is None else floats[v] if type(v) is float else str(v)
                  for code in self.score_codes]
        cells += methods
        cells.append(ints.get(voice) or str(voice))
        cells.append(utc(record.received_at).isoformat())
        return ",".join(cells)


def write_csv_wide(records: Iterable[ExportRecord], out: BinaryIO, *, instrument: Instrument,
                   include_birth_date: bool = False) -> int:
    """One row per session; returns the number of rows written (the header not counted).

    The hot loop (:class:`_WideCsvRows`) joins the cells itself instead of calling ``csv.writer`` (much faster
    on these ~110-cell rows); only the text columns, the only ones that can hold a comma or a quote, are quoted
    like ``csv.writer`` would.
    """
    layout = WideLayout(instrument, include_birth_date=include_birth_date)
    line = _WideCsvRows(layout).line
    stream = _CsvStream(out)
    stream.writer.writerow(layout.names)
    lines: list[str] = []
    size = 0
    count = 0
    for record in records:
        text = line(record)
        lines.append(text)
        size += len(text)
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
