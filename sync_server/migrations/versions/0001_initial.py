"""Initial schema: sites, devices, enrollment codes, users and their tokens, submissions with answers and
scores, and the append-only audit table (a trigger rejects UPDATE, DELETE and TRUNCATE on it).

Revision ID: 0001
Revises:
Create Date: 2025-11-25
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _created() -> sa.Column[Any]:
    return sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        _created(),
        sa.PrimaryKeyConstraint("id", name="pk_sites"),
        sa.UniqueConstraint("code", name="uq_sites_code"),
    )
    op.create_table(
        "enrollment_codes",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("site_id", sa.Integer, nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(150), nullable=False),
        _created(),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("used_at", TZ),
        sa.PrimaryKeyConstraint("id", name="pk_enrollment_codes"),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], ondelete="CASCADE", name="fk_enrollment_codes_site_id_sites"
        ),
        sa.UniqueConstraint("code_hash", name="uq_enrollment_codes_code_hash"),
    )
    op.create_index("ix_enrollment_codes_site_id", "enrollment_codes", ["site_id"])
    op.create_table(
        "devices",
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("site_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _created(),
        sa.Column("last_seen_at", TZ),
        sa.Column("revoked_at", TZ),
        sa.PrimaryKeyConstraint("id", name="pk_devices"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="RESTRICT", name="fk_devices_site_id_sites"),
        sa.UniqueConstraint("token_hash", name="uq_devices_token_hash"),
    )
    op.create_index("ix_devices_site_id", "devices", ["site_id"])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("username", sa.String(150), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        _created(),
        sa.Column("disabled_at", TZ),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
        sa.CheckConstraint("role IN ('admin', 'researcher')", name="ck_users_role"),
    )
    op.create_table(
        "user_tokens",
        sa.Column("id", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _created(),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ),
        sa.PrimaryKeyConstraint("id", name="pk_user_tokens"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE", name="fk_user_tokens_user_id_users"),
        sa.UniqueConstraint("token_hash", name="uq_user_tokens_token_hash"),
    )
    op.create_index("ix_user_tokens_user_id", "user_tokens", ["user_id"])
    op.create_table(
        "submissions",
        sa.Column("id", sa.BigInteger, nullable=False),
        sa.Column("submission_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("site_id", sa.Integer, nullable=False),
        sa.Column("device_id", pg.UUID(as_uuid=True)),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("instrument_id", sa.String(64), nullable=False),
        sa.Column("instrument_language", sa.String(8), nullable=False),
        sa.Column("instrument_sha256", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("mode", sa.String(32), nullable=False),
        sa.Column("session_date", sa.Date, nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("ended_at", TZ, nullable=False),
        sa.Column("duration_seconds", sa.Float, nullable=False),
        sa.Column("received_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("age_at_session", sa.SmallInteger),
        sa.Column("age_band", sa.String(16), nullable=False),
        sa.Column("patient_initials", sa.String(12)),
        sa.Column("patient_birth_date", sa.Date),
        sa.Column("source", sa.String(32), server_default="kiosk", nullable=False),
        sa.Column("legacy_id", sa.String(128)),
        sa.Column("anonymized", sa.Boolean, server_default=sa.false(), nullable=False),
        sa.Column("payload", pg.JSONB, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_submissions"),
        sa.UniqueConstraint("submission_id", name="uq_submissions_submission_id"),
        sa.UniqueConstraint("legacy_id", name="uq_submissions_legacy_id"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="RESTRICT", name="fk_submissions_site_id_sites"),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], ondelete="SET NULL", name="fk_submissions_device_id_devices"
        ),
        sa.CheckConstraint("outcome IN ('completed', 'abandoned')", name="ck_submissions_outcome"),
        sa.CheckConstraint("source IN ('kiosk', 'legacy-prototype')", name="ck_submissions_source"),
    )
    op.create_index("ix_submissions_site_date", "submissions", ["site_id", "session_date"])
    op.create_table(
        "answers",
        sa.Column("submission_pk", sa.BigInteger, nullable=False),
        sa.Column("item", sa.SmallInteger, nullable=False),
        sa.Column("value", sa.SmallInteger),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("confidence", sa.Float),
        sa.Column("confirmed", sa.Boolean, nullable=False),
        sa.Column("first_shown_at", TZ, nullable=False),
        sa.Column("answered_at", TZ, nullable=False),
        sa.Column("times_shown", sa.SmallInteger, nullable=False),
        sa.Column("previous", pg.JSONB, nullable=False),
        sa.PrimaryKeyConstraint("submission_pk", "item", name="pk_answers"),
        sa.ForeignKeyConstraint(
            ["submission_pk"], ["submissions.id"], ondelete="CASCADE", name="fk_answers_submission_pk_submissions"
        ),
    )
    op.create_table(
        "scores",
        sa.Column("submission_pk", sa.BigInteger, nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("score", sa.Float),
        sa.PrimaryKeyConstraint("submission_pk", "code", name="pk_scores"),
        sa.ForeignKeyConstraint(
            ["submission_pk"], ["submissions.id"], ondelete="CASCADE", name="fk_scores_submission_pk_submissions"
        ),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger, nullable=False),
        sa.Column("at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("actor_role", sa.String(32), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("include_birth_date", sa.Boolean, server_default=sa.false(), nullable=False),
        sa.Column("row_count", sa.Integer, nullable=False),
        sa.Column("submission_ids", pg.ARRAY(pg.UUID(as_uuid=True)), nullable=False),
        sa.Column("detail", pg.JSONB, nullable=False),
        sa.Column("request_id", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_action", "audit_events", ["action"])
    op.execute("""
        CREATE FUNCTION qlq_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END;
        $$
    """)
    op.execute("""
        CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION qlq_audit_append_only()
    """)
    op.execute("""
        CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION qlq_audit_append_only()
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_update_delete ON audit_events")
    op.execute("DROP FUNCTION IF EXISTS qlq_audit_append_only()")
    for table in (
        "audit_events",
        "scores",
        "answers",
        "submissions",
        "user_tokens",
        "users",
        "devices",
        "enrollment_codes",
        "sites",
    ):
        op.drop_table(table)
