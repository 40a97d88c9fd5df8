"""Store what the CSV exports read and had no column yet, so PostgreSQL writes them from columns alone.

- ``submissions.initial_mode``, ``submissions.audio_enabled`` and ``answers.transcript``: reading them out of
  the stored payload would make PostgreSQL parse every 9 KB payload again (measured: ~7 s for 100,000
  sessions, several times the whole export);
- the session's wide row, pivoted once at ingest (submissions are never changed afterwards):
  ``answer_values`` (the answered value of item n at index n), ``answer_methods`` (how item n was answered, for
  every item shown: 1 touch, 2 voice, as ``sync_server.exports.columns.METHOD_CODES``), ``voice_answers``
  (items answered by voice), and ``score_codes``/``score_values`` (each
  scale score by code). Pivoting the ``answers`` and ``scores`` rows at export time costs PostgreSQL more than
  the rest of the export together (``bench/floors.py`` measures that pivot as the export's floor).

Existing rows are filled from their payload and their answers and scores; ingest fills them from now on.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("submissions", sa.Column("initial_mode", sa.String(32), nullable=True))
    op.add_column("submissions", sa.Column("audio_enabled", sa.Boolean(), nullable=True))
    op.add_column("answers", sa.Column("transcript", sa.Text(), nullable=True))
    op.add_column("submissions", sa.Column("answer_values", postgresql.ARRAY(sa.Integer()), nullable=True))
    op.add_column("submissions", sa.Column("answer_methods", postgresql.ARRAY(sa.Integer()), nullable=True))
    op.add_column("submissions", sa.Column("voice_answers", sa.SmallInteger(), nullable=True))
    op.add_column("submissions", sa.Column("score_codes", postgresql.ARRAY(sa.String(16)), nullable=True))
    op.add_column("submissions", sa.Column("score_values", postgresql.ARRAY(sa.Float()), nullable=True))
    op.execute(
        "UPDATE submissions SET initial_mode = payload -> 'session' ->> 'initial_mode', "
        "audio_enabled = CAST(payload -> 'session' ->> 'audio_enabled' AS boolean)"
    )
    op.execute(
        "UPDATE answers AS a SET transcript = r.transcript FROM submissions AS s, "
        "json_to_recordset(s.payload -> 'answers') AS r(item smallint, transcript text) "
        "WHERE s.id = a.submission_pk AND r.item = a.item"
    )
    op.execute("""
        UPDATE submissions AS s SET answer_values = w.answer_values, answer_methods = w.answer_methods,
                                    voice_answers = w.voice_answers
        FROM (SELECT m.submission_pk,
                     array_agg(CASE WHEN a.status = 'answered' THEN a.value END ORDER BY g.n) AS answer_values,
                     array_agg(CASE a.method WHEN 'touch' THEN 1 WHEN 'voice' THEN 2 END ORDER BY g.n)
                         AS answer_methods,
                     count(*) FILTER (WHERE a.status = 'answered' AND a.method = 'voice') AS voice_answers
              FROM (SELECT submission_pk, max(item) AS top FROM answers GROUP BY submission_pk) AS m
              CROSS JOIN LATERAL generate_series(1, m.top) AS g(n)
              LEFT JOIN answers AS a ON a.submission_pk = m.submission_pk AND a.item = g.n
              GROUP BY m.submission_pk) AS w
        WHERE w.submission_pk = s.id
    """)
    op.execute(
        "UPDATE submissions SET answer_values = '{}', answer_methods = '{}', voice_answers = 0 "
        "WHERE answer_values IS NULL"
    )
    op.execute("""
        UPDATE submissions AS s SET score_codes = w.codes, score_values = w.scores
        FROM (SELECT submission_pk, array_agg(code ORDER BY code) AS codes, array_agg(score ORDER BY code) AS scores
              FROM scores GROUP BY submission_pk) AS w  -- by code: the export finds each code, whatever the order
        WHERE w.submission_pk = s.id
    """)
    op.execute("UPDATE submissions SET score_codes = '{}', score_values = '{}' WHERE score_codes IS NULL")
    for column in (
        "initial_mode",
        "audio_enabled",
        "answer_values",
        "answer_methods",
        "voice_answers",
        "score_codes",
        "score_values",
    ):
        op.alter_column("submissions", column, nullable=False)


def downgrade() -> None:
    for column in ("score_values", "score_codes", "voice_answers", "answer_methods", "answer_values"):
        op.drop_column("submissions", column)
    op.drop_column("answers", "transcript")
    op.drop_column("submissions", "audio_enabled")
    op.drop_column("submissions", "initial_mode")
