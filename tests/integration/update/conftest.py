"""A real sync server on a loopback port (uvicorn, lifespan running, the session's PostgreSQL database), a releases
folder it serves, an enrolled device, and a kiosk install folder running version 1.0.0."""

from __future__ import annotations

import json
import socket
import tarfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from kiosk.domain.release import load_public_key
from kiosk.update.http_source import HttpReleaseSource
from kiosk.update.layout import InstallLayout
from kiosk.update.service import SessionLock, Updater
from sync_server.app import create_app
from sync_server.cli import main as server_main
from sync_server.settings import Settings
from tests.conftest_pg import truncate_all
from tests.integration.server.factories import TEST_SECRET, Accounts
from tests.release_kit import KeyPair, make_archive, make_keypair, sign_with_script

PLATFORM = ("linux", "x86_64")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    base_url: str
    settings: Settings
    device_token: str
    releases: Path


@pytest.fixture
def keys(tmp_path: Path) -> KeyPair:
    return make_keypair(tmp_path / "keys")


@pytest.fixture
def server(database_url: str, tmp_path: Path, keys: KeyPair) -> Iterator[Served]:
    releases = tmp_path / "server-releases"
    settings = Settings(
        database_url=database_url,
        token_secret=TEST_SECRET,
        environment="development",
        db_pool_size=2,
        db_max_overflow=2,
        db_ingest_pool_size=1,
        releases_dir=str(releases),
        release_public_key=str(keys.public_pem),
        log_json=True,
    )
    app = create_app(settings)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_level="warning", access_log=False)
    uv_server = uvicorn.Server(config)
    thread = threading.Thread(target=uv_server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not uv_server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    accounts = Accounts(settings)
    try:
        token, _ = accounts.device("SITE-UPD")
    finally:
        accounts.engine.dispose()
    try:
        yield Served(base, settings, token, releases)
    finally:
        uv_server.should_exit = True
        thread.join(10)
        app.state.engine.dispose()
        truncate_all(database_url)


def write_sbom(archive: Path) -> None:
    Path(f"{archive}.cdx.json").write_text(
        json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []})
    )


def publish(
    served: Served,
    folder: Path,
    version: str,
    signer: KeyPair,
    *,
    self_test_exit: int = 0,
    public_key: Path | None = None,
) -> Path:
    """Build, sign (installer/sign.sh) and publish (qlq-server publish-release) a release."""
    archive = make_archive(folder / version, version, *PLATFORM, self_test_exit=self_test_exit)
    sign_with_script(archive, signer)
    write_sbom(archive)
    argv = [
        "--database-url",
        served.settings.database_url,
        "publish-release",
        str(archive),
        "--releases-dir",
        str(served.releases),
        "--public-key",
        str(public_key or signer.public_pem),
    ]
    assert server_main(argv) == 0
    return served.releases / archive.name


def install_initial(root: Path, version: str = "1.0.0") -> InstallLayout:
    """A kiosk folder as the installer leaves it: versions/1.0.0 and current -> versions/1.0.0."""
    layout = InstallLayout(root)
    layout.prepare()
    archive = make_archive(root.parent / "initial", version, *PLATFORM)
    with tarfile.open(archive) as tar:
        # the test's own archive; Python's data filter where it exists (3.11.4+; Debian 12 has 3.11.2)
        data_filter: dict[str, Any] = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(root / "staging", **data_filter)
    (root / "staging" / "qlq-kiosk").rename(layout.bundle(version))
    layout.switch_to(version)
    return layout


@dataclass
class Kiosk:
    layout: InstallLayout
    gate: SessionLock
    updater: Updater
    source: HttpReleaseSource


@pytest.fixture
def kiosk(server: Served, tmp_path: Path, keys: KeyPair) -> Iterator[Kiosk]:
    layout = install_initial(tmp_path / "opt-qlq-kiosk")
    gate = SessionLock()
    source = HttpReleaseSource(server.base_url, lambda: server.device_token)
    updater = Updater(
        source,
        layout,
        current_version="1.0.0",
        gate=gate,
        public_key=load_public_key(keys.public_pem),
        platform=PLATFORM,
    )
    try:
        yield Kiosk(layout, gate, updater, source)
    finally:
        source.close()


def get(served: Served, path: str, token: str | None = None, **params: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(served.base_url + path, params=params, headers=headers, timeout=10)
