"""The server's tables (SQLAlchemy 2 declarative). The Alembic migrations are the source of truth for the
schema; these classes mirror them for queries, and a test checks that the migrated database matches.

Patient identifiers (initials, birth date) live only in the ``patient_*`` columns and in the ``payload``
JSON of :class:`StoredSubmission`, so anonymizing a session touches exactly those. The audit table is
append-only: a PostgreSQL trigger rejects UPDATE, DELETE and TRUNCATE on it.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSON, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = ("admin", "researcher")
SOURCES = ("kiosk", "legacy-prototype")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class Site(Base):
    __tablename__ = "sites"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = _now()


class EnrollmentCode(Base):
    __tablename__ = "enrollment_codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(150))
    created_at: Mapped[datetime] = _now()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Device(Base):
    __tablename__ = "devices"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = _now()
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('admin', 'researcher')", name="role"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = _now()
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserToken(Base):
    __tablename__ = "user_tokens"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = _now()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RateLimitCounter(Base):
    """Attempts per rate-limit key and fixed window (``sync_server/ratelimit.py``): shared by every worker and
    replica, since they all use this database."""

    __tablename__ = "rate_limit_counters"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True, index=True)
    hits: Mapped[int] = mapped_column(Integer)


class StoredSubmission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        CheckConstraint("outcome IN ('completed', 'abandoned')", name="outcome"),
        CheckConstraint("source IN ('kiosk', 'legacy-prototype')", name="source"),
        Index("ix_submissions_site_date", "site_id", "session_date"),
        Index(
            "ix_submissions_site_date_outcome",
            "site_id",
            "session_date",
            postgresql_include=["outcome", "duration_seconds"],
        ),  # migration 0003: stats and dashboard
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    submission_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    content_sha256: Mapped[str] = mapped_column(String(64))
    instrument_id: Mapped[str] = mapped_column(String(64))
    instrument_language: Mapped[str] = mapped_column(String(8))
    instrument_sha256: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(32))
    initial_mode: Mapped[str] = mapped_column(String(32))  # migration 0005: read by the CSV exports
    audio_enabled: Mapped[bool] = mapped_column(Boolean)  # migration 0005
    # migration 0005: the session's wide row, pivoted at ingest (see sync_server/exports/csv_sql.py)
    # int4, not int2: arrays over 127 bytes are read in place by PostgreSQL (a smaller one is copied per access)
    answer_values: Mapped[list[int | None]] = mapped_column(ARRAY(Integer))  # item n at index n
    answer_methods: Mapped[list[int | None]] = mapped_column(ARRAY(Integer))  # code in METHOD_CODES (1-based)
    voice_answers: Mapped[int] = mapped_column(SmallInteger)
    score_codes: Mapped[list[str]] = mapped_column(ARRAY(String(16)))
    score_values: Mapped[list[float | None]] = mapped_column(ARRAY(Float))  # aligned with score_codes
    session_date: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    duration_seconds: Mapped[float] = mapped_column(Float)
    received_at: Mapped[datetime] = _now()
    age_at_session: Mapped[int | None] = mapped_column(SmallInteger)
    age_band: Mapped[str] = mapped_column(String(16))
    patient_initials: Mapped[str | None] = mapped_column(String(12))
    patient_birth_date: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(32), server_default="kiosk")
    legacy_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    anonymized: Mapped[bool] = mapped_column(Boolean, server_default="false")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # json: the text as received (migration 0002)


class Answer(Base):
    __tablename__ = "answers"
    submission_pk: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True)
    item: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    value: Mapped[int | None] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(8))
    confidence: Mapped[float | None] = mapped_column(Float)
    transcript: Mapped[str | None] = mapped_column(Text)  # migration 0005: read by the CSV long export
    confirmed: Mapped[bool] = mapped_column(Boolean)
    first_shown_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    times_shown: Mapped[int] = mapped_column(SmallInteger)
    previous: Mapped[list[Any]] = mapped_column(JSONB)
    # migration 0006: payload 2.0's answers[].voice as sent (null: touch, or payload 1.0); read by the CSV long export
    voice: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class Score(Base):
    __tablename__ = "scores"
    submission_pk: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    score: Mapped[float | None] = mapped_column(Float)


class AuditEvent(Base):
    """Who touched patient data, when, how, which sessions, how many rows. Never patient data itself."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = _now()
    actor: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32), index=True)
    include_birth_date: Mapped[bool] = mapped_column(Boolean, server_default="false")
    row_count: Mapped[int] = mapped_column(Integer)
    submission_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB)
    request_id: Mapped[str | None] = mapped_column(Text)


class DashboardRollup(Base):
    """Answer counts per site and session day (migration 0003; maintained by ``repositories/dashboard.py``)."""

    __tablename__ = "dashboard_rollup"
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    session_date: Mapped[date] = mapped_column(Date, primary_key=True)
    answers: Mapped[int] = mapped_column(BigInteger)
    voice: Mapped[int] = mapped_column(BigInteger)
    voice_confirmed: Mapped[int] = mapped_column(BigInteger)


class DashboardItemRollup(Base):
    """Values given per item in completed sessions, per site and session day (migration 0003)."""

    __tablename__ = "dashboard_item_rollup"
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    session_date: Mapped[date] = mapped_column(Date, primary_key=True)
    item: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    answered: Mapped[int] = mapped_column(BigInteger)


class DashboardMonthRollup(Base):
    """Sessions started/completed/abandoned and the median duration of completed ones, per site and month."""

    __tablename__ = "dashboard_month_rollup"
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    started: Mapped[int] = mapped_column(BigInteger)
    completed: Mapped[int] = mapped_column(BigInteger)
    abandoned: Mapped[int] = mapped_column(BigInteger)
    median_duration_seconds: Mapped[float | None] = mapped_column(Float)


class DashboardRollupState(Base):
    """Which submissions the roll-ups cover (ids up to ``max_pk``) and the fingerprint of that set."""

    __tablename__ = "dashboard_rollup_state"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)
    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    max_pk: Mapped[int] = mapped_column(BigInteger)
    row_count: Mapped[int] = mapped_column(BigInteger)
    pk_sum: Mapped[Any] = mapped_column(Numeric)
    pk_xor: Mapped[int] = mapped_column(BigInteger)
