"""Queries on stored submissions, their answers and scores, and the audit table.

Inserting a submission is ``INSERT … ON CONFLICT (submission_id) DO NOTHING RETURNING id``: PostgreSQL makes a
concurrent second insert of the same id wait for the first transaction and then do nothing, so two identical
submissions racing each other give one insert and one "already received", never a duplicate row or a 500.

The submission row, its answers and its scores are written by ONE statement (:data:`INSERT_ALL_SQL`: data-modifying
CTEs, answers and scores unpacked server-side from the stored payload with ``json_to_recordset``/``json_each``,
so the JSON is sent and parsed once): one round-trip instead of ~50 single-row INSERTs, which is what makes the
ingest benchmark's throughput (see ``bench/server_ingest.py``). A group of submissions (the worker's group commit,
``group_commit.py``) is written by one such statement too (:data:`INSERT_GROUP_SQL`, the rows sent as one JSON
parameter). Both run on an async psycopg connection (:class:`IngestRepository`): the submission endpoints, batch
ingest and the legacy import all store through it.

The same statement stores a device's submission only if the device is still active (not revoked, same site) and
says whether it was (:class:`Inserted`): the submission endpoints authenticate devices from a per-worker cache
(``sync_server/device_cache.py``), and this is what keeps a revoked device from storing anything meanwhile. A
submission without a device (the legacy import) needs none.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from psycopg import AsyncConnection, AsyncCursor
from sqlalchemy import ARRAY, Select, cast, delete, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
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


ROW_COLUMNS = (  # the columns a prepared submission row gives (``services/ingest.py``)
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
# The wide row's arrays are sent as PostgreSQL's text form of an array (see :func:`array_literal`)
_ARRAYS = {
    "answer_values": "integer[]",
    "answer_methods": "integer[]",
    "score_codes": "text[]",
    "score_values": "float8[]",
}
_VALUES = ", ".join(f"CAST(%({c})s AS {_ARRAYS[c]})" if c in _ARRAYS else f"%({c})s" for c in ROW_COLUMNS)
# The answers and scores rows of the submissions ``s`` just stored, unpacked server-side from each stored
# payload's ``answers`` list and ``scores`` object (the payload is sent and parsed once): the same tail for one
# submission and for a group.
_CHILDREN_SQL = """
a AS (
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
    SELECT s.id, e.key, CAST(e.value #>> '{}' AS float8) FROM s, json_each(s.payload -> 'scores') AS e
)
"""
_DEVICE_ACTIVE_SQL = (
    "CAST({device} AS uuid) IS NULL OR EXISTS ("
    "SELECT FROM devices WHERE id = {device} AND site_id = {site} AND revoked_at IS NULL)"
)
INSERT_ALL_SQL = f"""
WITH d AS (
    SELECT {_DEVICE_ACTIVE_SQL.format(device="%(device_id)s", site="%(site_id)s")} AS active
), s AS (
    INSERT INTO submissions ({", ".join(ROW_COLUMNS)}, anonymized, payload)
    SELECT {_VALUES}, false, CAST(%(payload)s AS json) FROM d WHERE d.active
    ON CONFLICT (submission_id) DO NOTHING
    RETURNING id, payload
), {_CHILDREN_SQL}
SELECT (SELECT id FROM s), (SELECT active FROM d)
"""  # noqa: S608 - column names are constants, values are bound parameters
_SUBMISSIONS = StoredSubmission.__table__
_DIALECT = psycopg_dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy's dialect class is untyped
# One record per submission of a group: its row's columns, typed as the table's, its payload and its place.
_GROUP_RECORD = ", ".join(
    [f"{c} {_SUBMISSIONS.c[c].type.compile(dialect=_DIALECT)}" for c in ROW_COLUMNS] + ["payload json", "n integer"]
)
INSERT_GROUP_SQL = f"""
WITH d AS (
    SELECT g.*, {_DEVICE_ACTIVE_SQL.format(device="g.device_id", site="g.site_id")} AS active
    FROM json_to_recordset(CAST(%(group)s AS json)) AS g({_GROUP_RECORD})
), s AS (
    INSERT INTO submissions ({", ".join(ROW_COLUMNS)}, anonymized, payload)
    SELECT {", ".join(ROW_COLUMNS)}, false, payload FROM d WHERE d.active ORDER BY d.n
    ON CONFLICT (submission_id) DO NOTHING
    RETURNING id, submission_id, content_sha256, site_id, payload
), {_CHILDREN_SQL}
SELECT d.n, d.active, s.id FROM d LEFT JOIN s
    ON d.active AND s.submission_id = d.submission_id AND s.content_sha256 = d.content_sha256
    AND s.site_id = d.site_id
ORDER BY d.n
"""  # noqa: S608 - column names and types are constants, values are one bound parameter
EXISTING_SQL = "SELECT id, content_sha256, site_id, legacy_id FROM submissions WHERE submission_id = %(submission_id)s"
LEGACY_EXISTS_SQL = "SELECT 1 FROM submissions WHERE legacy_id = %(legacy_id)s"


@dataclass(frozen=True)
class Inserted:
    """What :data:`INSERT_ALL_SQL` did: the new row's primary key (None: nothing was stored, the id being taken
    or the device inactive), and whether the submitting device is active (always True without a device)."""

    pk: int | None
    device_active: bool


@dataclass(frozen=True)
class ExistingSubmission:
    pk: int
    content_sha256: str
    site_id: int
    legacy_id: str | None


def array_literal(values: Sequence[int | float | str | None]) -> str:
    """PostgreSQL's text form of a one-dimensional array: ``[1, None, 2.5]`` → ``{1,NULL,2.5}``, texts quoted
    (``"PF2"``, with ``\\`` and ``"`` escaped). A float's ``repr`` is the shortest text that reads back as the
    same double, which is what PostgreSQL then reads. Built here because psycopg's list adapter runs Python code
    per element: on a submission's four arrays it was ~10 % of the ingest worker's CPU."""
    return "{" + ",".join(_element(v) for v in values) + "}"


def _element(value: int | float | str | None) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, float):
        return repr(value)
    return str(int(value))


def insert_params(row: dict[str, Any], payload_json: str) -> dict[str, Any]:
    """The parameters of :data:`INSERT_ALL_SQL` for one submission row and its payload's JSON text."""
    params = {c: array_literal(row[c]) if c in _ARRAYS else row[c] for c in ROW_COLUMNS}
    params["payload"] = payload_json
    return params


SubmissionRow = tuple[dict[str, Any], str]  # a prepared submission's row and its payload's JSON text


def group_json(submissions: Sequence[SubmissionRow]) -> str:
    """The parameter of :data:`INSERT_GROUP_SQL`: a JSON array with one object per (row, payload JSON text), its
    columns, its payload embedded as the very text given (what was hashed is what is stored) and its place."""
    return orjson.dumps(
        [
            {**{c: row[c] for c in ROW_COLUMNS}, "payload": orjson.Fragment(payload_json), "n": n}
            for n, (row, payload_json) in enumerate(submissions)
        ]
    ).decode()


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
    """The statements that store submissions, on an async psycopg connection. In autocommit mode each is its own
    transaction: one submission (:meth:`insert`) or a group of them (:meth:`insert_many`), stored whole or not
    at all."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def insert(self, row: dict[str, Any], *, payload_json: str) -> Inserted:
        """Insert the submission with its answers and scores in one statement, unless its id exists or its
        device is no longer active (nothing is written then)."""
        return await self.inserted(await self.connection.execute(INSERT_ALL_SQL, insert_params(row, payload_json)))

    async def insert_many(self, submissions: Sequence[SubmissionRow]) -> list[Inserted]:
        """Several (row, payload JSON text) as :meth:`insert` would store each, in ONE statement
        (:data:`INSERT_GROUP_SQL`, the group sent as one JSON parameter), in the given order: one transaction,
        one round-trip and one statement's overhead for the whole group. Returns each one's outcome, in order;
        of two with the same id, the first is stored and the second finds its id taken.

        Raises PostgreSQL's error for a value it refuses: nothing of the group is stored then."""
        found = await (await self.connection.execute(INSERT_GROUP_SQL, {"group": group_json(submissions)})).fetchall()
        stored: set[int] = set()
        outcomes = []
        for _n, active, pk in found:
            first = pk is not None and pk not in stored
            outcomes.append(Inserted(int(pk) if first else None, bool(active)))
            if first:
                stored.add(pk)
        return outcomes

    @staticmethod
    async def inserted(cursor: AsyncCursor[Any]) -> Inserted:
        found = await cursor.fetchone()
        assert found is not None  # the statement always answers one row
        return Inserted(None if found[0] is None else int(found[0]), bool(found[1]))

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
