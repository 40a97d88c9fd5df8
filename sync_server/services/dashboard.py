"""The researchers' dashboard: per site and month, sessions started / completed / abandoned, the median
duration of completed sessions, the share of answers given by voice and the share of voice answers the
patient had to confirm; and, over the whole selection, the answers missing per item in completed sessions.

Every figure is an SQL aggregate (:mod:`sync_server.repositories.dashboard`: roll-ups kept exact, checked in the
tests against ``GET /v1/stats``'s query and a direct count over every answer row); this module only puts the
rows side by side and divides. No patient identifier is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from sync_server.repositories.dashboard import AnswerCounts, DashboardRepository
from sync_server.repositories.submissions import SubmissionFilter


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class MonthRow:
    site: str
    month: date
    started: int
    completed: int
    abandoned: int
    median_duration_seconds: float | None
    answers: int
    voice_answers: int
    voice_confirmed: int

    @property
    def voice_share(self) -> float | None:
        return share(self.voice_answers, self.answers)

    @property
    def confirmation_share(self) -> float | None:
        return share(self.voice_confirmed, self.voice_answers)


@dataclass(frozen=True)
class ItemMissing:
    item: int
    missing: int
    completed: int

    @property
    def missing_share(self) -> float | None:
        return share(self.missing, self.completed)


@dataclass(frozen=True)
class Dashboard:
    rows: list[MonthRow]
    missing: list[ItemMissing]
    completed_sessions: int

    @property
    def started(self) -> int:
        return sum(r.started for r in self.rows)

    @property
    def completed(self) -> int:
        return sum(r.completed for r in self.rows)

    @property
    def abandoned(self) -> int:
        return sum(r.abandoned for r in self.rows)

    @property
    def voice_share(self) -> float | None:
        return share(sum(r.voice_answers for r in self.rows), sum(r.answers for r in self.rows))

    @property
    def confirmation_share(self) -> float | None:
        return share(sum(r.voice_confirmed for r in self.rows), sum(r.voice_answers for r in self.rows))


class DashboardService:
    def __init__(self, session: Session) -> None:
        self.answers = DashboardRepository(session)

    def build(self, where: SubmissionFilter, items: Sequence[int]) -> Dashboard:
        """The dashboard over ``where``; ``items`` are the instrument's item numbers (missing answers are
        reported for each of them, zero included)."""
        aggregates = self.answers.answer_aggregates(where)
        none = AnswerCounts(0, 0, 0)
        rows = []
        for row in self.answers.sessions_by_site_month(where):
            counts = aggregates.by_site_month.get((row["site"], row["month"]), none)
            median = row["median_duration_seconds"]
            rows.append(
                MonthRow(
                    site=row["site"],
                    month=row["month"],
                    started=row["started"],
                    completed=row["completed"],
                    abandoned=row["abandoned"],
                    median_duration_seconds=None if median is None else float(median),
                    answers=counts.answers,
                    voice_answers=counts.voice,
                    voice_confirmed=counts.voice_confirmed,
                )
            )
        completed = sum(r.completed for r in rows)
        missing = [ItemMissing(item, completed - aggregates.answered_by_item.get(item, 0), completed) for item in items]
        return Dashboard(rows=rows, missing=missing, completed_sessions=completed)
