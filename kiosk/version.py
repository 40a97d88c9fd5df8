"""The kiosk's version, from ONE place: ``[project] version`` in pyproject.toml.

An installed kiosk (``uv sync``, a wheel, the PyInstaller bundle, which carries the distribution's metadata:
``copy_metadata`` in installer/kiosk.spec) reads it from the package metadata. A source tree that was never
installed falls back to reading pyproject.toml itself, so the number is never written twice.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "kiosque-qlq-c30"
_PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


@cache
def version() -> str:
    """``"0.1.0"``: the version of the installed kiosk (PEP 440)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        try:
            with _PYPROJECT.open("rb") as f:
                return str(tomllib.load(f)["project"]["version"])
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "0+unknown"


def version_label() -> str:
    """What the admin screen shows: ``"Kiosque QLQ-C30 version 0.1.0"``."""
    return f"Kiosque QLQ-C30 version {version()}"
