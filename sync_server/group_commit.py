"""Group commit: the submissions that a worker's concurrent requests bring at the same moment are stored
together, several per transaction, instead of one transaction (and one round-trip, one commit) each.

A request hands its submission to :meth:`GroupCommit.insert` and waits. While no group is being stored, the
submission is stored at once, in a group of its own: at low load nothing waits for company. While groups are
being stored (at most ``in_flight`` at a time, each on its own connection of the ingest pool), the submissions
that arrive meanwhile wait, and the next group takes all of them (up to ``max_size``): the busier the worker,
the larger its groups, the fewer statements, commits and round-trips per submission. Nothing waits on a timer.

A group is stored by ONE statement (:data:`~sync_server.repositories.submissions.INSERT_GROUP_SQL`: the group's
rows and payloads sent as one JSON parameter), one transaction: per submission, neither a statement's overhead
nor its ~30 parameters to convert, on either side (a pipeline of one statement per submission cost the worker
0.1–0.3 ms more CPU per submission in groups of 8–32, and PostgreSQL 0.07–0.1 ms). Each request is answered
only after that commit: an acknowledged submission is on disk, as before. The statement answers for each
submission on its own (stored, id already taken, device no longer active), so every request still gets its own
outcome. A group of one is stored by :data:`~sync_server.repositories.submissions.INSERT_ALL_SQL`, cheaper
for PostgreSQL alone.

Should PostgreSQL refuse anything in a group (a value it cannot hold, say), none of the group was stored: its
submissions are then stored again one by one on the same connection, each in its own transaction, so that only
the refused one fails, with the error it would have had alone. A lost connection fails the whole group as a 503
``database_unavailable`` (``db.pooled_connection``): the kiosks keep their sessions queued and retry.

A group's submissions are stored in the order of their ids: two groups in flight at once that hold the same
ids (a kiosk retrying a batch while the first attempt is still being stored) then wait for each other in the
same order and cannot deadlock.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from sync_server import metrics
from sync_server.db import pooled_connection
from sync_server.errors import DatabaseUnavailable
from sync_server.repositories.submissions import ExistingSubmission, IngestRepository, Inserted, SubmissionRow

_Waiting = tuple[uuid.UUID, SubmissionRow, "asyncio.Future[Inserted]"]


class GroupCommit:
    """Stores submissions for one worker, grouping those that arrive while earlier groups are being stored.

    Implements the ingest service's store (``insert`` and ``existing``) on the worker's ingest pool."""

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection], *, max_size: int, in_flight: int) -> None:
        self.pool = pool
        self.max_size = max_size
        self.in_flight = in_flight
        self._waiting: deque[_Waiting] = deque()
        self._storing = 0  # groups being stored now (tasks running _store_waiting)
        self._tasks: set[asyncio.Task[None]] = set()  # the event loop keeps only weak references to tasks

    async def insert(self, row: dict[str, Any], *, payload_json: str) -> Inserted:
        """Store one submission (its row and payload, as ``IngestRepository.insert`` takes them) with whatever
        else is waiting; return once its group is committed. Raises what storing it alone would have raised."""
        future: asyncio.Future[Inserted] = asyncio.get_running_loop().create_future()
        self._waiting.append((row["submission_id"], (row, payload_json), future))
        if self._storing < self.in_flight:
            self._storing += 1
            task = asyncio.create_task(self._store_waiting())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        # A request cancelled meanwhile (its future with it) leaves its submission to be stored all the same:
        # the kiosk's retry then finds it "already received".
        return await future

    async def existing(self, submission_id: uuid.UUID) -> ExistingSubmission | None:
        async with pooled_connection(self.pool) as connection:
            return await IngestRepository(connection).existing(submission_id)

    async def _store_waiting(self) -> None:
        try:
            while self._waiting:
                group = [self._waiting.popleft() for _ in range(min(self.max_size, len(self._waiting)))]
                group.sort(key=lambda waiting: waiting[0])
                metrics.INGEST_GROUP_SIZE.observe(len(group))
                await self._store(group)
        finally:
            self._storing -= 1

    async def _store(self, group: list[_Waiting]) -> None:
        futures = [future for _id, _submission, future in group]
        outcomes: list[Inserted | BaseException]
        try:
            outcomes = await self._outcomes([submission for _id, submission, _future in group])
        except DatabaseUnavailable:
            outcomes = [DatabaseUnavailable() for _ in group]  # one each: a shared exception shares its traceback
        except Exception as exc:  # handed to every request of the group, which raises it (a 500)
            outcomes = [exc] * len(group)
        except BaseException:  # this task cancelled (the worker stops): so are the requests waiting on it
            for future in futures:
                future.cancel()
            raise
        _settle(futures, outcomes)

    async def _outcomes(self, submissions: list[SubmissionRow]) -> list[Inserted | BaseException]:
        async with pooled_connection(self.pool) as connection:
            repo = IngestRepository(connection)
            if len(submissions) == 1:
                return [await _alone(repo, submissions[0])]
            try:
                return list(await repo.insert_many(submissions))
            except psycopg.Error:
                if connection.broken:
                    raise
                metrics.INGEST_GROUPS_SPLIT.inc()
                return [await _alone(repo, s) for s in submissions]  # one by one: see the module docstring


async def _alone(repo: IngestRepository, submission: SubmissionRow) -> Inserted | BaseException:
    """One submission in its own transaction: its outcome, or the error PostgreSQL gave it (a broken
    connection is not one submission's error: it fails the rest of the group as a 503)."""
    row, payload_json = submission
    try:
        return await repo.insert(row, payload_json=payload_json)
    except psycopg.Error as exc:
        if repo.connection.broken:
            raise
        return exc


def _settle(futures: list[asyncio.Future[Inserted]], outcomes: list[Inserted | BaseException]) -> None:
    for future, outcome in zip(futures, outcomes, strict=True):
        if future.done():  # cancelled: nobody is waiting any more
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
