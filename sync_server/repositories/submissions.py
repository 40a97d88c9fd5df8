"""Queries on stored submissions, their answers and scores, and the audit table.

Inserting a submission is ``INSERT … ON CONFLICT (submission_id) DO NOTHING RETURNING id``: PostgreSQL makes a
concurrent second insert of the same id wait for the first transaction and then do nothing, so two identical
submissions racing each other give one insert and one "already received", never a duplicate row or a 500.

The submission row, its answers and its scores are written by ONE statement (:data:`INSERT_ALL_SQL`: data-modifying
CTEs, answers and scores unpacked server-side from the stored payload with ``json_to_recordset``/``json_each``,
so the JSON is sent and parsed once): one round-trip instead of ~50 single-row INSERTs, which is what makes the
ingest benchmark's throughput (see ``bench/server_ingest.py``). It runs on an async psycopg connection
(:class:`IngestRepository`): the submission endpoints, batch ingest and the legacy import all store through it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date
from typing import Any

from psycopg import AsyncConnection, AsyncCursor
from sqlalchemy import ARRAY, Select, cast, delete, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from sync_server.models import Answer, AuditEvent, Score, Site, StoredSubmission


@dataclass(frozen=True)
class SubmissionFilter:
    """What exports, statistics and purges select on. ``None`` means no restriction."""

    site_id: int | None = None
    date_from: date | None = None  # session_date >= date_from
    date_to: date | None = None  # session_date <= date_to
    instrument_id: str | None = None
    instrument_language: str | None = None
    completed_only: bool = False
    max_pk: int | None = None  # bound a stream to the rows that existed when its audit row was written

    def apply(self, query: Select[Any]) -> Select[Any]:
        s = StoredSubmission
        if self.site_id is not None:
            query = query.where(s.site_id == self.site_id)
        if self.date_from is not None:
            query = query.where(s.session_date >= self.date_from)
        if self.date_to is not None:
            query = query.where(s.session_date <= self.date_to)
        if self.instrument_id is not None:
            query = query.where(s.instrument_id == self.instrument_id)
        if self.instrument_language is not None:
            query = query.where(s.instrument_language == self.instrument_language)
        if self.completed_only:
            query = query.where(s.outcome == "completed")
        if self.max_pk is not None:
            query = query.where(s.id <= self.max_pk)
        return query


_COLUMNS = (
    "submission_id",
    "site_id",
    "device_id",
    "content_sha256",
    "instrument_id",
    "instrument_language",
    "instrument_sha256",
    "outcome",
    "mode",
    "initial_mode",
    "audio_enabled",
    "session_date",
    "started_at",
    "ended_at",
    "duration_seconds",
    "answer_values",
    "answer_methods",
    "voice_answers",
    "score_codes",
    "score_values",
    "age_at_session",
    "age_band",
    "patient_initials",
    "patient_birth_date",
    "source",
    "legacy_id",
)
INSERT_ALL_SQL = f"""
WITH s AS (
    INSERT INTO submissions ({", ".join(_COLUMNS)}, anonymized, payload)
    VALUES ({", ".join(f"%({c})s" for c in _COLUMNS)}, false, CAST(%(payload)s AS json))
    ON CONFLICT (submission_id) DO NOTHING
    RETURNING id, payload
), a AS (
    INSERT INTO answers (submission_pk, item, value, status, method, transcript, confidence, confirmed,
                         first_shown_at, answered_at, times_shown, previous, voice)
    SELECT s.id, r.item, r.value, r.status, r.method, r.transcript, r.confidence, r.confirmed, r.first_shown_at,
           r.answered_at, r.times_shown, r.previous, NULLIF(r.voice, 'null'::jsonb)
    FROM s, json_to_recordset(s.payload -> 'answers') AS r(
        item smallint, value smallint, status text, method text, transcript text, confidence float8,
        confirmed boolean,
        first_shown_at timestamptz, answered_at timestamptz, times_shown smallint, previous jsonb, voice jsonb)
), sc AS (
    INSERT INTO scores (submission_pk, code, score)
    SELECT s.id, e.key, CAST(e.value #>> '{{}}' AS float8) FROM s, json_each(s.payload -> 'scores') AS e
)
SELECT id FROM s
"""  # noqa: S608 - column names are constants, values are bound parameters
EXISTING_SQL = "SELECT id, content_sha256, site_id, legacy_id FROM submissions WHERE submission_id = %(submission_id)s"
LEGACY_EXISTS_SQL = "SELECT 1 FROM submissions WHERE legacy_id = %(legacy_id)s"


@dataclass(frozen=True)
class ExistingSubmission:
    pk: int
    content_sha256: str
    site_id: int
    legacy_id: str | None


def insert_params(row: dict[str, Any], payload_json: str) -> dict[str, Any]:
    """The parameters of :data:`INSERT_ALL_SQL` for one submission row and its payload's JSON text."""
    params = {c: row[c] for c in _COLUMNS}
    params["payload"] = payload_json
    return params


class SubmissionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------------ writes
    def delete(self, pk: int) -> None:
        self.session.execute(delete(StoredSubmission).where(StoredSubmission.id == pk))

    def anonymize(self, pk: int, payload: dict[str, Any]) -> None:
        self.session.execute(
            update(StoredSubmission)
            .where(StoredSubmission.id == pk)
            .values(
                patient_initials=None, patient_birth_date=None, age_at_session=None, anonymized=True, payload=payload
            )
        )

    # ------------------------------------------------------------------ reads
    def get(self, submission_id: uuid.UUID) -> tuple[StoredSubmission, str] | None:
        row = self.session.execute(
            select(StoredSubmission, Site.code)
            .join(Site, Site.id == StoredSubmission.site_id)
            .where(StoredSubmission.submission_id == submission_id)
        ).first()
        return (row[0], row[1]) if row else None

    def answers_of(self, pk: int) -> list[Answer]:
        return list(self.session.scalars(select(Answer).where(Answer.submission_pk == pk).order_by(Answer.item)))

    def scores_of(self, pk: int) -> list[Score]:
        return list(self.session.scalars(select(Score).where(Score.submission_pk == pk)))

    def stream(self, where: SubmissionFilter, batch: int = 500) -> Iterator[tuple[StoredSubmission, str]]:
        """Every matching submission with its site code, read through a server-side cursor ``batch`` rows at a
        time, so memory stays flat however many rows match."""
        query = (
            where.apply(select(StoredSubmission, Site.code).join(Site, Site.id == StoredSubmission.site_id))
            .order_by(StoredSubmission.id)
            .execution_options(yield_per=batch)
        )
        for row in self.session.execute(query):
            yield row[0], row[1]
            self.session.expunge(row[0])

    def older_than(self, cutoff: date) -> list[tuple[int, uuid.UUID]]:
        query = (
            select(StoredSubmission.id, StoredSubmission.submission_id)
            .where(StoredSubmission.session_date < cutoff)
            .order_by(StoredSubmission.id)
        )
        return [(pk, sid) for pk, sid in self.session.execute(query).tuples()]

    def delete_many(self, pks: Sequence[int]) -> int:
        if not pks:
            return 0
        result = self.session.execute(delete(StoredSubmission).where(StoredSubmission.id.in_(list(pks))))
        return int(result.rowcount)  # type: ignore[attr-defined]

    def count(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(StoredSubmission)) or 0)


