"""Verified releases: an archive, its detached Ed25519 signature and a signed SHA-256 manifest.

A release ``qlq-kiosk-VERSION-OS-ARCH.tar.gz`` travels with three files, all written by ``installer/sign.sh``:

- ``ARCHIVE.sig``: the raw 64-byte Ed25519 signature of the archive's bytes
  (``openssl pkeyutl -sign -rawin``);
- ``ARCHIVE.manifest``: UTF-8 text, a header then one ``sha256sum`` line per regular file inside the archive::

      # qlq-kiosk release manifest v1
      # archive: qlq-kiosk-0.1.0-linux-x86_64.tar.gz
      # archive-sha256: 9f86d0…
      # version: 0.1.0
      # os: linux
      # arch: x86_64
      # key-sha256: 3b4c…            (SHA-256 of the signing key's public key, DER SubjectPublicKeyInfo)
      e3b0c4…  qlq-kiosk/qlq-kiosk
      …

- ``ARCHIVE.manifest.sig``: the raw Ed25519 signature of the manifest's bytes.

:func:`verify_release` checks all of it and raises one :class:`ReleaseError` subclass naming exactly what is
wrong (a stable ``code`` and a distinct ``exit_code`` each). Pure Python with ``cryptography``; shared by the
kiosk (``qlq-kiosk verify-release``, updates) and the server (``qlq-server publish-release``).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.domain.resources import resources_dir

MANIFEST_MAGIC = "# qlq-kiosk release manifest v1"
SIGNATURE_SUFFIX = ".sig"
MANIFEST_SUFFIX = ".manifest"
SBOM_SUFFIX = ".cdx.json"
ARCHIVE_NAME = re.compile(
    r"^qlq-kiosk-(?P<version>[0-9][0-9A-Za-z.+!]*)-(?P<os>[a-z0-9]+)-(?P<arch>[A-Za-z0-9_]+)"
    r"\.tar\.gz$"
)
PUBLIC_KEY_RESOURCE = "keys/release-public-key.pem"
# Key ids (see key_id) of public keys shipped as placeholders, whose private key was destroyed: nothing verifies
# against them. resources/keys/README.md says how to put the organisation's real release key in their place.
PLACEHOLDER_KEY_IDS = frozenset({"9074f654aa272202269ffea6d871977e7944325a870a073e2fef7bc2549650b8"})
_CHUNK = 1 << 20
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class ReleaseError(Exception):
    """A release that must not be installed. ``code`` is stable (scripts and logs switch on it), ``exit_code`` is
    what ``qlq-kiosk verify-release`` exits with, the message says what was wrong and where."""

    code = "invalid_release"
    exit_code = 1


class BadPublicKey(ReleaseError):
    code, exit_code = "bad_public_key", 2


class MissingArchive(ReleaseError):
    code, exit_code = "missing_archive", 2


class MissingSignature(ReleaseError):
    code, exit_code = "missing_signature", 3


class MissingManifest(ReleaseError):
    code, exit_code = "missing_manifest", 4


class WrongKey(ReleaseError):
    code, exit_code = "wrong_key", 5


class TamperedFile(ReleaseError):
    code, exit_code = "tampered_file", 6


class ManifestMismatch(ReleaseError):
    code, exit_code = "manifest_mismatch", 7


class BadArchive(ReleaseError):
    code, exit_code = "bad_archive", 8


@dataclass(frozen=True)
class ReleaseFiles:
    """The four files of one release, side by side."""

    archive: Path

    @property
    def signature(self) -> Path:
        return self.archive.with_name(self.archive.name + SIGNATURE_SUFFIX)

    @property
    def manifest(self) -> Path:
        return self.archive.with_name(self.archive.name + MANIFEST_SUFFIX)

    @property
    def manifest_signature(self) -> Path:
        return self.archive.with_name(self.archive.name + MANIFEST_SUFFIX + SIGNATURE_SUFFIX)

    @property
    def sbom(self) -> Path:
        return self.archive.with_name(self.archive.name + SBOM_SUFFIX)


@dataclass(frozen=True)
class Manifest:
    archive_name: str
    archive_sha256: str
    version: str
    os: str
    arch: str
    key_sha256: str
    files: dict[str, str]  # path inside the archive -> SHA-256 (hex)


@dataclass(frozen=True)
class VerifiedRelease:
    """Proof that :func:`verify_release` accepted this archive (the only way an update gets installed)."""

    archive: Path
    sha256: str
    version: str
    os: str
    arch: str
    key_id: str
    file_count: int


# --- keys ---------------------------------------------------------------------------------------------------------


def builtin_public_key_path() -> Path:
    return resources_dir() / PUBLIC_KEY_RESOURCE


def load_public_key(path: Path | None = None) -> Ed25519PublicKey:
    """The Ed25519 public key in PEM at ``path`` (default: the one built into the kiosk)."""
    path = builtin_public_key_path() if path is None else path
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadPublicKey(f"cannot read the public key {path}: {exc.strerror or exc}") from exc
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise BadPublicKey(f"{path} is not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise BadPublicKey(f"{path} is not an Ed25519 public key (releases are signed with Ed25519)")
    return key


def key_id(key: Ed25519PublicKey) -> str:
    """SHA-256 of the key's DER SubjectPublicKeyInfo, hex (``openssl pkey -pubout -outform DER | sha256sum``)."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def is_placeholder_key(key: Ed25519PublicKey) -> bool:
    return key_id(key) in PLACEHOLDER_KEY_IDS


