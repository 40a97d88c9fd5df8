"""What sessions and submissions become in storage, and the rules every store applies to them.

Both :class:`~kiosk.storage.sqlite_store.SqliteSessionStore` and the in-memory fake build their rows and check
their arguments here, so that the fake behaves like the real store by construction and UI tests written against
the fake hold on the tablet. Nothing here touches a database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from kiosk.domain.instrument import Instrument
from kiosk.domain.session import Phase, Session
from kiosk.domain.submission import Submission
from kiosk.storage import messages
from kiosk.storage.interface import QueuedSubmission, SendResult, StorageError, UnfinishedSession

FINAL_PHASES = frozenset(p.value for p in Phase if p.is_final)
SUBMISSION_STATUSES = ("pending", "sent", "rejected")
DEVICE_ID_KEY = "device_id"
MAX_ERROR_LENGTH = 2000


def to_iso(value: datetime) -> str:
    """One fixed format (UTC, microseconds, explicit offset) so that stored times sort as text."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("stored times must be timezone-aware")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _compact_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def canonical_payload_json(submission: Submission) -> str:
    """The exact text whose sha256 is ``submission.content_sha256()`` (sorted keys, compact, UTF-8)."""
    return json.dumps(submission.canonical_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def session_row(session: Session, *, now: datetime) -> dict[str, Any]:
    """The ``sessions`` row written by ``save``/``finish``: the snapshot, and the columns the start screen queries."""
    instrument = session.instrument
    return {
        "id": session.id,
        "phase": session.phase.value,
        "started_at": to_iso(session.started_at),
        "ended_at": to_iso(session.ended_at) if session.ended_at is not None else None,
        "instrument_id": instrument.id,
        "instrument_language": instrument.language,
        "instrument_sha256": instrument.content_sha256,
        "item_count": instrument.item_count,
        "next_item": session.first_unanswered(),
        "initials": session.patient.initials,
        "snapshot_json": _compact_json(session.to_dict()),
        "updated_at": to_iso(now),
    }


def check_saveable(session: Session) -> None:
    """``save`` takes sessions in progress only; a finished one goes through ``finish`` with its submission."""
    if session.phase.is_final:
        raise ValueError(
            f"session {session.id} is {session.phase.value}: write it with finish(), together "
            "with its submission, not with save()"
        )


def refuse_if_finished(stored_phase: str | None) -> None:
    """A stale snapshot must never overwrite a finished session (its submission is already queued)."""
    if stored_phase in FINAL_PHASES:
        raise StorageError(
            "the session is already finished; it can no longer be saved",
            nurse_message=messages.SESSION_ALREADY_FINISHED,
        )


def restore_session(snapshot_json: str, stored_instrument_sha: str, instrument: Instrument) -> Session:
    if stored_instrument_sha != instrument.content_sha256:
        raise StorageError(
            "the session was started with another version of the instrument file",
            nurse_message=messages.INSTRUMENT_MISMATCH,
        )
    try:
        return Session.from_dict(json.loads(snapshot_json), instrument)
    except (ValueError, KeyError, TypeError) as exc:
        raise StorageError(
            f"the stored session snapshot cannot be restored: {exc}", nurse_message=messages.SESSION_UNREADABLE
        ) from exc


def submission_row(session: Session, submission: Submission, *, now: datetime) -> dict[str, Any]:
    """The ``submissions`` row queued by ``finish``; refuses a session and submission that do not belong together."""
    if not session.phase.is_final:
        raise ValueError(f"session {session.id} is {session.phase.value}: only a finished session is queued")
    if submission.submission_id != UUID(session.id):
        raise ValueError(f"submission {submission.submission_id} is not the submission of session {session.id}")
    payload = canonical_payload_json(submission)
    sha = submission.content_sha256()
    if hashlib.sha256(payload.encode("utf-8")).hexdigest() != sha:
        raise ValueError("the canonical payload text does not hash to the submission's content_sha256")
    return {
        "submission_id": str(submission.submission_id),
        "session_id": session.id,
        "status": "pending",
        "payload_json": payload,
        "content_sha256": sha,
        "created_at": to_iso(now),
        "attempts": 0,
        "last_error": None,
        "last_attempt_at": None,
        "sent_at": None,
        "server_receipt": None,
        "next_attempt_at": None,
        "last_error_code": None,
        "purged_at": None,
    }


def refuse_conflicting_submission(stored_sha: str, new_sha: str, submission_id: str) -> None:
    """Same id and same bytes: a retry, nothing to do. Same id, other bytes: a frozen payload never changes."""
    if stored_sha != new_sha:
        raise StorageError(
            f"submission {submission_id} is already queued with other content",
            nurse_message=messages.SUBMISSION_CONFLICT,
        )


def send_result_update(
    submission_id: str,
    stored: Mapping[Any, Any] | None,
    outcome: str,
    *,
    now: datetime,
    error: str | None = None,
    receipt: str | None = None,
    code: str | None = None,
    next_attempt_at: datetime | None = None,
) -> dict[str, Any]:
    """The columns a send attempt changes, given the stored row (its ``status`` and ``attempts``).

    Only a pending submission takes a result: a sent or rejected one never changes again.
    """
    if stored is None:
        raise ValueError(f"no queued submission {submission_id}")
    if stored["status"] != "pending":
        raise ValueError(f"submission {submission_id} is {stored['status']}, not pending; it takes no more results")
    stamp = to_iso(now)
    update: dict[str, Any] = {"last_attempt_at": stamp, "attempts": int(stored["attempts"]) + 1}
    if outcome == "sent":
        update |= {"status": "sent", "sent_at": stamp, "server_receipt": receipt, "next_attempt_at": None}
    elif outcome == "failed":
        update |= {
            "last_error": (error or "")[:MAX_ERROR_LENGTH],
            "last_error_code": _code(code),
            "next_attempt_at": to_iso(next_attempt_at) if next_attempt_at is not None else None,
        }
    elif outcome == "rejected":
        update |= {
            "status": "rejected",
            "last_error": (error or "")[:MAX_ERROR_LENGTH],
            "last_error_code": _code(code),
            "next_attempt_at": None,
        }
    else:
        raise ValueError(f"unknown send outcome {outcome!r}")
    return update


def result_update(result: SendResult, stored: Mapping[Any, Any], *, now: datetime) -> dict[str, Any]:
    """:func:`send_result_update` for a :class:`~kiosk.storage.interface.SendResult`."""
    return send_result_update(
        result.submission_id,
        stored,
        result.outcome,
        now=now,
        error=result.error,
        receipt=result.receipt,
        code=result.code,
        next_attempt_at=result.next_attempt_at,
    )


def _code(code: str | None) -> str | None:
    return None if code is None else str(code)[:64]


def due_key(row: Mapping[Any, Any]) -> str:
    """When a pending row is due, as stored text (never tried: its creation time)."""
    return str(row["next_attempt_at"] or row["created_at"])


def purge_update(*, now: datetime) -> dict[str, Any]:
    """What purging an acknowledged submission changes in its row: the payload goes, the proof stays."""
    return {"payload_json": None, "purged_at": to_iso(now)}


# What purging leaves of the session row: no initials, no snapshot (which holds the birth date and answers).
PURGED_SESSION = {"initials": "", "snapshot_json": ""}


def check_status(status: str | None) -> None:
    if status is not None and status not in SUBMISSION_STATUSES:
        raise ValueError(f"unknown submission status {status!r} (expected one of {', '.join(SUBMISSION_STATUSES)})")


def check_limit(limit: int) -> None:
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")


def check_setting(key: str, value: str | None = None) -> None:
    if not isinstance(key, str) or not key.strip():
        raise ValueError("a setting key is a non-empty string")
    if key == DEVICE_ID_KEY and value is not None:
        raise ValueError("the device id is created by device_id() and never set by hand")
    if value is not None and not isinstance(value, str):
        raise ValueError(f"setting {key!r}: values are strings, got {type(value).__name__}")


def unfinished_from_row(row: Mapping[Any, Any]) -> UnfinishedSession:
    return UnfinishedSession(
        session_id=row["id"],
        initials=row["initials"],
        next_item=row["next_item"],
        item_count=row["item_count"],
        started_at=parse_iso(row["started_at"]),
        instrument_id=row["instrument_id"],
        language=row["instrument_language"],
    )


def _maybe_time(value: str | None) -> datetime | None:
    return None if value is None else parse_iso(value)


def queued_from_row(row: Mapping[Any, Any]) -> QueuedSubmission:
    return QueuedSubmission(
        submission_id=row["submission_id"],
        status=row["status"],
        created_at=parse_iso(row["created_at"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        payload_json=row["payload_json"],
        last_error_code=row["last_error_code"],
        next_attempt_at=_maybe_time(row["next_attempt_at"]),
        sent_at=_maybe_time(row["sent_at"]),
        server_receipt=row["server_receipt"],
        purged_at=_maybe_time(row["purged_at"]),
    )
