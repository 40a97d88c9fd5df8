"""Opening the kiosk's SQLite file safely: look before touching, then set durable pragmas and migrate.

Opening happens in three steps, and only the last one may write:

1. :func:`probe` reads the file **read-only** (the header bytes, then ``PRAGMA quick_check``, the
   ``application_id`` and the schema revision). Garbage, a truncated file, another program's SQLite file, a
   damaged page or a file we may not read or write raise :class:`CorruptDatabaseError`; the file is never
   replaced, renamed or modified, because it may hold the only copy of patients' answers.
2. A revision this build does not know comes from a newer kiosk: :class:`DatabaseTooNewError`, never a downgrade.
3. :func:`create_kiosk_engine` opens it read-write with WAL, ``synchronous=FULL`` (every commit is fsynced),
   foreign keys and a busy timeout, each checked after it is set; :func:`upgrade` brings it to the head
   revision in one transaction.

Every connection goes through SQLCipher 4 (``sqlcipher3``, statically linked: the same SQLite, plus page
encryption). Given a key, the file is AES-256 encrypted page by page (HMAC-SHA512 per page; the -wal file too),
so its header is not SQLite's magic: :func:`probe` then checks it *with the key*. Keys are 32 random bytes given
as 64 hex digits and applied as a raw key (``PRAGMA key = "x'…'"``): no passphrase derivation at each connect.
Without a key (tests, a kiosk database from before encryption) it reads and writes plain SQLite files;
:mod:`kiosk.storage.encryption` turns those into encrypted ones in place.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from pathlib import Path
from typing import Any

import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection

from kiosk.storage import messages
from kiosk.storage.interface import CorruptDatabaseError, DatabaseTooNewError, StorageError

log = logging.getLogger(__name__)

APPLICATION_ID = 0x514C5143  # "QLQC", stamped by migration 0001 into the SQLite header
HEAD_REVISION = "0004"  # the newest migration; a test keeps it equal to the Alembic head
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_MS = 5000
SQLITE_MAGIC = b"SQLite format 3\x00"
SQLITE_HEADER_SIZE = 100
CIPHER_PAGE_SIZE = 4096  # SQLCipher 4's default: an encrypted file is a whole number of these pages
_SYNCHRONOUS_FULL = 2
_KEY = re.compile(r"[0-9a-f]{64}")


def key_pragma(key: str) -> str:
    """``PRAGMA key`` for a raw 256-bit key (64 lower-case hex digits; checked, so nothing else reaches SQL)."""
    if not _KEY.fullmatch(key):
        raise ValueError("a database key is 64 lower-case hexadecimal digits")
    return f"PRAGMA key = \"x'{key}'\""


def connect(target: str, *, key: str | None, uri: bool = False, check_same_thread: bool = True) -> Any:
    """A SQLCipher DB-API connection, keyed first when ``key`` is given; SQLCipher's own stderr log silenced."""
    conn = sqlcipher.connect(target, uri=uri, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=check_same_thread)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")  # its messages go to stderr, bypassing logging
        if key is not None:
            conn.execute(key_pragma(key))
    except BaseException:
        conn.close()
        raise
    return conn


def is_plaintext(path: Path) -> bool:
    """True when ``path`` starts with SQLite's magic header (an unencrypted database); False otherwise."""
    try:
        with path.open("rb") as handle:
            return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def is_encrypted(path: Path) -> bool:
    """True when ``path`` holds something that is not plain SQLite (an encrypted kiosk database, or garbage)."""
    try:
        return path.is_file() and path.stat().st_size > 0 and not is_plaintext(path)
    except OSError:
        return False


def _refuse(path: Path, reason: str, detail: str) -> CorruptDatabaseError:
    log.error("refusing the database file %s: %s", path, detail)
    return CorruptDatabaseError(f"{path}: {detail}", nurse_message=messages.unreadable(path, reason))


