"""Aggregates of the researchers' dashboard, in PostgreSQL.

Sessions per site and month (started, completed, abandoned, median duration) come from
:class:`~sync_server.repositories.stats.StatsRepository`: the very query of ``GET /v1/stats``, over the
``submissions`` table. The answer side — answer records, voice answers, confirmed voice answers per site and
month, and values given per item in completed sessions — would mean re-reading every answer row (3 million for
100,000 sessions) on every page view, so it is read from roll-ups (migration 0003) plus a live aggregate of the
few submissions the roll-ups do not cover yet:

- :meth:`DashboardRepository.refresh` (under a transaction-scoped advisory lock, so concurrent page views take
  turns) first checks the fingerprint of the covered set (count, sum and XOR of the ids up to ``max_pk``). A
  mismatch means a covered session was deleted or purged, or one committed late under a smaller id: the roll-ups
  are rebuilt from scratch. Then it adds every submission received more than :data:`ROLLUP_LAG` ago (so
  transactions still in flight are not skipped over) with one ``INSERT … SELECT … ON CONFLICT DO UPDATE`` per
  table and advances ``max_pk``.
- :meth:`DashboardRepository.answer_aggregates` sums the roll-up rows matching the filter and the live
  aggregate of the submissions above ``max_pk``: one statement per site and month, one per item.

:meth:`DashboardRepository.answer_aggregates_direct` is the same result straight from ``answers`` — used for
filters the roll-ups cannot answer (instrument, completed only) and by the tests as the reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, cast, func, select, tuple_
from sqlalchemy.orm import Session

from sync_server.models import Answer, Site, StoredSubmission
from sync_server.repositories.stats import StatsRepository
from sync_server.repositories.submissions import SubmissionFilter

ROLLUP_LAG = "60 seconds"
_LOCK_KEY = 0x51_4C_51_44  # any constant: the advisory lock of the roll-up refresh

_STATE_SQL = "SELECT max_pk, row_count, pk_sum, pk_xor FROM dashboard_rollup_state WHERE id = 1"
_FINGERPRINT_SQL = (
    "SELECT count(*), coalesce(sum(id), 0), coalesce(bit_xor(id), 0) FROM submissions "
    "WHERE id > %(low)s AND id <= %(high)s"
)
_TARGET_SQL = (
    "SELECT max(id) FROM submissions WHERE id > %(low)s "  # noqa: S608 - ROLLUP_LAG is a constant
    f"AND received_at < now() - interval '{ROLLUP_LAG}'"
)
_ADD_ANSWERS_SQL = """
INSERT INTO dashboard_rollup (site_id, session_date, answers, voice, voice_confirmed)
SELECT s.site_id, s.session_date, count(*), count(*) FILTER (WHERE a.method = 'voice'),
       count(*) FILTER (WHERE a.method = 'voice' AND a.confirmed)
FROM submissions AS s JOIN answers AS a ON a.submission_pk = s.id
WHERE s.id > %(low)s AND s.id <= %(high)s
GROUP BY s.site_id, s.session_date
ON CONFLICT (site_id, session_date) DO UPDATE SET
    answers = dashboard_rollup.answers + excluded.answers,
    voice = dashboard_rollup.voice + excluded.voice,
    voice_confirmed = dashboard_rollup.voice_confirmed + excluded.voice_confirmed
"""
_ADD_ITEMS_SQL = """
INSERT INTO dashboard_item_rollup (site_id, session_date, item, answered)
SELECT s.site_id, s.session_date, a.item, count(*)
FROM submissions AS s JOIN answers AS a ON a.submission_pk = s.id
WHERE s.id > %(low)s AND s.id <= %(high)s AND s.outcome = 'completed' AND a.value IS NOT NULL
GROUP BY s.site_id, s.session_date, a.item
ON CONFLICT (site_id, session_date, item) DO UPDATE SET
    answered = dashboard_item_rollup.answered + excluded.answered
