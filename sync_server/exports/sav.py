"""SPSS ``.sav`` export of the wide table, written by this module as a stream.

Why not ``pyreadstat.write_sav``: it takes a whole pandas/polars DataFrame (no appending, no chunks), and
neither pandas nor polars is installed with the server. The system-file format is documented (PSPP manual,
"System File Format") and the subset needed here is small, so the file is written directly: header,
dictionary (variable records with labels, value labels, machine info, display parameters, long variable names,
UTF-8 encoding record), then the cases with the standard bytecode compression, chunk by chunk. Memory stays
constant whatever the number of sessions. The tests read every file back with ``pyreadstat.read_sav``
(ReadStat's independent reader) and check values, labels and missing values, and with GNU PSPP when the
machine has it.

Encoding choices:
- numbers (answers, scores, ages, counts) are doubles; a missing value is system-missing;
- text categories (outcome, modes, answer methods) are coded 1..n with value labels; audio_enabled is 0/1;
- dates are SPSS DATE11 and times DATETIME20 (seconds since 1582-10-14, UTC; fractions kept);
- text columns have fixed widths (UTF-8 bytes, see :mod:`.columns`); a longer value raises
  :class:`ExportError` (an id is never truncated);
- the header's case count is patched in at the end when the output is seekable; on a pure stream it stays
  -1 ("unknown"), which the format allows and PSPP and ReadStat read (not tried with IBM SPSS itself; a
  caller that wants the count filled in writes to a temporary file first).
"""

from __future__ import annotations

import math
import re
import struct
import sys
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any, BinaryIO

from kiosk.domain.instrument import Instrument

from .columns import Column, WideLayout
from .records import ChunkedSink, ExportError, ExportRecord

SYSMIS = -sys.float_info.max
_HIGHEST = sys.float_info.max
_LOWEST = math.nextafter(-sys.float_info.max, 0.0)
_SPSS_EPOCH = datetime(1582, 10, 14, tzinfo=UTC)
_SPSS_EPOCH_DAY = date(1582, 10, 14).toordinal()
_FMT_A, _FMT_F, _FMT_DATE, _FMT_DATETIME = 1, 5, 20, 22
_MEASURES = {"nominal": 1, "ordinal": 2, "scale": 3}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_BIAS = 100
_MAX_VAR_LABEL = 255
_MAX_VALUE_LABEL = 120
_NCASES_OFFSET = 80  # byte offset of the case count in the file header
_DOUBLE = struct.Struct("<d").pack


def _fmt(kind: int, width: int, decimals: int = 0) -> int:
    return (kind << 16) | (width << 8) | decimals


