"""Shared test setup: Qt runs offscreen and quietly; set before any QApplication exists (pytest-qt makes one)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false;qt.qpa.*=false")

import pytest


@pytest.fixture(scope="session")
def espeak_pack(tmp_path_factory: pytest.TempPathFactory):
    """The French espeak-ng audio pack, built once per test run by ``qlq-kiosk prepare-audio --engine espeak``."""
    from tests.fakes.audio_pack import build_espeak_pack, espeak_available

    if not espeak_available():
        pytest.skip("espeak-ng is not installed (scripts/bootstrap.sh installs it)")
    return build_espeak_pack(tmp_path_factory.mktemp("audio-packs"))
