"""The questionnaire as data: load, validate and identify an instrument file.

An instrument (QLQ-C30 in one language, or any other EORTC module) is a TOML file under
``resources/instruments/``. Loading it yields an immutable :class:`Instrument` whose identity includes
``content_sha256``, the sha256 of the file's canonical content (parsed, then serialised as sorted, compact
JSON), so reformatting the file or reordering its keys does not change it but any change of wording,
numbering or scoring does. Adding a module or a language is a new file, never new code.

A malformed file raises :class:`InstrumentError` whose message names the file, the item and the field.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kiosk.domain.resources import instruments_dir

ScaleKind = Literal["functional", "symptom", "global"]


class InstrumentError(ValueError):
    """An instrument file could not be loaded. The message names the file, the item and the field."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class InstrumentInfo(_Frozen):
    id: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9.-]*$")
    version: str = Field(min_length=1)
    language: str = Field(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    title: str = Field(min_length=1)
    verification: Literal["unverified-transcription", "verified-licensed"]
    verification_note: str = ""
    copyright: str = ""


class Texts(_Frozen):
    introduction: str = Field(min_length=1)
    introduction_spoken: str = ""
    progress: str = Field(min_length=1)

    @field_validator("progress")
    @classmethod
    def _progress_has_placeholders(cls, v: str) -> str:
        if "{number}" not in v or "{total}" not in v:
            raise ValueError("must contain {number} and {total}")
        return v


class CheckTexts(_Frozen):
    """Item 0: the audio and microphone check. Never scored."""

    audio_text: str = Field(min_length=1)
    audio_spoken: str = Field(min_length=1)
    microphone_text: str = Field(min_length=1)
    microphone_spoken: str = Field(min_length=1)
    expected_word: str = Field(min_length=1)


class ResponseScale(_Frozen):
    """The answers an item accepts: the integers ``min``..``max``, some of them labelled."""

    id: str = Field(min_length=1)
    min: int
    max: int
    kind: Literal["verbal", "numeric"]
    labels: Mapping[int, str]
    instruction_spoken: str = ""

    @model_validator(mode="after")
    def _check(self) -> ResponseScale:
        if self.max <= self.min:
            raise ValueError(f"max ({self.max}) must be greater than min ({self.min})")
        for value in self.labels:
            if not self.min <= value <= self.max:
                raise ValueError(f"label for {value} is outside {self.min}..{self.max}")
        if self.kind == "verbal" and set(self.labels) != set(self.values):
            raise ValueError("a verbal scale needs a label for every value")
        return self

    def __hash__(self) -> int:
        return hash((self.id, self.min, self.max, self.kind, tuple(sorted(self.labels.items()))))

    @property
    def values(self) -> range:
        return range(self.min, self.max + 1)

    @property
    def size(self) -> int:
        """Number of answer options (4 for the QLQ-C30's 1–4 scale, 7 for its 1–7 scale)."""
        return self.max - self.min + 1

    @property
    def range(self) -> int:
        """The scoring manual's "range": highest minus lowest possible answer."""
        return self.max - self.min

    def label(self, value: int) -> str | None:
        return self.labels.get(value)


class Section(_Frozen):
    id: str = Field(min_length=1)
    header: str = ""
    header_spoken: str = ""
    instruction: str = ""
    instruction_spoken: str = ""


class Item(_Frozen):
    number: int = Field(ge=1)
    section: str
    scale: str
    text: str = Field(min_length=1)
    spoken: str = ""

    @model_validator(mode="after")
    def _spoken_has_no_inclusive_forms(self) -> Item:
        if "(e)" in self.spoken:
            raise ValueError("spoken text must not contain '(e)' forms")
        return self

    @property
    def spoken_text(self) -> str:
        """What text-to-speech reads: the explicit spoken form, else the display text."""
        return self.spoken or self.text


class ScoredScale(_Frozen):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9]*$")
    name: str = Field(min_length=1)
    kind: ScaleKind
    items: tuple[int, ...] = Field(min_length=1)
    min_answered: int | None = None

    @property
    def required_answers(self) -> int:
        """Answered items needed to score (the half-items rule unless the file says otherwise)."""
        if self.min_answered is not None:
            return self.min_answered
        return math.ceil(len(self.items) / 2)


