"""What an update source offers, and what it must do."""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from kiosk.domain.release import ARCHIVE_NAME, MANIFEST_SUFFIX, SIGNATURE_SUFFIX


class UpdateError(Exception):
    """An update step failed; ``code`` is stable (logs, the admin screen)."""

    code = "update_failed"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class UpdateSourceError(UpdateError):
    """The update source could not be asked or downloaded from (network, server refusal)."""

    code = "source_unavailable"


@dataclass(frozen=True)
class ReleaseOffer:
    """A release a source says exists. Nothing in it is trusted until the download is verified."""

    version: str
    os: str
    arch: str
    sha256: str
    size: int
    archive_name: str
    urls: dict[str, str]  # file name -> where to get it (archive, .sig, .manifest, .manifest.sig)

    def __post_init__(self) -> None:
        match = ARCHIVE_NAME.match(self.archive_name)
        if match is None:
            raise UpdateSourceError(
                f"offered archive name {self.archive_name[:80]!r} is not qlq-kiosk-VERSION-OS-ARCH.tar.gz",
                code="bad_offer",
            )
        if (match["version"], match["os"], match["arch"]) != (self.version, self.os, self.arch):
            raise UpdateSourceError(
                f"offered archive {self.archive_name} does not match version {self.version} for {self.os}/{self.arch}",
                code="bad_offer",
            )
        if set(self.urls) != set(self.file_names):
            raise UpdateSourceError(
                "the offer must name exactly the archive, its signature, manifest and manifest signature",
                code="bad_offer",
            )

    @property
    def file_names(self) -> tuple[str, ...]:
        a = self.archive_name
        return (a, a + SIGNATURE_SUFFIX, a + MANIFEST_SUFFIX, a + MANIFEST_SUFFIX + SIGNATURE_SUFFIX)


class ReleaseSource(Protocol):
    def latest(self, os_name: str, arch: str) -> ReleaseOffer | None:
        """The newest release for this platform, or None when there is none."""
        ...

    def download(self, offer: ReleaseOffer, folder: Path) -> Path:
        """Put the offer's four files in ``folder``; return the archive's path."""
        ...


def current_platform() -> tuple[str, str]:
    """``("linux", "x86_64")``, ``("windows", "x86_64")``, ``("macos", "arm64")``: the names releases use."""
    os_name = {"win32": "windows", "darwin": "macos"}.get(
        sys.platform, "linux" if sys.platform.startswith("linux") else sys.platform
    )
    machine = platform.machine().lower()
    arch = {"amd64": "x86_64", "x64": "x86_64", "aarch64": "arm64"}.get(machine, machine)
    return os_name, arch
