"""The kiosk's durable store: sessions (each one snapshot, all its answers) and the submission queue, in one file.

Every write is one ``BEGIN IMMEDIATE … COMMIT`` transaction on a WAL database with ``synchronous=FULL``, so
that when ``save`` returns, the answer is on the disk, and a crash at any moment leaves either the previous
state or the new one, never a mix. ``finish`` writes the final snapshot and queues the submission in the same
transaction. Opening refuses (and never touches) a file that is not a sound kiosk database: see
:mod:`kiosk.storage.database`.

Logs name sessions by id only: never initials or birth dates.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from uuid import uuid4

import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import (
    Engine,
    Table,
    TextClause,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from kiosk.domain.clock import SYSTEM_CLOCK, Clock
from kiosk.domain.instrument import Instrument
from kiosk.domain.session import Session
from kiosk.domain.submission import Submission
from kiosk.storage import database, encryption, messages, records
from kiosk.storage.interface import (
    CorruptDatabaseError,
    QueueCounts,
    QueuedSubmission,
    SendResult,
    SessionNotFoundError,
    StorageError,
    UnfinishedSession,
)
from kiosk.storage.schema import sessions, settings, submissions

log = logging.getLogger(__name__)

_ERROR_DETAILS = {
    "SQLITE_FULL": messages.DETAIL_DISK_FULL,
    "SQLITE_IOERR": messages.DETAIL_IO,
    "SQLITE_BUSY": messages.DETAIL_BUSY,
    "SQLITE_LOCKED": messages.DETAIL_BUSY,
    "SQLITE_READONLY": messages.DETAIL_READ_ONLY,
}


class SqliteSessionStore:
    """:class:`~kiosk.storage.interface.SessionStore` on a SQLite file, upgraded to the newest schema on open.

    ``key`` (64 hex digits) encrypts the file with SQLCipher; a plaintext file is encrypted in place first
    (:mod:`kiosk.storage.encryption`, whose :func:`~kiosk.storage.encryption.open_encrypted_store` is how the
    kiosk opens its real database). Without a key the file is plain SQLite (tests only).
    ``clock`` stamps rows (queueing time, send attempts); tests pass a :class:`~kiosk.domain.clock.FakeClock`.
    """

    def __init__(self, path: Path, *, key: str | None = None, clock: Clock = SYSTEM_CLOCK) -> None:
        self.path = Path(path)
        self._clock = clock
        self._device_id: str | None = None
        self.encrypted = key is not None
        if key is not None:
            encryption.remove_leftovers(self.path)
        revision = database.probe(self.path, key)
        database.check_revision(self.path, revision)
        if key is not None and database.is_plaintext(self.path):
            encryption.encrypt_in_place(self.path, key)
        database.create_private_file(self.path)
        self._engine: Engine | None = database.create_kiosk_engine(self.path, key)
        try:
            with self._transaction("open"):
                pass  # the first connection sets the pragmas and checks they took effect
            if revision != database.HEAD_REVISION:
                self._upgrade(revision)
        except BaseException:
            self.close()
            raise
        log.info("opened the local database %s", self.path)

    def _upgrade(self, revision: str | None) -> None:
        """Migrate to the head revision in ONE transaction: on any failure the file keeps its previous schema."""

        def nurse_message(detail: str) -> str:
            return messages.upgrade_failed(self.path, detail)

        with self._transaction("upgrade", nurse_message) as conn:
            try:
                database.upgrade(conn)
            except (SQLAlchemyError, StorageError):
                raise
            except Exception as exc:
                log.error("upgrading %s from revision %s failed: %s", self.path, revision, type(exc).__name__)
                raise StorageError(
                    f"{self.path}: upgrade from revision {revision} failed: {exc}",
                    nurse_message=nurse_message(messages.DETAIL_OTHER),
                ) from exc
            log.info(
                "database %s upgraded from revision %s to %s", self.path, revision, database.current_revision(conn)
            )

    # ----------------------------------------------------------------- plumbing
    @contextmanager
    def _transaction(
        self, action: str, nurse_message: Callable[[str], str] = messages.write_failed
    ) -> Iterator[Connection]:
        """One committed transaction; database errors become :class:`StorageError` with a nurse message."""
        if self._engine is None:
            raise StorageError("the store is closed", nurse_message=messages.STORE_CLOSED)
        try:
            with self._engine.begin() as conn:
                yield conn
        except DBAPIError as exc:
            code = getattr(exc.orig, "sqlite_errorname", "") or ""
            log.error("%s failed on %s: %s", action, self.path, code or type(exc.orig).__name__)
            if code.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
                raise CorruptDatabaseError(
                    f"{action}: {exc.orig}", nurse_message=messages.unreadable(self.path, messages.REASON_DAMAGED)
                ) from exc
            detail = next(
                (wording for prefix, wording in _ERROR_DETAILS.items() if code.startswith(prefix)),
                messages.DETAIL_OTHER,
            )
            raise StorageError(f"{action}: {exc.orig}", nurse_message=nurse_message(detail)) from exc
        except SQLAlchemyError as exc:
            log.error("%s failed on %s: %s", action, self.path, type(exc).__name__)
            raise StorageError(f"{action}: {exc}", nurse_message=nurse_message(messages.DETAIL_OTHER)) from exc

    def __enter__(self) -> SqliteSessionStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close every connection (the last one checkpoints the WAL into the file). Safe to call twice."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # ----------------------------------------------------------------- sessions
    def save(self, session: Session) -> None:
        records.check_saveable(session)
        row = records.session_row(session, now=self._clock.now())
        with self._transaction("save") as conn:
            stored_phase = conn.execute(_SELECT_PHASE, {"session_id": session.id}).scalar_one_or_none()
            records.refuse_if_finished(stored_phase)
            conn.execute(_UPSERT_SESSION, row)
        log.debug("saved session %s (phase %s, %d items shown)", session.id, session.phase.value, len(session.records))

    def finish(self, session: Session, submission: Submission) -> None:
        now = self._clock.now()
        row = records.submission_row(session, submission, now=now)
        session_row = records.session_row(session, now=now)
        with self._transaction("finish") as conn:
            stored_sha = conn.execute(
                select(submissions.c.content_sha256).where(submissions.c.submission_id == row["submission_id"])
            ).scalar_one_or_none()
            if stored_sha is not None:
                records.refuse_conflicting_submission(stored_sha, row["content_sha256"], row["submission_id"])
                log.info("session %s was already finished with the same submission: nothing to do", session.id)
                return
            conn.execute(_UPSERT_SESSION, session_row)
            _insert_submission(conn, row)
        log.info("finished session %s (%s); submission queued", session.id, session.phase.value)

    def unfinished(self) -> list[UnfinishedSession]:
        with self._transaction("unfinished") as conn:
            rows = (
                conn.execute(
                    select(sessions)
                    .where(sessions.c.phase.not_in(records.FINAL_PHASES))
                    .order_by(sessions.c.started_at.desc(), sessions.c.id)
                )
                .mappings()
                .all()
            )
        return [records.unfinished_from_row(row) for row in rows]

    def load(self, session_id: str, instrument: Instrument) -> Session:
        with self._transaction("load") as conn:
            row = conn.execute(
                select(sessions.c.snapshot_json, sessions.c.instrument_sha256).where(sessions.c.id == session_id)
            ).first()
        if row is None:
            raise SessionNotFoundError(f"no session {session_id}", nurse_message=messages.SESSION_NOT_FOUND)
        return records.restore_session(row.snapshot_json, row.instrument_sha256, instrument)

    # ----------------------------------------------------------------- submission queue
    def pending_count(self) -> int:
        with self._transaction("pending_count") as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(submissions).where(submissions.c.status == "pending")
                ).scalar_one()
            )

    def queued(self, status: str | None = None, limit: int = 100) -> list[QueuedSubmission]:
        records.check_status(status)
        records.check_limit(limit)
        query = select(submissions).order_by(submissions.c.created_at, literal_column("submissions.rowid"))
        if status is not None:
            query = query.where(submissions.c.status == status)
        with self._transaction("queued") as conn:
            rows = conn.execute(query.limit(limit)).mappings().all()
        return [records.queued_from_row(row) for row in rows]

    def due(self, now: datetime, limit: int = 100) -> list[QueuedSubmission]:
        records.check_limit(limit)
        stamp = records.to_iso(now)
        query = (
            select(submissions)
            .where(
                submissions.c.status == "pending",
                or_(submissions.c.next_attempt_at.is_(None), submissions.c.next_attempt_at <= stamp),
            )
            .order_by(submissions.c.created_at, literal_column("submissions.rowid"))
            .limit(limit)
        )
        with self._transaction("due") as conn:
            rows = conn.execute(query).mappings().all()
        return [records.queued_from_row(row) for row in rows]

    def next_due_at(self) -> datetime | None:
        with self._transaction("next_due_at") as conn:
            value = conn.execute(
                select(func.min(func.coalesce(submissions.c.next_attempt_at, submissions.c.created_at))).where(
                    submissions.c.status == "pending"
                )
            ).scalar_one_or_none()
        return None if value is None else records.parse_iso(str(value))

    def queue_counts(self) -> QueueCounts:
        with self._transaction("queue_counts") as conn:
            rows = conn.execute(
                select(submissions.c.status, func.count(), func.count(submissions.c.purged_at)).group_by(
                    submissions.c.status
                )
            ).all()
        counts = {status: (int(n), int(purged)) for status, n, purged in rows}
        return QueueCounts(
            pending=counts.get("pending", (0, 0))[0],
            sent=counts.get("sent", (0, 0))[0],
            rejected=counts.get("rejected", (0, 0))[0],
            purged=sum(p for _, p in counts.values()),
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
        if not results:
            return 0
        now = self._clock.now()
        applied = 0
        with self._transaction("record results") as conn:
            ids = [r.submission_id for r in results]
            stored = {
                str(row["submission_id"]): row
                for row in conn.execute(
                    select(submissions.c.submission_id, submissions.c.status, submissions.c.attempts).where(
                        submissions.c.submission_id.in_(ids)
                    )
                ).mappings()
            }
            for result in results:
                row = stored.get(result.submission_id)
                if row is None or row["status"] != "pending":
                    log.warning(
                        "submission %s is %s: send result %s ignored",
                        result.submission_id,
                        row["status"] if row else "unknown",
                        result.outcome,
                    )
                    continue
                values = records.result_update(result, row, now=now)
                conn.execute(
                    update(submissions).where(submissions.c.submission_id == result.submission_id).values(values)
                )
                applied += 1
        log.info("recorded %d send results", applied)
        return applied

    def purge_acknowledged(self, *, sent_before: datetime, superseded_only: bool = False) -> int:
        stamp = records.to_iso(sent_before)
        query = (
            select(submissions.c.session_id)
            .join(sessions, sessions.c.id == submissions.c.session_id)
            .where(submissions.c.status == "sent", submissions.c.purged_at.is_(None), submissions.c.sent_at <= stamp)
        )
        if superseded_only:
            newer = sessions.alias("newer")
            query = query.where(
                select(newer.c.id)
                .where(newer.c.started_at > func.coalesce(sessions.c.ended_at, sessions.c.started_at))
                .exists()
            )
        with self._transaction("purge") as conn:
            # Every connection has secure_delete on (database._set_pragmas): what the purge frees (old cells,
            # overflow pages of the snapshots) is zeroed, so the file keeps no copy.
            ids = [str(row[0]) for row in conn.execute(query)]
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                conn.execute(
                    update(submissions)
                    .where(submissions.c.session_id.in_(chunk))
                    .values(records.purge_update(now=self._clock.now()))
                )
                conn.execute(update(sessions).where(sessions.c.id.in_(chunk)).values(records.PURGED_SESSION))
        if ids:
            self._checkpoint()  # the old page versions in the -wal file go too
            log.info("purged the patient details of %d acknowledged sessions", len(ids))
        return len(ids)

    def _checkpoint(self) -> None:
        """Copy the WAL into the file and truncate it (best effort: a reader may hold it; the next purge retries)."""
        if self._engine is None:
            return
        raw = self._engine.raw_connection()  # outside any transaction (the engine's BEGIN IMMEDIATE would block it)
        try:
            busy = raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            if busy:
                log.warning("WAL checkpoint after the purge was blocked by a reader; the next purge retries")
        except (SQLAlchemyError, sqlcipher.Error) as exc:
            log.warning("WAL checkpoint after the purge failed: %s", type(exc).__name__)
        finally:
            raw.close()

    def _record_send_result(self, submission_id: str, outcome: str, **details: Any) -> None:
        with self._transaction(f"mark {outcome}") as conn:
            stored = (
                conn.execute(
                    select(submissions.c.status, submissions.c.attempts).where(
                        submissions.c.submission_id == submission_id
                    )
                )
                .mappings()
                .first()
            )
            values = records.send_result_update(submission_id, stored, outcome, now=self._clock.now(), **details)
            conn.execute(update(submissions).where(submissions.c.submission_id == submission_id).values(values))
        log.info("submission %s: send %s (attempt %d)", submission_id, outcome, values["attempts"])

    # ----------------------------------------------------------------- settings and device id
    def device_id(self) -> str:
        if self._device_id is None:
            with self._transaction("device_id") as conn:
                conn.execute(
                    sqlite_insert(settings)
                    .values(
                        key=records.DEVICE_ID_KEY,
                        value=str(uuid4()),
                        updated_at=records.to_iso(self._clock.now()),
                    )
                    .on_conflict_do_nothing(index_elements=[settings.c.key])
                )
                self._device_id = str(
                    conn.execute(select(settings.c.value).where(settings.c.key == records.DEVICE_ID_KEY)).scalar_one()
                )
        return self._device_id

    def get_setting(self, key: str) -> str | None:
        records.check_setting(key)
        with self._transaction("get_setting") as conn:
            value = conn.execute(select(settings.c.value).where(settings.c.key == key)).scalar_one_or_none()
        return None if value is None else str(value)

    def set_setting(self, key: str, value: str) -> None:
        records.check_setting(key, value)
        stamp = records.to_iso(self._clock.now())
        statement = sqlite_insert(settings).values(key=key, value=value, updated_at=stamp)
        statement = statement.on_conflict_do_update(
            index_elements=[settings.c.key], set_={"value": value, "updated_at": stamp}
        )
        with self._transaction("set_setting") as conn:
            conn.execute(statement)


def _upsert(table: Table) -> TextClause:
    """``INSERT … ON CONFLICT (primary key) DO UPDATE`` of every other column, as text built once.

    Text, because SQLAlchemy does not cache the compiled form of SQLite's ``on_conflict_do_update`` construct:
    compiling it again on every save cost more than the fsynced commit itself.
    """
    columns = [c.name for c in table.columns]
    keys = [c.name for c in table.primary_key.columns]
    updates = ", ".join(f"{name} = excluded.{name}" for name in columns if name not in keys)
    return text(
        f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608 - names from our own schema
        f"VALUES ({', '.join(':' + name for name in columns)}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    )


_UPSERT_SESSION = _upsert(sessions)
_SELECT_PHASE = select(sessions.c.phase).where(sessions.c.id == bindparam("session_id"))


def _insert_submission(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(submissions.insert().values(row))
