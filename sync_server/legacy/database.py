"""Opening the legacy prototype's SQLite file read-only and checking that it has the expected schema.

The file is opened with SQLite's URI ``mode=ro``, so an import can never change it. Anything that makes the
whole file unusable (missing, not SQLite, a table or column missing) raises :class:`LegacyDatabaseError`
with a message saying which; problems of single sessions are reported by the reader instead.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "sessions": ("id", "initials", "birth_date", "today_date", "mode", "audio_enabled", "created_at", "completed_at"),
    "responses": (
        "id",
        "session_id",
        "question_num",
        "question_text",
        "score",
        "response_text",
        "transcript",
        "response_type",
        "timestamp",
    ),
}
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {"sessions": ("metadata",), "responses": ("confidence",)}


class LegacyDatabaseError(Exception):
    """The legacy file cannot be imported at all: missing, not a SQLite database, or tables/columns missing."""


def open_read_only(path: Path) -> sqlite3.Connection:
    """Open ``path`` read-only and make sure it really is a SQLite database."""
    if not path.is_file():
        raise LegacyDatabaseError(f"{path}: no such file")
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise LegacyDatabaseError(f"{path}: cannot open it as a SQLite database ({exc})") from None
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        connection.close()
        raise LegacyDatabaseError(f"{path}: not a SQLite database ({exc})") from None
    return connection


def table_columns(connection: sqlite3.Connection, path: Path) -> dict[str, set[str]]:
    """The columns of the two tables; raise naming every missing table and column."""
    found: dict[str, set[str]] = {}
    missing: list[str] = []
    for table, required in REQUIRED_COLUMNS.items():
        columns = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        if not columns:
            missing.append(f"table '{table}' is missing")
            continue
        absent = [c for c in required if c not in columns]
        if absent:
            missing.append(f"table '{table}' lacks the column(s) {', '.join(repr(c) for c in absent)}")
        found[table] = columns
    if missing:
        raise LegacyDatabaseError(f"{path}: not a legacy prototype database: {'; '.join(missing)}")
    return found
