"""``qlq-kiosk launch`` (kiosk/update/launcher.py): which kiosk starts — the installed bundle or a verified update,
by the same rules as the .deb's launcher — and the supervision: started again after an update (exit code 75) or
a crash, given up on after a crash loop. Real folders and real processes (small shell kiosks that log what ran)."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from kiosk.cli.main import main
from kiosk.update.launcher import CRASH_LIMIT, EXECUTABLE, RESTART_EXIT_CODE, chosen_executable, supervise
from kiosk.update.layout import InstallLayout, SwitchMode, UpdateState

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the fake kiosks are shell scripts")


def _kiosk(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / EXECUTABLE
    exe.write_text(f"#!/bin/sh\n{body}\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


def _bundle(root: Path, version: str, body: str = "exit 0") -> Path:
    return _kiosk(InstallLayout(root).bundle(version), body)


@pytest.mark.parametrize("mode", ["symlink", "pointer"])
def test_the_newest_verified_kiosk_is_chosen_and_anything_doubtful_falls_back_to_the_installed_one(
    tmp_path: Path, mode: SwitchMode
) -> None:
    base, root = tmp_path / "program", tmp_path / "updates"
    installed = _kiosk(base, "exit 0")
    assert chosen_executable(base, "1.2.0", None) == installed  # no update folder
    assert chosen_executable(base, "1.2.0", root, mode=mode) == installed  # nothing installed there yet
    layout = InstallLayout(root, mode)
    layout.prepare()
    newer = _bundle(root, "1.3.0")
    layout.switch_to("1.3.0")
    assert chosen_executable(base, "1.2.0", root, mode=mode) == newer
    assert chosen_executable(base, "1.3.0", root, mode=mode) == installed  # IT installed the same or newer
    assert chosen_executable(base, "1.10.0", root, mode=mode) == installed  # versions compare as versions
    # an update whose self-test never finished: the version before it, when it is still newer than the bundle
    _bundle(root, "1.2.5")
    layout.save_state(UpdateState(pending="1.3.0", previous="1.2.5"))
    assert chosen_executable(base, "1.2.0", root, mode=mode) == layout.bundle("1.2.5") / EXECUTABLE
    layout.save_state(UpdateState(pending="1.3.0", previous=None))
    assert chosen_executable(base, "1.2.0", root, mode=mode) == installed
    layout.save_state(UpdateState())
    newer.chmod(0o644)  # not executable
    assert chosen_executable(base, "1.2.0", root, mode=mode) == installed
    newer.unlink()  # missing
    assert chosen_executable(base, "1.2.0", root, mode=mode) == installed
    layout.state_file.write_text("{not json")  # an unreadable state is no state: the update runs
    newer.write_text("#!/bin/sh\nexit 0\n")
    newer.chmod(0o755)
    assert chosen_executable(base, "1.2.0", root, mode=mode) == newer
    _bundle(root, "not-a-version")
    layout.switch_to("not-a-version")
    assert chosen_executable(base, "1.2.0", root, mode=mode) == installed


def test_after_an_update_the_new_version_starts_at_once_with_the_update_folder_named(tmp_path: Path) -> None:
    base, root, ran = tmp_path / "program", tmp_path / "updates", tmp_path / "ran.log"
    InstallLayout(root).prepare()
    _bundle(root, "2.0.0", f'echo "2.0.0 $QLQ_UPDATE_ROOT $*" >> {ran}; exit 0')
    # the installed kiosk "installs" 2.0.0 (switches current, as the updater does) and asks to be restarted
    _kiosk(base, f'echo "1.0.0 $QLQ_UPDATE_ROOT $*" >> {ran}; ln -s versions/2.0.0 {root}/current; exit 75')
    sleeps: list[float] = []
    assert supervise(base, "1.0.0", root, ["--windowed"], sleep=sleeps.append) == 0
    assert ran.read_text().splitlines() == [f"1.0.0 {root} --windowed", f"2.0.0 {root} --windowed"]
    assert sleeps == []  # a restart after an update does not wait
    assert RESTART_EXIT_CODE == 75


def test_a_crash_is_followed_by_a_new_start_and_a_crash_loop_is_given_up(tmp_path: Path) -> None:
    base, ran, count = tmp_path / "program", tmp_path / "ran.log", tmp_path / "count"
    # crashes twice, then runs and is quit by the admin (0)
    _kiosk(base, f'echo x >> {ran}; [ "$(wc -l < {ran})" -ge 3 ] && exit 0; exit 3')
    sleeps: list[float] = []
    assert supervise(base, "1.0.0", None, sleep=sleeps.append) == 0
    assert len(ran.read_text().splitlines()) == 3 and len(sleeps) == 2
    _kiosk(base, f"echo x >> {count}; exit 7")  # crashes every time
    assert supervise(base, "1.0.0", None, sleep=lambda _s: None) == 7
    assert len(count.read_text().splitlines()) == CRASH_LIMIT
    looping = tmp_path / "looping"
    _kiosk(base, f"echo x >> {looping}; exit 75")  # asks for a restart again and again: stopped too, not spun
    assert supervise(base, "1.0.0", None, sleep=lambda _s: None) == RESTART_EXIT_CODE
    assert len(looping.read_text().splitlines()) == CRASH_LIMIT
    # crashes far apart are not a loop: a clock moving a minute per crash never gives up before the kiosk quits
    ticks = iter(range(0, 10_000, 61))
    limit = tmp_path / "limit"
    _kiosk(base, f'echo x >> {limit}; [ "$(wc -l < {limit})" -ge {CRASH_LIMIT + 3} ] && exit 0; exit 7')
    assert supervise(base, "1.0.0", None, sleep=lambda _s: None, clock=lambda: float(next(ticks))) == 0
    assert len(limit.read_text().splitlines()) == CRASH_LIMIT + 3


def test_the_launch_command_runs_only_from_an_installed_bundle(capsys: pytest.CaptureFixture[str]) -> None:
    assert not getattr(sys, "frozen", False)
    assert main(["launch", "--update-root", os.devnull]) == 2
    assert "installed bundle" in capsys.readouterr().err
