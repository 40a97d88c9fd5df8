"""A release source backed by a local folder (tests; also a USB stick or a share, for offline sites)."""

from __future__ import annotations

import shutil
from pathlib import Path

from packaging.version import InvalidVersion, Version

from kiosk.domain.release import ARCHIVE_NAME, ReleaseFiles, file_sha256
from kiosk.update.interface import ReleaseOffer, UpdateSourceError


class FolderReleaseSource:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.downloads = 0

    def latest(self, os_name: str, arch: str) -> ReleaseOffer | None:
        best: tuple[Version, Path] | None = None
        for archive in self.folder.glob("qlq-kiosk-*.tar.gz"):
            match = ARCHIVE_NAME.match(archive.name)
            if not match or (match["os"], match["arch"]) != (os_name, arch):
                continue
            try:
                version = Version(match["version"])
            except InvalidVersion:
                continue
            if best is None or version > best[0]:
                best = (version, archive)
        if best is None:
            return None
        archive = best[1]
        match = ARCHIVE_NAME.match(archive.name)
        assert match is not None
        files = ReleaseFiles(archive)
        names = [p.name for p in (files.archive, files.signature, files.manifest, files.manifest_signature)]
        return ReleaseOffer(
            version=match["version"],
            os=os_name,
            arch=arch,
            sha256=file_sha256(archive),
            size=archive.stat().st_size,
            archive_name=archive.name,
            urls={name: str(self.folder / name) for name in names},
        )

    def download(self, offer: ReleaseOffer, folder: Path) -> Path:
        self.downloads += 1
        for name, source in offer.urls.items():
            if Path(source).is_file():
                shutil.copyfile(source, folder / name)
            elif name == offer.archive_name:
                raise UpdateSourceError(f"{name} is gone from {self.folder}")
        return folder / offer.archive_name
