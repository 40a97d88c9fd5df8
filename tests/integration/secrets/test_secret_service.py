"""The keyring secret store against a REAL Secret Service (GNOME Keyring over D-Bus), as on a Linux kiosk."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import keyring
import pytest
from keyring.backends import SecretService as SecretServiceBackend

from kiosk.secrets import SecretName, SecretStoreError
from kiosk.secrets.keyring_store import LOCKED_MESSAGE, KeyringSecretStore

from .conftest import SecretService, start_secret_service

TOKEN = "qlqd_" + "Zq7" * 14  # shaped like a device token; the test greps the keyring file for it


def test_keyring_selects_the_secret_service_on_its_own_and_the_store_accepts_it(secret_service: SecretService) -> None:
    # A fresh interpreter, as the kiosk starts: keyring's own choice of backend (this test process has extra
    # backend classes registered by the other tests).
    probe = (
        "from kiosk.secrets import SecretName\n"
        "from kiosk.secrets.keyring_store import KeyringSecretStore, backend_name\n"
        "store = KeyringSecretStore()\n"
        f"store.set(SecretName.DEVICE_TOKEN, {TOKEN!r})\n"
        "print(backend_name(store.backend)); print(store.get(SecretName.DEVICE_TOKEN))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": secret_service.address},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    chosen, value = done.stdout.split()
    assert chosen in {"keyring.backends.SecretService.Keyring", "keyring.backends.chainer.ChainerBackend"}
    assert value == TOKEN
    assert KeyringSecretStore(SecretServiceBackend.Keyring()).get(SecretName.DEVICE_TOKEN) == TOKEN


def test_secrets_survive_a_new_store_and_a_daemon_restart_and_are_encrypted_on_disk(
    secret_service: SecretService, monkeypatch: pytest.MonkeyPatch
) -> None:
    KeyringSecretStore(SecretServiceBackend.Keyring()).set(SecretName.DEVICE_TOKEN, TOKEN)
    KeyringSecretStore(SecretServiceBackend.Keyring()).set(SecretName.DATABASE_KEY, "k" * 43)
    assert KeyringSecretStore(SecretServiceBackend.Keyring()).get(SecretName.DEVICE_TOKEN) == TOKEN

    secret_service.stop()  # the tablet reboots: a new bus, a new daemon, the same keyring folder
    restarted = start_secret_service(secret_service.home)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", restarted.address)
    try:
        store = KeyringSecretStore(SecretServiceBackend.Keyring())
        assert store.get(SecretName.DEVICE_TOKEN) == TOKEN
        assert store.get(SecretName.DATABASE_KEY) == "k" * 43
        store.delete(SecretName.DEVICE_TOKEN)
        store.delete(SecretName.DEVICE_TOKEN)  # deleting what is gone is not an error
        assert store.get(SecretName.DEVICE_TOKEN) is None
        assert store.get(SecretName.DATABASE_KEY) == "k" * 43
    finally:
        restarted.stop()
    files = list(secret_service.keyring_dir.glob("*.keyring"))
    assert files, "gnome-keyring wrote no keyring file"
    for path in files:
        raw = path.read_bytes()
        assert b"k" * 43 not in raw and TOKEN.encode() not in raw, f"{path} holds a secret in clear"


# keyring's Secret Service backend leaves its D-Bus connection to the garbage collector when unlocking fails.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_locked_keyring_is_reported_in_french(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = start_secret_service(tmp_path / "home")  # creates the login keyring, with a password
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", first.address)
    try:
        KeyringSecretStore(SecretServiceBackend.Keyring()).set(SecretName.DEVICE_TOKEN, TOKEN)
    finally:
        first.stop()
    locked = start_secret_service(first.home, unlock=False)  # the daemon runs, nobody unlocked the keyring
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", locked.address)
    try:
        with pytest.raises(SecretStoreError) as caught:
            KeyringSecretStore(SecretServiceBackend.Keyring()).get(SecretName.DEVICE_TOKEN)
    finally:
        locked.stop()
    message = caught.value.nurse_message
    del caught  # its traceback holds the leaked connection: free it here, under this test's warning filters
    gc.collect()
    assert message == LOCKED_MESSAGE


def test_the_secret_service_backend_without_a_bus_is_not_viable_and_keyring_falls_back_to_fail(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")
    with pytest.raises((RuntimeError, OSError)):  # keyring counts any exception here as "not viable"
        SecretServiceBackend.Keyring.priority  # noqa: B018 - keyring's viability probe: no bus, not viable
    with pytest.raises(SecretStoreError) as caught:
        KeyringSecretStore(keyring.backends.fail.Keyring())
    assert "Aucun trousseau de clés sécurisé" in caught.value.nurse_message


def test_the_encrypted_database_reopens_after_a_reboot_with_the_key_from_the_real_keyring(
    secret_service: SecretService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk.storage import encryption

    monkeypatch.delenv(encryption.KEY_ENV, raising=False)
    path = tmp_path / "kiosk" / "kiosk.db"
    secrets = KeyringSecretStore(SecretServiceBackend.Keyring())
    with encryption.open_encrypted_store(path, secrets) as store:
        store.set_setting("marker", "QLQ-MARKER-91")
    key = secrets.get(SecretName.DATABASE_KEY)
    assert key is not None and len(key) == 64
    assert b"QLQ-MARKER-91" not in path.read_bytes()
    secret_service.stop()  # the tablet reboots
    restarted = start_secret_service(secret_service.home)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", restarted.address)
    try:
        store = encryption.open_encrypted_store(path, KeyringSecretStore(SecretServiceBackend.Keyring()))
        with store:
            assert store.get_setting("marker") == "QLQ-MARKER-91"
    finally:
        restarted.stop()
    keyring_files = list(secret_service.keyring_dir.glob("*.keyring"))
    assert keyring_files
    for keyring_file in keyring_files:  # the key is not in clear in the keyring's own files either
        assert key.encode() not in keyring_file.read_bytes()
