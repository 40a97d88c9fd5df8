"""Lenient parsing of the legacy prototype's loosely typed SQLite values: dates, times, numbers, flags.

The prototype stored dates and times as text in several forms (and SQLite lets any column hold any type), so
every parser here accepts what it reasonably can and raises :class:`LegacyValueError` with a message that
quotes the value it could not read. The reader turns that into a reported problem for the session.

Accepted dates and times:
- ISO 8601 dates and date-times, with ``T`` or a space, optional fractions, ``Z`` or an offset
  (``2024-03-05``, ``2024-03-05 10:12:00``, ``2024-03-05T10:12:00.123Z``, ``2024-03-05T10:12:00+01:00``);
- French day-first dates ``DD/MM/YYYY`` (also with ``-`` or ``.``), optionally followed by ``HH:MM[:SS]``;
- ``YYYY/MM/DD``; Unix epoch numbers (seconds, or milliseconds above 10^11) between 1990 and 2100;
- what the prototype's JavaScript could write besides ISO: ``Date.toString()``
  (``Tue Mar 05 2024 10:12:00 GMT+0100 (heure normale d’Europe centrale)``) and ``Date.toUTCString()``
  (``Tue, 05 Mar 2024 09:12:00 GMT``, the RFC 2822 form).
A time without an offset is taken as UTC (SQLite's ``CURRENT_TIMESTAMP`` is UTC). A date field holding a
date-time keeps the calendar date as written, without a time-zone shift. Two-digit years are refused.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

_DAY_FIRST = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_YEAR_FIRST_SLASH = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_MONTHS = {
    m: i
    for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)
}
# JavaScript's Date.prototype.toString(): weekday, month, day, year, time, GMT offset, optional zone name.
_JS_DATE = re.compile(
    r"^[A-Za-z]{3} ([A-Za-z]{3}) (\d{1,2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT([+-])(\d{2})(\d{2})"
    r"(?: \(.*\))?$"
)
_RFC_2822 = re.compile(r"^(?:[A-Za-z]{3}, )?\d{1,2} [A-Za-z]{3} \d{4} \d{2}:\d{2}(?::\d{2})? (?:GMT|UTC|[+-]\d{4})$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_EPOCH_MIN = datetime(1990, 1, 1, tzinfo=UTC).timestamp()
_EPOCH_MAX = datetime(2100, 1, 1, tzinfo=UTC).timestamp()
_TRUE = {"1", "true", "yes", "oui", "on"}
_FALSE = {"0", "false", "no", "non", "off", ""}


class LegacyValueError(ValueError):
    """A legacy value that could not be read; the message quotes it."""


def _from_epoch(number: float, raw: object) -> datetime:
    seconds = number / 1000 if abs(number) >= 1e11 else number
    if not _EPOCH_MIN <= seconds <= _EPOCH_MAX:
        raise LegacyValueError(f"{raw!r} is not a plausible Unix time")
    return datetime.fromtimestamp(seconds, UTC)


def _text(value: object) -> str:
    if isinstance(value, bytes):
        raise LegacyValueError(f"binary value {value[:20]!r} where text was expected")
    return str(value).strip()


def parse_datetime(value: object) -> datetime | None:
    """An aware UTC datetime, or None for NULL/empty. A bare date means midnight UTC."""
    parsed = _datetime_as_written(value)
    return None if parsed is None else parsed.astimezone(UTC)


def _datetime_as_written(value: object) -> datetime | None:
    """The date-time with the offset it was written with (UTC when it had none), or None for NULL/empty."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise LegacyValueError(f"{value!r} is not a date-time")
    if isinstance(value, int | float):
        return _from_epoch(float(value), value)
    text = _text(value)
    if not text:
        return None
    if _NUMBER.match(text):
        return _from_epoch(float(text), value)
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "zZ" else text)
    except ValueError:
        match = _DAY_FIRST.match(text) or _YEAR_FIRST_SLASH.match(text)
        if match is not None:
            parts = [int(p) if p else 0 for p in match.groups()]
            if match.re is _YEAR_FIRST_SLASH:
                parts = [parts[2], parts[1], parts[0]]
            day, month, year, hour, minute, second = [*parts, 0, 0, 0][:6]
            try:
                parsed = datetime(year, month, day, hour, minute, second)  # noqa: DTZ001 - made aware below
            except ValueError as exc:
                raise LegacyValueError(f"{text!r} is not a valid date ({exc})") from None
    if parsed is None:
        parsed = _javascript_datetime(text)
    if parsed is None:
        raise LegacyValueError(f"{text!r} is not a date or time in a known form")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _javascript_datetime(text: str) -> datetime | None:
    """``Date.toString()`` or ``Date.toUTCString()`` text, as an aware datetime; None for any other text."""
    match = _JS_DATE.match(text)
    if match is not None:
        month = _MONTHS.get(match[1].casefold())
        if month is None:
            raise LegacyValueError(f"{text!r} names no month")
        offset = timedelta(hours=int(match[8]), minutes=int(match[9])) * (1 if match[7] == "+" else -1)
        try:
            return datetime(
                int(match[3]),
                month,
                int(match[2]),
                int(match[4]),
                int(match[5]),
                int(match[6]),
                tzinfo=timezone(offset),
            )
        except ValueError as exc:
            raise LegacyValueError(f"{text!r} is not a valid date ({exc})") from None
    if _RFC_2822.match(text):
        try:
            return parsedate_to_datetime(text)
        except (TypeError, ValueError) as exc:
            raise LegacyValueError(f"{text!r} is not a valid date ({exc})") from None
    return None


def parse_date(value: object) -> date | None:
    """A calendar date, or None for NULL/empty; a date-time gives the date as written (no time-zone shift)."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        from_number = parse_datetime(value)
        assert from_number is not None
        return from_number.date()
    text = _text(value)
    if not text:
        return None
    iso = re.match(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$", text)
    if iso is not None:
        try:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        except ValueError as exc:
            raise LegacyValueError(f"{text!r} is not a valid date ({exc})") from None
    parsed = _datetime_as_written(text)
    assert parsed is not None
    return parsed.date()


def parse_int(value: object) -> int:
    """An integer from an INTEGER, an integral REAL, or text holding either (``"3"``, ``"3.0"``); anything else
    raises (``2.5``, ``"abc"``, NULL)."""
    if isinstance(value, bool) or value is None:
        raise LegacyValueError(f"{value!r} is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise LegacyValueError(f"{value!r} is not an integer")
    text = _text(value)
    if _INTEGER.match(text):
        return int(text)
    if _NUMBER.match(text) and float(text).is_integer() and abs(float(text)) < 2**53:
        return int(float(text))
    raise LegacyValueError(f"{text!r} is not an integer")


def parse_float(value: object) -> float | None:
    """A number, or None for NULL/empty."""
    if value is None or isinstance(value, bool):
        if value is None:
            return None
        raise LegacyValueError(f"{value!r} is not a number")
    if isinstance(value, int | float):
        return float(value)
    text = _text(value)
    if not text:
        return None
    if _NUMBER.match(text):
        return float(text)
    raise LegacyValueError(f"{text!r} is not a number")


def parse_bool(value: object) -> bool:
    """1/0, true/false, oui/non...; NULL is False."""
    if value is None:
        return False
    text = _text(value).casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise LegacyValueError(f"{value!r} is not a yes/no value")
