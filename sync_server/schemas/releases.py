"""Responses of the kiosk update endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ReleaseFile(BaseModel):
    name: str
    url: str = Field(description="Path on this server; GET it with the device token")


class LatestRelease(BaseModel):
    version: str = Field(description="PEP 440 version, e.g. 1.2.0")
    os: str
    arch: str
    sha256: str = Field(description="SHA-256 of the archive (also in its signed manifest)")
    size: int = Field(description="Archive size in bytes")
    published_at: datetime
    archive: ReleaseFile
    signature: ReleaseFile
    manifest: ReleaseFile
    manifest_signature: ReleaseFile
    sbom: ReleaseFile | None = None
