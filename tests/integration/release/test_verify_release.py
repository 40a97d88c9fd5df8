"""``qlq-kiosk verify-release`` and ``installer/sign.sh`` agree, and every kind of bad release is named exactly
(a distinct code and exit status). Keys are generated at test time; nothing here uses the shipped key."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest

from kiosk.cli.main import main
from kiosk.domain import release as rel
from tests.release_kit import (
    ROOT,
    make_archive,
    make_keypair,
    sign_in_python,
    sign_with_script,
    verify_with_script,
)


@pytest.fixture
def keys(tmp_path: Path):
    return make_keypair(tmp_path / "keys")


@pytest.fixture
def signed(tmp_path: Path, keys) -> Path:
    archive = make_archive(tmp_path / "dist")
    sign_with_script(archive, keys)
    return archive


def verify_cli(archive: Path, public_pem: Path | None, capsys) -> tuple[int, str]:
    argv = ["verify-release", str(archive)] + (["--public-key", str(public_pem)] if public_pem else [])
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out + out.err


def test_version_comes_from_pyproject(capsys):
    with (ROOT / "pyproject.toml").open("rb") as f:
        declared = tomllib.load(f)["project"]["version"]
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"qlq-kiosk {declared}"
    from kiosk.version import version_label

    assert declared in version_label()


def test_signed_by_sign_sh_verifies_with_the_python_command(signed, keys, capsys):
    manifest = Path(f"{signed}.manifest").read_text()
    assert manifest.startswith("# qlq-kiosk release manifest v1\n")
    assert "  qlq-kiosk/qlq-kiosk\n" in manifest and "libfoo.so" not in manifest  # symlinks are not listed
    assert len(Path(f"{signed}.sig").read_bytes()) == 64  # raw Ed25519
    code, out = verify_cli(signed, keys.public_pem, capsys)
    assert code == 0, out
    assert "OK: qlq-kiosk-1.2.0-linux-x86_64.tar.gz is genuine: version 1.2.0 (linux/x86_64), 3 files" in out
    assert verify_with_script(signed, keys.public_pem).returncode == 0


def test_the_real_command_in_a_subprocess(signed, keys):
    result = subprocess.run(
        [sys.executable, "-m", "kiosk", "verify-release", str(signed), "--public-key", str(keys.public_pem), "--json"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert '"ok": true' in result.stdout and '"version": "1.2.0"' in result.stdout


def test_signed_in_python_verifies_with_sign_sh_and_both_refuse_a_tampered_copy(tmp_path, keys, capsys):
    archive = make_archive(tmp_path / "py")
    sign_in_python(archive, keys)
    assert verify_with_script(archive, keys.public_pem).returncode == 0, verify_with_script(archive, keys.public_pem)
    assert verify_cli(archive, keys.public_pem, capsys)[0] == 0
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0x01
    archive.write_bytes(bytes(data))
    failed = verify_with_script(archive, keys.public_pem)
    assert failed.returncode != 0 and "archive signature does not verify" in failed.stderr
    code, out = verify_cli(archive, keys.public_pem, capsys)
    assert code == 6 and "tampered_file" in out and "was altered" in out


@pytest.mark.parametrize(
    ("missing", "code", "kind"),
    [
        (".sig", 3, "missing_signature"),
        (".manifest.sig", 3, "missing_signature"),
        (".manifest", 4, "missing_manifest"),
    ],
)
def test_a_missing_file_is_named(signed, keys, capsys, missing, code, kind):
    Path(f"{signed}{missing}").unlink()
    status, out = verify_cli(signed, keys.public_pem, capsys)
    assert status == code and kind in out and f"{signed.name}{missing}" in out


def test_wrong_key(signed, tmp_path, capsys):
    other = make_keypair(tmp_path / "other", "other")
    status, out = verify_cli(signed, other.public_pem, capsys)
    assert status == 5 and "wrong_key" in out
    assert verify_with_script(signed, other.public_pem).returncode != 0


def test_the_built_in_placeholder_key_accepts_nothing_and_says_so(signed, capsys):
    status, out = verify_cli(signed, None, capsys)
    assert status == 5 and "wrong_key" in out and "placeholder" in out


def test_an_archive_replaced_by_another_valid_archive_is_tampered(signed, tmp_path, keys, capsys):
    other = make_archive(tmp_path / "evil", extra={"qlq-kiosk/_internal/backdoor.py": b"import os\n"})
    signed.write_bytes(other.read_bytes())
    status, out = verify_cli(signed, keys.public_pem, capsys)
    assert status == 6 and "tampered_file" in out and signed.name in out


def test_a_signature_file_made_with_another_key_is_tampered(signed, tmp_path, keys, capsys):
    other = make_keypair(tmp_path / "other", "other")
    Path(f"{signed}.sig").write_bytes(other.private.sign(signed.read_bytes()))
    status, out = verify_cli(signed, keys.public_pem, capsys)
    assert status == 6 and f"{signed.name}.sig does not verify" in out


def test_an_edited_manifest_is_a_manifest_mismatch(signed, keys, capsys):
    manifest = Path(f"{signed}.manifest")
    lines = manifest.read_text().splitlines(keepends=True)
    lines[-1] = "0" * 64 + lines[-1][64:]
    manifest.write_text("".join(lines))
    status, out = verify_cli(signed, keys.public_pem, capsys)
    assert status == 7 and "manifest_mismatch" in out and "altered after signing" in out
    assert verify_with_script(signed, keys.public_pem).returncode != 0


def test_a_signed_manifest_that_does_not_list_the_contents_is_a_mismatch(tmp_path, keys, capsys):
    archive = make_archive(tmp_path / "bad")
    sign_in_python(archive, keys, listing={"qlq-kiosk/qlq-kiosk": "0" * 64, "qlq-kiosk/gone.txt": "1" * 64})
    status, out = verify_cli(archive, keys.public_pem, capsys)
    assert status == 7
    assert "listed but not in the archive: qlq-kiosk/gone.txt" in out
    assert "in the archive but not listed: qlq-kiosk/_internal/VERSION" in out
    assert "different SHA-256: qlq-kiosk/qlq-kiosk" in out
    assert verify_with_script(archive, keys.public_pem).returncode != 0


def test_a_renamed_archive_is_refused(signed, keys, capsys):
    for suffix in ("", ".sig", ".manifest", ".manifest.sig"):
        Path(f"{signed}{suffix}").rename(signed.with_name(f"qlq-kiosk-9.9.9-linux-x86_64.tar.gz{suffix}"))
    status, out = verify_cli(signed.with_name("qlq-kiosk-9.9.9-linux-x86_64.tar.gz"), keys.public_pem, capsys)
    assert status == 7 and "is the manifest of qlq-kiosk-1.2.0-linux-x86_64.tar.gz" in out


def test_an_unsafe_member_is_refused_even_when_signed(tmp_path, keys, capsys):
    escape = tarfile.TarInfo("qlq-kiosk/../../etc/cron.d/evil")
    escape.size = 3
    archive = make_archive(tmp_path / "unsafe", raw_members=[(escape, b"x\n\n")])
    sign_in_python(archive, keys)
    status, out = verify_cli(archive, keys.public_pem, capsys)
    assert status == 8 and "bad_archive" in out and "unsafe member" in out


def test_not_a_tar_gz_is_refused(tmp_path, keys, capsys):
    archive = tmp_path / "qlq-kiosk-1.0.0-linux-x86_64.tar.gz"
    archive.write_bytes(gzip.compress(b"not a tar file at all" * 100))
    sign_in_python(archive, keys, listing={"qlq-kiosk/qlq-kiosk": "0" * 64})
    status, out = verify_cli(archive, keys.public_pem, capsys)
    assert status == 8 and "not a readable .tar.gz" in out


def test_a_public_key_that_is_not_ed25519(signed, tmp_path, capsys):
    rsa = tmp_path / "rsa.pem"
    subprocess.run(
        [
            "openssl",
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            str(tmp_path / "rsa-key.pem"),
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(["openssl", "pkey", "-in", str(tmp_path / "rsa-key.pem"), "-pubout", "-out", str(rsa)], check=True)
    status, out = verify_cli(signed, rsa, capsys)
    assert status == 2 and "bad_public_key" in out and "not an Ed25519 public key" in out
    status, out = verify_cli(signed, tmp_path / "nope.pem", capsys)
    assert status == 2 and "cannot read the public key" in out


def test_sign_sh_refuses_a_non_ed25519_key_and_a_bad_name(tmp_path, keys):
    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "RSA", "-out", str(tmp_path / "rsa.pem")], check=True, capture_output=True
    )
    archive = make_archive(tmp_path / "d")
    env = {"QLQ_SIGNING_KEY": str(tmp_path / "rsa.pem"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        ["bash", str(ROOT / "installer/sign.sh"), str(archive)], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "not an Ed25519 private key" in result.stderr
    renamed = archive.with_name("kiosk.tar.gz")
    archive.rename(renamed)
    env["QLQ_SIGNING_KEY"] = str(keys.private_pem)
    result = subprocess.run(
        ["bash", str(ROOT / "installer/sign.sh"), str(renamed)], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "archive name must be" in result.stderr


def test_parse_manifest_names_the_bad_line():
    with pytest.raises(rel.ManifestMismatch, match="line 3"):
        rel.parse_manifest("# qlq-kiosk release manifest v1\n# archive: a\nnot a hash line\n")


def test_sign_sh_with_a_passphrase_protected_key(tmp_path, capsys):
    key, pub = tmp_path / "enc.pem", tmp_path / "enc.pub.pem"
    env = {**os.environ, "QLQ_TEST_PW": "correct horse battery staple"}
    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "ed25519", "-aes-256-cbc", "-pass", "env:QLQ_TEST_PW", "-out", str(key)],
        check=True,
        env=env,
        capture_output=True,
    )
    subprocess.run(
        ["openssl", "pkey", "-in", str(key), "-passin", "env:QLQ_TEST_PW", "-pubout", "-out", str(pub)],
        check=True,
        env=env,
        capture_output=True,
    )
    archive = make_archive(tmp_path / "d")
    result = subprocess.run(
        ["bash", str(ROOT / "installer/sign.sh"), str(archive)],
        capture_output=True,
        text=True,
        env={**env, "QLQ_SIGNING_KEY": str(key), "QLQ_SIGNING_KEY_PASS": "env:QLQ_TEST_PW"},
    )
    assert result.returncode == 0, result.stderr
    assert verify_cli(archive, pub, capsys)[0] == 0
