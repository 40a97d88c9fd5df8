"""The self-test's checks, one by one, in this process: each passes on a sound installation and fails, naming
what is wrong, when its part is broken (a damaged instrument file, a refused keyring, missing migrations...)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import pytest
from keyring.backends import chainer, fail, null

from kiosk.cli import self_test
from kiosk.domain.resources import resources_dir
from kiosk.secrets import keyring_store
from kiosk.secrets.interface import SecretStoreError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ctx(tmp_path: Path) -> self_test.Context:
    return self_test.Context(tmp_path)


@pytest.fixture
def resources_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the bundled resources, used by the kiosk instead of the real ones (QLQ_RESOURCES_DIR)."""
    copy = tmp_path / "resources"
    shutil.copytree(resources_dir(), copy)
    monkeypatch.setenv("QLQ_RESOURCES_DIR", str(copy))
    return copy


def test_the_built_in_hashes_are_those_of_the_shipped_files() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "instrument_hashes.py"), "--check"], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr


# ------------------------------------------------------------------------------------------------ instruments
def test_instruments_pass_as_shipped(ctx: self_test.Context) -> None:
    outcome = self_test.check_instruments(ctx)
    assert outcome.status == "passed", outcome


def test_a_reworded_item_fails_the_hash(ctx: self_test.Context, resources_copy: Path) -> None:
    path = resources_copy / "instruments" / "qlq-c30.fr.toml"
    text = path.read_text(encoding="utf-8")
    assert "Avez-vous" in text
    path.write_text(text.replace("Avez-vous", "Aviez-vous", 1), encoding="utf-8")  # still valid, different
    outcome = self_test.check_instruments(ctx)
    assert outcome.status == "failed"
    assert str(path) in outcome.fr and "modifié" in outcome.fr
    assert str(path) in outcome.en and "modified" in outcome.en
    assert "qlq-c30.en.toml" not in outcome.en  # the intact file is not blamed


def test_a_truncated_file_fails_to_load(ctx: self_test.Context, resources_copy: Path) -> None:
    path = resources_copy / "instruments" / "qlq-c30.en.toml"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    outcome = self_test.check_instruments(ctx)
    assert outcome.status == "failed"
    assert str(path) in outcome.en and "does not load" in outcome.en


def test_a_missing_file_and_an_unknown_file_fail(ctx: self_test.Context, resources_copy: Path) -> None:
    folder = resources_copy / "instruments"
    (folder / "qlq-c30.en.toml").rename(folder / "qlq-c30.de.toml")
    outcome = self_test.check_instruments(ctx)
    assert outcome.status == "failed"
    assert f"{folder / 'qlq-c30.en.toml'} is missing" in outcome.en
    assert f"{folder / 'qlq-c30.de.toml'} is not part of this build" in outcome.en


