"""The kiosk's version for its screens and commands (read once from pyproject.toml: see ``kiosk/__init__.py``).

The admin screen shows :func:`version_label`; ``qlq-kiosk --version`` prints the same number.
"""

from __future__ import annotations

from kiosk import __version__

DISTRIBUTION = "kiosque-qlq-c30"


def version() -> str:
    """``"0.1.0"``: the version of the running kiosk (PEP 440)."""
    return __version__


def version_label() -> str:
    """What the admin screen shows: ``"Kiosque QLQ-C30 version 0.1.0"``."""
    return f"Kiosque QLQ-C30 version {version()}"
