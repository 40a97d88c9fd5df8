"""The one place the kiosk opens its secret store (the OS keyring store when the build has it), used by the app
(speech-to-text credentials, injected into the view model) and by prepare-audio (text-to-speech)."""

from __future__ import annotations

import sys
import types

import pytest

from kiosk.cli import prepare_audio
from kiosk.secrets import MemorySecretStore, SecretName
from kiosk.secrets.system import open_system_store


def test_without_a_keyring_store_in_the_build_there_is_none(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "kiosk.secrets.keyring_store", None)  # import fails
    assert open_system_store() is None
    assert prepare_audio._secret_store() is None


def test_the_keyring_store_is_opened_once_and_handed_over(monkeypatch) -> None:
    store = MemorySecretStore({SecretName.GOOGLE_CREDENTIALS: "{}"})
    calls: list[bool] = []
    module = types.ModuleType("kiosk.secrets.keyring_store")

    def open_secret_store(*, demo: bool = False) -> MemorySecretStore:
        calls.append(demo)
        return store

    module.open_secret_store = open_secret_store  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "kiosk.secrets.keyring_store", module)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)  # not the .deb's service: the OS keyring
    assert open_system_store() is store and calls == [False]
    assert prepare_audio._secret_store() is store
    demo = open_system_store(demo=True)  # demo mode keeps nothing, and never asks the keyring
    assert isinstance(demo, MemorySecretStore) and demo is not store and calls == [False, False]


@pytest.mark.parametrize("error", [RuntimeError("no D-Bus"), OSError("locked")])
def test_an_unusable_keyring_gives_no_store_not_a_crash(monkeypatch, error) -> None:
    module = types.ModuleType("kiosk.secrets.keyring_store")

    def open_secret_store(*, demo: bool = False) -> MemorySecretStore:
        raise error

    module.open_secret_store = open_secret_store  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "kiosk.secrets.keyring_store", module)
    assert open_system_store() is None
