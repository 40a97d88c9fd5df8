"""Store each answer's voice record (payload 2.0 ``answers[].voice``) beside it, for the CSV long export.

``answers.voice`` (jsonb, null for touch answers and for payloads 1.0) holds the record as the kiosk sent it:
every alternative the recogniser returned with its confidence, the attempts, how the answer was confirmed, the
recogniser (engine, model, language), the times (prompt end, speech start and end, result) and the fallback
reason. The CSV long export reads its ``voice_*`` columns from it (``sync_server/exports/csv_sql.py``) instead of
parsing every stored payload again. Existing rows are filled from their payload; ingest fills it from now on.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("answers", sa.Column("voice", postgresql.JSONB(), nullable=True))
    op.execute(
        "UPDATE answers AS a SET voice = r.voice FROM submissions AS s, "
        "json_to_recordset(s.payload -> 'answers') AS r(item smallint, voice jsonb) "
        "WHERE s.id = a.submission_pk AND r.item = a.item AND r.voice IS NOT NULL "
        "AND jsonb_typeof(r.voice) = 'object'"
    )


def downgrade() -> None:
    op.drop_column("answers", "voice")
