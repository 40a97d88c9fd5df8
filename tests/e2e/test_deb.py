"""The Linux kiosk session: the .deb installs in a throwaway root, its systemd unit's command starts the kiosk
under cage's headless backend as the package's user (READY, data in that user's app-data folder), and
``dpkg -r`` / ``dpkg --purge`` leave nothing behind but what they must (the database, until IT deletes it)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.bundle_harness import ROOT, Sandbox, build_deb, unit_settings

UNIT = ROOT / "installer" / "linux" / "qlq-kiosk.service"
USER = "qlq-kiosk"
HOME = "/var/lib/qlq-kiosk"
DATABASE = f"{HOME}/.local/share/kiosque-qlq-c30/kiosk.db"
# What installing then purging may leave changed: the account databases (checked equal to the original below),
# dpkg's own database, locks and log.
ACCOUNT_FILES = {
    f"/etc/{name}{suffix}"
    for name in ("passwd", "group", "shadow", "gshadow", "subuid", "subgid")
    for suffix in ("", "-")
}
BOOKKEEPING = ACCOUNT_FILES | {
    "/etc/.pwd.lock",
    "/var/lib/dpkg/lock",
    "/var/lib/dpkg/lock-frontend",
    "/var/lib/dpkg/status",
    "/var/lib/dpkg/status-old",
    "/var/lib/dpkg/triggers/Lock",
    "/var/log/dpkg.log",
    # systemd's host key, made once per machine by systemd-creds (the postinst sealing the
    # database key without a TPM) and shared by every credential: not the package's.
    "/var/lib/systemd/credential.secret",
}


def test_the_unit_starts_the_kiosk_full_screen_under_cage_and_restarts_it() -> None:
    settings = unit_settings(UNIT.read_text(encoding="utf-8"))
    command = shlex.split(settings["ExecStart"][0])
    assert command[0] == "/usr/bin/cage" and command[-1] == "/usr/lib/qlq-kiosk/launch"
    assert "QLQ_UPDATE_ROOT=/var/lib/qlq-kiosk/updates" in settings["Environment"]
    assert "-s" not in command  # no switching to another virtual console
    assert "--windowed" not in command and "--demo" not in command
    assert settings["User"] == [USER] and settings["Restart"] == ["always"]
    assert "QT_QPA_PLATFORM=wayland" in settings["Environment"]
    assert settings["WantedBy"] == ["graphical.target"]


def test_build_deb_without_a_bundle_says_how_to_make_one(tmp_path: Path) -> None:
    run = subprocess.run(
        ["bash", str(ROOT / "installer" / "linux" / "build-deb.sh"), str(tmp_path / "none")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2 and "installer/build.sh" in run.stderr


@pytest.fixture(scope="module")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield build_deb(tmp_path_factory.mktemp("deb"))


def _needs_cage() -> None:
    missing = [tool for tool in ("cage", "Xwayland") if shutil.which(tool) is None]
    if missing:
        pytest.skip(
            f"the package depends on cage and xwayland: {', '.join(missing)} not installed here "
            "(scripts/run-tests.sh installs them)"
        )


def _assert_clean(sandbox: Sandbox) -> None:
    left = sandbox.changed_files() - BOOKKEEPING
    assert not left, f"left behind: {sorted(left)}"
    for path in ACCOUNT_FILES & sandbox.changed_files():
        original = Path(path)
        if original.exists() and not path.endswith("-"):  # the "-" backups hold the state before the last change
            assert (sandbox.upper / path.lstrip("/")).read_bytes() == original.read_bytes(), path


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_install_start_under_cage_remove_and_purge(deb: Path, tmp_path: Path) -> None:
    _needs_cage()
    sandbox = Sandbox(tmp_path / "root", deb.parent)
    package = f"/mnt/qlq-deb/{deb.name}"
    sandbox.run(f"dpkg -i {package}")

    # The user: a system account without a shell, its home private to it.
    user = sandbox.run(f"getent passwd {USER}; stat -c '%U %a' {HOME}").stdout.split("\n")
    fields = user[0].split(":")
    assert int(fields[2]) < 1000 and fields[5] == HOME and fields[6] == "/usr/sbin/nologin"
    assert user[1] == f"{USER} 700"
    assert (sandbox.upper / "opt/qlq-kiosk/qlq-kiosk").is_file()
    assert (sandbox.upper / "usr/lib/qlq-kiosk/package-version").read_text().strip() == sandbox.run(
        "/opt/qlq-kiosk/qlq-kiosk --version"
    ).stdout.split()[1]
    assert sandbox.run(f"stat -c '%U %a' {HOME}/updates").stdout.strip() == f"{USER} 700"
    installed_unit = sandbox.upper / "usr/lib/systemd/system/qlq-kiosk.service"
    assert installed_unit.read_text(encoding="utf-8") == UNIT.read_text(encoding="utf-8")
    assert (sandbox.upper / "etc/systemd/system/graphical.target.wants/qlq-kiosk.service").is_symlink()
    if shutil.which("systemd-analyze"):
        verify = sandbox.run("systemd-analyze verify /usr/lib/systemd/system/qlq-kiosk.service", check=False)
        assert verify.returncode == 0, verify.stderr

    # The unit's own command, as its user, on cage's headless backend (what systemd would run at boot, minus
    # the tty and logind session, which need a running systemd).
    settings = unit_settings(installed_unit.read_text(encoding="utf-8"))
    assert settings["User"] == [USER]
    env = [
        *settings["Environment"],
        f"HOME={HOME}",
        "PATH=/usr/bin:/bin",
        "XDG_RUNTIME_DIR=/run/user/$U",
        "WLR_BACKENDS=headless",
        "WLR_LIBINPUT_NO_DEVICES=1",
        "WLR_RENDERER=pixman",
        "QLQ_KIOSK_EXIT_WHEN_READY=1",
        "CREDENTIALS_DIRECTORY=/run/credentials/qlq-kiosk.service",
    ]
    # What systemd does for LoadCredentialEncrypted=: decrypt the postinst's sealed key for the service only.
    assert "LoadCredentialEncrypted=" in installed_unit.read_text(encoding="utf-8")
    creds = (
        "mkdir -p -m 0700 /run/credentials/qlq-kiosk.service && "
        "systemd-creds decrypt --name=qlq-database-key /etc/credstore.encrypted/qlq-database-key "
        "/run/credentials/qlq-kiosk.service/qlq-database-key && "
        f"chown -R {USER} /run/credentials/qlq-kiosk.service && "
    )
    start = sandbox.run(
        f"U=$(id -u {USER}); mkdir -p /run/user && chmod 755 /run/user && mkdir -m 700 /run/user/$U && "
        f"chown {USER} /run/user/$U && {creds}cd {HOME} && "
        f"runuser -u {USER} -- env -i {' '.join(shlex.quote(e) if '$U' not in e else e for e in env)} "
        f"timeout 120 {settings['ExecStart'][0]}",
        check=False,
        timeout=180,
    )
    assert start.returncode == 0, start.stderr[-3000:]
    assert "READY" in start.stdout.splitlines()
    owner = sandbox.run(f"stat -c '%U %a' {DATABASE}").stdout.strip()
    assert owner == f"{USER} 600"
    assert not (sandbox.upper / DATABASE.lstrip("/")).read_bytes().startswith(b"SQLite format 3")  # encrypted

    # dpkg -r: the program and the unit go; the user and the data stay for a reinstall.
    sandbox.run(f"dpkg -r {USER}")
    assert not (sandbox.upper / "opt/qlq-kiosk").exists()
    assert not (sandbox.upper / "usr/lib/qlq-kiosk").exists()
    assert not installed_unit.exists()
    assert sandbox.run(f"getent passwd {USER}", check=False).returncode == 0
    assert (sandbox.upper / DATABASE.lstrip("/")).is_file()

    # dpkg --purge: the user goes; the database is kept, and said so, until IT deletes it.
    purge = sandbox.run(f"dpkg --purge {USER}")
    assert f"{HOME} is kept" in purge.stderr
    assert sandbox.run(f"getent passwd {USER}", check=False).returncode != 0
    assert sandbox.run(f"getent group {USER}", check=False).returncode != 0
    assert (sandbox.upper / DATABASE.lstrip("/")).is_file()
    assert (sandbox.upper / "etc/credstore.encrypted/qlq-database-key").is_file()  # its key too
    sandbox.run(f"rm -rf {HOME} /etc/credstore.encrypted /run/credentials")  # what IT does once synchronised
    _assert_clean(sandbox)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_purge_without_data_removes_everything(deb: Path, tmp_path: Path) -> None:
    _needs_cage()
    sandbox = Sandbox(tmp_path / "root", deb.parent)
    sandbox.run(f"dpkg -i /mnt/qlq-deb/{deb.name} && dpkg --purge {USER}")
    assert not (sandbox.upper / HOME.lstrip("/")).exists()
    _assert_clean(sandbox)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_missing_dependencies_refuse_the_install(deb: Path, tmp_path: Path) -> None:
    # Without cage the package must not half-install: dpkg leaves it unconfigured and creates no user.
    _needs_cage()
    sandbox = Sandbox(tmp_path / "root", deb.parent)
    run = sandbox.run(f"dpkg -r --force-depends cage >/dev/null && dpkg -i /mnt/qlq-deb/{deb.name}", check=False)
    assert run.returncode != 0 and "cage" in run.stderr
    assert sandbox.run(f"getent passwd {USER}", check=False).returncode != 0
