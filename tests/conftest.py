"""Shared test setup: Qt runs offscreen and quietly; set before any QApplication exists (pytest-qt makes one).

The PostgreSQL fixtures (tests/conftest_pg.py) are registered here once, as a plugin, so the whole run shares one
session-scoped server (and at most one throwaway cluster) whichever folders the tests come from.
"""

import os

import pytest

pytest_plugins = ["tests.conftest_pg"]

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false;qt.qpa.*=false")


@pytest.fixture(scope="session")
def espeak_pack(tmp_path_factory: pytest.TempPathFactory):
    """The French espeak-ng audio pack, built once per test run by ``qlq-kiosk prepare-audio --engine espeak``."""
    from tests.fakes.audio_pack import build_espeak_pack, espeak_available

    if not espeak_available():
        pytest.skip("espeak-ng is not installed (scripts/bootstrap.sh installs it)")
    return build_espeak_pack(tmp_path_factory.mktemp("audio-packs"))
