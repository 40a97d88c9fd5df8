"""The wide table (one row per session) shared by the CSV-wide and SPSS writers.

The columns are derived from the instrument: one ``q<n>`` and one ``q<n>_mode`` column per item and one column
per scale score in :func:`kiosk.domain.scoring.score_codes` order, so another EORTC module (another instrument
file) gives other columns with no code change. :meth:`WideLayout.values` turns one record into typed Python
values (``None`` when missing); each writer then encodes them its own way (text for CSV, numbers, codes and
labels for SPSS).

Initials are never a column. The birth date is a column only when asked for, and stays empty for a record
whose patient block was anonymized.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from kiosk.domain.instrument import Instrument
from kiosk.domain.scoring import score_codes
from kiosk.domain.session import ItemStatus, Method, Mode

from .records import ExportError, ExportRecord, check_record, exported_birth_date, utc

ColumnKind = Literal["string", "int", "float", "date", "datetime", "category"]
Measure = Literal["nominal", "ordinal", "scale"]

MODE_CODES: tuple[str, ...] = tuple(m.value for m in (Mode.TOUCH, Mode.VOICE_ON_DEMAND, Mode.VOICE_CONTINUOUS))
METHOD_CODES: tuple[str, ...] = (Method.TOUCH.value, Method.VOICE.value)
OUTCOME_CODES: tuple[str, ...] = ("completed", "abandoned")


@dataclass(frozen=True)
class Column:
    """One column of the wide table and what SPSS needs to know about it."""

    name: str
    kind: ColumnKind
    label: str
    width: int = 0  # string columns: maximum UTF-8 bytes (SPSS string width)
    categories: tuple[str, ...] = ()  # category columns: the text values, coded 1..n in SPSS
    value_labels: Mapping[int, str] = field(default_factory=dict)  # int columns
    measure: Measure = "nominal"


def _fixed_columns_before(include_birth_date: bool) -> list[Column]:
    columns = [
        Column("submission_id", "string", "Submission id (uuid)", width=36),
        Column("legacy_id", "string", "Session id in the legacy prototype database", width=255),
        Column("source", "string", "Source of the record (kiosk, legacy-prototype)", width=32),
        Column("site", "string", "Site code", width=64),
        Column("device_id", "string", "Kiosk device id", width=128),
        Column("session_date", "date", "Date of the session", measure="scale"),
        Column("age_at_session", "int", "Age at the session (years)", measure="scale"),
    ]
    if include_birth_date:
        columns.append(Column("birth_date", "date", "Birth date", measure="scale"))
    columns += [
        Column("outcome", "category", "Outcome of the session", categories=OUTCOME_CODES),
        Column("mode", "category", "Mode at the end of the session", categories=MODE_CODES),
        Column("initial_mode", "category", "Mode at the start of the session", categories=MODE_CODES),
        Column("audio_enabled", "int", "Audio (text-to-speech) enabled", value_labels={0: "no", 1: "yes"}),
        Column("instrument_id", "string", "Instrument id", width=64),
        Column("instrument_language", "string", "Instrument language", width=8),
        Column("instrument_sha256", "string", "sha256 of the instrument file administered", width=64),
        Column("started_at", "datetime", "Session start (UTC)", measure="scale"),
        Column("ended_at", "datetime", "Session end (UTC)", measure="scale"),
        Column("duration_seconds", "float", "Session duration (seconds)", measure="scale"),
    ]
    return columns


class WideLayout:
    """The wide table's columns for one instrument, and the row of values of each record."""

    def __init__(self, instrument: Instrument, *, include_birth_date: bool) -> None:
        self.instrument = instrument
        self.include_birth_date = include_birth_date
        self.item_numbers = instrument.item_numbers
        self._item_count = len(self.item_numbers)
        self._position = {number: i for i, number in enumerate(self.item_numbers)}
        self.score_codes = score_codes(instrument)
        names = {s.code: s.name for s in instrument.scoring.scales}
        if instrument.scoring.summary_code:
            names[instrument.scoring.summary_code] = instrument.scoring.summary_name or instrument.scoring.summary_code
        columns = _fixed_columns_before(include_birth_date)
        for item in instrument.items:
            scale = instrument.response_scales[item.scale]
            columns.append(
                Column(f"q{item.number}", "int", item.text, value_labels=dict(scale.labels), measure="ordinal")
            )
        columns += [Column(code, "float", names.get(code, code), measure="scale") for code in self.score_codes]
        columns += [
            Column(f"q{n}_mode", "category", f"q{n}: how the answer was given", categories=METHOD_CODES)
            for n in self.item_numbers
        ]
        columns += [
            Column("n_voice_answers", "int", "Number of items answered by voice", measure="scale"),
            Column("received_at", "datetime", "Received by the server (UTC)", measure="scale"),
        ]
        self.columns: tuple[Column, ...] = tuple(columns)
        self.names: tuple[str, ...] = tuple(c.name for c in columns)

    def values(self, record: ExportRecord, missing: Any = None) -> list[Any]:
        """The record's row, one typed value per column, ``missing`` where there is none (the CSV writer
        passes ``""`` so that it can join the cells without a second pass)."""
        check_record(record, self.instrument)
        sub = record.submission
        s = sub.session
        legacy_id, device_id, age = record.legacy_id, record.device_id, sub.patient.age_at_session
        row: list[Any] = [
            str(sub.submission_id),
            missing if legacy_id is None else legacy_id,
            record.source,
            record.site_code,
            missing if device_id is None else device_id,
            s.session_date,
            missing if age is None else age,
        ]
        if self.include_birth_date:
            birth = exported_birth_date(record, True)
            row.append(missing if birth is None else birth)
        ref = sub.instrument
        row += [
            sub.outcome,
            s.mode,
            s.initial_mode,
            int(s.audio_enabled),
            ref.id,
            ref.language,
            ref.content_sha256,
            utc(s.started_at),
            utc(s.ended_at),
            s.duration_seconds,
        ]
        # One pass over the answers (the hot loop of a 100,000-session export). Method is a StrEnum: CSV writes
        # it as its text and the SPSS writer codes it by that text.
        values = [missing] * self._item_count
        methods = [missing] * self._item_count
        voice = 0
        answered, by_voice, position = ItemStatus.ANSWERED, Method.VOICE, self._position
        for a in sub.answers:
            i = position.get(a.item)
            if i is None:
                raise ExportError(
                    f"submission {sub.submission_id} answers item {a.item}, which {self.instrument.id} does not have"
                )
            method = a.method
            methods[i] = method
            if a.status is answered:
                values[i] = a.value
                voice += method is by_voice
        scores = sub.scores
        row += values
        row += [missing if (score := scores.get(code)) is None else score for code in self.score_codes]
        row += methods
        row.append(voice)
        row.append(utc(record.received_at))
        return row
