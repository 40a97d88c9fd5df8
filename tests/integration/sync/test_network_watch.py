"""The sync's wake-up on network changes, through Qt's real QNetworkInformation backend (glib here)."""

from __future__ import annotations

import pytest
from PySide6.QtNetwork import QNetworkInformation

from kiosk.sync.network_watch import watch_network


def test_coming_back_online_wakes_the_sync_and_going_offline_does_not(qapp) -> None:
    woken: list[int] = []
    if not watch_network(lambda: woken.append(1)):
        pytest.fail("no QNetworkInformation backend: install libglib2.0-0 (scripts/bootstrap.sh does)")
    info = QNetworkInformation.instance()
    assert info is not None and info.backendName() in QNetworkInformation.availableBackends()
    info.reachabilityChanged.emit(QNetworkInformation.Reachability.Disconnected)
    assert woken == []
    info.reachabilityChanged.emit(QNetworkInformation.Reachability.Online)
    info.reachabilityChanged.emit(QNetworkInformation.Reachability.Local)
    assert woken == [1, 1]
