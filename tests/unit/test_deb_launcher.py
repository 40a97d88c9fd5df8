"""The .deb's launcher (installer/linux/qlq-kiosk-launch), run as systemd would, on folders laid out by the
updater's own code (kiosk.update.layout): it starts the newest of the package's bundle and the installed update,
never an update whose self-test did not finish, and falls back to the package whenever something is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kiosk.update.layout import InstallLayout

LAUNCHER = Path(__file__).resolve().parents[2] / "installer" / "linux" / "qlq-kiosk-launch"

pytestmark = pytest.mark.skipif(shutil.which("dpkg") is None, reason="the launcher compares versions with dpkg")


def bundle(folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "qlq-kiosk"
    exe.write_text(f'#!/bin/sh\necho "{name} $*"\n')
    exe.chmod(0o755)


@pytest.fixture
def rig(tmp_path):
    lib = tmp_path / "usr-lib"
    lib.mkdir()
    shutil.copy2(LAUNCHER, lib / "launch")
    (lib / "package-version").write_text("1.2.0\n")
    bundle(tmp_path / "opt", "package")
    layout = InstallLayout(tmp_path / "updates", "symlink")
    layout.prepare()
    return lib / "launch", tmp_path, layout


def launch(rig, *args: str, root: bool = True) -> str:
    launcher, tmp, layout = rig
    env = {"PATH": os.environ["PATH"], "QLQ_KIOSK_BASE": str(tmp / "opt")}
    if root:
        env["QLQ_UPDATE_ROOT"] = str(layout.root)
    run = subprocess.run([str(launcher), *args], env=env, capture_output=True, text=True, timeout=30, check=True)
    return run.stdout.strip()


def install(layout: InstallLayout, version: str) -> None:
    bundle(layout.bundle(version), f"update-{version}")
    layout.switch_to(version)


def test_without_an_update_the_package_starts_with_its_arguments(rig):
    assert launch(rig, "--self-test") == "package --self-test"
    assert launch(rig, root=False) == "package"


def test_a_newer_installed_update_starts(rig):
    install(rig[2], "1.3.0")
    assert launch(rig) == "update-1.3.0"


def test_a_newer_package_wins_over_an_older_update(rig):
    install(rig[2], "1.1.0")  # IT then installed the 1.2.0 .deb
    assert launch(rig) == "package"


def test_an_update_whose_self_test_never_finished_is_not_started(rig):
    layout = rig[2]
    install(layout, "1.3.0")
    install(layout, "1.4.0")
    state = layout.load_state()
    state.pending, state.previous = "1.4.0", "1.3.0"  # the power went off during 1.4.0's self-test
    layout.save_state(state)
    assert launch(rig) == "update-1.3.0"
    state.previous = None  # the first update: nothing installed before it but the package
    layout.save_state(state)
    assert launch(rig) == "package"


def test_a_missing_or_broken_update_falls_back_to_the_package(rig):
    layout = rig[2]
    install(layout, "1.3.0")
    (layout.bundle("1.3.0") / "qlq-kiosk").chmod(0o644)
    assert launch(rig) == "package"
    shutil.rmtree(layout.bundle("1.3.0"))
    assert launch(rig) == "package"