# --- manifest -----------------------------------------------------------------------------------------------------


def parse_manifest(text: str, *, where: str = "manifest") -> Manifest:
    """Parse a manifest; :class:`ManifestMismatch` naming the line for anything malformed."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or lines[0] != MANIFEST_MAGIC:
        raise ManifestMismatch(f"{where}: line 1 must be {MANIFEST_MAGIC!r}")
    header: dict[str, str] = {}
    files: dict[str, str] = {}
    for number, line in enumerate(lines[1:], start=2):
        if line.startswith("# "):
            name, sep, value = line[2:].partition(": ")
            if not sep or not value or name in header:
                raise ManifestMismatch(f"{where}: line {number}: malformed or repeated header {line[:60]!r}")
            header[name] = value
            continue
        digest, sep, path = line.partition("  ")
        if not sep or not _HEX64.match(digest) or not path or path.startswith(("\\", "/")):
            raise ManifestMismatch(f"{where}: line {number}: expected 'SHA256  path', got {line[:80]!r}")
        if path in files:
            raise ManifestMismatch(f"{where}: line {number}: {path} is listed twice")
        files[path] = digest
    missing = [k for k in ("archive", "archive-sha256", "version", "os", "arch", "key-sha256") if k not in header]
    if missing:
        raise ManifestMismatch(f"{where}: header line(s) missing: {', '.join(missing)}")
    for name in ("archive-sha256", "key-sha256"):
        if not _HEX64.match(header[name]):
            raise ManifestMismatch(f"{where}: {name} is not a SHA-256 in hex")
    if not files:
        raise ManifestMismatch(f"{where}: lists no file")
    return Manifest(
        archive_name=header["archive"],
        archive_sha256=header["archive-sha256"],
        version=header["version"],
        os=header["os"],
        arch=header["arch"],
        key_sha256=header["key-sha256"],
        files=files,
    )


def _unverified_key_id(text: str) -> str | None:
    match = re.search(r"^# key-sha256: ([0-9a-f]{64})$", text, re.MULTILINE)
    return match.group(1) if match else None


# --- verification -------------------------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _signature_ok(key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def check_member(member: tarfile.TarInfo, root: str, archive_name: str) -> int | None:
    """Refuse a tar member that would land outside ``root`` once unpacked; return the permission bits to give it
    (None: leave them to the system, for folders and links).

    The rule is Python's ``data`` extraction filter (PEP 706): no absolute name, no ``..`` out of ``root``, no link
    pointing out of it, no device or FIFO; no setuid/setgid/sticky bit, no group or other write bit, the owner can
    read and write every file. Python's own filter is used where it exists (3.11.4 and later); the same rule is
    applied here otherwise (Debian 12's python3 is 3.11.2). :class:`BadArchive` names the member and the reason."""
    if hasattr(tarfile, "data_filter"):
        try:
            return tarfile.data_filter(member, root).mode
        except tarfile.FilterError as exc:
            raise BadArchive(f"{archive_name}: unsafe member {member.name!r}: {exc}") from exc
    return _data_rule(member, root, archive_name)


def _data_rule(member: tarfile.TarInfo, root: str, archive_name: str) -> int | None:
    def refuse(reason: str) -> BadArchive:
        return BadArchive(f"{archive_name}: unsafe member {member.name!r}: {reason}")

    dest = os.path.realpath(root)

    def inside(path: str) -> bool:
        return os.path.commonpath([os.path.realpath(path), dest]) == dest

    name = member.name
    if name.startswith(("/", os.sep)) or os.path.isabs(name):
        raise refuse("the name is an absolute path")
    if not inside(os.path.join(dest, name)):
        raise refuse("it would be extracted outside the destination")
    mode: int | None
    if member.isreg() or member.islnk():
        bits = member.mode & 0o755
        if not bits & 0o100:
            bits &= ~0o111
        mode = bits | 0o600
    elif member.isdir() or member.issym():
        mode = None
    else:
        raise refuse("it is a special file (device, FIFO)")
    if member.islnk() or member.issym():
        if os.path.isabs(member.linkname):
            raise refuse("it links to an absolute path")
        base = os.path.join(dest, os.path.dirname(name)) if member.issym() else dest
        if not inside(os.path.join(base, member.linkname)):
            raise refuse("it links outside the destination")
    return mode


def archive_contents(archive: Path | bytes, name: str = "archive") -> dict[str, str]:
    """Path -> SHA-256 of every regular file in a .tar.gz; :class:`BadArchive` for an unreadable archive or a
    member that would land outside the folder it is unpacked into (absolute path, ``..``, a link out, a device)."""
    contents: dict[str, str] = {}
    root = Path("/nonexistent-release-root")
    if isinstance(archive, Path):
        name = archive.name
    try:
        source = io.BytesIO(archive) if isinstance(archive, bytes) else archive.open("rb")
        with source, tarfile.open(fileobj=source, mode="r:gz") as tar:
            for member in tar:
                check_member(member, str(root), name)
                if not (member.isfile() or member.islnk()):
                    continue
                path = str(PurePosixPath(member.name))
                extracted = tar.extractfile(member)
                if extracted is None:  # pragma: no cover - isfile/islnk members always extract
                    raise BadArchive(f"{name}: cannot read {path}")
                digest = hashlib.sha256()
                while chunk := extracted.read(_CHUNK):
                    digest.update(chunk)
                contents[path] = digest.hexdigest()
    except (tarfile.TarError, EOFError, OSError, KeyError) as exc:
        raise BadArchive(f"{name} is not a readable .tar.gz archive: {exc}") from exc
    return contents


def _compare_contents(manifest: Manifest, contents: dict[str, str], where: str) -> None:
    missing = sorted(set(manifest.files) - set(contents))
    extra = sorted(set(contents) - set(manifest.files))
    changed = sorted(p for p in set(manifest.files) & set(contents) if manifest.files[p] != contents[p])
    problems = []
    for label, paths in (
        ("listed but not in the archive", missing),
        ("in the archive but not listed", extra),
        ("different SHA-256", changed),
    ):
        if paths:
            more = f" (+{len(paths) - 3} more)" if len(paths) > 3 else ""
            problems.append(f"{label}: {', '.join(paths[:3])}{more}")
    if problems:
        raise ManifestMismatch(f"{where} does not match the archive: " + "; ".join(problems))


def verify_release(archive: Path, public_key: Ed25519PublicKey | None = None) -> VerifiedRelease:
    """Check ``archive`` against its detached signature and its signed manifest; raise the precise
    :class:`ReleaseError` or return the :class:`VerifiedRelease`."""
    key = load_public_key() if public_key is None else public_key
    trusted = key_id(key)
    files = ReleaseFiles(archive)
    if not archive.is_file():
        raise MissingArchive(f"archive not found: {archive}")
    for path in (files.signature, files.manifest_signature):
        if not path.is_file():
            raise MissingSignature(f"signature missing: {path.name} (sign the release with installer/sign.sh)")
    if not files.manifest.is_file():
        raise MissingManifest(f"manifest missing: {files.manifest.name} (installer/sign.sh writes it)")
    manifest_bytes = files.manifest.read_bytes()
    archive_signature = files.signature.read_bytes()
    manifest_text = manifest_bytes.decode("utf-8", errors="replace")
    # Read once: the hash, both signatures and the contents are checked on the same bytes (Ed25519 cannot be
    # streamed; ~100 MB).
    data = archive.read_bytes()

    if not _signature_ok(key, files.manifest_signature.read_bytes(), manifest_bytes):
        claimed = _unverified_key_id(manifest_text)
        if claimed is not None and claimed != trusted:
            raise WrongKey(
                f"{archive.name} was signed with key {claimed[:16]}…, this kiosk trusts "
                f"{trusted[:16]}… (wrong key: use the release key's public key, or --public-key)"
            )
        if claimed is None and not _signature_ok(key, archive_signature, data):
            raise WrongKey(
                f"neither {files.signature.name} nor {files.manifest_signature.name} verifies with key "
                f"{trusted[:16]}… (wrong key, or both files altered)"
            )
        raise ManifestMismatch(
            f"{files.manifest.name} was altered after signing: its signature "
            f"{files.manifest_signature.name} does not verify"
        )

    manifest = parse_manifest(manifest_text, where=files.manifest.name)
    if manifest.key_sha256 != trusted:
        raise ManifestMismatch(
            f"{files.manifest.name} names signing key {manifest.key_sha256[:16]}…, but it was "
            f"signed with {trusted[:16]}…"
        )
    if manifest.archive_name != archive.name:
        raise ManifestMismatch(f"{files.manifest.name} is the manifest of {manifest.archive_name}, not {archive.name}")
    actual = hashlib.sha256(data).hexdigest()
    if actual != manifest.archive_sha256:
        raise TamperedFile(
            f"{archive.name} was altered: its SHA-256 is {actual[:16]}…, the signed manifest says "
            f"{manifest.archive_sha256[:16]}…"
        )
    if not _signature_ok(key, archive_signature, data):
        raise TamperedFile(
            f"{files.signature.name} does not verify although {archive.name} matches the signed "
            "manifest: the signature file was altered or made with another key"
        )
    _compare_contents(manifest, archive_contents(data, archive.name), files.manifest.name)
    return VerifiedRelease(
        archive=archive,
        sha256=actual,
        version=manifest.version,
        os=manifest.os,
        arch=manifest.arch,
        key_id=trusted,
        file_count=len(manifest.files),
    )
