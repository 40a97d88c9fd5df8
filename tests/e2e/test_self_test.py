"""``qlq-kiosk --self-test`` as IT runs it: a process, its exit code and its lines.

A passing run needs an acceptable keyring: a real GNOME Keyring daemon in a private D-Bus session (as on a kiosk
session). The exit code is checked over several runs (the exit-crash trap in the platform notes).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KIOSK = [sys.executable, "-m", "kiosk"]


def _env(tmp_path: Path, *, source_checkout: bool = True, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHON_KEYRING_BACKEND", "QLQ_RESOURCES_DIR", "QLQ_AUDIO_DIR", "QLQ_DATABASE_KEY")
    }
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    if source_checkout:
        # From source, as a fresh checkout: no audio pack (an installer build leaves one in resources/audio).
        (tmp_path / "no-audio").mkdir(exist_ok=True)
        env["QLQ_AUDIO_DIR"] = str(tmp_path / "no-audio")
    # QT_QPA_PLATFORM is deliberately not offscreen here: the self-test must choose offscreen by itself.
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), QT_QPA_PLATFORM="wayland", **extra)
    return env


def self_test_command(tmp_path: Path, kiosk: list[str], *args: str) -> tuple[list[str], dict[str, str]]:
    """``kiosk --self-test`` inside a private D-Bus session with an unlocked GNOME Keyring (Secret Service)."""
    missing = [tool for tool in ("dbus-run-session", "gnome-keyring-daemon") if shutil.which(tool) is None]
    if missing:
        pytest.skip(
            f"a passing self-test needs a real keyring: {', '.join(missing)} not installed "
            "(Debian packages dbus-daemon, gnome-keyring; scripts/run-tests.sh installs them)"
        )
    script = 'printf "" | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; exec "$@"'
    command = ["dbus-run-session", "--", "sh", "-c", script, "sh", *kiosk, "--self-test", *args]
    return command, _env(
        tmp_path,
        PYTHON_KEYRING_BACKEND="keyring.backends.SecretService.Keyring",
        source_checkout=kiosk[0] == sys.executable,
    )


def assert_passes(run: subprocess.CompletedProcess[str], *, bundle: bool = False) -> None:
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert len(lines) == 9, lines
    assert all(line.startswith(("OK ", "IGNORÉ ")) for line in lines), lines
    assert "ÉCHEC" not in run.stderr
    if bundle:  # a bundle ships its French pack, complete
        assert any(line.startswith("OK pack audio") and "packs complete: fr" in line for line in lines), lines
    else:  # a source checkout has none: reported as skipped, never as passed
        assert any(line.startswith("IGNORÉ pack audio") and "SKIPPED audio pack" in line for line in lines)


@pytest.mark.slow
def test_self_test_passes_and_exits_cleanly_every_time(tmp_path: Path) -> None:
    command, env = self_test_command(tmp_path, KIOSK)
    for _ in range(3):
        assert_passes(subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT))
    # Nothing of the kiosk's own data was made: the checks ran in a temporary folder.
    assert not (tmp_path / "home" / "data" / "kiosque-qlq-c30").exists()


@pytest.mark.slow
def test_self_test_json(tmp_path: Path) -> None:
    command, env = self_test_command(tmp_path, KIOSK, "--json")
    run = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    statuses = {check["id"]: check["status"] for check in report["checks"]}
    assert report["passed"] is True
    assert statuses["audio-pack"] == "skipped" and statuses["database-encryption"] == "passed"
    assert statuses["instruments"] == statuses["main-window"] == statuses["secret-store"] == "passed"


@pytest.mark.slow
def test_self_test_reports_each_failed_check_on_one_line(tmp_path: Path) -> None:
    resources = tmp_path / "resources"
    shutil.copytree(ROOT / "resources", resources)
    damaged = resources / "instruments" / "qlq-c30.fr.toml"
    damaged.write_text(damaged.read_text(encoding="utf-8").replace("Avez-vous", "Aviez-vous", 1), encoding="utf-8")
    env = _env(
        tmp_path, QLQ_RESOURCES_DIR=str(resources), PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring"
    )  # a keyring that forgets
    run = subprocess.run([*KIOSK, "--self-test"], capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert run.returncode == 1
    failures = run.stderr.splitlines()
    assert len(failures) == 2, run.stderr
    instruments, secrets = failures
    assert instruments.startswith("ÉCHEC questionnaires : ") and str(damaged) in instruments
    assert "/ FAILED instruments: " in instruments and "was modified" in instruments
    assert secrets.startswith("ÉCHEC trousseau de clés : ")
    assert "/ FAILED secret store: keyring refused (keyring.backends.null.Keyring)" in secrets
    assert "OK fenêtre principale" in run.stdout  # the other checks still ran


@pytest.mark.slow
def test_the_bundles_self_test_passes(tmp_path: Path) -> None:
    from tests.e2e.bundle_harness import bundle_dir

    command, env = self_test_command(tmp_path, [str(bundle_dir() / "qlq-kiosk")])
    for _ in range(3):
        assert_passes(subprocess.run(command, capture_output=True, text=True, timeout=120, env=env), bundle=True)