class Scoring(_Frozen):
    scales: tuple[ScoredScale, ...] = Field(min_length=1)
    summary_code: str | None = None
    summary_name: str = ""
    summary_components: tuple[str, ...] = ()


class _InstrumentFile(_Frozen):
    instrument: InstrumentInfo
    text: Texts
    check: CheckTexts
    response_scales: tuple[ResponseScale, ...] = Field(min_length=1)
    sections: tuple[Section, ...] = Field(min_length=1)
    items: tuple[Item, ...] = Field(min_length=1)
    scoring: Scoring


class Instrument(_Frozen):
    """One instrument in one language, validated and immutable."""

    info: InstrumentInfo
    texts: Texts
    check: CheckTexts
    response_scales: Mapping[str, ResponseScale]
    sections: Mapping[str, Section]
    items: tuple[Item, ...]
    scoring: Scoring
    content_sha256: str
    source_name: str

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def version(self) -> str:
        return self.info.version

    @property
    def language(self) -> str:
        return self.info.language

    @property
    def item_count(self) -> int:
        return len(self.items)

    # Lookups by item number are made for every answer of every submission a server checks: index once.
    @cached_property
    def _by_number(self) -> dict[int, Item]:
        return {item.number: item for item in self.items}

    @cached_property
    def item_numbers(self) -> tuple[int, ...]:
        return tuple(item.number for item in self.items)

    @cached_property
    def values_by_item(self) -> Mapping[int, range]:
        """Item number → the answers it accepts (``scale_of(number).values``), for the server's check of every
        answer."""
        return {item.number: self.response_scales[item.scale].values for item in self.items}

    def item(self, number: int) -> Item:
        try:
            return self._by_number[number]
        except KeyError:
            raise KeyError(f"{self.info.id} has no item {number}") from None

    def scale_of(self, number: int) -> ResponseScale:
        return self.response_scales[self.item(number).scale]

    def section_of(self, number: int) -> Section:
        return self.sections[self.item(number).section]

    def progress_text(self, number: int) -> str:
        return self.texts.progress.format(number=number, total=self.item_count)

    def __iter__(self) -> Iterator[Item]:  # type: ignore[override]
        return iter(self.items)


def canonical_sha256(data: Any) -> str:
    """sha256 of a JSON-able value serialised canonically (sorted keys, compact, UTF-8)."""
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _describe_location(raw: Mapping[str, Any], loc: tuple[int | str, ...]) -> str:
    """Turn a pydantic error location into "item 12, field 'scale'"-style words."""
    if not loc:
        return "the file"
    head = loc[0]
    rest = loc[1:]
    where = f"[{head}]"
    if head in ("items", "response_scales", "sections") and rest and isinstance(rest[0], int):
        index = rest[0]
        entries = raw.get(str(head)) or []
        entry = entries[index] if index < len(entries) and isinstance(entries[index], Mapping) else {}
        if head == "items":
            number = entry.get("number", "?")
            where = f"item {number} (entry {index + 1} of [[items]])"
        else:
            ident = entry.get("id", "?")
            where = f"{head} '{ident}' (entry {index + 1})"
        rest = rest[1:]
    elif head == "scoring" and len(rest) >= 2 and rest[0] == "scales" and isinstance(rest[1], int):
        scales = (raw.get("scoring") or {}).get("scales") or []
        code = scales[rest[1]].get("code", "?") if rest[1] < len(scales) else "?"
        where = f"scoring scale '{code}'"
        rest = rest[2:]
    field = ".".join(str(p) for p in rest)
    return f"{where}, field '{field}'" if field else where


