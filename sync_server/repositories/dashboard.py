"""Aggregates of the researchers' dashboard, computed in PostgreSQL (one pass over the answers).

Sessions per site and month come from :class:`~sync_server.repositories.stats.StatsRepository` (the same
query as ``GET /v1/stats``). The answer side is one statement over ``answers`` joined to ``submissions`` with
``GROUPING SETS``: the per-(site, month) counts (answer records, voice, voice confirmed) and the per-item
counts (values given in completed sessions) come out of the same scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Date, cast, func, select, tuple_
from sqlalchemy.orm import Session

from sync_server.models import Answer, Site, StoredSubmission
from sync_server.repositories.submissions import SubmissionFilter


@dataclass(frozen=True)
class AnswerCounts:
    answers: int
    voice: int
    voice_confirmed: int


@dataclass(frozen=True)
class AnswerAggregates:
    by_site_month: dict[tuple[str, date], AnswerCounts]
    answered_by_item: dict[int, int]  # item → values given in completed sessions


class DashboardRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def answer_aggregates(self, where: SubmissionFilter) -> AnswerAggregates:
        s = StoredSubmission
        month = cast(func.date_trunc("month", s.session_date), Date)
        voice = Answer.method == "voice"
        query = where.apply(
            select(Site.code.label("site"), month.label("month"), Answer.item.label("item"),
                   func.grouping(Answer.item).label("by_site_month"),
                   func.count().label("answers"),
                   func.count().filter(voice).label("voice"),
                   func.count().filter(voice, Answer.confirmed.is_(True)).label("voice_confirmed"),
                   func.count().filter(s.outcome == "completed", Answer.value.is_not(None)).label("answered"))
            .select_from(Answer)
            .join(s, s.id == Answer.submission_pk)
            .join(Site, Site.id == s.site_id)
        ).group_by(func.grouping_sets(tuple_(Site.code, month), tuple_(Answer.item)))
        by_site_month: dict[tuple[str, date], AnswerCounts] = {}
        by_item: dict[int, int] = {}
        for row in self.session.execute(query):
            if row.by_site_month:
                by_site_month[(row.site, row.month)] = AnswerCounts(row.answers, row.voice, row.voice_confirmed)
            else:
                by_item[int(row.item)] = int(row.answered)
        return AnswerAggregates(by_site_month, by_item)
