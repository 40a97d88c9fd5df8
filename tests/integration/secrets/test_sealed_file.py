"""The secret store of the .deb's kiosk session: one file in the data folder, AES-GCM under a key derived from the
systemd credential the service receives (kiosk/secrets/sealed_file.py), chosen by kiosk.secrets.system whenever
that credential is present; and the self-test's check of it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kiosk.cli import self_test
from kiosk.secrets import SecretName
from kiosk.secrets.interface import SecretStoreError
from kiosk.secrets.sealed_file import SealedFileSecretStore
from kiosk.secrets.system import SEALED_FILE, SEALING_CREDENTIAL, open_kiosk_secrets, sealing_credential

TOKEN = "qlqd_0123456789abcdef-the-device-token"
CREDENTIAL = os.urandom(32).hex().encode()  # what the postinst seals: 32 random bytes as hex


def test_secrets_round_trip_and_the_file_reveals_none(tmp_path: Path) -> None:
    path = tmp_path / SEALED_FILE
    store = SealedFileSecretStore(path, CREDENTIAL)
    assert store.get(SecretName.DEVICE_TOKEN) is None
    store.set(SecretName.DEVICE_TOKEN, TOKEN)
    store.set(SecretName.GOOGLE_CREDENTIALS, '{"type": "service_account"}')
    again = SealedFileSecretStore(path, CREDENTIAL)  # a new process: the same credential reads it back
    assert again.get(SecretName.DEVICE_TOKEN) == TOKEN
    raw = path.read_bytes()
    assert TOKEN.encode() not in raw and b"service_account" not in raw and b"device-token" not in raw
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again.delete(SecretName.DEVICE_TOKEN)
    again.delete(SecretName.DEVICE_TOKEN)  # deleting what is not there is not an error
    assert store.get(SecretName.DEVICE_TOKEN) is None
    assert store.get(SecretName.GOOGLE_CREDENTIALS) == '{"type": "service_account"}'
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("damage", ["other machine", "altered", "not ours"])
def test_a_file_that_does_not_decrypt_is_refused_and_never_overwritten(tmp_path: Path, damage: str) -> None:
    path = tmp_path / SEALED_FILE
    SealedFileSecretStore(path, CREDENTIAL).set(SecretName.DEVICE_TOKEN, TOKEN)
    if damage == "altered":
        blob = bytearray(path.read_bytes())
        blob[-1] ^= 1
        path.write_bytes(bytes(blob))
    elif damage == "not ours":
        path.write_text('{"device-token": "plain"}')
    before = path.read_bytes()
    credential = os.urandom(32).hex().encode() if damage == "other machine" else CREDENTIAL
    store = SealedFileSecretStore(path, credential)
    for action in (
        lambda: store.get(SecretName.DEVICE_TOKEN),
        lambda: store.set(SecretName.DEVICE_TOKEN, "new"),
        lambda: store.delete(SecretName.DEVICE_TOKEN),
    ):
        with pytest.raises(SecretStoreError) as refused:
            action()
        assert "ne l'écrase pas" in refused.value.nurse_message
    assert path.read_bytes() == before


def test_a_short_credential_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="too short"):
        SealedFileSecretStore(tmp_path / SEALED_FILE, b"short")


def test_the_kiosk_uses_the_sealed_file_only_as_the_debs_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = tmp_path / "credentials"
    creds.mkdir()
    from kiosk.secrets import keyring_store

    keyring_sentinel = object()
    monkeypatch.setattr(keyring_store, "open_secret_store", lambda: keyring_sentinel)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    assert sealing_credential() is None
    assert open_kiosk_secrets(tmp_path / "data") is keyring_sentinel  # elsewhere: the OS keyring
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    assert sealing_credential() is None  # the folder without our credential: not the kiosk's service
    assert open_kiosk_secrets(tmp_path / "data") is keyring_sentinel
    (creds / SEALING_CREDENTIAL).write_bytes(CREDENTIAL)
    store = open_kiosk_secrets(tmp_path / "data")
    assert isinstance(store, SealedFileSecretStore) and store.path == tmp_path / "data" / SEALED_FILE
    store.set(SecretName.DEVICE_TOKEN, TOKEN)
    assert open_kiosk_secrets(tmp_path / "data").get(SecretName.DEVICE_TOKEN) == TOKEN
    assert type(open_kiosk_secrets(tmp_path / "data", demo=True)).__name__ == "MemorySecretStore"


def test_the_self_test_checks_the_sealed_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    creds, data = tmp_path / "credentials", tmp_path / "data"
    creds.mkdir()
    (creds / SEALING_CREDENTIAL).write_bytes(CREDENTIAL)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    monkeypatch.setenv("QLQ_KIOSK_DATA_DIR", str(data))
    ctx = self_test.Context(workdir=tmp_path / "work")
    outcome = self_test.check_secret_store(ctx)
    assert outcome.status == "passed" and "pas encore créé" not in outcome.fr and SEALED_FILE in outcome.fr
    SealedFileSecretStore(data / SEALED_FILE, CREDENTIAL).set(SecretName.DEVICE_TOKEN, TOKEN)
    assert self_test.check_secret_store(ctx).status == "passed"
    (data / SEALED_FILE).write_bytes(b"QLQS1" + b"\0" * 40)
    outcome = self_test.check_secret_store(ctx)
    assert outcome.status == "failed" and "secrets" in outcome.fr