def _cross_check(data: _InstrumentFile) -> list[str]:  # noqa: PLR0912 - one rule per branch, in the order they apply
    """Checks that span sections of the file; each message names the item and the field."""
    problems: list[str] = []
    scales = {s.id for s in data.response_scales}
    sections = {s.id for s in data.sections}
    for kind, ids in (
        ("response_scales", [s.id for s in data.response_scales]),
        ("sections", [s.id for s in data.sections]),
    ):
        if len(ids) != len(set(ids)):
            problems.append(f"[{kind}], field 'id': duplicated id")
    numbers = [item.number for item in data.items]
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"[[items]], field 'number': items must be numbered 1..{len(numbers)} in order, got {numbers}")
    for item in data.items:
        if item.scale not in scales:
            problems.append(f"item {item.number}, field 'scale': unknown response scale '{item.scale}'")
        if item.section not in sections:
            problems.append(f"item {item.number}, field 'section': unknown section '{item.section}'")
    by_number = {item.number: item for item in data.items}
    scale_by_id = {s.id: s for s in data.response_scales}
    codes = [s.code for s in data.scoring.scales]
    if len(codes) != len(set(codes)):
        problems.append("scoring, field 'scales.code': duplicated scale code")
    for scored in data.scoring.scales:
        for n in scored.items:
            if n not in by_number:
                problems.append(f"scoring scale '{scored.code}', field 'items': unknown item {n}")
        ranges = {
            scale_by_id[by_number[n].scale].range
            for n in scored.items
            if n in by_number and by_number[n].scale in scale_by_id
        }
        if len(ranges) > 1:
            problems.append(f"scoring scale '{scored.code}', field 'items': items use different answer ranges")
        if scored.min_answered is not None and not 1 <= scored.min_answered <= len(scored.items):
            problems.append(f"scoring scale '{scored.code}', field 'min_answered': must be 1..{len(scored.items)}")
    for code in data.scoring.summary_components:
        if code not in codes:
            problems.append(f"scoring, field 'summary_components': unknown scale '{code}'")
    if data.scoring.summary_components and not data.scoring.summary_code:
        problems.append("scoring, field 'summary_code': required when summary_components is given")
    return problems


def parse_instrument(raw: Mapping[str, Any], source_name: str) -> Instrument:
    """Validate already-parsed instrument data. ``source_name`` is used in error messages."""
    try:
        data = _InstrumentFile.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{source_name}: {_describe_location(raw, tuple(err['loc']))}: {err['msg']}" for err in exc.errors()]
        raise InstrumentError("invalid instrument file\n" + "\n".join(lines)) from None
    problems = _cross_check(data)
    if problems:
        raise InstrumentError("invalid instrument file\n" + "\n".join(f"{source_name}: {p}" for p in problems))
    return Instrument(
        info=data.instrument,
        texts=data.text,
        check=data.check,
        response_scales={s.id: s for s in data.response_scales},
        sections={s.id: s for s in data.sections},
        items=data.items,
        scoring=data.scoring,
        content_sha256=canonical_sha256(raw),
        source_name=source_name,
    )


def load_instrument_file(path: Path) -> Instrument:
    """Load and validate one instrument file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InstrumentError(f"{path}: cannot read the instrument file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise InstrumentError(f"{path}: the instrument file is not UTF-8 text ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InstrumentError(f"{path}: not valid TOML: {exc}") from None
    return parse_instrument(raw, str(path))


def available_instruments(directory: Path | None = None) -> dict[tuple[str, str], Path]:
    """Map (instrument id, language) to its file, from the file names ``<id>.<language>.toml``."""
    folder = directory or instruments_dir()
    found: dict[tuple[str, str], Path] = {}
    for path in sorted(folder.glob("*.toml")):
        stem = path.name[: -len(".toml")]
        instrument_id, _, language = stem.rpartition(".")
        if instrument_id and language:
            found[(instrument_id, language)] = path
    return found


def load_instrument(instrument_id: str = "qlq-c30", language: str = "fr", directory: Path | None = None) -> Instrument:
    """Load a bundled instrument by id and language (``resources/instruments/<id>.<language>.toml``)."""
    files = available_instruments(directory)
    path = files.get((instrument_id, language))
    if path is None:
        known = ", ".join(f"{i}/{lang}" for i, lang in sorted(files)) or "none"
        raise InstrumentError(f"no instrument file for {instrument_id!r} in language {language!r} (available: {known})")
    instrument = load_instrument_file(path)
    if (instrument.id, instrument.language) != (instrument_id, language):
        raise InstrumentError(
            f"{path}: field 'instrument.id'/'instrument.language' says {instrument.id}/{instrument.language}, "
            f"but the file name says {instrument_id}/{language}"
        )
    return instrument