def _utf8(text: str, limit: int) -> bytes:
    """UTF-8 bytes of ``text`` cut to at most ``limit`` bytes without splitting a character."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore").encode("utf-8")


def _short_names(names: tuple[str, ...]) -> list[str]:
    """Unique 8-character upper-case names for the dictionary; the long names go in record 7.13."""
    used: set[str] = set()
    shorts = []
    for name in names:
        base = re.sub(r"[^A-Z0-9_]", "", name.upper()) or "V"
        if not base[0].isalpha():
            base = "V" + base
        short, n = base[:8].rstrip("_"), 0
        while short in used:
            n += 1
            short = base[: 8 - len(str(n))] + str(n)
        used.add(short)
        shorts.append(short)
    return shorts


def _segments(column: Column) -> int:
    return (column.width + 7) // 8 if column.kind == "string" else 1


def _print_format(column: Column) -> int:
    if column.kind == "string":
        return _fmt(_FMT_A, column.width)
    if column.kind == "date":
        return _fmt(_FMT_DATE, 11)
    if column.kind == "datetime":
        return _fmt(_FMT_DATETIME, 20)
    if column.kind == "float":
        return _fmt(_FMT_F, 8, 2)
    return _fmt(_FMT_F, 8, 0)


def _value_labels(column: Column) -> dict[int, str]:
    if column.kind == "category":
        return {code: text for code, text in enumerate(column.categories, start=1)}
    return dict(column.value_labels)


def _dictionary(layout: WideLayout, file_label: str, now: datetime) -> bytes:
    """Everything before the data: header, variables, value labels, extension records, terminator."""
    i32 = struct.Struct("<i").pack
    columns = layout.columns
    shorts = _short_names(layout.names)
    case_size = sum(_segments(c) for c in columns)
    parts = [
        b"$FL2",
        b"@(#) SPSS DATA FILE - kiosque-qlq-c30".ljust(60),
        struct.pack("<iiiiid", 2, case_size, 1, 0, -1, float(_BIAS)),
        f"{now.day:02d} {_MONTHS[now.month - 1]} {now.year % 100:02d}".encode("ascii"),
        now.strftime("%H:%M:%S").encode("ascii"),
        _utf8(file_label, 64).ljust(64),
        b"\0\0\0",
    ]
    label_sets: dict[tuple[tuple[int, str], ...], list[int]] = {}
    index = 1  # dictionary index of the next variable (1-based, counting string continuation slots)
    for column, short in zip(columns, shorts, strict=True):
        label = _utf8(column.label, _MAX_VAR_LABEL)
        fmt = _print_format(column)
        width = column.width if column.kind == "string" else 0
        parts.append(struct.pack("<iiiiii8s", 2, width, 1 if label else 0, 0, fmt, fmt, short.encode("ascii").ljust(8)))
        if label:
            parts += [i32(len(label)), label.ljust((len(label) + 3) // 4 * 4, b" ")]
        parts += [struct.pack("<iiiiii8s", 2, -1, 0, 0, 0x011D01, 0x011D01, b" " * 8)] * (_segments(column) - 1)
        labels = _value_labels(column)
        if labels:
            label_sets.setdefault(tuple(sorted(labels.items())), []).append(index)
        index += _segments(column)
    for labels_key, indexes in label_sets.items():
        parts += [i32(3), i32(len(labels_key))]
        for value, text in labels_key:
            raw = _utf8(text, _MAX_VALUE_LABEL)
            parts += [struct.pack("<dB", float(value), len(raw)), raw.ljust((len(raw) + 1 + 7) // 8 * 8 - 1, b" ")]
        parts += [i32(4), i32(len(indexes)), *(i32(i) for i in indexes)]
    # 7.3 machine integer info (IEEE, little-endian, UTF-8 = code page 65001); 7.4 floating-point info.
    parts.append(struct.pack("<iiii8i", 7, 3, 4, 8, 20, 0, 0, -1, 1, 1, 2, 65001))
    parts.append(struct.pack("<iiii3d", 7, 4, 8, 3, SYSMIS, _HIGHEST, _LOWEST))
    # 7.11 display parameters: measure, display width, alignment (0 left for text, 1 right for numbers).
    display = [
        struct.pack(
            "<iii",
            _MEASURES[c.measure],
            min(max(c.width, 8), 40) if c.kind == "string" else 10,
            0 if c.kind == "string" else 1,
        )
        for c in columns
    ]
    parts += [struct.pack("<iiii", 7, 11, 4, 3 * len(columns)), *display]
    long_names = "\t".join(f"{s}={c.name}" for s, c in zip(shorts, columns, strict=True)).encode("utf-8")
    parts += [struct.pack("<iiii", 7, 13, 1, len(long_names)), long_names]
    parts += [struct.pack("<iiii", 7, 20, 1, 5), b"UTF-8"]
    parts.append(struct.pack("<ii", 999, 0))
    return b"".join(parts)


class _Compressor:
    """SPSS bytecode compression: blocks of 8 command bytes, each block followed by the 8-byte values its
    ``253`` commands announce. Commands and raw values are collected for many rows and assembled into blocks
    once per ~64 KiB (blocks run on across case boundaries, as in SPSS's own files).

    Codes: 1..251 = the integer code - 100 (here: integers -99..151), 253 = a raw 8-byte value follows,
    254 = eight spaces, 255 = system-missing, 252 = end of data, 0 = padding.
    """

    def __init__(self, sink: ChunkedSink) -> None:
        self._sink = sink
        self.commands = bytearray()
        self.raw: list[bytes] = []  # the 8-byte values of the 253 commands, in order

    def numbers(self, values: list[Any]) -> None:
        """Numbers (int, float or None). Only ints are coded in the command byte; floats go raw."""
        self.commands += bytes(
            [255 if v is None else v + _BIAS if v.__class__ is int and -_BIAS < v <= 151 else 253 for v in values]
        )
        self.raw += [_DOUBLE(v) for v in values if v is not None and not (v.__class__ is int and -_BIAS < v <= 151)]

    def text(self, value: str | None, column: Column, submission: str) -> None:
        segments = _segments(column)
        if not value:
            self.commands += b"\xfe" * segments  # 254: eight spaces
            return
        raw = value.encode("utf-8")
        if len(raw) > column.width:
            raise ExportError(
                f"submission {submission}: {column.name} is {len(raw)} bytes long, the SPSS column holds {column.width}"
            )
        raw = raw.ljust(segments * 8, b" ")
        for start in range(0, len(raw), 8):
            chunk = raw[start : start + 8]
            if chunk == b"        ":
                self.commands.append(254)
            else:
                self.commands.append(253)
                self.raw.append(chunk)

    def row_done(self) -> None:
        if len(self.commands) >= 8192:
            self._emit(len(self.commands) - len(self.commands) % 8)

    def finish(self) -> None:
        self.commands.append(252)  # end of data
        self.commands += bytes(-len(self.commands) % 8)  # 0: no-op, pads the last block
        self._emit(len(self.commands))

    def _emit(self, count: int) -> None:
        """Write the first ``count`` commands (a multiple of 8) as blocks, each with its raw values."""
        commands, raw = self.commands, self.raw
        parts: list[bytes] = []
        used = 0
        for start in range(0, count, 8):
            block = bytes(commands[start : start + 8])
            parts.append(block)
            n = block.count(253)
            if n:
                parts += raw[used : used + n]
                used += n
        self._sink.write(b"".join(parts))
        del commands[:count]
        del raw[:used]


def _converter(column: Column) -> Any:
    """For dates, times and categories: a function giving the number SPSS stores (None stays None)."""
    if column.kind == "date":
        return lambda v: None if v is None else float((v.toordinal() - _SPSS_EPOCH_DAY) * 86400)
    if column.kind == "datetime":
        return lambda v: None if v is None else (v - _SPSS_EPOCH).total_seconds()
    codes: dict[str | None, int | None] = {None: None}
    codes.update({text: code for code, text in enumerate(column.categories, start=1)})

    def category(v: str | None) -> int | None:
        try:
            return codes[v]
        except KeyError:
            raise ExportError(
                f"{column.name}: unexpected value {v!r} (known: {', '.join(column.categories)})"
            ) from None

    return category


def _runs(columns: tuple[Column, ...]) -> list[tuple[bool, int, int]]:
    """Consecutive columns of one sort: (is_text, start, end), so numbers are encoded a run at a time."""
    runs: list[tuple[bool, int, int]] = []
    for i, column in enumerate(columns):
        is_text = column.kind == "string"
        if runs and runs[-1][0] == is_text and not is_text:
            runs[-1] = (False, runs[-1][1], i + 1)
        else:
            runs.append((is_text, i, i + 1))
    return runs


def write_sav(
    records: Iterable[ExportRecord], out: BinaryIO, *, instrument: Instrument, include_birth_date: bool = False
) -> int:
    """Write the wide table as an SPSS system file; returns the number of cases written."""
    layout = WideLayout(instrument, include_birth_date=include_birth_date)
    columns = layout.columns
    start = _tell(out)
    sink = ChunkedSink(out)
    sink.write(_dictionary(layout, f"{instrument.info.title} [{instrument.language}]", datetime.now(UTC)))
    converters = [(i, _converter(c)) for i, c in enumerate(columns) if c.kind in ("date", "datetime", "category")]
    runs = _runs(columns)
    compressor = _Compressor(sink)
    count = 0
    for record in records:
        row = layout.values(record)
        for i, convert in converters:
            row[i] = convert(row[i])
        for is_text, first, end in runs:
            if is_text:
                compressor.text(row[first], columns[first], row[0])
            else:
                compressor.numbers(row[first:end])
        compressor.row_done()
        count += 1
    compressor.finish()
    sink.flush()
    if start is not None:
        end_position = out.tell()
        out.seek(start + _NCASES_OFFSET)
        out.write(struct.pack("<i", count))
        out.seek(end_position)
        out.flush()
    return count


def _tell(out: BinaryIO) -> int | None:
    """Where the file starts in ``out`` when it can be patched afterwards, else None."""
    try:
        return out.tell() if out.seekable() else None
    except (AttributeError, OSError, ValueError):
        return None
