"""The kiosk application's updater: where its install folder is, and a source that follows the enrollment.

Updates are on only where the kiosk was installed to be updated: ``QLQ_UPDATE_ROOT`` names the folder that holds
``versions/`` and ``current`` (the .deb's systemd unit sets ``/var/lib/qlq-kiosk/updates``, which its launcher
reads). Without it (a source checkout, demo mode) the admin screen says updates come with the package.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from kiosk.update.interface import ReleaseOffer, ReleaseSource, UpdateSourceError

UPDATE_ROOT_ENV = "QLQ_UPDATE_ROOT"


def update_root(environ: Mapping[str, str] | None = None) -> Path | None:
    """The install folder updates go to, or None when this installation is not updated by the kiosk."""
    value = (os.environ if environ is None else environ).get(UPDATE_ROOT_ENV, "").strip()
    return Path(value) if value else None


class FollowingReleaseSource:
    """A :class:`ReleaseSource` built again for each check from the kiosk's current link to its centre (the
    enrollment may come, change or go while the kiosk runs): ``make()`` returns the source, or None when the
    tablet is not enrolled (the check then fails with ``not_enrolled``)."""

    def __init__(self, make: Callable[[], ReleaseSource | None]) -> None:
        self._make = make
        self._current: ReleaseSource | None = None

    def _source(self) -> ReleaseSource:
        close = getattr(self._current, "close", None)
        if callable(close):
            close()
        self._current = self._make()
        if self._current is None:
            raise UpdateSourceError(
                "this kiosk is not enrolled with a centre: no server to ask for updates", code="not_enrolled"
            )
        return self._current

    def latest(self, os_name: str, arch: str) -> ReleaseOffer | None:
        return self._source().latest(os_name, arch)

    def download(self, offer: ReleaseOffer, folder: Path) -> Path:
        source = self._current if self._current is not None else self._source()
        return source.download(offer, folder)
