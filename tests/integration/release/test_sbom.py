"""The CycloneDX SBOM installer/build.sh writes beside each archive (installer/sbom.py, from uv.lock through
``uv export --format cyclonedx1.5``): valid CycloneDX 1.5 JSON listing exactly the locked runtime packages of
the kiosk installed on the build host, with the lock's versions, and no server or development tool."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from tests.release_kit import ROOT, make_archive


def _uv() -> str:
    for candidate in (
        os.environ.get("UV"),
        shutil.which("uv"),
        str(ROOT / ".tools" / "bin" / "uv"),
        "/work/main/.tools/bin/uv",
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.fail("uv is needed to export the SBOM (scripts/bootstrap.sh installs it)")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def kiosk_runtime_closure() -> dict[str, set[str]]:
    """name -> locked versions of every package the kiosk extra pulls in (all platforms, extras followed), read
    straight from uv.lock."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    packages: dict[str, list[dict]] = {}
    for package in lock["package"]:
        packages.setdefault(package["name"], []).append(package)
    project = packages["kiosque-qlq-c30"][0]
    todo = list(project["dependencies"]) + list(project["optional-dependencies"]["kiosk"])
    seen: dict[str, set[str]] = {}
    done: set[tuple[str, str]] = set()
    while todo:
        dep = todo.pop()
        name = dep["name"]
        seen.setdefault(name, set()).update(p["version"] for p in packages[name])
        for extra in ["", *dep.get("extra", [])]:
            if (name, extra) in done:
                continue
            done.add((name, extra))
            for p in packages[name]:
                todo += p.get("dependencies", []) if not extra else p.get("optional-dependencies", {}).get(extra, [])
    return seen


def test_sbom_shape_and_contents(tmp_path: Path) -> None:
    archive = make_archive(tmp_path, "0.1.0")
    out = subprocess.run(
        [sys.executable, str(ROOT / "installer" / "sbom.py"), str(archive), "--uv", _uv()],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    sbom_path = Path(f"{archive}.cdx.json")
    assert out.stdout.strip() == str(sbom_path)
    sbom = json.loads(sbom_path.read_text())

    assert sbom["bomFormat"] == "CycloneDX" and sbom["specVersion"] == "1.5" and sbom["version"] >= 1
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", sbom["serialNumber"])
    root = sbom["metadata"]["component"]
    assert root["name"] == "kiosque-qlq-c30" and root["type"] == "application"
    with (ROOT / "pyproject.toml").open("rb") as f:
        assert root["version"] == tomllib.load(f)["project"]["version"]
    assert root["hashes"] == [{"alg": "SHA-256", "content": hashlib.sha256(archive.read_bytes()).hexdigest()}]
    refs = [c["bom-ref"] for c in sbom["components"]]
    assert len(refs) == len(set(refs))
    for component in sbom["components"]:
        assert component["type"] in ("library", "application") and component["name"] and component["version"]
        assert component["purl"].startswith(("pkg:pypi/", "pkg:generic/python@"))
    known = set(refs) | {root["bom-ref"]}
    for dep in sbom["dependencies"]:
        assert dep["ref"] in known and set(dep.get("dependsOn", [])) <= known

    listed = {_norm(c["name"]): c["version"] for c in sbom["components"] if c["purl"].startswith("pkg:pypi/")}
    closure = kiosk_runtime_closure()
    installed = {_norm(d.metadata["Name"]): d.version for d in metadata.distributions()}
    expected = {name for name, versions in closure.items() if installed.get(name) in versions}
    expected.discard("kiosque-qlq-c30")
    assert set(listed) == expected
    for name in expected:
        assert listed[name] == installed[name]
    for runtime in (
        "pyside6-essentials",
        "pyside6-addons",
        "sqlalchemy",
        "alembic",
        "cryptography",
        "httpx",
        "keyring",
        "google-cloud-speech",
        "pyaudio",
        "pydantic",
    ):
        assert runtime in listed, runtime
    for not_bundled in ("pytest", "ruff", "mypy", "fastapi", "uvicorn", "psycopg", "pyinstaller"):
        assert not_bundled not in listed, not_bundled
    assert any(c["name"] == "cpython" for c in sbom["components"])
