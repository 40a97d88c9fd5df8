"""CSV wide and CSV long, produced by PostgreSQL: one ``SELECT`` per format, run as
``COPY (SELECT …) TO STDOUT WITH (FORMAT csv, HEADER)`` and streamed as it comes.

The SELECTs read the columns ingest stores beside each payload, never the payload itself (PostgreSQL parsing
9 KB of JSON per session would cost more than the whole export): CSV long the ``answers`` rows, CSV wide the
session's row alone, into which ingest pivoted the answers and scores (migration 0005: pivoting 30 answer rows
and 16 score rows per session at export time was most of an export's cost). The wide table's columns follow
the instrument (one ``q<n>`` and ``q<n>_mode`` per item, one
column per scale score in :func:`kiosk.domain.scoring.score_codes` order) through
:class:`sync_server.exports.columns.WideLayout`, the same layout the SPSS writer uses, so both formats always
have the same columns. Every cell is written as text by PostgreSQL, the way the Python writers used to:

- missing values are empty cells; CSV quoting is PostgreSQL's (RFC 4180: a cell is quoted when it holds a
  comma, a quote or a line break), lines end with LF; UTF-8, no byte-order mark;
- numbers as Python writes them: floats at full precision in the shortest form that reads back to the same
  double (``extra_float_digits = 1``), an integral float with ``.0`` (``50.0``), so every score is bit for bit
  what the domain scorer produced (:func:`number`; beyond 2**53, where the shortest text can be a tie between
  two doubles, PostgreSQL may write one digit more than Python, still reading back to the same double);
  integers as they are; booleans 1/0;
- times ISO 8601 in UTC (``2026-03-02T08:30:00+00:00``, microseconds when there are some); dates ISO 8601. A
  stored time or date outside years 1–9999 (or infinite) is written as PostgreSQL's own text for it
  (``0001-12-31 23:59:00+00 BC``) rather than breaking the export;
- **formula injection** (OWASP "CSV Injection"): every *text* cell starting with ``=``, ``+``, ``-``, ``@``, a tab
  or a carriage return gets a leading single quote, so a spreadsheet shows it as text instead of running it.
  Numbers are never changed (a negative number stays a number: only text columns are neutralised).

Initials are never a column. The birth date is a column only when asked for (wide), and empty for an
anonymised session (its column is cleared by the anonymisation).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect

from kiosk.domain.instrument import Instrument
from sync_server.models import StoredSubmission
from sync_server.repositories.submissions import SubmissionFilter

from .columns import METHOD_CODES, WideLayout

VOICE_COLUMNS = (
    "voice_alternatives",
    "voice_attempts",
    "voice_confirmation",
    "voice_confirmation_transcript",
    "voice_engine",
    "voice_model",
    "voice_language",
    "voice_prompt_end_at",
    "voice_speech_start_at",
    "voice_speech_end_at",
    "voice_result_at",
    "voice_fallback",
)
LONG_COLUMNS = (
    "submission_id",
    "site",
    "item",
    "value",
    "status",
    "method",
    "transcript",
    "confidence",
    "confirmed",
    "first_shown_at",
    "answered_at",
    "times_shown",
    "previous_values",
    "response_seconds",
    *VOICE_COLUMNS,
)
# Session settings of the export's transaction: what the ::text conversions below rely on.
SESSION_SETTINGS = (
    "SET LOCAL TimeZone = 'UTC'",
    "SET LOCAL DateStyle = 'ISO, YMD'",
    "SET LOCAL extra_float_digits = 1",
    "SET LOCAL IntervalStyle = 'postgres'",
)
_DIALECT = psycopg_dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy's dialect class is untyped
_FORMULA_CODES = ", ".join(str(ord(c)) for c in "=+-@\t\r")  # the characters that start a formula


def text(expr: str) -> str:
    """A text cell, neutralised against formula injection (OWASP: prefix a single quote). The first character
    is compared by its code (``ascii``: its code point; 0 for an empty text): cheaper than ``left(…, 1)``
    against a list of texts."""
    return f"CASE WHEN ascii({expr}) IN ({_FORMULA_CODES}) THEN '''' || {expr} ELSE {expr} END"


def number(expr: str) -> str:
    """A float8 cell as Python's ``repr`` writes it (``50.0``, ``-0.0``, ``66.66666666666667``, ``1e+16``,
    ``1e-05``); Infinity/NaN as PostgreSQL's text.

    Both write the shortest text that reads back to the same double; they differ only in where they switch to
    exponents (PostgreSQL from 1e15, Python from 1e16) and in Python's ``.0`` on a fixed-notation integral
    value. Between 1e15 and 1e16 PostgreSQL's ``d.ddde+15`` is rewritten with its digits around the point."""
    digits = f"replace(split_part(ltrim({expr}::text, '-'), 'e', 1), '.', '')"
    fixed_e15 = (
        f"CASE WHEN {expr} < 0 THEN '-' ELSE '' END || rpad(left({digits}, 16), 16, '0') || '.' "
        f"|| coalesce(nullif(substr({digits}, 17), ''), '0')"
    )
    return (
        f"CASE WHEN abs({expr}) < 1e15 THEN CASE WHEN {expr} = trunc({expr}) THEN {expr}::text || '.0' "
        f"ELSE {expr}::text END WHEN abs({expr}) < 1e16 THEN {fixed_e15} ELSE {expr}::text END"
    )


