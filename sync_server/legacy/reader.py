"""Read the web prototype's SQLite database and turn each of its sessions into a ``Submission``.

The reader streams: one query over ``sessions`` and one over ``responses``, both ordered by session id, merged
in Python, so only one session's responses are in memory at a time and no index is needed. Each session
yields either a :class:`LegacySession` or a :class:`LegacyProblem`; a problem never stops the import and a
session with any bad response is skipped whole, never imported in part.

Mapping decisions:
- ``submission_id`` = uuid5(uuid5(NAMESPACE_URL, "kiosque-qlq-c30:legacy"), legacy id): re-imports match;
- the instrument reference is qlq-c30 3.0 fr with the :data:`LEGACY_INSTRUMENT_SHA256` marker, because the
  prototype's wording differs from our file (value 3 read "Plutôt");
- initials are kept as written (stripped, cut to 12 characters); empty initials are a problem;
- modes "Standard"/"manual" → touch, "Continu (Web Speech)"/"continuous" → voice-continuous (case and spaces
  ignored); any other mode is a problem (the mode matters for mode-equivalence analyses: it is never guessed);
- response types voice/manual (or touch) → voice/touch; anything else, NULL included, is a problem;
- several responses to one item: the latest by timestamp (then by response id) is current, the others are
  ``previous``, oldest first; first_shown_at = earliest, answered_at = latest, times_shown = their number;
- a response text that is one of the scale's labels (or "Plutôt" for 3) but names another value is a problem;
- every produced submission is run through ``check_against_instrument`` (against :func:`legacy_instrument`,
  without consent); what it finds becomes a problem. This applies the server's own date rules: age
  18..120 and birth before the session date, stricter than the bare 0..150 plausibility check done first.
- session_date = today_date, else the calendar day created_at was written on (its own offset, not UTC's);
- started_at = created_at (else the first response), ended_at = completed_at (else the last response, else
  created_at), frozen_at = ended_at: nothing depends on the import time, so a re-import yields the very
  same payload (same content hash);
- outcome "completed" needs completed_at and an answer to every item; otherwise "abandoned" with the reason
  "legacy-incomplete".
The ``metadata`` column, when present, is not used; question 0 (the audio check) is ignored.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import ValidationError

from kiosk.domain.instrument import Instrument
from kiosk.domain.patient import age_on
from kiosk.domain.scoring import score_answers
from kiosk.domain.session import ItemStatus, Method, Mode
from kiosk.domain.submission import (
    AnswerRecord,
    DeviceRef,
    InstrumentRef,
    PatientBlock,
    PreviousAnswer,
    SessionBlock,
    Submission,
    check_against_instrument,
)

from .database import LegacyDatabaseError, open_read_only, table_columns
from .values import LegacyValueError, parse_bool, parse_date, parse_datetime, parse_float, parse_int

LEGACY_INSTRUMENT_SHA256 = hashlib.sha256(b"legacy-prototype:qlq-c30:fr").hexdigest()
LEGACY_NAMESPACE = uuid5(NAMESPACE_URL, "kiosque-qlq-c30:legacy")
LEGACY_DEVICE_ID = "legacy-prototype"
LEGACY_APP_VERSION = "prototype"
ABANDON_REASON = "legacy-incomplete"
MAX_INITIALS = 12
MAX_TRANSCRIPT = 1000
_MODES = {
    "standard": Mode.TOUCH,
    "manual": Mode.TOUCH,
    "continu (web speech)": Mode.VOICE_CONTINUOUS,
    "continuous": Mode.VOICE_CONTINUOUS,
}
_METHODS = {"voice": Method.VOICE, "manual": Method.TOUCH, "touch": Method.TOUCH}
_PROTOTYPE_LABELS = {"plutôt": 3}  # on 1–4 scales only
_RESPONSES_SQL = (
    "SELECT CAST(session_id AS TEXT) AS sid, id, question_num, score, response_text, transcript, "
    "response_type, timestamp, {confidence} FROM responses ORDER BY sid COLLATE BINARY, id"
)


@dataclass(frozen=True)
class LegacySession:
    legacy_id: str
    submission: Submission
    completed: bool


@dataclass(frozen=True)
class LegacyProblem:
    legacy_id: str | None
    row: str  # e.g. "sessions id=abc" or "responses id=17"
    message: str


LegacyResult = LegacySession | LegacyProblem


class _Reject(Exception):
    def __init__(self, row: str, message: str) -> None:
        super().__init__(message)
        self.row = row
        self.message = message


def legacy_submission_id(legacy_id: str) -> UUID:
    """The submission id of a prototype session: the same on every import."""
    return uuid5(LEGACY_NAMESPACE, legacy_id)


def legacy_instrument(instrument: Instrument) -> Instrument:
    """The instrument as legacy submissions name it: same items and scoring, the legacy content-hash marker."""
    return instrument.model_copy(
        update={
            "content_sha256": LEGACY_INSTRUMENT_SHA256,
            "source_name": f"{instrument.source_name} (legacy prototype marker)",
        }
    )


def read_legacy_db(path: Path, *, instrument: Instrument) -> Generator[LegacyResult, None, None]:
    """Open the prototype database read-only and stream its sessions.

    ``instrument`` must be the current French QLQ-C30 (its items and scoring are used). Raises
    :class:`LegacyDatabaseError` at once (not on first iteration) if the file is unusable. Iterate to the end
    or ``close()`` the iterator to release the database.
    """
    if (instrument.id, instrument.language) != ("qlq-c30", "fr"):
        raise ValueError(f"legacy sessions are qlq-c30/fr; got {instrument.id}/{instrument.language}")
    connection = open_read_only(path)
    try:
        columns = table_columns(connection, path)
    except LegacyDatabaseError:
        connection.close()
        raise
    return _stream(connection, "confidence" in columns["responses"], instrument)


def _stream(
    connection: sqlite3.Connection, has_confidence: bool, instrument: Instrument
) -> Generator[LegacyResult, None, None]:
    connection.row_factory = sqlite3.Row
    # Text that is not valid UTF-8 would otherwise abort the whole import; U+FFFD marks the damaged bytes.
    connection.text_factory = lambda raw: raw.decode("utf-8", "replace")
    check_instrument = legacy_instrument(instrument)
    confidence = "confidence" if has_confidence else "NULL AS confidence"
    try:
        sessions = connection.execute(
            "SELECT CAST(id AS TEXT) AS sid, initials, birth_date, today_date, mode, audio_enabled, created_at, "
            "completed_at FROM sessions ORDER BY sid COLLATE BINARY"
        )
        responses = connection.execute(_RESPONSES_SQL.replace("{confidence}", confidence))
        pending = responses.fetchone()
        for session in sessions:
            sid = session["sid"]
            if sid is None:
                yield LegacyProblem(None, "sessions id=NULL", "a session without an id cannot be imported")
                continue
            # Responses sort like sessions; those before this session's id (NULL first) belong to no session.
            while pending is not None and (pending["sid"] is None or pending["sid"] < sid):
                problem, pending = _orphans(pending, responses)
                yield problem
            group = []
            while pending is not None and pending["sid"] == sid:
                group.append(pending)
                pending = responses.fetchone()
            yield _convert(session, group, instrument, check_instrument)
        while pending is not None:
            problem, pending = _orphans(pending, responses)
            yield problem
    except sqlite3.Error as exc:
        raise LegacyDatabaseError(f"reading the legacy database failed: {exc}") from exc
    finally:
        connection.close()


def _orphans(first: sqlite3.Row, cursor: sqlite3.Cursor) -> tuple[LegacyProblem, sqlite3.Row | None]:
    """Consume the responses of one session id that has no session row; one problem for all of them."""
    sid, count, row = first["sid"], 0, first
    while row is not None and row["sid"] == sid:
        count += 1
        row = cursor.fetchone()
    what = "have no session_id" if sid is None else f"point to session {sid!r}, which does not exist"
    return LegacyProblem(sid, f"responses id={first['id']}", f"{count} response(s) {what}"), row


def _convert(
    session: sqlite3.Row, responses: list[sqlite3.Row], instrument: Instrument, check_instrument: Instrument
) -> LegacyResult:
    legacy_id = session["sid"]
    try:
        submission = _build(session, responses, instrument)
    except _Reject as reject:
        return LegacyProblem(legacy_id, reject.row, reject.message)
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return LegacyProblem(legacy_id, f"sessions id={legacy_id}", f"does not make a valid submission: {details}")
    problems = check_against_instrument(
        submission, check_instrument, today=datetime.now(UTC).date(), require_consent=False
    )
    if problems:
        return LegacyProblem(
            legacy_id, f"sessions id={legacy_id}", "fails the server's checks: " + "; ".join(str(p) for p in problems)
        )
    return LegacySession(legacy_id=legacy_id, submission=submission, completed=submission.outcome == "completed")


def _value(row: str, what: str, parse: Any, raw: object) -> Any:
    try:
        return parse(raw)
    except LegacyValueError as exc:
        raise _Reject(row, f"{what}: {exc}") from None


def _response_key(response: sqlite3.Row, at: datetime) -> tuple[datetime, int, str]:
    rid = response["id"]
    return (at, 0, f"{rid:020d}") if isinstance(rid, int) else (at, 1, str(rid))


def _build(session: sqlite3.Row, responses: list[sqlite3.Row], instrument: Instrument) -> Submission:  # noqa: PLR0912,PLR0915 - one legacy row's fields, each read and checked in turn
    legacy_id: str = session["sid"]
    here = f"sessions id={legacy_id}"
    initials = "" if session["initials"] is None else str(session["initials"]).strip()
    if not initials:
        raise _Reject(here, "initials are empty")
    birth = _value(here, "birth_date", parse_date, session["birth_date"])
    created = _value(here, "created_at", parse_datetime, session["created_at"])
    completed = _value(here, "completed_at", parse_datetime, session["completed_at"])
    # Without today_date, the day created_at was written on (its own offset, not shifted to UTC).
    session_date = _value(here, "today_date", parse_date, session["today_date"]) or (
        created and _value(here, "created_at", parse_date, session["created_at"])
    )
    if birth is None:
        raise _Reject(here, "birth_date is empty")
    if session_date is None:
        raise _Reject(here, "neither today_date nor created_at gives the session date")
    if birth > session_date:
        raise _Reject(here, f"birth date {birth} is after the session date {session_date}")
    age = age_on(birth, session_date)
    if not 0 <= age <= 150:
        raise _Reject(here, f"age {age} (born {birth}, session {session_date}) is impossible")
    raw_mode = "" if session["mode"] is None else str(session["mode"])
    mode = _MODES.get(" ".join(raw_mode.split()).casefold())
    if mode is None:
        raise _Reject(
            here, f"unknown mode {session['mode']!r} (known: Standard, manual, Continu (Web Speech), continuous)"
        )
    audio = _value(here, "audio_enabled", parse_bool, session["audio_enabled"])

    by_item: dict[int, list[tuple[tuple[datetime, int, str], PreviousAnswer]]] = {}
    for response in responses:
        where = f"responses id={response['id']}"
        number = _value(where, "question_num", parse_int, response["question_num"])
        if number == 0:
            continue  # the audio check, not an item
        if number not in instrument.item_numbers:
            raise _Reject(where, f"question_num {number} is not an item of {instrument.id}")
        value = _value(where, "score", parse_int, response["score"])
        scale = instrument.scale_of(number)
        if value not in scale.values:
            raise _Reject(where, f"score {value} of question {number} is outside {scale.min}..{scale.max}")
        text = " ".join(str(response["response_text"] or "").split()).casefold()
        named = {label.casefold(): v for v, label in scale.labels.items()}
        if scale.size == 4:
            named.update(_PROTOTYPE_LABELS)
        if text in named and named[text] != value:
            raise _Reject(where, f"response_text {response['response_text']!r} contradicts score {value}")
        method = _METHODS.get(str(response["response_type"] or "").strip().casefold())
        if method is None:
            raise _Reject(where, f"unknown response_type {response['response_type']!r} (known: voice, manual)")
        at = _value(where, "timestamp", parse_datetime, response["timestamp"])
        if at is None:
            raise _Reject(where, "timestamp is empty")
        confidence = _value(where, "confidence", parse_float, response["confidence"])
        if confidence is not None and not 0.0 <= confidence <= 1.0:
            raise _Reject(where, f"confidence {confidence!r} is outside 0..1")
        transcript = str(response["transcript"] or "").strip()[:MAX_TRANSCRIPT] or None
        event = PreviousAnswer(
            status=ItemStatus.ANSWERED, value=value, method=method, at=at, transcript=transcript, confidence=confidence
        )
        by_item.setdefault(number, []).append((_response_key(response, at), event))

    answers = []
    for number in instrument.item_numbers:
        events = [event for _, event in sorted(by_item.get(number, []), key=lambda pair: pair[0])]
        if not events:
            continue
        current = events[-1]
        answers.append(
            AnswerRecord(
                item=number,
                status=current.status,
                value=current.value,
                method=current.method,
                transcript=current.transcript,
                confidence=current.confidence,
                confirmed=False,
                first_shown_at=events[0].at,
                answered_at=current.at,
                times_shown=len(events),
                previous=tuple(events[:-1]),
            )
        )
    times = sorted(a.answered_at for a in answers)
    started = created or (min(a.first_shown_at for a in answers) if answers else None)
    if started is None:
        raise _Reject(here, "no created_at and no responses: the session has no time")
    ended = completed or (times[-1] if times else started)
    if ended < started:
        raise _Reject(here, f"the session ends ({ended.isoformat()}) before it starts ({started.isoformat()})")
    is_complete = completed is not None and len(answers) == instrument.item_count
    values = {a.item: a.value for a in answers}
    return Submission(
        submission_id=legacy_submission_id(legacy_id),
        outcome="completed" if is_complete else "abandoned",
        abandon_reason=None if is_complete else ABANDON_REASON,
        frozen_at=ended,
        instrument=InstrumentRef(
            id=instrument.id,
            version=instrument.version,
            language=instrument.language,
            content_sha256=LEGACY_INSTRUMENT_SHA256,
        ),
        device=DeviceRef(device_id=LEGACY_DEVICE_ID, app_version=LEGACY_APP_VERSION),
        patient=PatientBlock(initials=initials[:MAX_INITIALS], birth_date=birth, age_at_session=age),
        session=SessionBlock(
            session_date=session_date,
            mode=mode,
            initial_mode=mode,
            audio_enabled=audio,
            started_at=started,
            ended_at=ended,
            duration_seconds=(ended - started).total_seconds(),
            paused_seconds=0.0,
            check=None,
        ),
        consents=(),
        answers=tuple(answers),
        scores=score_answers(instrument, values).as_dict(),
    )
