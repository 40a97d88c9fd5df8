"""The HTTP update source's own rules, with the server replaced by httpx's MockTransport (the real server is
exercised in tests/integration/update): size cap, names that could escape the download folder, refusals."""

from __future__ import annotations

import httpx
import pytest

from kiosk.update.http_source import HttpReleaseSource
from kiosk.update.interface import UpdateSourceError

NAME = "qlq-kiosk-1.1.0-linux-x86_64.tar.gz"


def offer_body(name: str = NAME, size: int = 10) -> dict:
    files = {
        k: {"name": name + suffix, "url": f"/v1/releases/files/{name}{suffix}"}
        for k, suffix in (
            ("archive", ""),
            ("signature", ".sig"),
            ("manifest", ".manifest"),
            ("manifest_signature", ".manifest.sig"),
        )
    }
    return {"version": "1.1.0", "os": "linux", "arch": "x86_64", "sha256": "0" * 64, "size": size, **files}


def source(handler, token: str | None = "qlqd_x") -> HttpReleaseSource:
    return HttpReleaseSource("http://update.test", lambda: token, transport=httpx.MockTransport(handler))


def test_a_download_larger_than_announced_is_cut_off(tmp_path):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/releases/latest":
            return httpx.Response(200, json=offer_body(size=10))
        return httpx.Response(200, content=b"x" * 100_000)

    src = source(handler)
    offer = src.latest("linux", "x86_64")
    assert offer is not None and offer.version == "1.1.0"
    with pytest.raises(UpdateSourceError) as err:
        src.download(offer, tmp_path)
    assert err.value.code == "download_too_large"
    assert list(tmp_path.iterdir()) == []


def test_an_offer_naming_a_path_is_refused():
    body = offer_body(name="../../qlq-kiosk-1.1.0-linux-x86_64.tar.gz")
    src = source(lambda request: httpx.Response(200, json=body))
    with pytest.raises(UpdateSourceError) as err:
        src.latest("linux", "x86_64")
    assert err.value.code == "bad_offer"


def test_refusals_keep_the_server_code_and_no_release_is_none():
    src = source(lambda r: httpx.Response(404, json={"error": {"code": "no_release", "message": "none"}}))
    assert src.latest("linux", "x86_64") is None
    src = source(lambda r: httpx.Response(401, json={"error": {"code": "invalid_token", "message": "revoked"}}))
    with pytest.raises(UpdateSourceError) as err:
        src.latest("linux", "x86_64")
    assert err.value.code == "invalid_token"
    with pytest.raises(UpdateSourceError) as err:
        source(lambda r: httpx.Response(200), token=None).latest("linux", "x86_64")
    assert err.value.code == "not_enrolled"


def test_an_offer_pointing_to_another_host_is_refused_so_the_token_stays_home():
    body = offer_body()
    body["archive"]["url"] = "https://elsewhere.example/qlq-kiosk-1.1.0-linux-x86_64.tar.gz"
    with pytest.raises(UpdateSourceError, match="outside the update server") as err:
        source(lambda request: httpx.Response(200, json=body)).latest("linux", "x86_64")
    assert err.value.code == "bad_offer"
