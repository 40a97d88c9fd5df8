"""The send queue's bookkeeping: when to try again, the error's code, and the purge of acknowledged sessions.

``submissions`` gains ``next_attempt_at`` (NULL: due now), ``last_error_code`` (the server's stable error code,
e.g. ``implausible_date``, or the kiosk's own: ``network``, ``timeout``, ``server_error``, ``tls``…) and
``purged_at`` (when the patient's details were removed from the tablet after the centre acknowledged the
submission); ``payload_json`` becomes nullable, because a purged submission keeps its status, its receipt and
its content hash but no longer its payload. Existing rows keep everything and are due at once.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("next_attempt_at", sa.String(40)))
        batch.add_column(sa.Column("last_error_code", sa.String(64)))
        batch.add_column(sa.Column("purged_at", sa.String(40)))
        batch.alter_column("payload_json", existing_type=sa.Text, nullable=True)
    op.create_index("ix_submissions_status_next_attempt_at", "submissions", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_submissions_status_next_attempt_at", table_name="submissions")
    op.execute("UPDATE submissions SET payload_json = '' WHERE payload_json IS NULL")
    with op.batch_alter_table("submissions") as batch:
        batch.alter_column("payload_json", existing_type=sa.Text, nullable=False)
        batch.drop_column("purged_at")
        batch.drop_column("last_error_code")
        batch.drop_column("next_attempt_at")