class IngestRepository:
    """The statements that store submissions, on an async psycopg connection. In autocommit mode (the ingest
    pool) the INSERT is one statement, so it is its own transaction: stored whole or not at all."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def insert_with_children(self, row: dict[str, Any], *, payload_json: str) -> int | None:
        """Insert the submission with its answers and scores in one statement, unless its id exists.

        The answers and scores rows are unpacked server-side from the stored payload's ``answers`` list and
        ``scores`` object (the payload is sent and parsed once). Returns the new primary key, or None when the
        submission id was already stored (nothing is written then)."""
        cursor = await self.connection.execute(INSERT_ALL_SQL, insert_params(row, payload_json))
        found = await cursor.fetchone()
        return int(found[0]) if found else None

    def pipeline(self) -> AbstractAsyncContextManager[Any]:
        """Send statements without waiting for each one's result (psycopg pipeline mode). On an autocommit
        connection PostgreSQL runs everything sent inside it as one implicit transaction, committed when the
        block ends: all of it is stored, or — on any error — none of it."""
        return self.connection.pipeline()

    async def send_insert(self, row: dict[str, Any], *, payload_json: str) -> AsyncCursor[Any]:
        """:meth:`insert_with_children`'s statement, sent; read its result with :meth:`inserted_pk`. Never
        prepared here: a statement prepared inside a pipeline that then fails is believed prepared by psycopg
        but was never created by the server ("prepared statement _pg3_0 does not exist" at its next use)."""
        return await self.connection.execute(INSERT_ALL_SQL, insert_params(row, payload_json), prepare=False)

    @staticmethod
    async def inserted_pk(cursor: AsyncCursor[Any]) -> int | None:
        found = await cursor.fetchone()
        return int(found[0]) if found else None

    async def existing(self, submission_id: uuid.UUID) -> ExistingSubmission | None:
        cursor = await self.connection.execute(EXISTING_SQL, {"submission_id": submission_id})
        found = await cursor.fetchone()
        return ExistingSubmission(*found) if found else None

    async def legacy_exists(self, legacy_id: str) -> bool:
        cursor = await self.connection.execute(LEGACY_EXISTS_SQL, {"legacy_id": legacy_id})
        return await cursor.fetchone() is not None


class AuditRepository:
    """Append-only: there is deliberately no update or delete here (PostgreSQL refuses them anyway)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def append(self, **values: Any) -> int:
        """Append one event; returns its id."""
        return int(self.session.execute(insert(AuditEvent).values(**values).returning(AuditEvent.id)).scalar_one())

    def append_for_selection(self, where: SubmissionFilter, **values: Any) -> tuple[int, int, int]:
        """Append one event listing every submission ``where`` selects (in primary-key order) and how many, in
        one statement: the ids go from the table into the row inside PostgreSQL, never through Python (100,000
        UUIDs cost ~0.4 s and ~15 MB there). Returns (the event's id, its row count, the highest primary key
        listed, 0 when none: what bounds the export to the sessions the row lists)."""
        chosen = where.apply(select(StoredSubmission.id, StoredSubmission.submission_id)).cte("chosen")
        listed = select(
            *(literal(value, AuditEvent.__table__.c[name].type).label(name) for name, value in values.items()),
            func.coalesce(
                func.array_agg(aggregate_order_by(chosen.c.submission_id, chosen.c.id)),
                cast(literal([], ARRAY(PG_UUID(as_uuid=True))), ARRAY(PG_UUID(as_uuid=True))),
            ).label("submission_ids"),
            func.count(chosen.c.id).label("row_count"),
        ).select_from(chosen)
        appended = (
            insert(AuditEvent)
            .from_select([*values, "submission_ids", "row_count"], listed)
            .returning(AuditEvent.id, AuditEvent.row_count)
            .cte("appended")
        )
        highest = select(func.coalesce(func.max(chosen.c.id), 0)).scalar_subquery()
        row = self.session.execute(select(appended.c.id, appended.c.row_count, highest)).one()
        return int(row[0]), int(row[1]), int(row[2])

    def list(self, limit: int = 100, action: str | None = None) -> list[AuditEvent]:
        query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        if action:
            query = query.where(AuditEvent.action == action)
        return list(self.session.scalars(query))
