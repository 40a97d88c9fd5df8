"""Which keyring backends the secret store accepts, and the store's behaviour on an in-memory backend."""

from __future__ import annotations

import keyring.backend
import keyring.errors
import pytest
from keyring.backends import chainer, fail, null

from kiosk.secrets import MemorySecretStore, SecretName, SecretStore, SecretStoreError
from kiosk.secrets.keyring_store import (
    ACCESS_FAILED_MESSAGE,
    LOCKED_MESSAGE,
    NO_KEYRING_MESSAGE,
    KeyringSecretStore,
    check_backend,
    open_secret_store,
)


class DictKeyring(keyring.backend.KeyringBackend):
    """An in-memory keyring backend (what tests set with ``keyring.set_keyring``)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[tuple[str, str], str] = {}
        self.fail_with: keyring.errors.KeyringError | None = None

    def _check(self) -> None:
        if self.fail_with is not None:
            raise self.fail_with

    def get_password(self, service: str, username: str) -> str | None:
        self._check()
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._check()
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self._check()
        if (service, username) not in self.values:
            raise keyring.errors.PasswordDeleteError("not found")
        del self.values[(service, username)]


DICT_KEYRING = f"{DictKeyring.__module__}.{DictKeyring.__qualname__}"


def plaintext_class(module: str, name: str) -> type[keyring.backend.KeyringBackend]:
    """A class named like a third-party backend (keyrings.alt is deliberately not installed)."""
    return type(name, (DictKeyring,), {"__module__": module, "__qualname__": name})


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()], ids=["fail", "null"])
def test_no_keyring_backends_are_refused_with_the_no_keyring_message(backend) -> None:
    with pytest.raises(SecretStoreError) as caught:
        KeyringSecretStore(backend)
    assert caught.value.nurse_message == NO_KEYRING_MESSAGE


@pytest.mark.parametrize(
    "module,name",
    [
        ("keyrings.alt.file", "PlaintextKeyring"),
        ("keyrings.alt.file", "EncryptedKeyring"),
        ("keyrings.alt.Windows", "RegistryKeyring"),
        ("keyrings.cryptfile.file", "PlaintextKeyring"),
        ("keyrings.cryptfile.cryptfile", "CryptFileKeyring"),
        ("some_vendor.backend", "Keyring"),  # unknown: refused too (an allow-list)
    ],
)
def test_plaintext_and_unknown_backends_are_refused_naming_the_backend(module: str, name: str) -> None:
    with pytest.raises(SecretStoreError) as caught:
        KeyringSecretStore(plaintext_class(module, name)())
    assert f"{module}.{name}" in caught.value.nurse_message
    assert "n'est pas un trousseau sécurisé" in caught.value.nurse_message


def _chainer_over(monkeypatch: pytest.MonkeyPatch, *backends: keyring.backend.KeyringBackend) -> chainer.ChainerBackend:
    # keyring.backends.chainer calls it through this very module (its `from .. import backend`)
    monkeypatch.setattr(keyring.backend, "get_all_keyring", lambda: list(backends))
    return chainer.ChainerBackend()


def secret_service_like() -> keyring.backend.KeyringBackend:
    """Named like keyring's Secret Service backend, viable without a bus (the chainer asks each priority)."""
    return plaintext_class("keyring.backends.SecretService", "Keyring")()


def test_a_chainer_with_a_plaintext_backend_behind_a_good_one_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    plaintext = plaintext_class("keyrings.alt.file", "PlaintextKeyring")()
    chain = _chainer_over(monkeypatch, secret_service_like(), plaintext)
    assert len(chain.backends) == 2
    with pytest.raises(SecretStoreError) as caught:
        KeyringSecretStore(chain)
    assert "keyrings.alt.file.PlaintextKeyring" in caught.value.nurse_message


def test_an_empty_chainer_is_refused_and_a_chainer_of_trusted_backends_is_accepted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(SecretStoreError) as caught:
        check_backend(_chainer_over(monkeypatch))
    assert caught.value.nurse_message == NO_KEYRING_MESSAGE
    check_backend(_chainer_over(monkeypatch, secret_service_like()))


def test_the_store_on_an_in_memory_backend_gets_sets_and_deletes() -> None:
    backend = DictKeyring()
    store: SecretStore = KeyringSecretStore(backend, trusted={DICT_KEYRING})
    assert store.get(SecretName.DEVICE_TOKEN) is None
    store.set(SecretName.DEVICE_TOKEN, "qlqd_x")
    store.set(SecretName.DATABASE_KEY, "key")
    assert backend.values[("kiosque-qlq-c30", "device-token")] == "qlqd_x"
    assert store.get(SecretName.DEVICE_TOKEN) == "qlqd_x"
    store.delete(SecretName.DEVICE_TOKEN)
    store.delete(SecretName.DEVICE_TOKEN)
    assert store.get(SecretName.DEVICE_TOKEN) is None
    assert store.get(SecretName.DATABASE_KEY) == "key"
    with pytest.raises(ValueError):
        store.set(SecretName.DATABASE_KEY, "")


@pytest.mark.parametrize(
    "error,message",
    [
        (keyring.errors.KeyringLocked("locked"), LOCKED_MESSAGE),
        (keyring.errors.InitError("dbus gone"), ACCESS_FAILED_MESSAGE),
        (keyring.errors.NoKeyringError("none"), NO_KEYRING_MESSAGE),
    ],
)
def test_backend_errors_become_secret_store_errors_with_french_messages(error, message) -> None:
    backend = DictKeyring()
    store = KeyringSecretStore(backend, trusted={DICT_KEYRING})
    backend.fail_with = error
    for call in (
        lambda: store.get(SecretName.DEVICE_TOKEN),
        lambda: store.set(SecretName.DEVICE_TOKEN, "v"),
        lambda: store.delete(SecretName.DEVICE_TOKEN),
    ):
        with pytest.raises(SecretStoreError) as caught:
            call()
        assert caught.value.nurse_message == message


def test_memory_store_is_the_demo_store_and_follows_the_protocol() -> None:
    store = open_secret_store(demo=True)
    assert isinstance(store, MemorySecretStore)
    store.set(SecretName.GOOGLE_CREDENTIALS, "{}")
    assert store.get(SecretName.GOOGLE_CREDENTIALS) == "{}"
    store.delete(SecretName.GOOGLE_CREDENTIALS)
    store.delete(SecretName.GOOGLE_CREDENTIALS)
    assert store.get(SecretName.GOOGLE_CREDENTIALS) is None
