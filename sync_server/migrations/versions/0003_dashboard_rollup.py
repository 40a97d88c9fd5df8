"""Roll-up tables of the console's dashboard: answer counts per site and session day, session counts and the
median duration per site and month, kept up to date by the
dashboard itself (``sync_server/repositories/dashboard.py``), so the page never re-reads millions of answers.

``dashboard_rollup_state`` (one row) says which submissions the roll-ups cover — every id up to ``max_pk`` — and
holds a fingerprint of that set (count, sum and XOR of the ids). When the fingerprint no longer matches the
table (a session deleted or purged, or one committed late with a smaller id), the roll-ups are rebuilt.
Nothing else writes here; ingest is unchanged.

Also a covering index for the per-site-and-month session counts and median duration (the query of
``GET /v1/stats`` and of the dashboard): an index-only scan instead of reading every submission row
(100,000 sessions: ~90 ms instead of ~350–550 ms on the loaded 2-core development machine).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_submissions_site_date_outcome",
        "submissions",
        ["site_id", "session_date"],
        postgresql_include=["outcome", "duration_seconds"],
    )
    op.create_table(
        "dashboard_rollup",
        sa.Column(
            "site_id",
            sa.Integer,
            sa.ForeignKey("sites.id", ondelete="CASCADE", name="fk_dashboard_rollup_site_id_sites"),
            nullable=False,
        ),
        sa.Column("session_date", sa.Date, nullable=False),
        sa.Column("answers", sa.BigInteger, nullable=False),
        sa.Column("voice", sa.BigInteger, nullable=False),
        sa.Column("voice_confirmed", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("site_id", "session_date", name="pk_dashboard_rollup"),
    )
    op.create_table(
        "dashboard_item_rollup",
        sa.Column(
            "site_id",
            sa.Integer,
            sa.ForeignKey("sites.id", ondelete="CASCADE", name="fk_dashboard_item_rollup_site_id_sites"),
            nullable=False,
        ),
        sa.Column("session_date", sa.Date, nullable=False),
        sa.Column("item", sa.SmallInteger, nullable=False),
        sa.Column("answered", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("site_id", "session_date", "item", name="pk_dashboard_item_rollup"),
    )
    op.create_table(
        "dashboard_month_rollup",
        sa.Column(
            "site_id",
            sa.Integer,
            sa.ForeignKey("sites.id", ondelete="CASCADE", name="fk_dashboard_month_rollup_site_id_sites"),
            nullable=False,
        ),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("started", sa.BigInteger, nullable=False),
        sa.Column("completed", sa.BigInteger, nullable=False),
        sa.Column("abandoned", sa.BigInteger, nullable=False),
        sa.Column("median_duration_seconds", sa.Float, nullable=True),
        sa.PrimaryKeyConstraint("site_id", "month", name="pk_dashboard_month_rollup"),
    )
    op.create_table(
        "dashboard_rollup_state",
        sa.Column("id", sa.SmallInteger, nullable=False),
        sa.Column("max_pk", sa.BigInteger, nullable=False),
        sa.Column("row_count", sa.BigInteger, nullable=False),
        sa.Column("pk_sum", sa.Numeric, nullable=False),
        sa.Column("pk_xor", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dashboard_rollup_state"),
        sa.CheckConstraint("id = 1", name="ck_dashboard_rollup_state_single_row"),
    )


def downgrade() -> None:
    op.drop_table("dashboard_rollup_state")
    op.drop_table("dashboard_month_rollup")
    op.drop_table("dashboard_item_rollup")
    op.drop_table("dashboard_rollup")
    op.drop_index("ix_submissions_site_date_outcome", table_name="submissions")
