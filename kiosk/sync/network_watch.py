"""Wake the sync when the network comes back, where the platform says so (Qt's QNetworkInformation: Network
Manager or glib on Linux, the native backends on Windows, macOS, Android). Without a backend it does nothing:
the worker still wakes every few minutes."""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


def watch_network(on_change: Callable[[], None]) -> bool:
    """Call ``on_change`` on the Qt thread whenever reachability changes; False when the platform cannot tell."""
    from PySide6.QtNetwork import QNetworkInformation

    if not QNetworkInformation.loadDefaultBackend():
        log.info("no network-information backend: the sync relies on its periodic wake-up")
        return False
    info = QNetworkInformation.instance()
    if info is None:
        return False

    def changed(reachability: QNetworkInformation.Reachability) -> None:
        log.info("network reachability changed: %s", reachability.name)
        if reachability in (
            QNetworkInformation.Reachability.Online,
            QNetworkInformation.Reachability.Site,
            QNetworkInformation.Reachability.Local,
        ):
            on_change()

    info.reachabilityChanged.connect(changed)
    log.info("watching the network with the %s backend", info.backendName())
    return True
