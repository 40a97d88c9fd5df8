"""Kiosque QLQ-C30: the tablet kiosk (``kiosk.domain`` is its pure core, shared with the sync server)."""

from kiosk.version import version as _version

__version__ = _version()  # from pyproject.toml, through the package metadata (kiosk/version.py)