def timestamp(expr: str) -> str:
    """A timestamptz cell in ISO 8601, UTC, as Python's ``isoformat`` writes it."""
    return (
        f"CASE WHEN NOT ({expr} >= '0001-01-01 00:00:00+00' AND {expr} < '10000-01-01 00:00:00+00') "
        f"THEN {expr}::text "
        f"WHEN date_trunc('second', {expr}) = {expr} "  # PostgreSQL's own text (ISO, UTC) but for 2 characters
        f"THEN replace({expr}::text, ' ', 'T') || ':00' "
        f"ELSE to_char({expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"') END"
    )


def flag(expr: str) -> str:
    return f"CASE WHEN {expr} THEN '1' WHEN NOT {expr} THEN '0' END"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _selection(where: SubmissionFilter, instrument: Instrument) -> tuple[str, dict[str, Any]]:
    """The primary keys of the exported sessions, as SQL text and its parameters: the very filter every other
    reader applies (:meth:`SubmissionFilter.apply`), restricted to the instrument (its columns are the export's)."""
    query = where.apply(select(StoredSubmission.id)).where(StoredSubmission.instrument_id == instrument.id)
    compiled = query.compile(dialect=_DIALECT)
    return str(compiled), dict(compiled.params)


def _fixed_wide_cells(include_birth_date: bool) -> dict[str, str]:
    cells = {
        "submission_id": "s.submission_id::text",
        "legacy_id": text("s.legacy_id"),
        "source": text("s.source"),
        "site": text("si.code"),
        "device_id": "s.device_id::text",
        "session_date": "s.session_date::text",
        "age_at_session": "s.age_at_session::text",
    }
    if include_birth_date:
        cells["birth_date"] = "CASE WHEN s.anonymized THEN NULL ELSE s.patient_birth_date::text END"
    cells |= {
        "outcome": text("s.outcome"),
        "mode": text("s.mode"),
        "initial_mode": text("s.initial_mode"),
        "audio_enabled": flag("s.audio_enabled"),
        "instrument_id": text("s.instrument_id"),
        "instrument_language": text("s.instrument_language"),
        "instrument_sha256": text("s.instrument_sha256"),
        "started_at": timestamp("s.started_at"),
        "ended_at": timestamp("s.ended_at"),
        "duration_seconds": number("s.duration_seconds"),
    }
    return cells


