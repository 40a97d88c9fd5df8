"""An in-memory :class:`~kiosk.storage.interface.SessionStore` for UI and view-model tests.

It follows the same rules as the SQLite store because it builds the same rows with the same checks
(:mod:`kiosk.storage.records`), and the shared behavioural tests run against both. Sessions are kept as their
row, snapshot included as JSON text: ``load`` always builds a new session from that text, as on the tablet.

:meth:`InMemorySessionStore.fail_next` makes the next call of a method raise, so that UI tests can show the
nurse what happens when the disk is full.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import uuid4

from kiosk.domain.clock import SYSTEM_CLOCK, Clock
from kiosk.domain.instrument import Instrument
from kiosk.domain.session import Session
from kiosk.domain.submission import Submission
from kiosk.storage import messages, records
from kiosk.storage.interface import (
    QueueCounts,
    QueuedSubmission,
    SendResult,
    SessionNotFoundError,
    StorageError,
    UnfinishedSession,
)


class InMemorySessionStore:
    """Behaves like :class:`~kiosk.storage.sqlite_store.SqliteSessionStore`, minus the file."""

    def __init__(self, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self._clock = clock
        self._sessions: dict[str, dict[str, Any]] = {}
        self._submissions: dict[str, dict[str, Any]] = {}
        self._order = itertools.count()  # tie-break of equal created_at, like SQLite's rowid
        self._settings: dict[str, str] = {}
        self._failures: dict[str, StorageError] = {}
        self._closed = False

    # ----------------------------------------------------------------- test helpers
    def fail_next(self, method: str, error: StorageError | None = None) -> None:
        """Make the next call of ``method`` (e.g. ``"save"``) raise ``error`` without changing anything."""
        if not callable(getattr(self, method, None)):
            raise AttributeError(f"InMemorySessionStore has no method {method!r}")
        self._failures[method] = error or StorageError(
            f"{method}: injected failure", nurse_message=messages.write_failed(messages.DETAIL_DISK_FULL)
        )

    def _enter(self, method: str) -> None:
        if self._closed:
            raise StorageError("the store is closed", nurse_message=messages.STORE_CLOSED)
        failure = self._failures.pop(method, None)
        if failure is not None:
            raise failure

    def close(self) -> None:
        self._closed = True

    # ----------------------------------------------------------------- sessions
    def save(self, session: Session) -> None:
        records.check_saveable(session)
        row = records.session_row(session, now=self._clock.now())
        self._enter("save")
        stored = self._sessions.get(session.id)
        records.refuse_if_finished(stored["phase"] if stored else None)
        self._sessions[session.id] = row

    def finish(self, session: Session, submission: Submission) -> None:
        now = self._clock.now()
        row = records.submission_row(session, submission, now=now)
        session_row = records.session_row(session, now=now)
        self._enter("finish")
        stored = self._submissions.get(row["submission_id"])
        if stored is not None:
            records.refuse_conflicting_submission(stored["content_sha256"], row["content_sha256"], row["submission_id"])
            return
        # Everything is computed and checked above: from here on, nothing can fail half-way.
        self._sessions[session.id] = session_row
        self._submissions[row["submission_id"]] = row | {"_order": next(self._order)}

    def unfinished(self) -> list[UnfinishedSession]:
        self._enter("unfinished")
        rows = [row for row in self._sessions.values() if row["phase"] not in records.FINAL_PHASES]
        rows.sort(key=lambda row: row["id"])
        rows.sort(key=lambda row: row["started_at"], reverse=True)
        return [records.unfinished_from_row(row) for row in rows]

    def load(self, session_id: str, instrument: Instrument) -> Session:
        self._enter("load")
        row = self._sessions.get(session_id)
        if row is None:
            raise SessionNotFoundError(f"no session {session_id}", nurse_message=messages.SESSION_NOT_FOUND)
        return records.restore_session(row["snapshot_json"], row["instrument_sha256"], instrument)

    # ----------------------------------------------------------------- submission queue
    def pending_count(self) -> int:
        self._enter("pending_count")
        return sum(1 for row in self._submissions.values() if row["status"] == "pending")

    def queued(self, status: str | None = None, limit: int = 100) -> list[QueuedSubmission]:
        records.check_status(status)
        records.check_limit(limit)
        self._enter("queued")
        rows = [row for row in self._submissions.values() if status is None or row["status"] == status]
        rows.sort(key=lambda row: (row["created_at"], row["_order"]))
        return [records.queued_from_row(row) for row in rows[:limit]]

    def due(self, now: datetime, limit: int = 100) -> list[QueuedSubmission]:
        records.check_limit(limit)
        self._enter("due")
        stamp = records.to_iso(now)
        rows = [
            row
            for row in self._submissions.values()
            if row["status"] == "pending" and (row["next_attempt_at"] is None or row["next_attempt_at"] <= stamp)
        ]
        rows.sort(key=lambda row: (row["created_at"], row["_order"]))
        return [records.queued_from_row(row) for row in rows[:limit]]

    def next_due_at(self) -> datetime | None:
        self._enter("next_due_at")
        keys = [records.due_key(row) for row in self._submissions.values() if row["status"] == "pending"]
        return records.parse_iso(min(keys)) if keys else None

    def queue_counts(self) -> QueueCounts:
        self._enter("queue_counts")
        rows = list(self._submissions.values())
        return QueueCounts(
            pending=sum(r["status"] == "pending" for r in rows),
            sent=sum(r["status"] == "sent" for r in rows),
            rejected=sum(r["status"] == "rejected" for r in rows),
            purged=sum(r["purged_at"] is not None for r in rows),
        )

    def mark_sent(self, submission_id: str, *, receipt: str | None) -> None:
        self._record_send_result(submission_id, "sent", receipt=receipt)

    def mark_send_failed(
        self, submission_id: str, *, error: str, code: str | None = None, next_attempt_at: datetime | None = None
    ) -> None:
        self._record_send_result(submission_id, "failed", error=error, code=code, next_attempt_at=next_attempt_at)

    def mark_rejected(self, submission_id: str, *, error: str, code: str | None = None) -> None:
        self._record_send_result(submission_id, "rejected", error=error, code=code)

    def record_results(self, results: Sequence[SendResult]) -> int:
        self._enter("record_results")
        now = self._clock.now()
        updates = []
        for result in results:  # computed first: nothing changes if one of them is malformed
            stored = self._submissions.get(result.submission_id)
            if stored is not None and stored["status"] == "pending":
                updates.append((stored, records.result_update(result, stored, now=now)))
        for stored, values in updates:
            stored.update(values)
        return len(updates)

    def purge_acknowledged(self, *, sent_before: datetime, superseded_only: bool = False) -> int:
        self._enter("purge_acknowledged")
        stamp = records.to_iso(sent_before)
        starts = [row["started_at"] for row in self._sessions.values()]

        def superseded(session_id: str) -> bool:
            session = self._sessions[session_id]
            end = session["ended_at"] or session["started_at"]
            return any(start > end for start in starts)

        rows = [
            row
            for row in self._submissions.values()
            if row["status"] == "sent"
            and row["purged_at"] is None
            and row["sent_at"] <= stamp
            and (not superseded_only or superseded(row["session_id"]))
        ]
        for row in rows:
            row.update(records.purge_update(now=self._clock.now()))
            self._sessions[row["session_id"]].update(records.PURGED_SESSION)
        return len(rows)

    def session_row(self, session_id: str) -> dict[str, Any]:
        """The ``sessions`` row as the SQLite store would hold it (a copy), for tests."""
        return dict(copy.deepcopy(self._sessions[session_id]))

    def _record_send_result(self, submission_id: str, outcome: str, **details: Any) -> None:
        self._enter(f"mark_{'send_failed' if outcome == 'failed' else outcome}")
        stored = self._submissions.get(submission_id)
        values = records.send_result_update(submission_id, stored, outcome, now=self._clock.now(), **details)
        assert stored is not None
        stored.update(values)

    # ----------------------------------------------------------------- settings and device id
    def device_id(self) -> str:
        self._enter("device_id")
        return self._settings.setdefault(records.DEVICE_ID_KEY, str(uuid4()))

    def get_setting(self, key: str) -> str | None:
        records.check_setting(key)
        self._enter("get_setting")
        return self._settings.get(key)

    def set_setting(self, key: str, value: str) -> None:
        records.check_setting(key, value)
        self._enter("set_setting")
        self._settings[key] = value
