"""The rule that keeps a release archive inside its folder, on every Python the kiosk runs on: Python's own
``data`` filter where it exists (3.11.4+), the same rule written out for older ones (Debian 12's python3 is 3.11.2,
which has no ``filter=``). The written-out rule is checked against Python's filter member by member, and the
update install folder is unpacked with Python's filter taken away."""

from __future__ import annotations

import stat
import tarfile

import pytest

from kiosk.domain.release import BadArchive, _data_rule, check_member, load_public_key, verify_release
from kiosk.update.layout import InstallLayout
from tests.release_kit import make_archive, make_keypair, sign_in_python


def member(name: str, kind: bytes = tarfile.REGTYPE, mode: int = 0o644, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.linkname = kind, mode, linkname
    return info


ACCEPTED = [
    member("qlq-kiosk/qlq-kiosk", mode=0o755),
    member("qlq-kiosk/a.txt", mode=0o644),
    member("qlq-kiosk/private", mode=0o400),  # owner gets rw back
    member("qlq-kiosk/suid", mode=0o4755),  # high bits dropped
    member("qlq-kiosk/world-writable", mode=0o666),  # group/other write dropped
    member("qlq-kiosk/odd-exec", mode=0o611),  # not executable by its owner: no x bit at all
    member("qlq-kiosk/dir", tarfile.DIRTYPE, 0o777),
    member("qlq-kiosk/_internal/lib.so", tarfile.SYMTYPE, linkname="VERSION"),
    member("qlq-kiosk/_internal/up.so", tarfile.SYMTYPE, linkname="../qlq-kiosk"),
    member("qlq-kiosk/hard", tarfile.LNKTYPE, linkname="qlq-kiosk/a.txt"),
    member("qlq-kiosk/./inner/../b.txt"),
]

REFUSED = [
    (member("../evil"), "outside the destination"),
    (member("qlq-kiosk/../../evil"), "outside the destination"),
    (member("qlq-kiosk/link", tarfile.SYMTYPE, linkname="/etc/passwd"), "absolute path"),
    (member("qlq-kiosk/link", tarfile.SYMTYPE, linkname="../../etc"), "links outside"),
    (member("qlq-kiosk/hard", tarfile.LNKTYPE, linkname="../etc/shadow"), "links outside"),
    (member("qlq-kiosk/dev", tarfile.CHRTYPE), "special file"),
    (member("qlq-kiosk/fifo", tarfile.FIFOTYPE), "special file"),
]


@pytest.mark.parametrize("info", ACCEPTED, ids=lambda i: i.name)
def test_the_written_out_rule_gives_the_permissions_python_gives(info, tmp_path):
    mode = _data_rule(info, str(tmp_path), "a.tar.gz")
    if hasattr(tarfile, "data_filter"):
        assert mode == tarfile.data_filter(info, str(tmp_path)).mode
    if info.isreg():
        assert mode is not None and mode & 0o600 == 0o600 and not mode & (stat.S_ISUID | 0o022)


@pytest.mark.parametrize(("info", "reason"), REFUSED, ids=lambda x: getattr(x, "name", ""))
def test_the_written_out_rule_refuses_what_python_refuses(info, reason, tmp_path):
    with pytest.raises(BadArchive, match=reason) as refused:
        _data_rule(info, str(tmp_path), "a.tar.gz")
    assert "a.tar.gz" in str(refused.value) and info.name in str(refused.value)
    if hasattr(tarfile, "data_filter"):
        with pytest.raises(tarfile.FilterError):
            tarfile.data_filter(info, str(tmp_path))
        with pytest.raises(BadArchive):
            check_member(info, str(tmp_path), "a.tar.gz")


def test_an_absolute_name_is_refused_not_rebased(tmp_path):
    with pytest.raises(BadArchive, match="absolute path"):
        _data_rule(member("/etc/cron.d/evil"), str(tmp_path), "a.tar.gz")


@pytest.mark.parametrize("python_filter", [True, False], ids=["python-filter", "written-out-rule"])
def test_a_bundle_unpacks_with_and_without_pythons_filter(python_filter, tmp_path, monkeypatch):
    if not python_filter:
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    elif not hasattr(tarfile, "data_filter"):
        pytest.skip("this Python has no tarfile.data_filter")
    keys = make_keypair(tmp_path / "keys")
    archive = make_archive(tmp_path / "src", "1.1.0", extra={"qlq-kiosk/setuid-tool": b"x"})
    sign_in_python(archive, keys)
    verified = verify_release(archive, load_public_key(keys.public_pem))
    layout = InstallLayout(tmp_path / "root")
    layout.prepare()
    bundle = layout.unpack(verified)
    assert (bundle / "_internal" / "VERSION").read_text() == "1.1.0"
    assert stat.S_IMODE((bundle / "qlq-kiosk").stat().st_mode) == 0o755
    assert stat.S_IMODE((bundle / "_internal" / "VERSION").stat().st_mode) == 0o644
    assert (bundle / "_internal" / "libfoo.so").is_symlink()
    assert (bundle / "_internal" / "libfoo.so").read_text() == "1.1.0"


def test_without_pythons_filter_an_escaping_member_is_refused_before_anything_lands(tmp_path, monkeypatch):
    monkeypatch.delattr(tarfile, "data_filter", raising=False)
    evil = member("qlq-kiosk/escape", tarfile.SYMTYPE, linkname="../../../outside")
    archive = make_archive(tmp_path / "src", "1.1.0", raw_members=[(evil, None)])
    keys = make_keypair(tmp_path / "keys")
    sign_in_python(archive, keys)
    with pytest.raises(BadArchive, match="links outside"):
        verify_release(archive, load_public_key(keys.public_pem))
