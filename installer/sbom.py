"""Writes the CycloneDX 1.5 SBOM of a kiosk bundle, beside its archive (``ARCHIVE.cdx.json``).

The components come from the lock file, through uv's own exporter (``uv export --format cyclonedx1.5``, the
kiosk's runtime extra, no dev tools), restricted to the packages installed on this build host: the lock is
universal (Windows-only and other-Python wheels too) while a bundle carries one platform's set. The CPython
runtime PyInstaller embeds is added, and the root component names the archive and its SHA-256.

    python installer/sbom.py ARCHIVE [--uv PATH] [-o OUT]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed() -> dict[str, str]:
    return {_normalise(d.metadata["Name"]): d.version for d in metadata.distributions() if d.metadata["Name"]}


def locked_sbom(uv: str) -> dict[str, Any]:
    command = [
        uv,
        "export",
        "--format",
        "cyclonedx1.5",
        "--frozen",
        "--extra",
        "kiosk",
        "--no-dev",
        "--preview-features",
        "sbom-export",
        "--project",
        str(ROOT),
    ]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def bundle_sbom(sbom: dict[str, Any], archive: Path, present: dict[str, str]) -> dict[str, Any]:
    kept, dropped = [], set()
    for component in sbom.get("components", []):
        if present.get(_normalise(component["name"])) == component.get("version"):
            kept.append(component)
        else:
            dropped.add(component["bom-ref"])
    python = platform.python_version()
    kept.append(
        {
            "type": "application",
            "bom-ref": f"cpython@{python}",
            "name": "cpython",
            "version": python,
            "purl": f"pkg:generic/python@{python}",
            "description": "the Python runtime embedded by PyInstaller",
        }
    )
    sbom["components"] = kept
    sbom["dependencies"] = [
        {**dep, "dependsOn": [ref for ref in dep.get("dependsOn", []) if ref not in dropped]}
        for dep in sbom.get("dependencies", [])
        if dep.get("ref") not in dropped
    ]
    root = sbom.setdefault("metadata", {}).setdefault("component", {})
    root["type"] = "application"
    root["description"] = f"Kiosque QLQ-C30 kiosk bundle {archive.name}"
    if archive.is_file():
        root["hashes"] = [{"alg": "SHA-256", "content": hashlib.sha256(archive.read_bytes()).hexdigest()}]
    sbom["metadata"].setdefault("properties", []).extend(
        [
            {"name": "qlq:archive", "value": archive.name},
            {"name": "qlq:build-platform", "value": f"{sys.platform}-{platform.machine()}"},
        ]
    )
    return sbom


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("archive", type=Path)
    parser.add_argument("--uv", default=os.environ.get("UV", "uv"), help="the uv executable (default $UV or uv)")
    parser.add_argument("-o", "--output", type=Path, help="default: ARCHIVE.cdx.json")
    args = parser.parse_args(argv)
    sbom = bundle_sbom(locked_sbom(args.uv), args.archive, installed())
    out = args.output or args.archive.with_name(args.archive.name + ".cdx.json")
    out.write_text(json.dumps(sbom, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(f"{out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
