"""Kiosk releases: publishing a signed release into the releases folder, and finding the latest one for a kiosk.

``publish`` verifies the release (signature, signed manifest, contents: kiosk.domain.release) BEFORE anything is
copied, so the folder only ever holds releases a kiosk would accept; the kiosk verifies again after download.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from kiosk.domain.release import (
    ReleaseError,
    ReleaseFiles,
    VerifiedRelease,
    file_sha256,
    load_public_key,
    verify_release,
)
from sync_server.errors import InvalidRelease, NoRelease, ReleaseExists, ReleaseFileNotFound, Unprocessable
from sync_server.repositories.releases import ReleaseRepository, StoredRelease
from sync_server.settings import Settings

_PLATFORM = re.compile(r"^[A-Za-z0-9_]{1,32}$")


@dataclass(frozen=True)
class PublishResult:
    release: VerifiedRelease
    stored_at: Path
    already_published: bool


def _version(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        return Version("0")


class ReleaseService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.repository = ReleaseRepository(Path(settings.releases_dir)) if settings.releases_dir else None

    def _public_key_path(self, override: Path | None) -> Path | None:
        if override is not None:
            return override
        return Path(self.settings.release_public_key) if self.settings.release_public_key else None

    def publish(self, archive: Path, *, public_key: Path | None = None, require_sbom: bool = True) -> PublishResult:
        if self.repository is None:
            raise Unprocessable(
                "QLQ_RELEASES_DIR is not set: there is no releases folder to publish into",
                code="releases_not_configured",
                field="QLQ_RELEASES_DIR",
            )
        try:
            key = load_public_key(self._public_key_path(public_key))
            verified = verify_release(archive, key)
        except ReleaseError as exc:
            raise InvalidRelease(f"{exc.code}: {exc}") from exc
        files = ReleaseFiles(archive)
        if require_sbom and not files.sbom.is_file():
            raise InvalidRelease(
                f"SBOM missing: {files.sbom.name} (installer/build.sh writes it beside the archive)",
                code="missing_sbom",
            )
        existing = ReleaseFiles(self.repository.folder / archive.name)
        if existing.archive.is_file():
            if file_sha256(existing.archive) == verified.sha256:
                return PublishResult(verified, existing.archive, already_published=True)
            raise ReleaseExists(
                f"{archive.name} is already published with different contents; publish a new version instead"
            )
        stored = self.repository.store(files, sbom=files.sbom.is_file())
        return PublishResult(verified, stored, already_published=False)

    def latest(self, os_name: str, arch: str) -> StoredRelease:
        for name, value in (("os", os_name), ("arch", arch)):
            if not _PLATFORM.match(value):
                raise Unprocessable(f"{name} must be 1-32 letters, digits or '_'", field=name)
        releases = [r for r in (self.repository.all() if self.repository else []) if r.os == os_name and r.arch == arch]
        if not releases:
            raise NoRelease(f"no release is published for {os_name}/{arch}")
        return max(releases, key=lambda r: (_version(r.version), r.published_at))

    def file(self, name: str) -> Path:
        path = self.repository.file(name) if self.repository else None
        if path is None:
            raise ReleaseFileNotFound(f"no published release file is named {name!r}")
        return path
