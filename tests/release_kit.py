"""Test helpers for releases: a throw-away Ed25519 key pair made at test time, small release archives, and the
two signers (installer/sign.sh, and an independent Python one for the other direction of the cross-check)."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = Path(__file__).resolve().parent.parent
SIGN_SH = ROOT / "installer" / "sign.sh"


@dataclass(frozen=True)
class KeyPair:
    private_pem: Path
    public_pem: Path
    private: Ed25519PrivateKey


def make_keypair(folder: Path, name: str = "release") -> KeyPair:
    folder.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private_pem = folder / f"{name}-key.pem"
    private_pem.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    private_pem.chmod(0o600)
    public_pem = folder / f"{name}-key.pub.pem"
    public_pem.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return KeyPair(private_pem, public_pem, key)


def self_test_script(exit_code: int = 0, marker: str = "") -> str:
    """The bundle's executable: ``qlq-kiosk --self-test`` exits with ``exit_code``; ``--version`` prints marker."""
    return (
        "#!/bin/sh\n"
        f'if [ "$1" = "--self-test" ]; then echo "self-test {marker}"; exit {exit_code}; fi\n'
        f'echo "qlq-kiosk {marker}"\n'
    )


def make_archive(
    folder: Path,
    version: str = "1.2.0",
    os_name: str = "linux",
    arch: str = "x86_64",
    *,
    self_test_exit: int = 0,
    extra: dict[str, bytes] | None = None,
    raw_members: list[tuple[tarfile.TarInfo, bytes | None]] | None = None,
) -> Path:
    """A small ``qlq-kiosk-VERSION-OS-ARCH.tar.gz`` laid out like the real bundle (top folder ``qlq-kiosk/``)."""
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / f"qlq-kiosk-{version}-{os_name}-{arch}.tar.gz"
    files: dict[str, tuple[bytes, int]] = {
        "qlq-kiosk/qlq-kiosk": (self_test_script(self_test_exit, version).encode(), 0o755),
        "qlq-kiosk/_internal/resources/instruments/qlq-c30.toml": (b'id = "qlq-c30"\n', 0o644),
        "qlq-kiosk/_internal/VERSION": (version.encode(), 0o644),
    }
    for name, data in (extra or {}).items():
        files[name] = (data, 0o644)
    with tarfile.open(archive, "w:gz") as tar:
        for name, (data, mode) in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("qlq-kiosk/_internal/libfoo.so")
        link.type, link.linkname = tarfile.SYMTYPE, "VERSION"
        tar.addfile(link)
        for info, content in raw_members or []:
            tar.addfile(info, io.BytesIO(content) if content is not None else None)
    return archive


def sign_with_script(archive: Path, keys: KeyPair) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QLQ_SIGNING_KEY": str(keys.private_pem)}
    result = subprocess.run(["bash", str(SIGN_SH), str(archive)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result


def verify_with_script(archive: Path, public_pem: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SIGN_SH), "--verify", str(archive), str(public_pem)], capture_output=True, text=True
    )


def sign_in_python(archive: Path, keys: KeyPair, *, listing: dict[str, str] | None = None) -> None:
    """The release format written independently of sign.sh (``listing`` overrides the file list)."""
    if listing is None:
        listing = {}
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.isfile():
                    f = tar.extractfile(member)
                    assert f is not None
                    listing[member.name] = hashlib.sha256(f.read()).hexdigest()
    data = archive.read_bytes()
    name = archive.name.removesuffix(".tar.gz")
    _, version, os_name, arch = name.rsplit("-", 3)
    public = keys.private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    lines = [
        "# qlq-kiosk release manifest v1",
        f"# archive: {archive.name}",
        f"# archive-sha256: {hashlib.sha256(data).hexdigest()}",
        f"# version: {version}",
        f"# os: {os_name}",
        f"# arch: {arch}",
        f"# key-sha256: {hashlib.sha256(public).hexdigest()}",
    ]
    lines += [f"{digest}  {path}" for path, digest in sorted(listing.items())]
    manifest = ("\n".join(lines) + "\n").encode()
    Path(f"{archive}.manifest").write_bytes(manifest)
    Path(f"{archive}.manifest.sig").write_bytes(keys.private.sign(manifest))
    Path(f"{archive}.sig").write_bytes(keys.private.sign(data))
