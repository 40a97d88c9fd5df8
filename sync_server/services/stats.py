"""Collection statistics per site and month, for the research team's follow-up.

Per site and month of the session date: sessions started (every session received), completed, abandoned,
the median duration of completed sessions, the share of answer records given by voice, and the share of
voice answers the patient had to confirm (the recogniser was unsure). Shares are ``None`` when there is
nothing to divide.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from sync_server.repositories.stats import StatsRepository
from sync_server.repositories.submissions import SubmissionFilter


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


class StatsService:
    def __init__(self, session: Session) -> None:
        self.repo = StatsRepository(session)

    def by_site_month(self, where: SubmissionFilter) -> list[dict[str, Any]]:
        answers = self.repo.answers_by_site_month(where)
        rows = []
        for row in self.repo.sessions_by_site_month(where):
            counts = answers.get((row["site"], row["month"]), {"answers": 0, "voice": 0, "voice_confirmed": 0})
            rows.append(
                {
                    "site": row["site"],
                    "month": row["month"].strftime("%Y-%m"),
                    "sessions_started": row["started"],
                    "sessions_completed": row["completed"],
                    "sessions_abandoned": row["abandoned"],
                    "median_duration_seconds": row["median_duration_seconds"],
                    "answers": counts["answers"],
                    "voice_answer_share": _share(counts["voice"], counts["answers"]),
                    "voice_confirmation_share": _share(counts["voice_confirmed"], counts["voice"]),
                }
            )
        return rows