"""
# Months touched by the new ids are recounted whole (every session of that site and month up to ``high``): a
# median cannot be added to, only recomputed.
_MONTHS_SQL = """
WITH touched AS (
    SELECT DISTINCT site_id, CAST(date_trunc('month', session_date) AS date) AS month
    FROM submissions WHERE id > %(low)s AND id <= %(high)s
)
INSERT INTO dashboard_month_rollup (site_id, month, started, completed, abandoned, median_duration_seconds)
SELECT t.site_id, t.month, count(*), count(*) FILTER (WHERE s.outcome = 'completed'),
       count(*) FILTER (WHERE s.outcome = 'abandoned'),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY s.duration_seconds) FILTER (WHERE s.outcome = 'completed')
FROM touched AS t JOIN submissions AS s ON s.site_id = t.site_id AND s.session_date >= t.month
     AND s.session_date < t.month + interval '1 month' AND s.id <= %(high)s
GROUP BY t.site_id, t.month
ON CONFLICT (site_id, month) DO UPDATE SET started = excluded.started, completed = excluded.completed,
    abandoned = excluded.abandoned, median_duration_seconds = excluded.median_duration_seconds
"""
# Per site and month: whole months from the month roll-up; months cut by the date filter, and months with
# sessions above max_pk (the live tail), counted directly — only those months' rows are read.
_SESSIONS_SQL = """
WITH direct AS (
    SELECT DISTINCT site_id, CAST(date_trunc('month', session_date) AS date) AS month
    FROM submissions WHERE id > %(max_pk)s
    UNION
    SELECT sites.id, m.month FROM sites, (VALUES (%(from_month)s::date), (%(to_month)s::date)) AS m(month)
    WHERE m.month IS NOT NULL
), rows AS (
    SELECT r.site_id, r.month, r.started, r.completed, r.abandoned, r.median_duration_seconds
    FROM dashboard_month_rollup AS r
    WHERE {month_where} AND NOT EXISTS (SELECT 1 FROM direct AS d WHERE d.site_id = r.site_id AND d.month = r.month)
    UNION ALL
    SELECT s.site_id, d.month, count(*), count(*) FILTER (WHERE s.outcome = 'completed'),
           count(*) FILTER (WHERE s.outcome = 'abandoned'),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY s.duration_seconds) FILTER (WHERE s.outcome = 'completed')
    FROM direct AS d JOIN submissions AS s ON s.site_id = d.site_id AND s.session_date >= d.month
         AND s.session_date < d.month + interval '1 month'
    WHERE {live_where}
    GROUP BY s.site_id, d.month
)
SELECT sites.code AS site, rows.month, rows.started, rows.completed, rows.abandoned,
       rows.median_duration_seconds
FROM rows JOIN sites ON sites.id = rows.site_id
ORDER BY sites.code, rows.month
"""
_SAVE_STATE_SQL = """
INSERT INTO dashboard_rollup_state (id, max_pk, row_count, pk_sum, pk_xor)
VALUES (1, %(max_pk)s, %(row_count)s, %(pk_sum)s, %(pk_xor)s)
ON CONFLICT (id) DO UPDATE SET max_pk = excluded.max_pk, row_count = excluded.row_count,
    pk_sum = excluded.pk_sum, pk_xor = excluded.pk_xor
"""
# Two plain statements (cheaper than one GROUPING SETS over the union): roll-up rows plus the live tail (ids
# above max_pk), filtered alike; one grouped per site and month, the other per item.
_SITE_MONTH_SQL = """
SELECT sites.code AS site, p.month, sum(p.answers) AS answers, sum(p.voice) AS voice,
       sum(p.voice_confirmed) AS voice_confirmed
