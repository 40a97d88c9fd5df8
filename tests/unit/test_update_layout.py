"""The update install folder and the update rules, with the folder source (no server): the pointer-file switch
Windows uses, unpacking only the bytes that were verified, refusing downgrades and other platforms' releases."""

from __future__ import annotations

import pytest

from kiosk.domain.release import TamperedFile, load_public_key, verify_release
from kiosk.update.fake import FolderReleaseSource
from kiosk.update.layout import InstallLayout
from kiosk.update.service import SessionLock, Updater
from tests.release_kit import make_archive, make_keypair, sign_in_python


@pytest.fixture
def keys(tmp_path):
    return make_keypair(tmp_path / "keys")


def released(folder, keys, version, os_name="linux", arch="x86_64", **kw):
    archive = make_archive(folder, version, os_name, arch, **kw)
    sign_in_python(archive, keys)
    return archive


def updater(tmp_path, keys, source_dir, current="1.0.0", mode=None):
    layout = InstallLayout(tmp_path / "root", mode)
    return Updater(
        FolderReleaseSource(source_dir),
        layout,
        current_version=current,
        gate=SessionLock(),
        public_key=load_public_key(keys.public_pem),
        platform=("linux", "x86_64"),
    )


def test_pointer_file_mode_switches_and_rolls_back(tmp_path, keys):
    source = tmp_path / "src"
    released(source, keys, "1.1.0")
    up = updater(tmp_path, keys, source, mode="pointer", current="1.0.0")
    assert up.run_once().stage == "installed"
    assert (up.layout.root / "current.txt").read_text() == "versions/1.1.0\n"
    assert up.layout.current_version() == "1.1.0"
    released(source, keys, "1.2.0", self_test_exit=3)
    up2 = updater(tmp_path, keys, source, mode="pointer", current="1.1.0")
    status = up2.run_once()
    assert status.stage == "rolled_back" and "exit code 3" in status.message
    assert up2.layout.current_version() == "1.1.0"


def test_unpacking_refuses_bytes_changed_after_verification(tmp_path, keys):
    archive = released(tmp_path / "src", keys, "1.1.0")
    verified = verify_release(archive, load_public_key(keys.public_pem))
    other = make_archive(tmp_path / "evil", "1.1.0", extra={"qlq-kiosk/evil": b"x"})
    archive.write_bytes(other.read_bytes())  # swapped between verification and installation
    layout = InstallLayout(tmp_path / "root")
    layout.prepare()
    with pytest.raises(TamperedFile, match="changed between verification and unpacking"):
        layout.unpack(verified)
    assert not layout.bundle("1.1.0").exists()
    assert [p.name for p in layout.versions.iterdir()] == []


def test_a_downgrade_and_another_platform_are_refused(tmp_path, keys):
    source = tmp_path / "src"
    archive = released(source, keys, "2.0.0")
    # a signed 2.0.0 release renamed to look like 3.0.0: the signed manifest says 2.0.0
    for suffix in ("", ".sig", ".manifest", ".manifest.sig"):
        (source / f"{archive.name}{suffix}").rename(source / f"qlq-kiosk-3.0.0-linux-x86_64.tar.gz{suffix}")
    status = updater(tmp_path, keys, source, current="2.5.0").run_once()
    assert status.stage == "failed" and status.code == "manifest_mismatch"
    up = updater(tmp_path, keys, source, current="3.0.0")
    assert up.run_once().stage == "up_to_date"
    windows = tmp_path / "win"
    released(windows, keys, "9.0.0", "windows", "x86_64")
    for suffix in ("", ".sig", ".manifest", ".manifest.sig"):
        name = f"qlq-kiosk-9.0.0-windows-x86_64.tar.gz{suffix}"
        (windows / name).rename(windows / name.replace("windows", "linux"))
    status = updater(tmp_path, keys, windows).run_once()
    assert status.stage == "failed" and status.code == "manifest_mismatch"


def test_the_updater_rejects_anything_but_a_verified_release(tmp_path, keys):
    up = updater(tmp_path, keys, tmp_path / "src")
    with pytest.raises(TypeError):
        up.install(tmp_path / "some.tar.gz")
