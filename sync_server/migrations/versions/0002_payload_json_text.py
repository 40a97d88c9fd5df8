"""Store the submission payload as ``json`` (its text, as received) instead of ``jsonb``.

Why: every export reads every payload back as JSON text for validation; from ``jsonb`` PostgreSQL must rebuild
that text (~90 µs per 9 KB payload, about 9 s of CPU per 100,000 sessions), from ``json`` it hands the stored text
over as it is. Nothing queries inside the payload except the one-off unpacking of answers and scores at ingest,
which ``json_to_recordset``/``json_each`` do as well on ``json``. Storing the text also keeps the payload exactly
as the kiosk's canonical JSON.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE submissions ALTER COLUMN payload TYPE json USING payload::json")


def downgrade() -> None:
    op.execute("ALTER TABLE submissions ALTER COLUMN payload TYPE jsonb USING payload::jsonb")
