"""Shared by the tests that need a built kiosk bundle, its .deb, or a throwaway root to install it in.

Building the bundle takes ~1.5 min (``bash installer/build.sh``), the .deb another ~1 min: these tests use a
bundle that already exists (``QLQ_BUNDLE_DIR``, default ``dist/qlq-kiosk``) and skip, saying how to make one,
when there is none. ``tests/e2e/test_installer.py::test_bundle_builds_and_starts`` builds one from scratch.

The throwaway root is a copy-on-write overlay of this machine's own root in a private mount namespace
(``unshare -m``), entered with ``chroot``: ``dpkg -i`` there changes only the overlay's upper folder, which the
tests then read to see exactly which files the package left behind. Needs root and overlayfs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUNDLE_ENV = "QLQ_BUNDLE_DIR"
DEB_ENV = "QLQ_DEB"


def bundle_dir() -> Path:
    """The built bundle, or skip with how to build one."""
    folder = Path(os.environ.get(BUNDLE_ENV) or ROOT / "dist" / "qlq-kiosk")
    if not (folder / "qlq-kiosk").is_file():
        pytest.skip(
            f"no kiosk bundle at {folder}: build one with `bash installer/build.sh` (~1.5 min) "
            f"or point {BUNDLE_ENV} at one"
        )
    return folder


def build_deb(out: Path) -> Path:
    """``QLQ_DEB`` when given, else the .deb built from :func:`bundle_dir` by installer/linux/build-deb.sh."""
    given = os.environ.get(DEB_ENV)
    if given:
        return Path(given)
    run = subprocess.run(
        ["bash", str(ROOT / "installer" / "linux" / "build-deb.sh"), str(bundle_dir()), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return Path(run.stdout.strip().splitlines()[-1])


_ENTER = r"""
set -e
S=$1; D=$2; M=$S/merged
mount -t overlay overlay -o "lowerdir=/,upperdir=$S/upper,workdir=$S/work" "$M"
mount --rbind /dev "$M/dev"
mount -t proc proc "$M/proc"
mount -t tmpfs tmpfs "$M/tmp"
mount -t tmpfs tmpfs "$M/run"
mkdir -p "$M/mnt/qlq-deb"
mount --bind "$D" "$M/mnt/qlq-deb"
exec chroot "$M" /bin/sh -c "$3"
"""


class Sandbox:
    """A throwaway root over this machine's (see the module's docstring); state persists between :meth:`run`
    calls (same upper folder). ``deb_dir`` is seen inside as ``/mnt/qlq-deb``."""

    def __init__(self, folder: Path, deb_dir: Path) -> None:
        if os.geteuid() != 0:
            pytest.skip("installing a .deb in a throwaway root needs root (unshare -m, overlayfs, chroot)")
        for tool in ("unshare", "chroot", "dpkg"):
            if shutil.which(tool) is None:
                pytest.skip(f"{tool} is not installed")
        self.folder = folder
        self.deb_dir = deb_dir
        for part in ("upper", "work", "merged"):
            (folder / part).mkdir(parents=True, exist_ok=True)
        probe = self.run("true", check=False)
        if probe.returncode != 0:
            pytest.skip(f"no throwaway root here (overlayfs in a private mount namespace): {probe.stderr.strip()}")

    @property
    def upper(self) -> Path:
        return self.folder / "upper"

    def run(self, script: str, *, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        run = subprocess.run(
            [
                "unshare",
                "-m",
                "--propagation",
                "private",
                "sh",
                "-c",
                _ENTER,
                "sh",
                str(self.folder),
                str(self.deb_dir),
                script,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check:
            assert run.returncode == 0, f"{script}\n--- stdout\n{run.stdout[-3000:]}\n--- stderr\n{run.stderr[-3000:]}"
        return run

    def changed_files(self) -> set[str]:
        """Files (incl. whiteouts of deleted ones and symlinks) that differ from this machine's root."""
        found = set()
        for dirpath, _dirs, files in os.walk(self.upper):
            for name in files:
                found.add("/" + str((Path(dirpath) / name).relative_to(self.upper)))
        return found

    def deleted(self, path: str) -> bool:
        """``path`` (which exists on this machine) was deleted in the sandbox: an overlay whiteout."""
        entry = self.upper / path.lstrip("/")
        return entry.is_char_device() if entry.exists() or entry.is_symlink() else False


def unit_settings(unit_text: str) -> dict[str, list[str]]:
    """``Key=value`` lines of a systemd unit, by key (a key may repeat: Environment=)."""
    settings: dict[str, list[str]] = {}
    for raw in unit_text.splitlines():
        line = raw.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings
