"""Initial schema: sessions, their per-item answers, and the queue of submissions.

Also stamps the file with the kiosk's SQLite ``application_id``, so that opening tells our database from any
other SQLite file without guessing from table names.

Revision ID: 0001
Revises:
Create Date: 2024-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Same value as kiosk.storage.database.APPLICATION_ID ("QLQC"); a migration keeps its own copy, frozen.
APPLICATION_ID = 0x514C5143


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("phase", sa.String(32), nullable=False),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("ended_at", sa.String(40)),
        sa.Column("instrument_id", sa.String(64), nullable=False),
        sa.Column("instrument_language", sa.String(8), nullable=False),
        sa.Column("instrument_sha256", sa.String(64), nullable=False),
        sa.Column("item_count", sa.Integer, nullable=False),
        sa.Column("next_item", sa.Integer),
        sa.Column("initials", sa.String(16), nullable=False),
        sa.Column("snapshot_json", sa.Text, nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_sessions_phase", "sessions", ["phase"])
    op.create_index("ix_sessions_started_at", "sessions", ["started_at"])
    op.create_table(
        "answers",
        sa.Column("session_id", sa.String(64), sa.ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("item", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(16)),
        sa.Column("value", sa.Integer),
        sa.Column("method", sa.String(16)),
        sa.Column("transcript", sa.Text),
        sa.Column("confidence", sa.Float),
        sa.Column("confirmed", sa.Boolean, nullable=False),
        sa.Column("first_shown_at", sa.String(40), nullable=False),
        sa.Column("last_shown_at", sa.String(40), nullable=False),
        sa.Column("answered_at", sa.String(40)),
        sa.Column("times_shown", sa.Integer, nullable=False),
        sa.Column("history_json", sa.Text, nullable=False),
    )
    op.create_table(
        "submissions",
        sa.Column("submission_id", sa.String(64), primary_key=True),
        sa.Column("session_id", sa.String(64), sa.ForeignKey("sessions.id"), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("payload_json", sa.Text, nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("last_attempt_at", sa.String(40)),
        sa.Column("sent_at", sa.String(40)),
        sa.Column("server_receipt", sa.Text),
        sa.CheckConstraint("status IN ('pending', 'sent', 'rejected')", name="ck_submissions_status"),
    )
    op.execute(f"PRAGMA application_id = {APPLICATION_ID}")


def downgrade() -> None:
    op.drop_table("submissions")
    op.drop_table("answers")
    op.drop_index("ix_sessions_started_at", table_name="sessions")
    op.drop_index("ix_sessions_phase", table_name="sessions")
    op.drop_table("sessions")
    op.execute("PRAGMA application_id = 0")
