"""The import-layering contracts (``[tool.importlinter]`` in pyproject.toml) hold, and each one fails on the
violation it exists to catch: ``lint-imports`` runs on a temporary copy of kiosk/ and sync_server/ with one bad
import (or one unplaced package) added."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

LAYERS = "kiosk layers: app/cli (composition root) > ui > viewmodels > adapters > domain"
SERVER = "sync_server imports only kiosk.domain from the kiosk"
KIOSK = "the kiosk never imports sync_server"
PURE = "kiosk.domain is pure: no Qt, no database, no network, no audio, no keyring"
CONTRACTS = {LAYERS, SERVER, KIOSK, PURE}


def lint(root: Path) -> tuple[int, dict[str, str], str]:
    """Run lint-imports on ROOT; return its exit code, each contract's KEPT/BROKEN and its output."""
    env = {**os.environ, "PYTHONPATH": str(root)}  # the copy, not the installed (editable) packages
    done = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    verdicts = {
        m["name"]: m["verdict"] for m in re.finditer(r"^(?P<name>.+?) (?P<verdict>KEPT|BROKEN)\b", output, re.MULTILINE)
    }
    return done.returncode, verdicts, output


def copy_project(tmp_path: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("kiosk", "sync_server"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def add_import(root: Path, module: str, statement: str) -> None:
    path = root / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = root / module.replace(".", "/") / "__init__.py"
    path.write_text(path.read_text() + f"\n{statement}\n")


def test_the_code_keeps_every_contract() -> None:
    code, verdicts, output = lint(ROOT)
    assert code == 0, output
    assert verdicts == dict.fromkeys(CONTRACTS, "KEPT"), output


@pytest.mark.parametrize(
    ("module", "statement", "broken"),
    [
        ("kiosk.domain.scoring", "import PySide6.QtCore", PURE),
        ("kiosk.domain.session", "from google.cloud import speech", PURE),
        ("kiosk.domain.patient", "import pyaudio", PURE),
        ("kiosk.storage.records", "from kiosk.viewmodels import options", LAYERS),
        ("kiosk.domain.clock", "from kiosk.ui import theme", LAYERS),
        ("kiosk.audio.service", "import kiosk.app", LAYERS),
        ("sync_server.services.ingest", "from kiosk.storage import interface", SERVER),
        ("kiosk.secrets.memory", "import sync_server.errors", KIOSK),
    ],
)
def test_a_bad_import_breaks_its_contract(tmp_path: Path, module: str, statement: str, broken: str) -> None:
    root = copy_project(tmp_path)
    add_import(root, module, statement)
    code, verdicts, output = lint(root)
    assert code == 1, output
    assert verdicts[broken] == "BROKEN", output


def test_a_new_kiosk_package_must_be_placed_in_a_layer(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    (root / "kiosk" / "printing").mkdir()
    (root / "kiosk" / "printing" / "__init__.py").write_text('"""Unplaced."""\n')
    code, verdicts, output = lint(root)
    assert code == 1, output
    assert verdicts[LAYERS] == "BROKEN", output
    assert "kiosk.printing" in output
