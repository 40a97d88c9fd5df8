"""The kiosk database encrypted at rest: its key, and turning an older plaintext database into an encrypted one.

A stolen tablet must reveal nothing: the database (initials, birth dates, answers, voice transcripts) and its
-wal file are SQLCipher-encrypted (see :mod:`kiosk.storage.database`). The key is 32 random bytes made on the
first start, kept in the operating system's keyring (:class:`~kiosk.secrets.interface.SecretName.DATABASE_KEY`),
never in a file beside the database. ``QLQ_DATABASE_KEY`` (64 hex digits) overrides the keyring for support and
for test harnesses that run the kiosk as a process; it is read from the environment only, never written.

Rules that keep answers safe:

- A key is created only when there is no encrypted database yet. If the keyring lost the key (reset, new user
  profile) while an encrypted file exists, the kiosk stops with :class:`DatabaseKeyError` and a French message;
  it never makes a new key, never replaces or empties the file.
- A plaintext database from an earlier release is encrypted in place by :func:`encrypt_in_place`: exported to
  a new encrypted file, checked (integrity and every table's rows compared with the original), fsynced, then
  atomically swapped in; the plaintext copy is overwritten with zeros before it is removed. A failure at any step
  leaves the plaintext file as it was.
- :func:`open_encrypted_store` does key and migration under one lock file, so the app's store and the sync's
  store opened at the same moment agree on one key.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets as random_source
from pathlib import Path
from typing import TYPE_CHECKING, Final

import sqlcipher3.dbapi2 as sqlcipher
from filelock import FileLock, Timeout

from kiosk.domain.clock import SYSTEM_CLOCK, Clock
from kiosk.secrets.interface import SecretName, SecretStore, SecretStoreError
from kiosk.storage import database, messages
from kiosk.storage.interface import StorageError

if TYPE_CHECKING:
    from kiosk.storage.sqlite_store import SqliteSessionStore

log = logging.getLogger(__name__)

KEY_ENV: Final = "QLQ_DATABASE_KEY"
#: The Linux kiosk session's key: a systemd credential (``LoadCredentialEncrypted=``, sealed with the TPM or the
#: host key by the .deb's postinst), which systemd decrypts into ``$CREDENTIALS_DIRECTORY`` for the service only.
CREDENTIAL_NAME: Final = "qlq-database-key"
LOCK_TIMEOUT_SECONDS: Final = 60.0
_WIPE_CHUNK = 1 << 20


class DatabaseKeyError(StorageError):
    """The database key cannot be had (no keyring, keyring locked, key lost, key malformed)."""


def new_key() -> str:
    """A fresh 256-bit key as 64 lower-case hex digits (the form :func:`database.key_pragma` accepts)."""
    return random_source.token_hex(32)


def _checked(key: str, where: str) -> str:
    value = key.strip().lower()
    try:
        database.key_pragma(value)
    except ValueError:
        raise DatabaseKeyError(
            f"{where}: not a database key (64 hexadecimal digits expected)", nurse_message=messages.key_malformed(where)
        ) from None
    return value


def _systemd_credential() -> str | None:
    folder = os.environ.get("CREDENTIALS_DIRECTORY")
    if not folder:
        return None
    try:
        return (Path(folder) / CREDENTIAL_NAME).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatabaseKeyError(
            f"systemd credential {CREDENTIAL_NAME}: unreadable ({type(exc).__name__})",
            nurse_message=messages.key_malformed(f"l'identifiant systemd {CREDENTIAL_NAME}"),
        ) from None


def database_key(path: Path, secrets: SecretStore | None) -> str:
    """The key of the database at ``path``: ``$QLQ_DATABASE_KEY``, else the systemd credential of the Linux kiosk
    session, else the keyring's, else a new one (stored in the keyring and read back) when no encrypted database
    exists yet. Raises :class:`DatabaseKeyError` with a French message."""
    override = os.environ.get(KEY_ENV)
    if override:
        return _checked(override, f"la variable d'environnement {KEY_ENV}")
    credential = _systemd_credential()
    if credential is not None:
        return _checked(credential, f"l'identifiant systemd {CREDENTIAL_NAME}")
    if secrets is None:
        raise DatabaseKeyError("no secret store to keep the database key in", nurse_message=messages.KEY_NO_KEYRING)
    try:
        stored = secrets.get(SecretName.DATABASE_KEY)
    except SecretStoreError as exc:
        raise DatabaseKeyError(f"reading the database key: {exc}", nurse_message=exc.nurse_message) from exc
    if stored:
        return _checked(stored, "le trousseau de clés de la tablette")
    if database.is_encrypted(path):
        log.error("the database %s is encrypted but the keyring holds no key for it", path)
        raise DatabaseKeyError(
            f"{path}: encrypted, and the keyring holds no database key", nurse_message=messages.key_lost(path)
        )
    key = new_key()
    try:
        secrets.set(SecretName.DATABASE_KEY, key)
        kept = secrets.get(SecretName.DATABASE_KEY)
    except SecretStoreError as exc:
        raise DatabaseKeyError(f"storing the database key: {exc}", nurse_message=exc.nurse_message) from exc
    if kept != key:
        raise DatabaseKeyError("the keyring did not keep the new database key", nurse_message=messages.KEY_NOT_KEPT)
    log.info("made the database key and stored it in the keyring")
    return key


def open_encrypted_store(path: Path, secrets: SecretStore | None, *, clock: Clock = SYSTEM_CLOCK) -> SqliteSessionStore:
    """The kiosk's store on ``path``, encrypted with its key (made, or a plaintext file encrypted, if need be).

    The one way the application, the sync and the command-line tools open the real database."""
    from kiosk.storage.sqlite_store import SqliteSessionStore

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path) + ".open-lock", timeout=LOCK_TIMEOUT_SECONDS)
    try:
        with lock:
            key = database_key(path, secrets)
            return SqliteSessionStore(path, key=key, clock=clock)
    except Timeout:
        raise StorageError(
            f"{path}: another program holds the open lock", nurse_message=messages.write_failed(messages.DETAIL_BUSY)
        ) from None


# ------------------------------------------------------------------------------------------------ migration
def _table_digests(conn: sqlcipher.Connection) -> dict[str, tuple[int, str]]:
    """Each table's row count and a digest of its rows in rowid order (the content, compared across files)."""
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    found = {}
    for table in tables:
        digest = hashlib.sha256()
        count = 0
        quoted = '"' + table.replace('"', '""') + '"'
        for row in conn.execute(f"SELECT * FROM {quoted} ORDER BY rowid"):  # noqa: S608 - names from the schema
            digest.update(repr(row).encode("utf-8"))
            count += 1
        found[table] = (count, digest.hexdigest())
    return found


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # Windows cannot open a directory; its rename is durable on NTFS
        _fsync(folder)


