"""Is a submission physically plausible? The one rule set both the kiosk (before it queues a session, in
:func:`~kiosk.domain.submission.build_submission`) and the sync server (in
:func:`~kiosk.domain.submission.check_against_instrument`) apply, so a device can never store anything the
kiosk itself would not have produced, and nothing stored can break an export, a GDPR request or a report.

Every value of the payload is visited, whatever its field:

- text: no control character (C0/C1: tabs and newlines included), no surrogate, private-use or unassigned
  code point, no bidirectional embedding/override/isolate control (the "Trojan source" characters that make a
  cell read differently from what it holds);
- numbers: finite (no ``Infinity``/``NaN``/``1e308``-style overflow of a duration);
- dates and times: between :data:`DATE_FLOOR` (birth dates: :data:`BIRTH_DATE_FLOOR`) and ``now`` plus the
  allowed clock skew, with a real-world UTC offset (at most ±14 h, whole minutes);

then the session's own consistency: durations equal what the start and end times give, the events lie
between the start and the end, in order, and the frozen time is last. Kiosk submissions also carry initials
exactly as :func:`~kiosk.domain.patient.validate_patient` stores them; imported legacy data (``kiosk=False``)
keeps its initials as written (printable text only) and its own event order.

Problems carry stable, language-neutral codes (see :data:`CODES`); messages are English for logs and API
clients, never containing the offending value (it may be patient data).
"""

from __future__ import annotations

import math
import re
import types
import typing
import unicodedata
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from enum import Enum
from functools import cache
from itertools import chain
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Final, Literal

from pydantic import BaseModel
from pydantic_core import TzInfo

from kiosk.domain.patient import initials_are_valid

if TYPE_CHECKING:
    from kiosk.domain.submission import AnswerRecord, Submission

DEFAULT_CLOCK_SKEW: Final = timedelta(minutes=15)
DATE_FLOOR: Final = date(2000, 1, 1)
DATETIME_FLOOR: Final = datetime(2000, 1, 1, tzinfo=UTC)
BIRTH_DATE_FLOOR: Final = date(1850, 1, 1)
MAX_UTC_OFFSET: Final = timedelta(hours=14)
DURATION_TOLERANCE_SECONDS: Final = 0.001
INSTRUMENT_VERSION_RE: Final = re.compile(r"^[0-9]{1,3}(?:\.[0-9]{1,3}){0,2}$")
_BIDI_CONTROLS: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_REFUSED_CATEGORIES: Final = frozenset({"Cc", "Cs", "Co", "Cn"})

CODES: Final = {
    "invalid_initials": "the initials are not 1-4 letters as the kiosk's start form accepts them",
    "invalid_text": "a text holds a control, unassigned, private-use or bidirectional-override character",
    "implausible_number": "a number is not finite",
    "implausible_date": "a date or time is out of range, in the future or out of order",
    "implausible_time_zone": "a time carries a UTC offset no place on Earth uses",
    "implausible_duration": "a duration does not match the start, end and pause times",
    "invalid_instrument_version": "the instrument version is not a dotted version number",
}