# ------------------------------------------------------------------------------------------------ placeholders
def test_database_encryption_passes_and_fails_when_data_is_readable(
    ctx: self_test.Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcome = self_test.check_database_encryption(ctx)
    assert outcome.status == "passed", outcome.en
    assert outcome.en.startswith("SQLCipher 4.") and "unreadable without the key" in outcome.en
    from kiosk.storage import database

    def plaintext_engine(path: Path, key: str | None = None):
        return real(path, None)  # a build whose store ignored the key

    real = database.create_kiosk_engine
    monkeypatch.setattr(database, "create_kiosk_engine", plaintext_engine)
    shutil.rmtree(ctx.workdir / "encryption")
    outcome = self_test.check_database_encryption(ctx)
    assert outcome.status == "failed" and "readable in plaintext" in outcome.en


# ------------------------------------------------------------------------------------------------ database
def test_database_creates_migrates_and_reopens(ctx: self_test.Context) -> None:
    outcome = self_test.check_database(ctx)
    assert outcome.status == "passed", outcome
    assert (ctx.workdir / "database" / "kiosk.db").stat().st_size > 0


def test_database_fails_without_its_migrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # What a bundle built without kiosk/storage/migrations would do.
    from kiosk.storage import database

    empty = tmp_path / "no-migrations"
    empty.mkdir()
    monkeypatch.setattr(database, "MIGRATIONS_DIR", empty)
    [result] = self_test.run_checks([c for c in self_test.CHECKS if c.id == "database"])
    assert result.status == "failed"
    assert result.line().startswith("ÉCHEC base de données : ") and "/ FAILED database: " in result.line()


# ------------------------------------------------------------------------------------------------ secret store
class _AcceptedBackend:
    """Stands for an operating-system keyring (Windows' or macOS' cannot exist here), put on the allow-list by
    :func:`_trust`. Not a KeyringBackend subclass: those register themselves with keyring for the whole run."""

    priority = 1.0


class PlaintextKeyring:
    """Stands for keyrings.alt's / keyrings.cryptfile's plaintext file keyring (neither is installed here)."""

    priority = 0.5


class _UnreachableBackend:
    @property
    def priority(self) -> float:
        raise RuntimeError("no D-Bus session")


def _trust(monkeypatch: pytest.MonkeyPatch, *classes: type) -> None:
    names = {f"{cls.__module__}.{cls.__qualname__}" for cls in classes}
    monkeypatch.setattr(keyring_store, "TRUSTED_BACKENDS", keyring_store.TRUSTED_BACKENDS | names)


def _chain(monkeypatch: pytest.MonkeyPatch, *backends: Any) -> chainer.ChainerBackend:
    """keyring's real chainer, chaining exactly ``backends`` (its class property is replaced for the test)."""
    monkeypatch.setattr(chainer.ChainerBackend, "backends", list(backends))
    return chainer.ChainerBackend()


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda mp: fail.Keyring(), "Aucun trousseau de clés sécurisé"),
        (lambda mp: null.Keyring(), "Aucun trousseau de clés sécurisé"),
        (lambda mp: PlaintextKeyring(), "PlaintextKeyring"),
        (_chain, "Aucun trousseau de clés sécurisé"),
        (lambda mp: _chain(mp, _AcceptedBackend(), PlaintextKeyring()), "PlaintextKeyring"),
    ],
)
def test_refused_keyring_backends(make: Any, why: str, ctx: self_test.Context, monkeypatch: pytest.MonkeyPatch) -> None:
    _trust(monkeypatch, _AcceptedBackend)
    backend = make(monkeypatch)
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    outcome = self_test.check_secret_store(ctx)
    assert outcome.status == "failed"
    assert why in outcome.fr and "configure the system keyring" in outcome.en
    with pytest.raises(SecretStoreError):  # exactly what the kiosk itself refuses
        keyring_store.KeyringSecretStore(backend)


