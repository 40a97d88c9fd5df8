"""Store beside the payload the three values the CSV exports read that had no column yet: the session's
``initial_mode`` and ``audio_enabled`` (submissions) and each answer's ``transcript`` (answers).

Why: CSV wide and long are produced by PostgreSQL itself (``COPY (SELECT …) TO STDOUT``, see
``sync_server/exports/csv_sql.py``) from the normalised columns. Reading these three values out of the stored
payload instead would make PostgreSQL parse every 9 KB payload again (measured: ~7 s for 100,000 sessions, five
times the whole export). Existing rows are filled from their payload; ingest fills them from now on.

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("submissions", sa.Column("initial_mode", sa.String(32), nullable=True))
    op.add_column("submissions", sa.Column("audio_enabled", sa.Boolean(), nullable=True))
    op.add_column("answers", sa.Column("transcript", sa.Text(), nullable=True))
    op.execute("UPDATE submissions SET initial_mode = payload -> 'session' ->> 'initial_mode', "
               "audio_enabled = CAST(payload -> 'session' ->> 'audio_enabled' AS boolean)")
    op.execute("UPDATE answers AS a SET transcript = r.transcript FROM submissions AS s, "
               "json_to_recordset(s.payload -> 'answers') AS r(item smallint, transcript text) "
               "WHERE s.id = a.submission_pk AND r.item = a.item")
    op.alter_column("submissions", "initial_mode", nullable=False)
    op.alter_column("submissions", "audio_enabled", nullable=False)


def downgrade() -> None:
    op.drop_column("answers", "transcript")
    op.drop_column("submissions", "audio_enabled")
    op.drop_column("submissions", "initial_mode")