def wide_select(
    instrument: Instrument, where: SubmissionFilter, *, include_birth_date: bool = False
) -> tuple[str, dict[str, Any]]:
    """The CSV-wide SELECT (one row per session, the columns of :class:`WideLayout`) and its parameters.

    One scan of ``submissions``: the answers, their methods and the scores were pivoted into the row at ingest
    (``answer_values``/``answer_methods`` hold item n at index n, the method as its code in ``METHOD_CODES``;
    ``score_values`` follow ``score_codes``, normally the instrument's order, each code looked up otherwise).
    The arrays are read once per row in a LATERAL subquery: ``OFFSET 0`` on both of its levels keeps the
    planner from copying the expressions into every cell (a score cell names its value four times or more:
    without the outer ``OFFSET 0`` each of them re-evaluated the subscript and the choice of ``sv``, a quarter
    of the export's time)."""
    layout = WideLayout(instrument, include_birth_date=include_birth_date)
    codes = layout.score_codes
    methods = "ARRAY[" + ", ".join(_literal(m) for m in METHOD_CODES) + "]::text[]"  # code n at index n
    cells: dict[str, str] = _fixed_wide_cells(include_birth_date)
    cells |= {f"q{n}": f"w.v[{n}]" for n in layout.item_numbers}
    cells |= {code: number(f"w.{_ident('s_' + code)}") for code in codes}
    # a method cell is one of METHOD_CODES (constants): nothing there can start a formula
    cells |= {f"q{n}_mode": f"({methods})[w.m[{n}]]" for n in layout.item_numbers}
    cells["n_voice_answers"] = "s.voice_answers"
    cells["received_at"] = timestamp("s.received_at")
    assert tuple(cells) == layout.names, "the CSV-wide SELECT and the wide layout disagree"
    in_order = "ARRAY[" + ", ".join(_literal(c) for c in codes) + "]::varchar[]"
    scores = ", ".join(f"x.sv[{i}] AS {_ident('s_' + code)}" for i, code in enumerate(codes, start=1))
    by_code = (
        f"(SELECT array_agg("  # noqa: S608 - constant codes of the instrument
        f"s.score_values[array_position(s.score_codes, c)] ORDER BY o) "
        f"FROM unnest({in_order}) WITH ORDINALITY AS u(c, o))"
    )
    chosen, params = _selection(where, instrument)
    # names and expressions are built here from the instrument; values are bound parameters
    sql = (
        f"SELECT {', '.join(f'{expr} AS {_ident(name)}' for name, expr in cells.items())}\n"  # noqa: S608
        f"FROM submissions AS s JOIN sites AS si ON si.id = s.site_id\n"
        f"CROSS JOIN LATERAL (SELECT x.v, x.m{', ' + scores if scores else ''} FROM (\n"
        f"    SELECT s.answer_values AS v, s.answer_methods AS m,\n"
        f"           CASE WHEN s.score_codes = {in_order} THEN s.score_values ELSE {by_code} END AS sv\n"
        f"    OFFSET 0) AS x OFFSET 0) AS w\n"
        f"WHERE s.id IN ({chosen}) ORDER BY s.id"
    )
    return sql, params


def _voice_time(name: str) -> str:
    return timestamp(f"CAST(a.voice #>> '{{times,{name}}}' AS timestamptz)")