def test_an_unknown_backend_is_refused_even_if_it_looks_harmless(
    ctx: self_test.Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An allow-list: a backend nobody reviewed (here, one trusted nowhere) is refused, whatever its name says.
    monkeypatch.setattr(keyring, "get_keyring", _AcceptedBackend)
    outcome = self_test.check_secret_store(ctx)
    assert outcome.status == "failed" and "_AcceptedBackend" in outcome.en


def test_accepted_keyring_backends(ctx: self_test.Context, monkeypatch: pytest.MonkeyPatch) -> None:
    from keyring.backends import SecretService

    keyring_store.check_backend(SecretService.Keyring())
    _trust(monkeypatch, _AcceptedBackend)
    monkeypatch.setattr(keyring, "get_keyring", lambda: _chain(monkeypatch, _AcceptedBackend()))
    assert self_test.check_secret_store(ctx).status == "passed"
    monkeypatch.setattr(keyring, "get_keyring", _AcceptedBackend)
    outcome = self_test.check_secret_store(ctx)
    assert outcome.status == "passed" and "_AcceptedBackend" in outcome.en


def test_an_unreachable_keyring_fails(ctx: self_test.Context, monkeypatch: pytest.MonkeyPatch) -> None:
    _trust(monkeypatch, _UnreachableBackend)
    monkeypatch.setattr(keyring, "get_keyring", _UnreachableBackend)
    outcome = self_test.check_secret_store(ctx)
    assert outcome.status == "failed" and "not reachable" in outcome.en and "no D-Bus session" in outcome.en


def test_a_keyring_that_cannot_start_fails(ctx: self_test.Context, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise RuntimeError("Unable to initialize SecretService")

    monkeypatch.setattr(keyring, "get_keyring", broken)
    outcome = self_test.check_secret_store(ctx)
    assert outcome.status == "failed" and "does not open" in outcome.en


# ------------------------------------------------------------------------------------------------ speech, TTS
def test_speech_and_tts_clients_round_trip_through_the_loopback_fake(ctx: self_test.Context) -> None:
    assert self_test.check_speech_client(ctx).status == "passed"
    assert self_test.check_tts_client(ctx).status == "passed"


def test_speech_and_tts_fail_when_the_channel_reaches_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    import grpc

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{sock.getsockname()[1]}"
    real = grpc.insecure_channel
    monkeypatch.setattr(grpc, "insecure_channel", lambda _address: real(dead))
    results = self_test.run_checks([c for c in self_test.CHECKS if c.id in ("speech-client", "tts-client")])
    assert [r.status for r in results] == ["failed", "failed"]
    assert "unavailable" in results[0].en.lower() and "unavailable" in results[1].en.lower()


# ------------------------------------------------------------------------------------------------ Qt
def test_multimedia_and_main_window_pass(ctx: self_test.Context, qapp: Any) -> None:
    assert self_test.check_multimedia(ctx).status == "passed"
    outcome = self_test.check_main_window(ctx)
    assert outcome.status == "passed", outcome


def test_main_window_fails_on_an_unusable_database(
    ctx: self_test.Context, qapp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk.storage import sqlite_store
    from kiosk.storage.interface import CorruptDatabaseError

    def refuse(path: Path, **_: Any) -> None:
        raise CorruptDatabaseError(f"{path}: damaged", nurse_message="La base de données est endommagée.")

    monkeypatch.setattr(sqlite_store, "SqliteSessionStore", refuse)
    outcome = self_test.check_main_window(ctx)
    assert outcome.status == "failed" and "endommagée" in outcome.fr


def test_main_window_fails_when_the_nurse_screen_never_comes(
    ctx: self_test.Context, qapp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from kiosk.storage import sqlite_store

    release = threading.Event()
    real = sqlite_store.SqliteSessionStore

    def slow(path: Path, **kw: Any) -> Any:
        release.wait(10)  # the database worker hangs (e.g. a stuck disk)
        return real(path, **kw)

    monkeypatch.setattr(sqlite_store, "SqliteSessionStore", slow)
    monkeypatch.setattr(self_test, "WINDOW_TIMEOUT_S", 0.5)
    unblock = threading.Timer(1.5, release.set)  # after the check gave up: lets its clean-up join the worker
    unblock.start()
    try:
        outcome = self_test.check_main_window(ctx)
    finally:
        release.set()
        unblock.cancel()
    assert outcome.status == "failed" and "did not reach the nurse screen" in outcome.en


# ------------------------------------------------------------------------------------------------ audio pack
def _build_fr_pack(root: Path, catalogue: dict[str, str]) -> None:
    from kiosk.audio.build import build_pack
    from kiosk.audio.pack import RATES
    from tests.unit.audio.test_pack import ScriptedSynth

    report = build_pack(catalogue, root / "fr", ScriptedSynth(), language="fr", rates=RATES)
    assert report.ok


def _fr_catalogue() -> dict[str, str]:
    from kiosk.domain.instrument import load_instrument
    from kiosk.domain.prompts import prompt_catalogue

    return prompt_catalogue(load_instrument("qlq-c30", "fr"))


def test_audio_pack_complete_passes(ctx: self_test.Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalogue = _fr_catalogue()
    _build_fr_pack(tmp_path / "audio", catalogue)
    monkeypatch.setenv("QLQ_AUDIO_DIR", str(tmp_path / "audio"))
    outcome = self_test.check_audio_pack(ctx)
    assert outcome.status == "passed", outcome.en
    assert f"fr ({len(catalogue)} prompts × 4 rates)" in outcome.en


def test_audio_pack_with_a_stale_or_missing_clip_fails_naming_it(
    ctx: self_test.Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk.audio.pack import clip_file_name

    catalogue = _fr_catalogue()
    first, second = list(catalogue)[:2]
    _build_fr_pack(tmp_path / "audio", {**catalogue, first: catalogue[first] + " (ancienne version)"})
    (tmp_path / "audio" / "fr" / clip_file_name(second, 0.9)).unlink()
    monkeypatch.setenv("QLQ_AUDIO_DIR", str(tmp_path / "audio"))
    outcome = self_test.check_audio_pack(ctx)
    assert outcome.status == "failed"
    assert "5 clips missing or stale" in outcome.en and f"{first}@0.8 (stale)" in outcome.en
    assert "pack fr incomplet" in outcome.fr


def test_no_audio_pack_is_skipped_from_source_but_fails_in_a_bundle(
    ctx: self_test.Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QLQ_AUDIO_DIR", str(tmp_path / "none"))
    assert self_test.check_audio_pack(ctx).status == "skipped"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    outcome = self_test.check_audio_pack(ctx)
    assert outcome.status == "failed" and "pack fr missing from" in outcome.en
