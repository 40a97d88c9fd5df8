"""Aggregations for ``GET /v1/stats``: sessions and answers per site and month, computed in PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Date, cast, func, select
from sqlalchemy.orm import Session

from sync_server.models import Answer, Site, StoredSubmission
from sync_server.repositories.submissions import SubmissionFilter


class StatsRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def sessions_by_site_month(self, where: SubmissionFilter) -> list[dict[str, Any]]:
        s = StoredSubmission
        month = cast(func.date_trunc("month", s.session_date), Date).label("month")
        completed = s.outcome == "completed"
        query = (
            where.apply(
                select(
                    Site.code.label("site"),
                    month,
                    func.count().label("started"),
                    func.count().filter(completed).label("completed"),
                    func.count().filter(s.outcome == "abandoned").label("abandoned"),
                    func.percentile_cont(0.5)
                    .within_group(s.duration_seconds)
                    .filter(completed)
                    .label("median_duration_seconds"),
                ).join(Site, Site.id == s.site_id)
            )
            .group_by(Site.code, month)
            .order_by(Site.code, month)
        )
        return [dict(row._mapping) for row in self.session.execute(query)]

    def answers_by_site_month(self, where: SubmissionFilter) -> dict[tuple[str, date], dict[str, int]]:
        s = StoredSubmission
        month = cast(func.date_trunc("month", s.session_date), Date).label("month")
        voice = Answer.method == "voice"
        query = where.apply(
            select(
                Site.code.label("site"),
                month,
                func.count().label("answers"),
                func.count().filter(voice).label("voice"),
                func.count().filter(voice, Answer.confirmed.is_(True)).label("voice_confirmed"),
            )
            .select_from(Answer)
            .join(s, s.id == Answer.submission_pk)
            .join(Site, Site.id == s.site_id)
        ).group_by(Site.code, month)
        return {
            (row.site, row.month): {"answers": row.answers, "voice": row.voice, "voice_confirmed": row.voice_confirmed}
            for row in self.session.execute(query)
        }