FROM (
    SELECT r.site_id, CAST(date_trunc('month', r.session_date) AS date) AS month, sum(r.answers) AS answers,
           sum(r.voice) AS voice, sum(r.voice_confirmed) AS voice_confirmed
    FROM dashboard_rollup AS r WHERE {rollup_where} GROUP BY 1, 2
    UNION ALL
    SELECT s.site_id, CAST(date_trunc('month', s.session_date) AS date), count(*),
           count(*) FILTER (WHERE a.method = 'voice'), count(*) FILTER (WHERE a.method = 'voice' AND a.confirmed)
    FROM submissions AS s JOIN answers AS a ON a.submission_pk = s.id
    WHERE s.id > %(max_pk)s AND {live_where} GROUP BY 1, 2
) AS p JOIN sites ON sites.id = p.site_id
GROUP BY sites.code, p.month
"""
_ITEMS_SQL = """
SELECT p.item, sum(p.answered) AS answered
FROM (
    SELECT r.item, sum(r.answered) AS answered FROM dashboard_item_rollup AS r WHERE {rollup_where} GROUP BY 1
    UNION ALL
    SELECT a.item, count(*)
    FROM submissions AS s JOIN answers AS a ON a.submission_pk = s.id
    WHERE s.id > %(max_pk)s AND {live_where} AND s.outcome = 'completed' AND a.value IS NOT NULL GROUP BY 1
) AS p
GROUP BY p.item
"""


@dataclass(frozen=True)
class AnswerCounts:
    answers: int
    voice: int
    voice_confirmed: int


@dataclass(frozen=True)
class AnswerAggregates:
    by_site_month: dict[tuple[str, date], AnswerCounts]
    answered_by_item: dict[int, int]  # item → values given in completed sessions


def rollup_can_answer(where: SubmissionFilter) -> bool:
    """The roll-ups are per site and day: they answer site and date filters, nothing finer."""
    return (
        where.instrument_id is None
        and where.instrument_language is None
        and not where.completed_only
        and where.max_pk is None
    )


class DashboardRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------------ roll-ups
    def refresh(self) -> int:
        """Bring the roll-ups up to date (see the module docstring); returns the id they cover up to."""
        conn = self.session.connection()
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%(key)s)", {"key": _LOCK_KEY})
        state = conn.exec_driver_sql(_STATE_SQL).first()
        max_pk, count, total, xor = (
            (int(state[0]), int(state[1]), int(state[2]), int(state[3])) if state else (0, 0, 0, 0)
        )
        if max_pk:
            now = conn.exec_driver_sql(_FINGERPRINT_SQL, {"low": 0, "high": max_pk}).one()
            if (int(now[0]), int(now[1]), int(now[2])) != (count, total, xor):
                conn.exec_driver_sql("DELETE FROM dashboard_rollup")
                conn.exec_driver_sql("DELETE FROM dashboard_item_rollup")
                conn.exec_driver_sql("DELETE FROM dashboard_month_rollup")
                max_pk, count, total, xor = 0, 0, 0, 0
        target = conn.exec_driver_sql(_TARGET_SQL, {"low": max_pk}).scalar()
        if target is None:
            if not state or max_pk != int(state[0]):
                self._save(max_pk, count, total, xor)
            return max_pk
        bounds = {"low": max_pk, "high": int(target)}
        conn.exec_driver_sql(_ADD_ANSWERS_SQL, bounds)
        conn.exec_driver_sql(_ADD_ITEMS_SQL, bounds)
        conn.exec_driver_sql(_MONTHS_SQL, bounds)
        added = conn.exec_driver_sql(_FINGERPRINT_SQL, bounds).one()
        self._save(int(target), count + int(added[0]), total + int(added[1]), xor ^ int(added[2]))
        return int(target)

    def _save(self, max_pk: int, count: int, total: int, xor: int) -> None:
        self.session.connection().exec_driver_sql(
            _SAVE_STATE_SQL, {"max_pk": max_pk, "row_count": count, "pk_sum": total, "pk_xor": xor}
        )

    def answer_aggregates(self, where: SubmissionFilter) -> AnswerAggregates:
        """The answer-side aggregates over ``where``: from the roll-ups (refreshed first) and the live tail."""
        if not rollup_can_answer(where):
            return self.answer_aggregates_direct(where)
        max_pk = self.refresh()
        params: dict[str, Any] = {"max_pk": max_pk}
        rollup_where, live_where = ["TRUE"], ["TRUE"]
        for column, op, key, value in (
            ("site_id", "=", "site_id", where.site_id),
            ("session_date", ">=", "date_from", where.date_from),
            ("session_date", "<=", "date_to", where.date_to),
        ):
            if value is not None:
                rollup_where.append(f"r.{column} {op} %({key})s")
                live_where.append(f"s.{column} {op} %({key})s")
                params[key] = value
        # the conditions are constants; the values are bound parameters
        conditions = {"rollup_where": " AND ".join(rollup_where), "live_where": " AND ".join(live_where)}
        conn = self.session.connection()
        by_site_month = {
            (row.site, row.month): AnswerCounts(int(row.answers), int(row.voice), int(row.voice_confirmed))
            for row in conn.exec_driver_sql(_SITE_MONTH_SQL.format(**conditions), params)
        }
        by_item = {
            int(row.item): int(row.answered) for row in conn.exec_driver_sql(_ITEMS_SQL.format(**conditions), params)
        }
        return AnswerAggregates(by_site_month, by_item)

    def sessions_by_site_month(self, where: SubmissionFilter) -> list[dict[str, Any]]:
        """As :meth:`StatsRepository.sessions_by_site_month` (site, month, started, completed, abandoned,
        median_duration_seconds), from the month roll-up where a whole month is selected."""
        if not rollup_can_answer(where):
            return StatsRepository(self.session).sessions_by_site_month(where)
        max_pk = self.refresh()
        params: dict[str, Any] = {"max_pk": max_pk, "from_month": None, "to_month": None}
        month_where, live_where = ["TRUE"], ["TRUE"]
        if where.site_id is not None:
            params["site_id"] = where.site_id
            month_where.append("r.site_id = %(site_id)s")
            live_where.append("s.site_id = %(site_id)s")
        if where.date_from is not None:
            params["date_from"] = where.date_from
            live_where.append("s.session_date >= %(date_from)s")
            first = where.date_from.replace(day=1)
            params["first_month"] = first
            month_where.append("r.month >= %(first_month)s")
            if where.date_from != first:
                params["from_month"] = first
        if where.date_to is not None:
            params["date_to"] = where.date_to
            live_where.append("s.session_date <= %(date_to)s")
            last = where.date_to.replace(day=1)
            params["last_month"] = last
            month_where.append("r.month <= %(last_month)s")
            if (where.date_to + timedelta(days=1)).day != 1:
                params["to_month"] = last
        sql = _SESSIONS_SQL.format(month_where=" AND ".join(month_where), live_where=" AND ".join(live_where))
        return [dict(row._mapping) for row in self.session.connection().exec_driver_sql(sql, params)]

    # ------------------------------------------------------------------ reference
    def answer_aggregates_direct(self, where: SubmissionFilter) -> AnswerAggregates:
        """The same aggregates computed from every matching answer row (no roll-up)."""
        s = StoredSubmission
        month = cast(func.date_trunc("month", s.session_date), Date)
        voice = Answer.method == "voice"
        query = where.apply(
            select(
                Site.code.label("site"),
                month.label("month"),
                Answer.item.label("item"),
                func.grouping(Answer.item).label("by_site_month"),
                func.count().label("answers"),
                func.count().filter(voice).label("voice"),
                func.count().filter(voice, Answer.confirmed.is_(True)).label("voice_confirmed"),
                func.count().filter(s.outcome == "completed", Answer.value.is_not(None)).label("answered"),
            )
            .select_from(Answer)
            .join(s, s.id == Answer.submission_pk)
            .join(Site, Site.id == s.site_id)
        ).group_by(func.grouping_sets(tuple_(Site.code, month), tuple_(Answer.item)))
        return self._collect(self.session.execute(query))

    @staticmethod
    def _collect(rows: Any) -> AnswerAggregates:
        by_site_month: dict[tuple[str, date], AnswerCounts] = {}
        by_item: dict[int, int] = {}
        for row in rows:
            if row.by_site_month:
                by_site_month[(row.site, row.month)] = AnswerCounts(
                    int(row.answers), int(row.voice), int(row.voice_confirmed)
                )
            elif row.item is not None:
                by_item[int(row.item)] = int(row.answered)
        return AnswerAggregates(by_site_month, by_item)
