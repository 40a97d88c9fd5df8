"""Kiosk updates: the latest published release for a kiosk's OS and architecture, and its files.

Device-authenticated like the other /v1 device endpoints. The kiosk verifies what it downloads with the release
public key built into it; the server only serves what ``qlq-server publish-release`` verified and stored.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse

from sync_server.auth import DeviceCaller
from sync_server.routers.deps import AppSettings
from sync_server.schemas.api import ErrorResponse
from sync_server.schemas.releases import LatestRelease, ReleaseFile
from sync_server.services.releases import ReleaseService

router = APIRouter(prefix="/v1/releases", tags=["releases"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorResponse} for code in (401, 403, 404, 422)}
_FILES_PATH = "/v1/releases/files/"


def _file(name: str) -> ReleaseFile:
    return ReleaseFile(name=name, url=_FILES_PATH + name)


@router.get(
    "/latest",
    response_model=LatestRelease,
    responses=_ERRORS,
    summary="The newest published release for this OS and architecture (404 no_release when none)",
)
def latest(
    _: DeviceCaller,
    settings: AppSettings,
    os: Annotated[str, Query(description="linux, windows or macos", min_length=1, max_length=32)],
    arch: Annotated[str, Query(description="x86_64, arm64, …", min_length=1, max_length=32)],
) -> LatestRelease:
    release = ReleaseService(settings).latest(os, arch)
    files = release.files
    return LatestRelease(
        version=release.version,
        os=release.os,
        arch=release.arch,
        sha256=release.sha256,
        size=release.size,
        published_at=release.published_at,
        archive=_file(files.archive.name),
        signature=_file(files.signature.name),
        manifest=_file(files.manifest.name),
        manifest_signature=_file(files.manifest_signature.name),
        sbom=_file(files.sbom.name) if release.has_sbom else None,
    )


@router.get(
    "/files/{name}",
    response_class=FileResponse,
    responses={**_ERRORS, 200: {"content": {"application/octet-stream": {}}}},
    summary="One file of a published release (archive, signature, manifest, SBOM)",
)
def release_file(
    _: DeviceCaller,
    settings: AppSettings,
    name: Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._+!-]+$")],
) -> FileResponse:
    path = ReleaseService(settings).file(name)
    return FileResponse(path, media_type="application/octet-stream", filename=path.name)
