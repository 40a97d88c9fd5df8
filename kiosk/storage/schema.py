"""The tables of the kiosk database as SQLAlchemy Core objects, for the queries of the SQLite store.

This describes the schema at the head revision. The schema itself is created and changed only by the Alembic
migrations in ``kiosk/storage/migrations/versions/`` (a test checks that both agree), so that a kiosk upgraded in
the field keeps its data. Times are ISO 8601 text in UTC (see :func:`kiosk.storage.records.to_iso`), so that
they sort as text and read the same in any SQLite tool.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# The whole session as a JSON snapshot (Session.to_dict: every answer with its history), plus the columns the
# nurse's start screen queries. Revision 0003 dropped the per-item ``answers`` copy, which nothing read.
sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("phase", String(32), nullable=False, index=True),
    Column("started_at", String(40), nullable=False, index=True),
    Column("ended_at", String(40)),
    Column("instrument_id", String(64), nullable=False),
    Column("instrument_language", String(8), nullable=False),
    Column("instrument_sha256", String(64), nullable=False),
    Column("item_count", Integer, nullable=False),
    Column("next_item", Integer),
    Column("initials", String(16), nullable=False),  # for the nurse's resume prompt; never logged
    Column("snapshot_json", Text, nullable=False),
    Column("updated_at", String(40), nullable=False),
)

# The offline queue: one frozen payload per finished session, sent oldest first.
submissions = Table(
    "submissions",
    metadata,
    Column("submission_id", String(64), primary_key=True),
    Column("session_id", String(64), ForeignKey("sessions.id"), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("payload_json", Text),  # NULL once purged (revision 0004)
    Column("content_sha256", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("last_attempt_at", String(40)),
    Column("sent_at", String(40)),
    Column("server_receipt", Text),
    # Revision 0004: the send loop's bookkeeping and the purge of acknowledged sessions.
    Column("next_attempt_at", String(40)),  # NULL: due now
    Column("last_error_code", String(64)),  # the server's error code, or the kiosk's (network, timeout, tls...)
    Column("purged_at", String(40)),  # patient details removed from the tablet after acknowledgement
    CheckConstraint("status IN ('pending', 'sent', 'rejected')", name="ck_submissions_status"),
)
Index("ix_submissions_status_created_at", submissions.c.status, submissions.c.created_at)
Index("ix_submissions_status_next_attempt_at", submissions.c.status, submissions.c.next_attempt_at)

# Revision 0002: key/value settings (nurse PIN hash, timeouts, default mode, text size, device id).
settings = Table(
    "settings",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", String(40), nullable=False),
)