def wipe(path: Path) -> None:
    """Overwrite ``path`` with zeros, fsync, remove it (best effort against reading the old blocks back)."""
    try:
        size = path.stat().st_size
        with path.open("r+b") as handle:
            zeros = bytes(_WIPE_CHUNK)
            for start in range(0, size, _WIPE_CHUNK):
                handle.write(zeros[: min(_WIPE_CHUNK, size - start)])
            handle.flush()
            os.fsync(handle.fileno())
        path.unlink()
    except FileNotFoundError:
        return


def _side_files(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]


def leftovers(path: Path) -> tuple[Path, Path]:
    """The files an interrupted :func:`encrypt_in_place` may leave beside ``path``: the encrypted copy being
    made, and the second name of the plaintext file."""
    return path.with_name(path.name + ".encrypting"), path.with_name(path.name + ".plaintext")


def remove_leftovers(path: Path) -> None:
    """Zero and remove what an interrupted :func:`encrypt_in_place` left; never the live database.

    The copy being made is never the live file. The plaintext's second name IS the live file when the crash came
    before the swap (same inode): then only that name is removed, nothing is zeroed."""
    target, old = leftovers(path)
    wipe(target)
    if not old.exists():
        return
    try:
        live = path.exists() and os.path.samefile(path, old)
    except OSError:
        live = True  # when in doubt, never zero
    if live:
        old.unlink()
    else:
        wipe(old)


def encrypt_in_place(path: Path, key: str) -> None:
    """Turn the plaintext kiosk database at ``path`` into an encrypted one with ``key``, losing nothing.

    Call with the database closed everywhere (the store does, under :func:`open_encrypted_store`'s lock)."""
    database.key_pragma(key)
    remove_leftovers(path)
    target, old_name = leftovers(path)
    plain = database.connect(str(path), key=None)
    try:
        plain.isolation_level = None
        busy = plain.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        if busy:
            raise StorageError(
                f"{path}: in use by another program, cannot be encrypted now",
                nurse_message=messages.write_failed(messages.DETAIL_BUSY),
            )
        before = _table_digests(plain)
        application_id = plain.execute("PRAGMA main.application_id").fetchone()[0]
        user_version = plain.execute("PRAGMA main.user_version").fetchone()[0]
        plain.execute(f"ATTACH DATABASE ? AS encrypted KEY \"x'{key}'\"", (str(target),))
        plain.execute("SELECT sqlcipher_export('encrypted')")
        plain.execute(f"PRAGMA encrypted.application_id = {int(application_id)}")
        plain.execute(f"PRAGMA encrypted.user_version = {int(user_version)}")
        plain.execute("DETACH DATABASE encrypted")
    except sqlcipher.Error as exc:
        wipe(target)
        log.error("encrypting the database %s failed: %s", path, getattr(exc, "sqlite_errorname", type(exc).__name__))
        raise StorageError(f"{path}: encryption failed: {exc}", nurse_message=messages.encryption_failed(path)) from exc
    finally:
        plain.close()
    _verify_copy(path, target, key, before)
    os.chmod(target, 0o600)
    _fsync(target)
    for side in _side_files(path):  # the plaintext's (empty after the checkpoint); never valid for the new file
        wipe(side)
    old: Path | None = old_name
    try:
        os.link(path, old_name)  # a second name for the plaintext, so that it can be zeroed after the swap
    except OSError:
        old = None  # no hard links on this file system: the swap still happens, without the zeroing
    os.replace(target, path)
    _fsync_dir(path.parent)
    if old is not None:
        wipe(old)
    log.info("encrypted the local database %s in place (%d tables)", path, len(before))


def _verify_copy(path: Path, target: Path, key: str, before: dict[str, tuple[int, str]]) -> None:
    try:
        check = database.connect(str(target), key=key)
        try:
            problems = [row[0] for row in check.execute("PRAGMA quick_check")]
            after = _table_digests(check)
            application_id = check.execute("PRAGMA application_id").fetchone()[0]
        finally:
            check.close()
    except sqlcipher.Error as exc:
        problems, after, application_id = [f"{type(exc).__name__}: {exc}"], {}, None
    if problems != ["ok"] or after != before or application_id != database.APPLICATION_ID:
        wipe(target)
        differing = sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t))
        log.error(
            "the encrypted copy of %s did not match (integrity %s, tables differing %s): plaintext kept",
            path,
            problems[:1],
            differing,
        )
        raise StorageError(
            f"{path}: the encrypted copy did not match the original", nurse_message=messages.encryption_failed(path)
        )
