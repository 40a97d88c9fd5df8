"""Kiosque QLQ-C30: the tablet kiosk (``kiosk.domain`` is its pure core, shared with the sync server)."""

__version__ = "0.1.0"
