"""Which server the running kiosk asks for updates, and whether the device token goes with the question
(kiosk/app.py ``_release_source``), against two real HTTP servers on loopback that record what they receive:
the centre's server (enrolled: the token is sent), and IT's ``update_url`` from the provisioning file (another
server: never the token; the centre's own address given there: the token)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from kiosk.app import _release_source
from kiosk.secrets import MemorySecretStore, SecretName
from kiosk.sync.config import ALLOW_HTTP_ENV, Enrollment
from kiosk.update.setup import FollowingReleaseSource

TOKEN = "qlqd_device-token-of-this-tablet"


class Recorder(ThreadingHTTPServer):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(handler) -> None:
                self.seen.append((handler.path, handler.headers.get("Authorization")))
                body = json.dumps({"error": {"code": "no_release", "message": "none"}}).encode()
                handler.send_response(404)
                handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body)

            def log_message(handler, *args: object) -> None:
                return

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()


@pytest.fixture
def servers(monkeypatch):
    monkeypatch.setenv(ALLOW_HTTP_ENV, "1")  # plain http on loopback, as in development
    centre, other = Recorder(), Recorder()
    yield centre, other
    for server in (centre, other):
        server.shutdown()
        server.server_close()


def sync_for(url: str | None):
    """What _release_source reads of the SyncViewModel: the enrollment stored now and the opened backend."""
    secrets = MemorySecretStore()
    secrets.set(SecretName.DEVICE_TOKEN, TOKEN)
    enrollment = (
        None
        if url is None
        else Enrollment(
            server_url=url,
            site="LYON-01",
            device_name="t",
            server_device_id="d1",
            enrolled_at=datetime(2026, 12, 1, tzinfo=UTC),
            allow_http=True,
        )
    )
    return SimpleNamespace(enrollment=enrollment, backend=SimpleNamespace(secrets=secrets))


def ask(sync, update_url=None):
    return FollowingReleaseSource(lambda: _release_source(sync, update_url)).latest("linux", "x86_64")


def test_the_centre_is_asked_with_the_device_token(servers):
    centre, other = servers
    assert ask(sync_for(centre.url)) is None  # 404 no_release: nothing newer
    assert centre.seen == [("/v1/releases/latest?os=linux&arch=x86_64", f"Bearer {TOKEN}")]
    assert other.seen == []


def test_another_update_server_never_gets_the_token(servers):
    centre, other = servers
    assert ask(sync_for(centre.url), other.url) is None
    assert other.seen == [("/v1/releases/latest?os=linux&arch=x86_64", None)]
    assert centre.seen == []
    assert ask(sync_for(None), other.url) is None  # not enrolled yet: IT's server still answers
    assert other.seen[-1][1] is None


def test_the_centres_own_address_as_update_url_gets_the_token(servers):
    centre, _other = servers
    assert ask(sync_for(centre.url), centre.url + "/") is None
    assert centre.seen == [("/v1/releases/latest?os=linux&arch=x86_64", f"Bearer {TOKEN}")]


def test_not_enrolled_and_no_update_url_is_said_so():
    from kiosk.update.interface import UpdateSourceError

    with pytest.raises(UpdateSourceError) as refused:
        ask(sync_for(None))
    assert refused.value.code == "not_enrolled"
