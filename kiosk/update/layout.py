"""The install folder an updatable kiosk runs from::

    ROOT/versions/1.1.0/qlq-kiosk      one unpacked bundle per version, side by side
    ROOT/versions/1.2.0/qlq-kiosk
    ROOT/current -> versions/1.2.0     what the launcher (systemd unit, shortcut) starts: ROOT/current/qlq-kiosk
    ROOT/update-state.json             the switch in progress (so a crash mid-update rolls back at next start)
                                       and the versions whose self-test failed (never offered again)
    ROOT/downloads/                    downloads being verified (private)

``current`` is a symlink replaced with ``os.replace`` (atomic on POSIX); on Windows, where symlinks need
privileges, it is a pointer file ``current.txt`` holding ``versions/1.2.0``, also replaced atomically.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from kiosk.domain.release import TamperedFile, VerifiedRelease, check_member

SwitchMode = Literal["symlink", "pointer"]


class _HashingReader:
    """A read-only file wrapper hashing every byte read (so what is unpacked is what was verified)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.digest.update(data)
        return data


@dataclass
class UpdateState:
    pending: str | None = None  # version switched to whose self-test has not passed yet
    previous: str | None = None  # the version to go back to
    failed: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"pending": self.pending, "previous": self.previous, "failed": self.failed}


class InstallLayout:
    def __init__(self, root: Path, mode: SwitchMode | None = None) -> None:
        self.root = root
        self.mode: SwitchMode = mode or ("pointer" if sys.platform == "win32" else "symlink")
        self.versions = root / "versions"
        self.downloads = root / "downloads"
        self.state_file = root / "update-state.json"

    @property
    def pointer(self) -> Path:
        return self.root / ("current" if self.mode == "symlink" else "current.txt")

    def prepare(self) -> None:
        self.versions.mkdir(parents=True, exist_ok=True)
        self.downloads.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            self.downloads.chmod(0o700)

    # --- which version runs -------------------------------------------------------------------------------------
    def current_version(self) -> str | None:
        try:
            target = os.readlink(self.pointer) if self.mode == "symlink" else self.pointer.read_text("utf-8").strip()
        except OSError:
            return None
        return Path(target).name

    def bundle(self, version: str) -> Path:
        return self.versions / version

    def switch_to(self, version: str | None) -> None:
        """Point ``current`` at ``versions/VERSION`` in one atomic rename (None: remove the pointer)."""
        if version is None:
            self.pointer.unlink(missing_ok=True)
            return
        if not self.bundle(version).is_dir():
            raise FileNotFoundError(f"no unpacked bundle for version {version} in {self.versions}")
        relative = f"versions/{version}"
        tmp = self.root / f".{self.pointer.name}.new"
        tmp.unlink(missing_ok=True)
        if self.mode == "symlink":
            os.symlink(relative, tmp, target_is_directory=True)
        else:
            with tmp.open("w", encoding="utf-8") as f:
                f.write(relative + "\n")
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, self.pointer)
        _fsync_dir(self.root)

    # --- unpacking ----------------------------------------------------------------------------------------------
    def unpack(self, release: VerifiedRelease) -> Path:
        """Unpack a verified archive to ``versions/VERSION`` (through a temporary folder). The bytes unpacked are
        hashed on the way and must be the ones verified; otherwise nothing is left behind."""
        target = self.bundle(release.version)
        staging = self.versions / f".{release.version}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            with release.archive.open("rb") as raw:
                reader = _HashingReader(raw)
                with tarfile.open(fileobj=reader, mode="r|gz") as tar:  # type: ignore[call-overload]
                    _extract_checked(tar, staging, release.archive.name)
                while reader.read(1 << 20):
                    pass
            if reader.digest.hexdigest() != release.sha256:
                raise TamperedFile(f"{release.archive.name} changed between verification and unpacking")
            top = staging / "qlq-kiosk"
            if not top.is_dir():
                raise TamperedFile(f"{release.archive.name} has no qlq-kiosk/ folder at its top")
            if target.exists():
                shutil.rmtree(target)
            os.replace(top, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return target

    def remove(self, version: str) -> None:
        if version != self.current_version():
            shutil.rmtree(self.bundle(version), ignore_errors=True)

    # --- state --------------------------------------------------------------------------------------------------
    def load_state(self) -> UpdateState:
        try:
            data = json.loads(self.state_file.read_text("utf-8"))
            return UpdateState(
                pending=data.get("pending"),
                previous=data.get("previous"),
                failed=[str(v) for v in data.get("failed", [])],
            )
        except (OSError, ValueError, AttributeError):
            return UpdateState()

    def save_state(self, state: UpdateState) -> None:
        tmp = self.state_file.with_name(self.state_file.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            json.dump(state.to_json(), f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.state_file)


def _extract_checked(tar: tarfile.TarFile, staging: Path, archive_name: str) -> None:
    """Unpack every member after :func:`check_member` accepts it, giving it the permission bits the rule allows
    (the same result as ``extractall(filter="data")``, also on Pythons older than 3.11.4, which lack it)."""
    options: dict[str, Any] = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    for member in tar:
        mode = check_member(member, str(staging), archive_name)
        tar.extract(member, staging, set_attrs=False, **options)
        if mode is not None and not member.issym():
            os.chmod(staging / member.name.lstrip("/"), mode)


def _fsync_dir(path: Path) -> None:
    if sys.platform == "win32":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
