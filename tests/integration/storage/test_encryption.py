"""The kiosk database encrypted at rest (SQLCipher): nothing readable on disk, the key's rules, the in-place
migration of a plaintext database that loses nothing, and every failure leaving the file as it was."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from kiosk.domain.clock import FakeClock
from kiosk.domain.instrument import Instrument
from kiosk.domain.session import Method, Mode
from kiosk.secrets.interface import SecretName, SecretStoreError
from kiosk.secrets.memory import MemorySecretStore
from kiosk.storage import database, encryption
from kiosk.storage.interface import CorruptDatabaseError, StorageError
from kiosk.storage.sqlite_store import SqliteSessionStore
from tests.integration.storage.storage_helpers import complete, sha256_of, start_session

KEY = encryption.new_key()
# Long enough (8 bytes) that ciphertext never holds it by chance: a 3-byte needle turned up in random pages of a
# -wal file about once in 50 runs.
INITIALS = "Q.X.Z.W."
BIRTH_DATE = b"1952-03-07"  # storage_helpers.start_session's patient
TRANSCRIPT = "un petit peu seulement"


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and p.name.startswith("kiosk.db")}


def _fill(store: SqliteSessionStore, instrument: Instrument, clock: FakeClock) -> tuple[str, str]:
    """One finished (queued) session and one in progress with a voice answer; a setting."""
    done = start_session(instrument, clock, initials=INITIALS)
    done = done.begin_items(now=clock.tick())
    complete(done, clock, store)
    ongoing = start_session(instrument, clock, mode=Mode.VOICE_CONTINUOUS, initials=INITIALS)
    ongoing = ongoing.record_check(audio_ok=True, microphone_ok=True, now=clock.tick())
    ongoing = ongoing.begin_items(now=clock.tick())
    ongoing = ongoing.answer(
        2, now=clock.tick(), method=Method.VOICE, transcript=TRANSCRIPT, confidence=0.91, confirmed=True
    )
    store.save(ongoing)
    store.set_setting("kiosk.text_size", "large")
    return done.id, ongoing.id


def _assert_nothing_readable(folder: Path) -> None:
    files = _files(folder)
    assert files, "no database file"
    for name, data in files.items():
        for needle in (INITIALS.encode(), BIRTH_DATE, TRANSCRIPT.encode(), b"SQLite format 3", b"CREATE TABLE"):
            assert needle not in data, f"{needle!r} readable in {name}"


def test_an_encrypted_store_keeps_nothing_readable_on_disk_and_reads_back(
    tmp_path: Path, instrument: Instrument, clock: FakeClock
) -> None:
    path = tmp_path / "kiosk.db"
    with SqliteSessionStore(path, key=KEY, clock=clock) as store:
        done, ongoing = _fill(store, instrument, clock)
        assert path.with_name("kiosk.db-wal").exists()  # the -wal file is checked too, while it holds the commits
        _assert_nothing_readable(tmp_path)
    _assert_nothing_readable(tmp_path)
    assert database.probe(path, KEY) == database.HEAD_REVISION
    with SqliteSessionStore(path, key=KEY, clock=clock) as store:
        [queued] = store.queued()
        assert queued.payload_json is not None and done in queued.payload_json and INITIALS in queued.payload_json
        loaded = store.load(ongoing, instrument)
        assert loaded.patient.initials == INITIALS
        assert TRANSCRIPT in [event.transcript for record in loaded.records.values() for event in record.events]
        assert store.get_setting("kiosk.text_size") == "large"
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_a_wrong_key_or_no_key_is_refused_and_the_file_is_untouched(
    tmp_path: Path, instrument: Instrument, clock: FakeClock
) -> None:
    path = tmp_path / "kiosk.db"
    with SqliteSessionStore(path, key=KEY, clock=clock) as store:
        _fill(store, instrument, clock)
    before = sha256_of(path)
    with pytest.raises(CorruptDatabaseError) as wrong:
        SqliteSessionStore(path, key=encryption.new_key(), clock=clock)
    assert "ne s'ouvre pas avec la clé de cette tablette" in wrong.value.nurse_message
    assert "Ne supprimez pas ce fichier" in wrong.value.nurse_message
    with pytest.raises(CorruptDatabaseError):
        SqliteSessionStore(path, clock=clock)
    assert sha256_of(path) == before and sorted(_files(tmp_path)) == ["kiosk.db"]
    with SqliteSessionStore(path, key=KEY, clock=clock) as store:
        assert store.pending_count() == 1


def test_a_truncated_encrypted_file_is_refused_as_truncated(
    tmp_path: Path, instrument: Instrument, clock: FakeClock
) -> None:
    path = tmp_path / "kiosk.db"
    with SqliteSessionStore(path, key=KEY, clock=clock) as store:
        _fill(store, instrument, clock)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 1000])
    with pytest.raises(CorruptDatabaseError) as caught:
        SqliteSessionStore(path, key=KEY, clock=clock)
    assert "tronqué" in caught.value.nurse_message


def test_a_plaintext_database_is_encrypted_in_place_losing_nothing(
    tmp_path: Path, instrument: Instrument, clock: FakeClock
) -> None:
    path = tmp_path / "kiosk.db"
    with SqliteSessionStore(path, clock=clock) as store:  # what a kiosk of the previous release wrote
        _done, ongoing = _fill(store, instrument, clock)
        device = store.device_id()
        queued_before = store.queued()
        loaded_before = store.load(ongoing, instrument).to_dict()
    assert INITIALS.encode() in path.read_bytes()  # the control: it was readable
    with SqliteSessionStore(path, key=KEY, clock=clock) as store:
        assert store.queued() == queued_before and store.device_id() == device
        assert store.load(ongoing, instrument).to_dict() == loaded_before
        assert store.get_setting("kiosk.text_size") == "large"
        store.mark_sent(queued_before[0].submission_id, receipt="r")  # and it is writable
    _assert_nothing_readable(tmp_path)
    assert sorted(_files(tmp_path)) == ["kiosk.db"]  # no copy, no side file of the plaintext left
    assert not any(p.exists() for p in encryption.leftovers(path))


def test_a_failed_encryption_leaves_the_plaintext_exactly_as_it_was(
    tmp_path: Path, instrument: Instrument, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "kiosk.db"
    with SqliteSessionStore(path, clock=clock) as store:
        _fill(store, instrument, clock)
    before = sha256_of(path)
    real = encryption._table_digests
    calls = []

    def lossy(conn):
        found = real(conn)
        calls.append(1)
        if len(calls) == 2:  # the encrypted copy's: one row "lost" by the export
            count, digest = found["sessions"]
            found["sessions"] = (count - 1, digest)
        return found

    monkeypatch.setattr(encryption, "_table_digests", lossy)
    with pytest.raises(StorageError) as caught:
        SqliteSessionStore(path, key=KEY, clock=clock)
    assert "Le chiffrement de la base de données locale a échoué" in caught.value.nurse_message
    assert sha256_of(path) == before and database.is_plaintext(path)
    assert not any(p.exists() for p in encryption.leftovers(path))
    monkeypatch.undo()
    with SqliteSessionStore(path, key=KEY, clock=clock) as store:  # the next start succeeds
        assert store.pending_count() == 1
    _assert_nothing_readable(tmp_path)


def test_a_crash_before_the_swap_keeps_the_live_plaintext_and_a_crash_after_it_wipes_the_old_copy(
    tmp_path: Path, instrument: Instrument, clock: FakeClock
) -> None:
    path = tmp_path / "kiosk.db"
    with SqliteSessionStore(path, clock=clock) as store:
        _fill(store, instrument, clock)
    target, old = encryption.leftovers(path)
    # Crash 1: the copy was half written and the plaintext had its second name, but the swap never happened.
    target.write_bytes(os.urandom(8192))
    os.link(path, old)
    with SqliteSessionStore(path, key=KEY, clock=clock) as store:
        assert store.pending_count() == 1 and len(store.unfinished()) == 1  # nothing lost
    assert not target.exists() and not old.exists()
    _assert_nothing_readable(tmp_path)
    # Crash 2: swapped, but the old plaintext (now its own file) was not yet zeroed.
    old.write_bytes(b"SQLite format 3\x00" + INITIALS.encode() * 100)
    with SqliteSessionStore(path, key=KEY, clock=clock) as store:
        assert store.pending_count() == 1
    assert not old.exists()


# ------------------------------------------------------------------------------------------------ the key
class BrokenSecrets(MemorySecretStore):
    def get(self, name: SecretName) -> str | None:
        raise SecretStoreError("locked", nurse_message="Le trousseau de clés de la tablette est verrouillé.")


def test_the_key_is_made_once_kept_in_the_secret_store_and_reused(
    tmp_path: Path, instrument: Instrument, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(encryption.KEY_ENV, raising=False)
    secrets = MemorySecretStore()
    path = tmp_path / "data" / "kiosk.db"
    with encryption.open_encrypted_store(path, secrets, clock=clock) as store:
        _fill(store, instrument, clock)
        assert store.encrypted
    key = secrets.get(SecretName.DATABASE_KEY)
    assert key is not None and len(key) == 64
    with encryption.open_encrypted_store(path, secrets, clock=clock) as store:
        assert store.pending_count() == 1
    assert secrets.get(SecretName.DATABASE_KEY) == key
    _assert_nothing_readable(path.parent)


def test_a_lost_key_never_makes_a_new_one_over_an_encrypted_database(
    tmp_path: Path, instrument: Instrument, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(encryption.KEY_ENV, raising=False)
    path = tmp_path / "kiosk.db"
    with encryption.open_encrypted_store(path, MemorySecretStore(), clock=clock) as store:
        _fill(store, instrument, clock)
    before = sha256_of(path)
    reset = MemorySecretStore()  # the keyring was reset
    with pytest.raises(encryption.DatabaseKeyError) as caught:
        encryption.open_encrypted_store(path, reset, clock=clock)
    assert "sa clé est introuvable dans le trousseau" in caught.value.nurse_message
    assert reset.get(SecretName.DATABASE_KEY) is None and sha256_of(path) == before


def test_key_sources_and_their_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "kiosk.db"
    monkeypatch.delenv(encryption.KEY_ENV, raising=False)
    with pytest.raises(encryption.DatabaseKeyError) as none:
        encryption.database_key(path, None)
    assert "aucun trousseau sécurisé" in none.value.nurse_message
    with pytest.raises(encryption.DatabaseKeyError) as locked:
        encryption.database_key(path, BrokenSecrets())
    assert locked.value.nurse_message == "Le trousseau de clés de la tablette est verrouillé."
    bad = MemorySecretStore()
    bad.set(SecretName.DATABASE_KEY, "not a key")
    with pytest.raises(encryption.DatabaseKeyError) as malformed:
        encryption.database_key(path, bad)
    assert "le trousseau de clés de la tablette n'est pas valide" in malformed.value.nurse_message
    monkeypatch.setenv(encryption.KEY_ENV, KEY.upper())
    assert encryption.database_key(path, None) == KEY  # the environment wins, case-insensitive
    monkeypatch.setenv(encryption.KEY_ENV, "abc")
    with pytest.raises(encryption.DatabaseKeyError) as env:
        encryption.database_key(path, MemorySecretStore())
    assert f"variable d'environnement {encryption.KEY_ENV}" in env.value.nurse_message


def test_two_stores_opened_at_once_on_a_new_database_agree_on_one_key(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(encryption.KEY_ENV, raising=False)
    secrets = MemorySecretStore()
    path = tmp_path / "kiosk.db"
    opened: list[SqliteSessionStore] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def open_one() -> None:
        start.wait()
        try:
            opened.append(encryption.open_encrypted_store(path, secrets, clock=clock))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    try:
        assert not errors and len(opened) == 2
        opened[0].set_setting("a", "1")
        assert opened[1].get_setting("a") == "1"
    finally:
        for store in opened:
            store.close()