def _wal_path(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def probe(path: Path, key: str | None = None) -> str | None:  # noqa: PLR0912 - the file checks, in the order they must run
    """The schema revision of the kiosk database at ``path``, or None when there is none yet to keep.

    None means: no file, an empty file, or a SQLite file without a single table (e.g. a crash while the very
    first open was setting it up). Anything else that is not a sound kiosk database raises
    :class:`CorruptDatabaseError`. Reads only; writes nothing to the file. With ``key``, a file that is not plain
    SQLite is read as an encrypted one; one the key does not open is refused (wrong key, or damaged), untouched.
    """
    try:
        if not path.exists():
            return None
        if not path.is_file():
            raise _refuse(path, messages.REASON_NOT_A_FILE, "not a regular file")
        with path.open("rb") as handle:
            header = handle.read(SQLITE_HEADER_SIZE)
            size = os.fstat(handle.fileno()).st_size
        wal = _wal_path(path)
        wal_exists = wal.exists()
        wal_has_data = wal_exists and wal.stat().st_size > 0
    except PermissionError as exc:
        raise _refuse(path, messages.REASON_PERMISSION, f"permission denied: {exc.strerror}") from None
    except OSError as exc:
        detail = exc.strerror or str(exc)
        raise _refuse(path, messages.reason_os_error(detail), f"cannot read: {detail}") from None
    if not os.access(path, os.R_OK | os.W_OK):
        raise _refuse(path, messages.REASON_READ_ONLY, "the file is not writable")
    if size == 0:
        if wal_has_data:
            raise _refuse(path, messages.REASON_EMPTY_WITH_JOURNAL, "empty file next to a non-empty -wal file")
        return None
    if not header.startswith(SQLITE_MAGIC):
        if len(header) < len(SQLITE_MAGIC) and SQLITE_MAGIC.startswith(header):
            raise _refuse(path, messages.REASON_TRUNCATED, f"truncated to {size} bytes")
        if key is None:
            raise _refuse(path, messages.REASON_NOT_SQLITE, "no SQLite header")
        if size % CIPHER_PAGE_SIZE:
            raise _refuse(
                path,
                messages.REASON_TRUNCATED,
                f"{size} bytes, not a whole number of {CIPHER_PAGE_SIZE}-byte encrypted pages",
            )
        return _probe_sqlite(path, wal_mode=True, wal_exists=wal_exists, key=key)
    if len(header) < SQLITE_HEADER_SIZE:
        raise _refuse(path, messages.REASON_TRUNCATED, f"truncated to {size} bytes")
    if not wal_exists and _header_size(header) > size:
        raise _refuse(path, messages.REASON_TRUNCATED, f"{size} bytes, the header says {_header_size(header)}")
    return _probe_sqlite(path, wal_mode=header[18] == 2, wal_exists=wal_exists, key=None)


def _header_size(header: bytes) -> int:
    """The file size the SQLite header promises, or 0 when that field is not to be trusted.

    Only meaningful with no -wal file: during a checkpoint the header may run ahead of the pages behind it.
    """
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    change_counter = header[24:28]
    valid_for = header[92:96]
    if change_counter != valid_for:
        return 0
    return int.from_bytes(header[28:32], "big") * page_size


def _probe_sqlite(path: Path, *, wal_mode: bool, wal_exists: bool, key: str | None) -> str | None:
    # A WAL database with no -wal file has everything in the main file: read it as immutable, which creates no
    # -shm/-wal side files. With a -wal file (e.g. after a crash), read through it so its commits are checked.
    uri = path.resolve().as_uri() + "?mode=ro" + ("&immutable=1" if wal_mode and not wal_exists else "")
    try:
        conn = connect(uri, key=key, uri=True)
    except sqlcipher.Error as exc:
        raise _sqlite_refusal(path, exc, encrypted=key is not None) from None
    try:
        problems = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
        if problems != ["ok"]:
            raise _refuse(path, messages.REASON_DAMAGED, "quick_check: " + "; ".join(problems[:5]))
        application_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if application_id != APPLICATION_ID:
            if not tables:
                return None
            raise _refuse(path, messages.REASON_NOT_OURS, f"application_id is {application_id}")
        if "alembic_version" not in tables:
            raise _refuse(path, messages.REASON_NOT_OURS, "no alembic_version table")
        versions = [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]
        if len(versions) != 1:
            raise _refuse(path, messages.REASON_DAMAGED, f"alembic_version holds {versions!r}")
        return str(versions[0])
    except sqlcipher.Error as exc:
        raise _sqlite_refusal(path, exc, encrypted=key is not None) from None
    finally:
        conn.close()


def _sqlite_refusal(path: Path, exc: Exception, *, encrypted: bool = False) -> CorruptDatabaseError:
    code = getattr(exc, "sqlite_errorname", "") or type(exc).__name__
    not_a_db = messages.REASON_WRONG_KEY if encrypted else messages.REASON_NOT_SQLITE
    reasons = {
        "SQLITE_NOTADB": not_a_db,
        "SQLITE_CORRUPT": messages.REASON_DAMAGED,
        "SQLITE_PERM": messages.REASON_PERMISSION,
        "SQLITE_CANTOPEN": messages.REASON_PERMISSION,
    }
    reason = next(
        (text for prefix, text in reasons.items() if code.startswith(prefix)), messages.reason_sqlite_error(code)
    )
    return _refuse(path, reason, f"{code}: {exc}")


def known_revisions() -> set[str]:
    """Every revision among the migrations shipped with this build."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS_DIR))
    return {rev.revision for rev in script.walk_revisions()}


def check_revision(path: Path, revision: str | None) -> None:
    """Refuse a database written by a newer kiosk: migrating it down could lose answers."""
    if revision is None or revision == HEAD_REVISION or revision in known_revisions():
        return
    log.error("the database file %s is at revision %s, unknown to this build (head %s)", path, revision, HEAD_REVISION)
    raise DatabaseTooNewError(
        f"{path}: schema revision {revision!r} is newer than this build ({HEAD_REVISION})",
        nurse_message=messages.too_new(path, revision),
    )


def create_kiosk_engine(path: Path, key: str | None = None) -> Engine:
    """An engine on ``path`` whose every connection is durable and transactions are ``BEGIN IMMEDIATE``; with
    ``key``, every connection is keyed before anything else is read or written (the file is encrypted)."""
    if key is not None:
        key_pragma(key)  # a malformed key fails here, not at the first connection

    def creator() -> Any:
        return connect(str(path), key=key, check_same_thread=False)

    # hide_parameters: an error message (and the traceback a caller may log) must not carry the bound values,
    # which include patients' initials and the snapshot with their birth date. module: SQLAlchemy wraps
    # SQLCipher's exceptions (its own DB-API module) as it wraps sqlite3's.
    engine = create_engine(f"sqlite+pysqlite:///{path}", module=sqlcipher, creator=creator, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the sqlite3 module (it would defer BEGIN to the first write): SQLAlchemy
        # emits BEGIN IMMEDIATE below, so a read-then-write transaction holds the write lock from its start.
        dbapi_connection.isolation_level = None
        _set_pragmas(path, dbapi_connection)

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _set_pragmas(path: Path, dbapi_connection: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA fullfsync = ON")  # macOS: a real flush to the disk; ignored elsewhere
        cursor.execute("PRAGMA secure_delete = ON")  # freed bytes are zeroed: a purge leaves no copy behind
        found = {
            name: cursor.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout", "secure_delete")
        }
    finally:
        cursor.close()
    expected = {
        "journal_mode": "wal",
        "synchronous": _SYNCHRONOUS_FULL,
        "foreign_keys": 1,
        "busy_timeout": BUSY_TIMEOUT_MS,
        "secure_delete": 1,
    }
    wrong = {
        name: value
        for name, value in found.items()
        if (str(value).lower() if name == "journal_mode" else value) != expected[name]
    }
    if wrong:
        detail = ", ".join(f"{name}={value}" for name, value in wrong.items())
        log.error("the database %s did not take its pragmas: %s", path, detail)
        raise StorageError(
            f"{path}: pragmas not in effect: {detail}", nurse_message=messages.unsafe_settings(path, detail)
        )


def upgrade(connection: Connection, target: str = "head") -> None:
    """Run the migrations up to ``target`` on ``connection``, inside the caller's transaction."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, target)


def current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def create_private_file(path: Path) -> None:
    """Create the database file readable by its owner only (it holds patients' initials and birth dates)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError as exc:
        detail = exc.strerror or str(exc)
        log.error("cannot create the database file %s: %s", path, detail)
        raise StorageError(
            f"{path}: cannot create: {detail}", nurse_message=messages.cannot_create(path, detail)
        ) from None
