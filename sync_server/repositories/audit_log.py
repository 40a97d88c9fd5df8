"""Reading the audit trail for the console: filtered, newest first, one page at a time (keyset on the id).

Read only, like every other access to the append-only table (``AuditRepository`` in
:mod:`sync_server.repositories.submissions` is the one that appends)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from sync_server.models import AuditEvent


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    actor: str | None = None  # exact actor, e.g. ``user:alice``
    date_from: date | None = None  # UTC day, inclusive
    date_to: date | None = None  # UTC day, inclusive
    submission_id: uuid.UUID | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.action:
            query = query.where(AuditEvent.action == self.action)
        if self.actor:
            query = query.where(AuditEvent.actor == self.actor)
        if self.date_from:
            query = query.where(AuditEvent.at >= datetime.combine(self.date_from, time.min, UTC))
        if self.date_to:
            query = query.where(AuditEvent.at < datetime.combine(self.date_to + timedelta(days=1), time.min, UTC))
        if self.submission_id:
            query = query.where(AuditEvent.submission_ids.contains([self.submission_id]))
        return query


class AuditLogRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def page(self, where: AuditFilter, *, before_id: int | None, size: int) -> tuple[list[AuditEvent], bool]:
        """Up to ``size`` events older than ``before_id`` (newest first), and whether more follow."""
        query = where.apply(select(AuditEvent))
        if before_id is not None:
            query = query.where(AuditEvent.id < before_id)
        events = list(self.session.scalars(query.order_by(AuditEvent.id.desc()).limit(size + 1)))
        return events[:size], len(events) > size
