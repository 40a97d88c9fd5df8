"""Receiving submissions: validate against the instrument, store once, tell retries from conflicts.

A submission is identified by its UUID and fingerprinted by the sha256 of its canonical JSON. Storing is
idempotent: the same id with the same fingerprint is "already received" (a retry after a lost reply), the
same id with other content is a conflict (409 ``submission_conflict``). Problems found by the domain's
``check_against_instrument`` are refused with their own stable code and the field they concern. The site
always comes from the device's token, never from the payload.

One service, :class:`IngestService`, storing in a :class:`SubmissionStore`: the submission endpoints in the
worker's ``GroupCommit`` (``sync_server/group_commit.py``: submissions that arrive together are stored together,
each request answered once its group is committed), the legacy import in an ``IngestRepository`` on a connection
of its own (one INSERT statement per submission).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, Protocol

import orjson
import psycopg
from pydantic import ValidationError

from kiosk.domain.instrument import Instrument
from kiosk.domain.plausibility import DEFAULT_CLOCK_SKEW
from kiosk.domain.scoring import score_codes
from kiosk.domain.session import ItemStatus, Method
from kiosk.domain.submission import Submission, check_against_instrument
from sync_server import metrics
from sync_server.errors import (
    AppError,
    DeviceRevoked,
    SubmissionConflict,
    Unprocessable,
    database_refusal,
    first_validation_error,
)
from sync_server.exports.columns import METHOD_CODES
from sync_server.repositories.submissions import ExistingSubmission, Inserted
from sync_server.services.instruments import InstrumentRegistry

Status = Literal["received", "already_received"]


class UnknownInstrument(Unprocessable):
    code = "unknown_instrument"


@dataclass(frozen=True)
class IngestResult:
    submission_id: uuid.UUID
    status: Status

    @property
    def http_status(self) -> int:
        return 201 if self.status == "received" else 200


def age_band(age: int) -> str:
    """Ten-year band kept after anonymization: 63 → "60-69"."""
    low = age // 10 * 10
    return f"{low}-{low + 9}"


# Where orjson's text of a JSON value differs from ``json.dumps(sort_keys=True, separators=(",", ":"),
# ensure_ascii=False)``, the domain's canonical form: only floats of magnitude below 1e-4, which orjson writes
# positionally (``0.00001``) or with a one-digit exponent (``1e-7``; json: ``1e-05``, ``1e-07``). Both forms
# show in its output; a string holding such text only costs the slower path. The two are tested apart: a pattern
# starting with a literal is searched for that literal first, an alternation is tried at every byte (7x slower).
_ORJSON_EXPONENT = re.compile(rb"e-[0-9](?![0-9])")


def _orjson_differs(blob: bytes) -> bool:
    return b"0.0000" in blob or _ORJSON_EXPONENT.search(blob) is not None


def canonical_payload(canonical: dict[str, Any]) -> tuple[bytes, str]:
    """The canonical JSON text of a submission (pydantic's JSON mode: str keys, non-finite floats already null)
    and its sha256, ``canonical_sha256``'s bytes exactly: the stored payload is the very text that was hashed.

    orjson writes it ~10x faster than ``json.dumps``; where its text could differ (see :func:`_orjson_differs`)
    or it refuses the value (integers beyond 64 bits: the database then refuses them with a clear 422), the
    text is ``json.dumps``'s."""
    try:
        blob = orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        blob = b""
    if not blob or _orjson_differs(blob):
        blob = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return blob, hashlib.sha256(blob).hexdigest()


def utc_today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class PreparedSubmission:
    """A validated submission, ready for the one INSERT that stores it (see ``repositories/submissions.py``)."""

    submission_id: uuid.UUID
    site_id: int
    source: str
    content_sha256: str
    row: dict[str, Any]
    payload_json: str


@contextmanager
def _rejections_counted() -> Iterator[None]:
    """Count every refusal (an :class:`AppError`) by its code; a database refusal of a value is a 422."""
    try:
        try:
            yield
        except psycopg.DataError as exc:  # e.g. a NUL character: PostgreSQL text refuses it
            raise Unprocessable(database_refusal(exc), code="invalid_value") from None
    except AppError as exc:
        metrics.SUBMISSIONS_REJECTED.labels(exc.code).inc()
        raise


def prepare_submission(
    instruments: InstrumentRegistry,
    sub: Submission,
    *,
    site_id: int,
    device_id: uuid.UUID | None,
    source: str = "kiosk",
    legacy_id: str | None = None,
    instrument: Instrument | None = None,
    require_consent: bool = True,
    today: date | None = None,
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
) -> PreparedSubmission:
    """Check the submission against its instrument (the domain's rules: answers, scale, rescored scores, dates,
    consent) and build its row. Raises :class:`Unprocessable` (or :class:`UnknownInstrument`) naming the field."""
    if instrument is None:
        instrument = instruments.find(sub.instrument)
        if instrument is None:
            field, message = instruments.describe_unknown(sub.instrument)
            raise UnknownInstrument(message, field=field)
    # ``today`` (tests, imports) keeps the date-based tolerance; otherwise times are checked against now + skew
    problems = check_against_instrument(
        sub,
        instrument,
        today=today or utc_today(),
        require_consent=require_consent,
        now=None if today else datetime.now(UTC),
        clock_skew=clock_skew,
    )
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise Unprocessable(first.message + more, field=first.field, code=first.code)
    payload_json, content = canonical_payload(sub.canonical_json())
    s = sub.session
    row = {
        **wide_columns(sub, instrument),
        "submission_id": sub.submission_id,
        "site_id": site_id,
        "device_id": device_id,
        "content_sha256": content,
        "instrument_id": sub.instrument.id,
        "instrument_language": sub.instrument.language,
        "instrument_sha256": sub.instrument.content_sha256,
        "outcome": sub.outcome,
        "mode": s.mode.value,
        "initial_mode": s.initial_mode.value,
        "audio_enabled": s.audio_enabled,
        "session_date": s.session_date,
        "started_at": s.started_at,
        "ended_at": s.ended_at,
        "duration_seconds": s.duration_seconds,
        "age_at_session": sub.patient.age_at_session,
        "age_band": age_band(sub.patient.age_at_session),
        "patient_initials": sub.patient.initials,
        "patient_birth_date": sub.patient.birth_date,
        "source": source,
        "legacy_id": legacy_id,
    }
    return PreparedSubmission(sub.submission_id, site_id, source, content, row, payload_json.decode())


# Each method's number: its code's place in METHOD_CODES, 1-based (one look-up per answer, no enum ``.value``)
_METHOD_NUMBERS: dict[Method, int] = {Method(code): number for number, code in enumerate(METHOD_CODES, start=1)}


def wide_columns(sub: Submission, instrument: Instrument) -> dict[str, Any]:
    """The session's wide row, pivoted once here for the CSV-wide export (``exports/csv_sql.py``): the answered
    value and the method (its code in :data:`METHOD_CODES`, 1-based) of item n at index n (PostgreSQL arrays
    are 1-based: list index n - 1), the number of items answered by voice, and the scores in the instrument's
    score order (``score_codes`` says which)."""
    size = max((a.item for a in sub.answers), default=0)
    values: list[int | None] = [None] * size
    methods: list[int | None] = [None] * size
    voice = 0
    answered, by_voice = ItemStatus.ANSWERED, Method.VOICE  # once: a member looked up on its enum is slow
    for a in sub.answers:
        methods[a.item - 1] = _METHOD_NUMBERS[a.method]
        if a.status is answered and a.value is not None:
            values[a.item - 1] = a.value
            voice += a.method is by_voice
    codes = list(score_codes(instrument))
    return {
        "answer_values": values,
        "answer_methods": methods,
        "voice_answers": voice,
        "score_codes": codes,
        "score_values": [sub.scores.get(code) for code in codes],
    }


def settle(prepared: PreparedSubmission, inserted: Inserted, existing: ExistingSubmission | None) -> IngestResult:
    """The outcome of the INSERT: stored, refused because the device has been revoked (401), or — the id being
    taken — a retry of the same content from the same site ("already received") or a conflict (409)."""
    if not inserted.device_active:
        raise DeviceRevoked()
    if inserted.pk is not None:
        metrics.SUBMISSIONS_RECEIVED.labels(prepared.source).inc()
        return IngestResult(prepared.submission_id, "received")
    if (
        existing is not None
        and existing.content_sha256 == prepared.content_sha256
        and existing.site_id == prepared.site_id
    ):
        metrics.SUBMISSIONS_DUPLICATE.inc()
        return IngestResult(prepared.submission_id, "already_received")
    raise SubmissionConflict(
        f"submission {prepared.submission_id} was already received with different content", field="submission_id"
    )


class SubmissionStore(Protocol):
    """Where :class:`IngestService` stores: an :class:`IngestRepository` on one connection (each submission its
    own statement; in the caller's transaction, if any), or the worker's ``GroupCommit`` (concurrent
    submissions stored together, on the ingest pool)."""

    async def insert(self, row: dict[str, Any], *, payload_json: str) -> Inserted: ...

    async def existing(self, submission_id: uuid.UUID) -> ExistingSubmission | None: ...


class IngestService:
    """Validate submissions and store them in a :class:`SubmissionStore`."""

    def __init__(
        self,
        store: SubmissionStore,
        instruments: InstrumentRegistry,
        *,
        clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
    ) -> None:
        self.clock_skew = clock_skew
        self.instruments = instruments
        self.store = store

    async def ingest(
        self,
        sub: Submission,
        *,
        site_id: int,
        device_id: uuid.UUID | None,
        source: str = "kiosk",
        legacy_id: str | None = None,
        instrument: Instrument | None = None,
        require_consent: bool = True,
        today: date | None = None,
    ) -> IngestResult:
        """Validate and store one submission. Raises :class:`AppError`."""
        with _rejections_counted():
            prepared = prepare_submission(
                self.instruments,
                sub,
                site_id=site_id,
                device_id=device_id,
                source=source,
                legacy_id=legacy_id,
                instrument=instrument,
                require_consent=require_consent,
                today=today,
                clock_skew=self.clock_skew,
            )
            return await self._stored(sub, prepared)

    async def ingest_batch(
        self, items: list[Any], *, site_id: int, device_id: uuid.UUID | None
    ) -> list[dict[str, Any]]:
        """Each item on its own: a bad item is reported and the others are still stored. The valid items are
        stored concurrently (with a ``GroupCommit`` store, together: see ``sync_server/group_commit.py``), and
        each is reported only once stored; a device revoked meanwhile has the whole batch refused (401), as its
        lookup would have."""
        results: list[dict[str, Any] | None] = [None] * len(items)
        valid: list[tuple[int, Submission, PreparedSubmission]] = []
        for index, raw in enumerate(items):
            checked = self._validated(index, raw, site_id=site_id, device_id=device_id)
            if isinstance(checked, dict):
                results[index] = checked
            else:
                valid.append((index, *checked))
        outcomes = await asyncio.gather(*(self._outcome(sub, prepared) for _index, sub, prepared in valid))
        if outcomes and all(isinstance(o, DeviceRevoked) for o in outcomes):
            raise DeviceRevoked()
        for (index, sub, _prepared), outcome in zip(valid, outcomes, strict=True):
            if isinstance(outcome, AppError):
                results[index] = _item(
                    index, str(sub.submission_id), "rejected", outcome.status, outcome.body()["error"]
                )
            else:
                results[index] = _item(index, str(sub.submission_id), outcome.status, outcome.http_status, None)
        return [r for r in results if r is not None]

    async def _stored(self, sub: Submission, prepared: PreparedSubmission) -> IngestResult:
        """Store a prepared submission and settle what happened (in ``_rejections_counted``)."""
        inserted = await self.store.insert(prepared.row, payload_json=prepared.payload_json)
        return settle(prepared, inserted, await self._existing_if_taken(inserted, sub))

    async def _outcome(self, sub: Submission, prepared: PreparedSubmission) -> IngestResult | AppError:
        try:
            with _rejections_counted():
                return await self._stored(sub, prepared)
        except AppError as exc:
            return exc

    async def _existing_if_taken(self, inserted: Inserted, sub: Submission) -> ExistingSubmission | None:
        """The stored submission holding this id, when the INSERT did nothing because the id was taken."""
        if inserted.pk is not None or not inserted.device_active:
            return None
        return await self.store.existing(sub.submission_id)

    def _validated(
        self, index: int, raw: Any, *, site_id: int, device_id: uuid.UUID | None
    ) -> tuple[Submission, PreparedSubmission] | dict[str, Any]:
        """The item parsed and checked, ready to store; or its rejection."""
        submission_id = raw.get("submission_id") if isinstance(raw, dict) else None
        try:
            sub = Submission.model_validate(raw)
        except ValidationError as exc:
            field, message = first_validation_error(list(exc.errors()))
            metrics.SUBMISSIONS_REJECTED.labels("invalid_payload").inc()
            return _item(
                index, submission_id, "rejected", 422, {"code": "invalid_payload", "message": message, "field": field}
            )
        try:
            with _rejections_counted():
                return sub, prepare_submission(
                    self.instruments, sub, site_id=site_id, device_id=device_id, clock_skew=self.clock_skew
                )
        except AppError as exc:
            return _item(index, str(sub.submission_id), "rejected", exc.status, exc.body()["error"])


def _item(
    index: int, submission_id: Any, status: str, http_status: int, error: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "index": index,
        "submission_id": submission_id if isinstance(submission_id, str) else None,
        "status": status,
        "http_status": http_status,
        "error": error,
    }
