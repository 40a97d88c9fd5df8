"""``qlq-kiosk verify-release ARCHIVE [--public-key PEM]``: is this release genuine and intact?

Checks the archive against its detached signature and its signed SHA-256 manifest (kiosk/domain/release.py)
with the public key built into the kiosk, or the one given. Exit 0 when genuine; otherwise one line naming the
failure and a distinct exit code: 2 unreadable key/archive missing, 3 missing signature, 4 missing manifest,
5 wrong key, 6 tampered file, 7 manifest mismatch, 8 unreadable or unsafe archive.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from kiosk.domain.release import (
    ReleaseError,
    builtin_public_key_path,
    is_placeholder_key,
    load_public_key,
    verify_release,
)


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="qlq-kiosk verify-release",
        description="Verify a release archive against its Ed25519 signature (ARCHIVE.sig) and its signed SHA-256 "
        "manifest (ARCHIVE.manifest + .manifest.sig), as installer/sign.sh writes them.",
        epilog="exit codes: 0 genuine, 2 bad key or no archive, 3 missing signature, 4 missing manifest, "
        "5 wrong key, 6 tampered file, 7 manifest mismatch, 8 unreadable or unsafe archive",
    )
    parser.add_argument("archive", type=Path, help="qlq-kiosk-VERSION-OS-ARCH.tar.gz")
    parser.add_argument(
        "--public-key",
        type=Path,
        help=f"Ed25519 public key (PEM) to trust instead of the built-in one ({PUBLIC_KEY_HINT})",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    try:
        key = load_public_key(args.public_key)
        if is_placeholder_key(key):
            print(
                f"qlq-kiosk verify-release: warning: {builtin_public_key_path()} is the placeholder key shipped "
                "with the sources; no release verifies against it (see resources/keys/README.md)",
                file=sys.stderr,
            )
        release = verify_release(args.archive, key)
    except ReleaseError as exc:
        if args.json:
            print(json.dumps({"ok": False, "code": exc.code, "message": str(exc)}, ensure_ascii=False))
        print(f"qlq-kiosk verify-release: {exc.code}: {exc}", file=sys.stderr)
        return exc.exit_code
    if args.json:
        print(json.dumps({"ok": True, **{k: str(v) for k, v in asdict(release).items()}}, ensure_ascii=False))
    else:
        print(
            f"OK: {release.archive.name} is genuine: version {release.version} ({release.os}/{release.arch}), "
            f"{release.file_count} files, sha256 {release.sha256}, key {release.key_id[:16]}…"
        )
    return 0


PUBLIC_KEY_HINT = "resources/keys/release-public-key.pem"
