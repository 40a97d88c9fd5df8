"""The sync server as update source: ``GET /v1/releases/latest?os=&arch=`` and the release files, with the
device token, over httpx (TLS verified against the configured CA bundle). Downloads are streamed to
``NAME.part`` with a size cap and renamed when complete; nothing downloaded is trusted before verification."""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from kiosk.update.interface import ReleaseOffer, UpdateSourceError

MAX_ARCHIVE_BYTES = 1 << 30  # the bundle is ≤ 300 MB unpacked; anything near 1 GB is not a release
MAX_SIDE_FILE_BYTES = 64 << 20  # manifest (a few hundred KB), signatures (64 B)


class HttpReleaseSource:
    def __init__(
        self,
        base_url: str,
        token: Callable[[], str | None] | None,
        *,
        verify: ssl.SSLContext | bool = True,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._token = token
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            verify=verify,
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=10.0),
            follow_redirects=False,
        )

    def close(self) -> None:
        self._client.close()

    def _headers(self) -> dict[str, str]:
        """The device token for the centre's server; nothing for another update server (``token`` None): the
        token is the device's credential at its centre and is never sent elsewhere."""
        if self._token is None:
            return {}
        token = self._token()
        if not token:
            raise UpdateSourceError(
                "this kiosk is not enrolled: no device token to ask for updates", code="not_enrolled"
            )
        return {"Authorization": f"Bearer {token}"}

    @staticmethod
    def _refusal(response: httpx.Response) -> UpdateSourceError:
        try:
            error = response.json()["error"]
            code, message = str(error["code"]), str(error["message"])
        except (ValueError, KeyError, TypeError):
            code, message = f"http_{response.status_code}", response.reason_phrase
        return UpdateSourceError(f"the server refused ({response.status_code} {code}): {message}", code=code)

    def latest(self, os_name: str, arch: str) -> ReleaseOffer | None:
        try:
            response = self._client.get(
                "/v1/releases/latest", params={"os": os_name, "arch": arch}, headers=self._headers()
            )
        except httpx.HTTPError as exc:
            raise UpdateSourceError(f"cannot reach the update server: {type(exc).__name__}") from exc
        if response.status_code == 404 and _code(response) == "no_release":
            return None
        if response.status_code != 200:
            raise self._refusal(response)
        try:
            body: dict[str, Any] = response.json()
            files = [body[k] for k in ("archive", "signature", "manifest", "manifest_signature")]
            offer = ReleaseOffer(
                version=str(body["version"]),
                os=str(body["os"]),
                arch=str(body["arch"]),
                sha256=str(body["sha256"]),
                size=int(body["size"]),
                archive_name=str(body["archive"]["name"]),
                urls={str(f["name"]): str(f["url"]) for f in files},
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise UpdateSourceError(f"unexpected answer from the update server: {exc}", code="bad_offer") from exc
        for url in offer.urls.values():
            # files come from this server only: the device token is never sent to another host
            if not url.startswith("/") or url.startswith("//"):
                raise UpdateSourceError(f"the offer points outside the update server: {url[:80]!r}", code="bad_offer")
        return offer

    def download(self, offer: ReleaseOffer, folder: Path) -> Path:
        for name in offer.file_names:  # names checked by ReleaseOffer: plain file names, never a path
            limit = min(offer.size, MAX_ARCHIVE_BYTES) if name == offer.archive_name else MAX_SIDE_FILE_BYTES
            self._fetch(offer.urls[name], folder / name, limit)
        return folder / offer.archive_name

    def _fetch(self, url: str, target: Path, limit: int) -> None:
        part = target.with_name(target.name + ".part")
        try:
            with self._client.stream("GET", url, headers=self._headers()) as response:
                if response.status_code != 200:
                    response.read()
                    raise self._refusal(response)
                written = 0
                with part.open("wb") as out:
                    for chunk in response.iter_bytes(1 << 16):
                        written += len(chunk)
                        if written > limit:
                            raise UpdateSourceError(
                                f"{target.name} is larger than announced ({limit} bytes)", code="download_too_large"
                            )
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
            os.replace(part, target)
        except httpx.HTTPError as exc:
            raise UpdateSourceError(f"download of {target.name} failed: {type(exc).__name__}") from exc
        finally:
            part.unlink(missing_ok=True)


def _code(response: httpx.Response) -> str | None:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None
