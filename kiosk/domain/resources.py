"""Where the bundled resources (instrument files, schemas, audio packs) are.

Looked up in order: ``QLQ_RESOURCES_DIR``; a PyInstaller bundle (``sys._MEIPASS/resources``); the copy a wheel
installs as ``kiosk/_resources``; the repository's top-level ``resources/``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def resources_dir() -> Path:
    override = os.environ.get("QLQ_RESOURCES_DIR")
    candidates = []
    if override:
        candidates.append(Path(override))
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / "resources")
    candidates += [_PACKAGE_DIR / "_resources", _PACKAGE_DIR.parent / "resources"]
    for candidate in candidates:
        if (candidate / "instruments").is_dir():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"resources folder not found (looked in: {tried}); set QLQ_RESOURCES_DIR")


def instruments_dir() -> Path:
    return resources_dir() / "instruments"


def schemas_dir() -> Path:
    return resources_dir() / "schemas"
