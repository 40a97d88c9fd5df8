"""The nurse PIN hash (stored in settings) and where the database lives."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.storage import paths
from kiosk.storage.pin import PIN_RULE_MESSAGE, PinError, hash_pin, pin_needs_rehash, verify_pin
from kiosk.storage.sqlite_store import SqliteSessionStore


def test_a_pin_hash_is_stored_and_verified(tmp_path: Path) -> None:
    with SqliteSessionStore(tmp_path / "kiosk.db") as store:
        store.set_setting("nurse_pin_hash", hash_pin("2580"))
    with SqliteSessionStore(tmp_path / "kiosk.db") as store:
        stored = store.get_setting("nurse_pin_hash")
    assert stored is not None and stored.startswith("$argon2id$") and "2580" not in stored
    assert verify_pin(stored, "2580")
    assert not verify_pin(stored, "2581")
    assert not pin_needs_rehash(stored)


def test_each_hash_is_salted() -> None:
    assert hash_pin("12345678") != hash_pin("12345678")


@pytest.mark.parametrize("pin", ["", "123", "123456789", "12a4", "12 34", " 1234", "١٢٣٤", "12²4", "+1234"])
def test_pins_breaking_the_rules_are_refused_in_french(pin: str) -> None:
    with pytest.raises(PinError) as caught:
        hash_pin(pin)
    assert caught.value.nurse_message == PIN_RULE_MESSAGE
    assert "de 4 à 8 chiffres" in PIN_RULE_MESSAGE


@pytest.mark.parametrize("stored", ["", "not a hash", "$argon2id$v=19$m=65536,t=3,p=4$broken"])
def test_a_malformed_hash_never_matches(stored: str) -> None:
    assert not verify_pin(stored, "1234")
    assert pin_needs_rehash(stored) or stored.startswith("$argon2id$")


def test_a_wrong_shaped_pin_never_matches() -> None:
    stored = hash_pin("0000")
    assert verify_pin(stored, "0000")
    assert not verify_pin(stored, "0000 ")


def test_the_data_folder_follows_the_platform_or_the_override(tmp_path: Path) -> None:
    default = paths.data_dir({})
    assert default.name == "kiosque-qlq-c30"
    assert paths.database_path({}) == default / "kiosk.db"
    assert paths.data_dir({"QLQ_KIOSK_DATA_DIR": str(tmp_path)}) == tmp_path
    assert paths.database_path({"QLQ_KIOSK_DATA_DIR": str(tmp_path)}) == tmp_path / "kiosk.db"
    assert paths.data_dir({"QLQ_KIOSK_DATA_DIR": "  "}) == default
    assert paths.data_dir({"QLQ_KIOSK_DATA_DIR": "~/kiosque"}) == Path.home() / "kiosque"


def test_the_environment_is_read_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QLQ_KIOSK_DATA_DIR", str(tmp_path / "data"))
    assert paths.database_path() == tmp_path / "data" / "kiosk.db"
