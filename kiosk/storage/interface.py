"""What the kiosk needs from storage: a small interface, implemented on SQLite and by a fake for tests.

Every method is blocking; the UI calls them from its single database worker thread, never from the GUI thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from kiosk.domain.instrument import Instrument
from kiosk.domain.session import Session
from kiosk.domain.submission import Submission


class StorageError(Exception):
    """Storage failed. ``nurse_message`` is French text for the nurse screen: what happened and what to do."""

    def __init__(self, message: str, *, nurse_message: str) -> None:
        super().__init__(message)
        self.nurse_message = nurse_message


class CorruptDatabaseError(StorageError):
    """The database file is unreadable or not ours. It is never replaced silently."""


class DatabaseTooNewError(CorruptDatabaseError):
    """The database was written by a newer kiosk (an unknown schema revision). It is never downgraded.

    A subclass of :class:`CorruptDatabaseError` so that a screen that refuses to start on an unusable
    database handles it too; the ``nurse_message`` says to install the newer version instead.
    """


class SessionNotFoundError(StorageError):
    """``load`` was asked for a session id that the store does not hold."""


@dataclass(frozen=True)
class UnfinishedSession:
    """An interrupted session, as the nurse start screen offers it for resumption."""

    session_id: str
    initials: str  # shown to the nurse only ("Reprendre la session J.D. — question 14 sur 30"), never logged
    next_item: int | None  # first item not yet answered or skipped; None when all were
    item_count: int
    started_at: datetime
    instrument_id: str
    language: str


@dataclass(frozen=True)
class QueuedSubmission:
    submission_id: str
    status: str  # "pending" | "sent" | "rejected"
    created_at: datetime
    attempts: int
    last_error: str | None
    payload_json: str | None  # canonical JSON of the frozen Submission; None once purged after acknowledgement
    last_error_code: str | None = None  # the server's error code (e.g. "implausible_date") or the kiosk's own
    next_attempt_at: datetime | None = None  # None: due now
    sent_at: datetime | None = None
    server_receipt: str | None = None  # JSON text: what the centre answered (status, HTTP status, request id)
    purged_at: datetime | None = None  # the patient's details were removed from the tablet (still "envoyé")


@dataclass(frozen=True)
class SendResult:
    """The outcome of one send attempt, for :meth:`SessionStore.record_results` (many in one transaction)."""

    submission_id: str
    outcome: str  # "sent" | "failed" (still pending, retried later) | "rejected" (parked for good)
    receipt: str | None = None
    error: str | None = None
    code: str | None = None
    next_attempt_at: datetime | None = None


@dataclass(frozen=True)
class QueueCounts:
    """How many submissions are in each state; ``purged`` counts the sent ones whose details are gone."""

    pending: int = 0
    sent: int = 0
    rejected: int = 0
    purged: int = 0


class SessionStore(Protocol):
    def save(self, session: Session) -> None:
        """Persist the session's whole state durably (committed, fsynced) before returning.

        A completed or abandoned session is refused (``ValueError``): it is written by :meth:`finish`, together
        with its submission, so that a crash can never leave a finished session without its queued submission.
        """

    def finish(self, session: Session, submission: Submission) -> None:
        """In ONE transaction: save the finished session and queue its submission as "pending"."""

    def unfinished(self) -> list[UnfinishedSession]:
        """Sessions neither completed nor abandoned, newest first."""

    def load(self, session_id: str, instrument: Instrument) -> Session:
        """Restore a session exactly as last saved."""

    def pending_count(self) -> int:
        """How many submissions wait to be sent to the central server."""

    def queued(self, status: str | None = None, limit: int = 100) -> list[QueuedSubmission]:
        """Queued submissions, oldest first (optionally of one status)."""

    def device_id(self) -> str:
        """This kiosk's id (a uuid4 created and stored on first use), for the submission's ``device`` block."""

    def due(self, now: datetime, limit: int = 100) -> list[QueuedSubmission]:
        """Pending submissions whose next attempt is due at ``now`` (or never tried), oldest first."""

    def next_due_at(self) -> datetime | None:
        """When the earliest pending submission is due (its creation time if never tried); None: none pending."""

    def queue_counts(self) -> QueueCounts:
        """Submissions per state, for the nurse screen and ``qlq-kiosk sync``."""

    def mark_sent(self, submission_id: str, *, receipt: str | None) -> None:
        """The server accepted the submission: status "sent", ``receipt`` kept as the proof."""

    def mark_send_failed(
        self, submission_id: str, *, error: str, code: str | None = None, next_attempt_at: datetime | None = None
    ) -> None:
        """A send attempt failed (network, server down): counted, the error kept; still "pending", due again at
        ``next_attempt_at`` (None: at once)."""

    def mark_rejected(self, submission_id: str, *, error: str, code: str | None = None) -> None:
        """The server refused the submission for good (e.g. a conflict): status "rejected", reason kept. It is
        never sent again by the worker and never deleted."""

    def record_results(self, results: Sequence[SendResult]) -> int:
        """Apply many send results in ONE transaction (as ``mark_*`` would, one by one). A submission that is no
        longer pending is left as it is (logged); returns how many results were applied."""

    def purge_acknowledged(self, *, sent_before: datetime, superseded_only: bool = False) -> int:
        """Remove the patient's details (initials, birth date, answers, transcripts, payload) of every session whose
        submission the centre acknowledged at or before ``sent_before``; keeps status, receipt and content hash.
        ``superseded_only``: only sessions after which another session was started (the last patient's details
        stay until the next session). Returns how many were purged."""

    def get_setting(self, key: str) -> str | None: ...

    def set_setting(self, key: str, value: str) -> None: ...

    def close(self) -> None: ...
