"""Installers: the PyInstaller bundle builds and starts; release archives are signed and verified."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


# Signing and verifying releases (sign.sh <-> qlq-kiosk verify-release): tests/integration/release/.


def test_signing_without_a_key_says_how(tmp_path: Path) -> None:
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(b"x")
    env = {k: v for k, v in os.environ.items() if k != "QLQ_SIGNING_KEY"}
    result = subprocess.run(
        ["bash", str(ROOT / "installer" / "sign.sh"), str(archive)], capture_output=True, text=True, env=env
    )
    assert result.returncode != 0 and "QLQ_SIGNING_KEY" in result.stderr


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_bundle_builds_and_starts(tmp_path: Path) -> None:
    if shutil.which("uv") is None and not (ROOT / ".tools" / "bin" / "uv").exists():
        pytest.fail("uv is needed to build the bundle (scripts/bootstrap.sh installs it)")
    out = tmp_path / "dist"
    build = subprocess.run(
        ["bash", str(ROOT / "installer" / "build.sh"), str(out)], capture_output=True, text=True, timeout=880
    )
    assert build.returncode == 0, build.stderr[-3000:]
    archive = Path(build.stdout.strip().splitlines()[-1])
    assert archive.exists() and Path(str(archive) + ".sha256").exists()
    assert '"bomFormat": "CycloneDX"' in Path(str(archive) + ".cdx.json").read_text()  # SBOM beside the archive
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "qlq-kiosk/qlq-kiosk" in names
    assert any(n.endswith("resources/instruments/qlq-c30.fr.toml") for n in names)
    assert any(n.endswith("kiosk/storage/migrations/env.py") for n in names)
    exe = out / "qlq-kiosk" / "qlq-kiosk"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QLQ_KIOSK_EXIT_WHEN_READY": "1", "HOME": str(tmp_path)}
    run = subprocess.run([str(exe), "--demo"], capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "READY" in run.stdout
    from kiosk import __version__  # the bundle carries the package metadata its version is read from

    shown = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60)
    assert shown.stdout.strip() == f"qlq-kiosk {__version__}" and __version__ in archive.name
    parsed = subprocess.run(
        [str(exe), "parse-answer", "--scale", "4", "un peu"], capture_output=True, text=True, timeout=60
    )
    assert parsed.returncode == 0 and '"value": 2' in parsed.stdout
    # The bundle's self-test (tests/e2e/test_self_test.py says what it needs for the keyring check).
    from tests.e2e.test_self_test import assert_passes, self_test_command

    command, env = self_test_command(tmp_path, [str(exe)])
    assert_passes(subprocess.run(command, capture_output=True, text=True, timeout=120, env=env), bundle=True)