class SubmissionProblem(ValueError):
    """A submission that is well-formed but does not fit its instrument or reality. ``field`` names where."""

    def __init__(self, code: str, field: str, message: str) -> None:
        self.code = code
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class ImplausibleSubmission(ValueError):
    """Raised by the kiosk when a session would freeze into a submission the server would refuse."""

    def __init__(self, problems: list[SubmissionProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def text_is_clean(text: str) -> bool:
    """No character that has no business in a stored text (see the module docstring)."""
    if text.isascii() and text.isprintable():  # the common case, at once: U+0020..U+007E are all allowed
        return True
    return not any(unicodedata.category(c) in _REFUSED_CATEGORIES or c in _BIDI_CONTROLS for c in text)


def plausibility_problems(
    sub: Submission, *, now: datetime, clock_skew: timedelta = DEFAULT_CLOCK_SKEW, kiosk: bool = True
) -> list[SubmissionProblem]:
    """Every plausibility problem of ``sub`` (empty when it is sound). ``now`` is the checker's current time
    (aware); times up to ``clock_skew`` after it are tolerated (a kiosk clock slightly ahead)."""
    latest = now + clock_skew
    problems: list[SubmissionProblem] = []
    if not _Sound(latest).model(sub, top=True):  # the common case: one pass, no field path built
        _collect(sub, "", latest, problems)  # something is wrong: name each problem with its field path
    if not INSTRUMENT_VERSION_RE.match(sub.instrument.version):
        problems.append(
            SubmissionProblem(
                "invalid_instrument_version", "instrument.version", "expected a dotted version number such as 3.0"
            )
        )
    if kiosk and not initials_are_valid(sub.patient.initials):
        problems.append(SubmissionProblem("invalid_initials", "patient.initials", CODES["invalid_initials"]))
    if problems:  # the consistency checks below compare the values checked above
        return problems
    return _consistency_problems(sub, kiosk=kiosk)


_NOTHING_TO_CHECK: Final = (int, bool, type(None), uuid.UUID)  # ints and bools are bounded by the schema


def _needs_visit(annotation: Any) -> bool:
    """False for a field whose validated value can only be an int, a bool, None, a UUID, an enum member or a
    literal constant: values written in the code or bounded by the schema, with nothing to check."""
    if annotation in _NOTHING_TO_CHECK or (isinstance(annotation, type) and issubclass(annotation, Enum)):
        return False
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return False
    if origin is typing.Union or origin is types.UnionType:
        return any(_needs_visit(arg) for arg in typing.get_args(annotation))
    return True


@cache
def _fields_to_visit(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(name for name, info in model.model_fields.items() if _needs_visit(info.annotation))


# Every UTC offset some place on Earth could use: whole minutes within ±14 h (one set look-up per time).
_PLAUSIBLE_OFFSETS: Final = frozenset(timedelta(minutes=m) for m in range(-14 * 60, 14 * 60 + 1))


def _always(_values: Any) -> bool:
    return True


def _texts_clean(texts: Collection[str]) -> bool:
    # text_is_clean is a rule on each character alone: a list of texts is clean when their concatenation is.
    return text_is_clean("".join(texts))


def _all_finite(numbers: Collection[float]) -> bool:
    return all(map(math.isfinite, numbers))


@cache
def _column_getters(model: type[BaseModel]) -> tuple[Callable[[Any], Any], ...]:
    """One getter per field of ``model`` to visit: ``map(getter, instances)`` is that field's column."""
    return tuple(attrgetter(name) for name in _fields_to_visit(model))


_NONE: Final = type(None)
_TZINFO: Final = attrgetter("tzinfo")
# Time zone types whose offset is one constant, whatever the time (neither can be subclassed): the standard
# library's (``datetime.UTC``, a kiosk's zone) and pydantic's (a validated JSON time's, UTC ones all one object).
_FIXED_OFFSET_ZONES: Final = frozenset({timezone, TzInfo})


class _Sound:
    """True when no leaf value has a problem — the same rules as :func:`_value_problems`, without building a
    field path per leaf (this runs on every submission the server ingests; the paths are only built, by
    :func:`_collect`, for a submission that has a problem). Only ``patient.birth_date`` has its own floor.

    A model's own fields are checked by their exact type, one dictionary look-up each. The items of a tuple, a
    list or a dict (a submission's ~30 answers, its scores) are checked as columns when they are all of one
    type (None aside: nothing to check in it): leaves all at once (:attr:`bulk`), models one field at a time
    across all of them, tuples of tuples flattened. Items of mixed types, or of another type, are checked one
    by one (:meth:`each`): by their exact type, else by :meth:`value`'s ``isinstance`` tests. Every leaf meets
    the same test either way, so the answer is the same."""

    def __init__(self, latest: datetime) -> None:
        self.latest = latest
        self.latest_date = (latest + MAX_UTC_OFFSET).date()
        self.check: dict[type, Callable[[Any], bool]] = {
            type(None): _always,
            int: _always,
            bool: _always,
            str: text_is_clean,
            float: math.isfinite,
            datetime: self.moment,
            date: self.day,
            tuple: self.items,
            list: self.items,
        }
        # the same tests as ``check``, on leaves all of that exact type
        self.bulk: dict[type, Callable[[Collection[Any]], bool]] = {
            int: _always,
            bool: _always,
            str: _texts_clean,
            float: _all_finite,
            datetime: self.moments,
            date: self.days,
        }

    def model(self, value: BaseModel, *, top: bool = False) -> bool:
        check = self.check
        for name in _fields_to_visit(type(value)):
            child = getattr(value, name)
            if top and name == "patient" and isinstance(child, BaseModel):
                for field in _fields_to_visit(type(child)):
                    leaf = getattr(child, field)
                    floor = BIRTH_DATE_FLOOR if field == "birth_date" else DATE_FLOOR
                    if not self.value(leaf, floor):
                        return False
                continue
            known = check.get(type(child))
            if not (known(child) if known is not None else self.value(child)):
                return False
        return True

    def moment(self, value: datetime) -> bool:
        return value.utcoffset() in _PLAUSIBLE_OFFSETS and DATETIME_FLOOR <= value <= self.latest

    def moments(self, values: Collection[datetime]) -> bool:
        """:meth:`moment` of every (exact) datetime. Times that share one fixed-offset time zone object (a
        kiosk's: all UTC) share their offset, and compare by their clock readings: the earliest and the latest
        are then the only ones to check (each ``utcoffset`` call, and so each comparison with a time of another
        zone, costs as much as the rest of a check)."""
        zones = set(map(_TZINFO, values))
        if len(zones) == 1 and type(zones.pop()) in _FIXED_OFFSET_ZONES:
            return self.moment(min(values)) and max(values) <= self.latest
        return all(map(self.moment, values))

    def day(self, value: date, floor: date = DATE_FLOOR) -> bool:
        return floor <= value <= self.latest_date

    def days(self, values: Collection[date]) -> bool:
        latest = self.latest_date
        return all(DATE_FLOOR <= value <= latest for value in values)

    def items(self, values: Collection[Any]) -> bool:
        """Every item sound: as columns when the items are all of one type, None aside (see the class)."""
        kinds = set(map(type, values))
        if _NONE in kinds:  # nothing to check in a None: leave them out
            kinds.discard(_NONE)
            if len(kinds) == 1:
                values = [item for item in values if item is not None]
        if len(kinds) != 1:
            return not kinds or self.each(values)
        kind = kinds.pop()
        bulk = self.bulk.get(kind)
        if bulk is not None:
            return bulk(values)
        if kind is tuple or kind is list:  # the items of the items, all of them at once
            return self.items(list(chain.from_iterable(values)))
        if issubclass(kind, BaseModel):  # one column per field, each checked as a tuple's items
            return all(self.items(list(map(column, values))) for column in _column_getters(kind))
        return self.each(values)

    def each(self, values: Iterable[Any]) -> bool:
        """Every item sound, checked one by one."""
        check = self.check
        for item in values:
            known = check.get(type(item))
            if not (known(item) if known is not None else self.value(item)):
                return False
        return True

    def value(self, value: Any, date_floor: date = DATE_FLOOR) -> bool:
        if value is None or isinstance(value, int):
            return True
        if isinstance(value, str):
            return text_is_clean(value)
        if isinstance(value, BaseModel):
            return self.model(value)
        if isinstance(value, tuple | list):
            return self.items(value)
        if isinstance(value, dict):  # keys are leaves too
            return self.items(value.keys()) and self.items(value.values())
        if isinstance(value, float):
            return math.isfinite(value)
        if isinstance(value, datetime):
            return self.moment(value)
        if isinstance(value, date):
            return self.day(value, date_floor)
        return True


def _collect(value: Any, path: str, latest: datetime, out: list[SubmissionProblem]) -> None:
    """The problems of every leaf value of a model, with its field path (``answers[3].transcript``); dict keys
    are leaves too. One plain recursion (this runs on every submission the server ingests)."""
    if value is None or isinstance(value, int):
        return  # nothing to check in these leaves (ints and bools are bounded by the schema)
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _collect(getattr(value, name), f"{path}.{name}" if path else name, latest, out)
    elif isinstance(value, tuple | list):
        for index, item in enumerate(value):
            _collect(item, f"{path}[{index}]", latest, out)
    elif isinstance(value, dict):
        for key, item in value.items():
            out.extend(_value_problems(f"{path}.<key>", key, latest))
            _collect(item, f"{path}.{key}" if text_is_clean(str(key)) else f"{path}.<key>", latest, out)
    else:
        out.extend(_value_problems(path, value, latest))


def _value_problems(path: str, value: Any, latest: datetime) -> Iterator[SubmissionProblem]:
    if isinstance(value, str):
        if not text_is_clean(value):
            yield SubmissionProblem("invalid_text", path, CODES["invalid_text"])
    elif isinstance(value, float):
        if not math.isfinite(value):
            yield SubmissionProblem("implausible_number", path, CODES["implausible_number"])
    elif isinstance(value, datetime):  # before date: a datetime is a date
        if value.utcoffset() not in _PLAUSIBLE_OFFSETS:
            yield SubmissionProblem("implausible_time_zone", path, "the UTC offset is beyond ±14:00")
        elif value < DATETIME_FLOOR:
            yield SubmissionProblem("implausible_date", path, f"before {DATETIME_FLOOR.date().isoformat()}")
        elif value > latest:
            yield SubmissionProblem("implausible_date", path, "in the future")
    elif isinstance(value, date):
        floor = BIRTH_DATE_FLOOR if path == "patient.birth_date" else DATE_FLOOR
        # the latest calendar date anywhere on Earth at ``latest``
        if value < floor:
            yield SubmissionProblem("implausible_date", path, f"before {floor.isoformat()}")
        elif value > (latest + MAX_UTC_OFFSET).date():
            yield SubmissionProblem("implausible_date", path, "in the future")


def _consistency_problems(sub: Submission, *, kiosk: bool) -> list[SubmissionProblem]:
    s = sub.session
    problems: list[SubmissionProblem] = []

    def order(field: str, earlier: datetime, later: datetime, message: str, *where: int) -> None:
        """A problem at ``field`` (its indices filled in only then) when ``later`` is before ``earlier``."""
        if later < earlier:
            problems.append(SubmissionProblem("implausible_date", field.format(*where), message))

    order("session.ended_at", s.started_at, s.ended_at, "before started_at")
    order("frozen_at", s.ended_at, sub.frozen_at, "before session.ended_at")
    span = (s.ended_at - s.started_at).total_seconds()
    if not math.isclose(s.duration_seconds, span, rel_tol=0, abs_tol=DURATION_TOLERANCE_SECONDS):
        problems.append(
            SubmissionProblem(
                "implausible_duration",
                "session.duration_seconds",
                f"is {s.duration_seconds:.3f} s; started_at to ended_at is {span:.3f} s",
            )
        )
    paused = sum(((p.ended_at or s.ended_at) - p.started_at).total_seconds() for p in s.pauses)
    if (
        not math.isclose(s.paused_seconds, paused, rel_tol=0, abs_tol=DURATION_TOLERANCE_SECONDS)
        or s.paused_seconds > span + DURATION_TOLERANCE_SECONDS
    ):
        problems.append(
            SubmissionProblem(
                "implausible_duration",
                "session.paused_seconds",
                f"is {s.paused_seconds:.3f} s; the pauses give {paused:.3f} s within a session of {span:.3f} s",
            )
        )
    if not kiosk:
        return problems
    for i, pause in enumerate(s.pauses):
        order("session.pauses[{}].started_at", s.started_at, pause.started_at, "before the session started", i)
        end = pause.ended_at or s.ended_at
        order("session.pauses[{}].ended_at", pause.started_at, end, "before the pause started", i)
        order("session.pauses[{}].ended_at", end, s.ended_at, "after the session ended", i)
    for i, change in enumerate(s.mode_changes):
        order("session.mode_changes[{}].at", s.started_at, change.at, "before the session started", i)
        order("session.mode_changes[{}].at", change.at, s.ended_at, "after the session ended", i)
    if s.check is not None:
        order("session.check.at", s.started_at, s.check.at, "before the session started")
        order("session.check.at", s.check.at, s.ended_at, "after the session ended")
    for i, consent in enumerate(sub.consents):
        order("consents[{}].at", consent.at, s.ended_at, "after the session ended", i)
    if _answers_in_order(sub.answers, s.started_at, s.ended_at):
        return problems  # the common case: the checks below all pass, one pass without a field path or message
    for i, answer in enumerate(sub.answers):
        order("answers[{}].first_shown_at", s.started_at, answer.first_shown_at, "before the session started", i)
        order("answers[{}].answered_at", answer.first_shown_at, answer.answered_at, "answered before it was shown", i)
        order("answers[{}].answered_at", answer.answered_at, s.ended_at, "after the session ended", i)
        for j, earlier in enumerate(answer.previous):
            order("answers[{}].previous[{}].at", s.started_at, earlier.at, "before the session started", i, j)
            order("answers[{}].previous[{}].at", earlier.at, answer.answered_at, "after the current answer", i, j)
    return problems


def _answers_in_order(answers: Iterable[AnswerRecord], started: datetime, ended: datetime) -> bool:
    """True when none of the answers' order checks in :func:`_consistency_problems` fails: their tests, negated
    (``order`` reports a problem when ``later < earlier``)."""
    for answer in answers:
        shown, answered = answer.first_shown_at, answer.answered_at
        if shown < started or answered < shown or ended < answered:
            return False
        if answer.previous and any(p.at < started or answered < p.at for p in answer.previous):
            return False
    return True
