"""Key/value settings, and an index for the send loop's "oldest pending first" query.

Settings hold the nurse PIN hash, timeouts, default mode, text size and the device id. A database created at
revision 0001 keeps all its sessions and submissions through this upgrade.

Revision ID: 0002
Revises: 0001
Create Date: 2024-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "settings",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_submissions_status_created_at", "submissions", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_submissions_status_created_at", table_name="submissions")
    op.drop_table("settings")
