"""Builds the espeak-ng audio pack the tests play, with the real ``prepare-audio`` command (nothing committed)."""

from __future__ import annotations

import shutil
from pathlib import Path

from kiosk.audio.pack import DEFAULT_RATE
from kiosk.cli.main import main


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def build_espeak_pack(root: Path, language: str = "fr", rates: tuple[float, ...] = (DEFAULT_RATE,)) -> Path:
    """``<root>/<language>``: every prompt of the bundled instrument, spoken by espeak-ng."""
    out = root / language
    args = ["prepare-audio", "--language", language, "--engine", "espeak", "--out", str(out), "--quiet"]
    for rate in rates:
        args += ["--rate", str(rate)]
    code = main(args)
    if code != 0:
        raise RuntimeError(f"prepare-audio --engine espeak failed (exit {code})")
    return out
