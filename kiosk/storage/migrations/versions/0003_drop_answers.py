"""Drop the per-item ``answers`` table: the session snapshot is the one copy of a session's answers.

Every save wrote each answer twice, into the snapshot and into ``answers``, and nothing but tests read the
second copy; it was no backup either, since both were written by the same statement batch from the same
snapshot. A damaged snapshot is refused on load with the nurse message ``SESSION_UNREADABLE`` and its row is
kept as it is (nothing is overwritten or deleted). One copy also means one place to encrypt. Sessions,
submissions and settings are kept through this upgrade; the downgrade re-creates the table empty.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("answers")


def downgrade() -> None:
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
