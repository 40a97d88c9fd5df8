"""The releases folder (``QLQ_RELEASES_DIR``): published kiosk releases, four or five files each.

A release is listed only when its archive, signature, manifest and manifest signature are all there (the archive
is moved in last, so a half-published release is never offered). The manifest's header says version, OS and
architecture; it was verified when the release was published.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kiosk.domain.release import (
    ARCHIVE_NAME,
    MANIFEST_SUFFIX,
    SBOM_SUFFIX,
    SIGNATURE_SUFFIX,
    ReleaseError,
    ReleaseFiles,
    parse_manifest,
)


@dataclass(frozen=True)
class StoredRelease:
    version: str
    os: str
    arch: str
    archive: Path
    sha256: str
    size: int
    published_at: datetime
    has_sbom: bool

    @property
    def files(self) -> ReleaseFiles:
        return ReleaseFiles(self.archive)


class ReleaseRepository:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def all(self) -> list[StoredRelease]:
        if not self.folder.is_dir():
            return []
        found = []
        for archive in sorted(self.folder.glob("qlq-kiosk-*.tar.gz")):
            files = ReleaseFiles(archive)
            if not ARCHIVE_NAME.match(archive.name) or not all(
                p.is_file() for p in (files.signature, files.manifest, files.manifest_signature)
            ):
                continue
            try:
                manifest = parse_manifest(files.manifest.read_text(encoding="utf-8"), where=files.manifest.name)
            except (ReleaseError, OSError, UnicodeDecodeError):
                continue
            stat = archive.stat()
            found.append(
                StoredRelease(
                    version=manifest.version,
                    os=manifest.os,
                    arch=manifest.arch,
                    archive=archive,
                    sha256=manifest.archive_sha256,
                    size=stat.st_size,
                    published_at=datetime.fromtimestamp(stat.st_mtime, UTC),
                    has_sbom=files.sbom.is_file(),
                )
            )
        return found

    def file(self, name: str) -> Path | None:
        """A published file by its bare name, or None (never a path outside the folder)."""
        for release in self.all():
            files = release.files
            candidates = [files.archive, files.signature, files.manifest, files.manifest_signature]
            if release.has_sbom:
                candidates.append(files.sbom)
            for path in candidates:
                if path.name == name:
                    return path
        return None

    def store(self, source: ReleaseFiles, *, sbom: bool) -> Path:
        """Copy a release in: companions first, each through a temporary name, the archive last."""
        self.folder.mkdir(parents=True, exist_ok=True)
        target = ReleaseFiles(self.folder / source.archive.name)
        pairs = [
            (source.signature, target.signature),
            (source.manifest, target.manifest),
            (source.manifest_signature, target.manifest_signature),
        ]
        if sbom:
            pairs.append((source.sbom, target.sbom))
        pairs.append((source.archive, target.archive))
        for src, dst in pairs:
            tmp = dst.with_name(f".{dst.name}.partial")
            shutil.copyfile(src, tmp)
            with tmp.open("rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, dst)
        return target.archive


__all__ = ["MANIFEST_SUFFIX", "SBOM_SUFFIX", "SIGNATURE_SUFFIX", "ReleaseRepository", "StoredRelease"]