def voice_cells() -> dict[str, str]:
    """The ``voice_*`` cells of CSV long, from the answer's voice record (payload 2.0; empty for touch answers
    and payloads 1.0): how the current answer was heard.

    ``voice_alternatives`` is the recogniser's n-best list as JSON (``[{"confidence": 0.93, "transcript": "un
    peu"}, …]``, best first: transcripts may hold any character, JSON keeps them apart losslessly);
    ``voice_attempts`` the listening turns that led to the answer; ``voice_confirmation`` ``none`` (accepted as
    heard), ``voice`` or ``touch``, with what the patient said to the confirmation question; the recogniser;
    the times (prompt end, speech start, speech end, final result; ISO 8601 UTC); ``voice_fallback`` why the item
    fell back to touch (``not_understood``, ``no_speech``, ``recogniser_error``, ``microphone``), when it did."""
    return {
        "voice_alternatives": text("(a.voice -> 'alternatives')::text"),
        "voice_attempts": "(a.voice ->> 'attempts')::int::text",
        "voice_confirmation": text("(a.voice ->> 'confirmation')"),
        "voice_confirmation_transcript": text("(a.voice ->> 'confirmation_transcript')"),
        "voice_engine": text("(a.voice #>> '{recogniser,engine}')"),
        "voice_model": text("(a.voice #>> '{recogniser,model}')"),
        "voice_language": text("(a.voice #>> '{recogniser,language}')"),
        "voice_prompt_end_at": _voice_time("prompt_end_at"),
        "voice_speech_start_at": _voice_time("speech_start_at"),
        "voice_speech_end_at": _voice_time("speech_end_at"),
        "voice_result_at": _voice_time("result_at"),
        "voice_fallback": text("NULLIF(a.voice ->> 'fallback', '')"),
    }


def long_select(instrument: Instrument, where: SubmissionFilter) -> tuple[str, dict[str, Any]]:
    """The CSV-long SELECT (one row per answer record: every item that was shown) and its parameters.

    ``previous_values`` lists earlier answers to the item, oldest first, separated by ``;``: the value, or the
    status (``skipped``, ``dont_know``) for an earlier answer without a value. ``response_seconds`` is the time
    from the item's first display to its current answer. The long table holds no patient data."""
    cells = {
        "submission_id": "s.submission_id::text",
        "site": text("si.code"),
        "item": "a.item::text",
        "value": "a.value::text",
        "status": text("a.status"),
        "method": text("a.method"),
        "transcript": text("a.transcript"),
        "confidence": number("a.confidence"),
        "confirmed": flag("a.confirmed"),
        "first_shown_at": timestamp("a.first_shown_at"),
        "answered_at": timestamp("a.answered_at"),
        "times_shown": "a.times_shown::text",
        "previous_values": text("pv.previous_values"),
        "response_seconds": number("CAST(extract(epoch FROM a.answered_at - a.first_shown_at) AS float8)"),
    } | voice_cells()
    assert tuple(cells) == LONG_COLUMNS
    chosen, params = _selection(where, instrument)
    sql = (
        f"SELECT {', '.join(f'{expr} AS {_ident(name)}' for name, expr in cells.items())}\n"  # noqa: S608
        f"FROM submissions AS s JOIN sites AS si ON si.id = s.site_id\n"
        f"JOIN answers AS a ON a.submission_pk = s.id\n"
        f"LEFT JOIN LATERAL (SELECT string_agg(coalesce(p ->> 'value', p ->> 'status'), ';' ORDER BY n)\n"
        f"                   AS previous_values FROM jsonb_array_elements(a.previous) WITH ORDINALITY AS e(p, n)\n"
        f"                   WHERE jsonb_typeof(a.previous) = 'array') AS pv ON true\n"
        f"WHERE s.id IN ({chosen}) ORDER BY s.id, a.item"
    )
    return sql, params


def copy_statement(select_sql: str) -> str:
    return f"COPY ({select_sql}) TO STDOUT WITH (FORMAT csv, HEADER)"


def csv_select(
    fmt: str, instrument: Instrument, where: SubmissionFilter, *, include_birth_date: bool = False
) -> tuple[str, dict[str, Any]]:
    """The ``COPY … TO STDOUT`` statement of a CSV format and its parameters."""
    if fmt == "csv-wide":
        sql, params = wide_select(instrument, where, include_birth_date=include_birth_date)
    elif fmt == "csv-long":
        sql, params = long_select(instrument, where)
    else:
        raise ValueError(f"{fmt!r} is not a CSV format")
    return copy_statement(sql), params
