"""The launcher of an updatable kiosk where no systemd unit supervises it (Windows, macOS): ``qlq-kiosk launch``.

Linux's .deb has its own (``installer/linux/qlq-kiosk-launch``, restarted by systemd); this is the same rule in
Python, plus the supervision systemd gives there. The installed bundle (``base``, its version ``base_version``:
the program folder the installer wrote, read-only for the kiosk's user) is the fallback; a signed update the
kiosk verified, unpacked and switched to itself lives under the update folder (``versions/VERSION`` and the
``current`` pointer, :class:`kiosk.update.layout.InstallLayout`). Rules, as on Linux:

- an update is started only when it is newer than the installed bundle (a newer Setup pushed by IT wins);
- an update whose self-test never finished (``update-state.json`` names it as pending: a power cut during the
  install) is never started: the version before it is, and the kiosk then rolls the switch back for good;
- anything missing or unreadable falls back to the installed bundle.

Supervision: the kiosk exits with :data:`RESTART_EXIT_CODE` once an update is installed (``update_vm``): the
launcher then starts the version the rule chooses now, at once. A crash (any other non-zero code) is followed by
a new start after a pause, as systemd's ``Restart=always``; a kiosk that keeps stopping (``CRASH_LIMIT`` non-zero
exits within ``CRASH_WINDOW_S``, restarts for an update included) is left stopped with its code, for IT to see.
Exit code 0 (the admin quit) ends the launcher too.

The launcher verifies nothing itself: what it starts was verified by the kiosk before it was unpacked, into a
folder of the kiosk's own user (the same trust as the kiosk's data).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from packaging.version import InvalidVersion, Version

from kiosk.update.layout import InstallLayout, SwitchMode
from kiosk.update.setup import UPDATE_ROOT_ENV

#: The exit code of a kiosk that stops to start its newly installed version (EX_TEMPFAIL: "try again"), for its
#: supervisor: this launcher, or systemd through the .deb's.
RESTART_EXIT_CODE = 75
CRASH_LIMIT = 5
CRASH_WINDOW_S = 60.0
CRASH_PAUSE_S = 2.0
log = logging.getLogger(__name__)
EXECUTABLE = "qlq-kiosk.exe" if sys.platform == "win32" else "qlq-kiosk"


def _newer(version: str, than: str) -> bool:
    try:
        return Version(version) > Version(than)
    except InvalidVersion:
        return False


def chosen_executable(
    base: Path, base_version: str, update_root: Path | None, *, mode: SwitchMode | None = None
) -> Path:
    """The kiosk executable to start now (see the module docstring for the rules). ``mode``: how ``current`` is
    stored (default: the platform's, as the kiosk's updater writes it)."""
    installed = base / EXECUTABLE
    if update_root is None:
        return installed
    layout = InstallLayout(update_root, mode)
    version = layout.current_version()
    state = layout.load_state()
    if version is not None and version == state.pending:
        version = state.previous
    if not version or not _newer(version, base_version):
        return installed
    candidate = layout.bundle(version) / EXECUTABLE
    return candidate if candidate.is_file() and os.access(candidate, os.X_OK) else installed


def supervise(
    base: Path,
    base_version: str,
    update_root: Path | None,
    args: Sequence[str] = (),
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    mode: SwitchMode | None = None,
) -> int:
    """Start the chosen kiosk until it ends for good; returns its last exit code."""
    env = dict(os.environ)
    if update_root is not None:
        env[UPDATE_ROOT_ENV] = str(update_root)  # the kiosk's updater is on, on this folder
    crashes: list[float] = []
    while True:
        code = subprocess.call([str(chosen_executable(base, base_version, update_root, mode=mode)), *args], env=env)
        if code == 0:
            return 0
        now = clock()  # restarts for an update count too: a kiosk that asks for one in a loop is stopped as well
        crashes = [t for t in crashes if now - t < CRASH_WINDOW_S] + [now]
        if len(crashes) >= CRASH_LIMIT:
            log.error(
                "the kiosk stopped %d times within %.0f s (last exit code %d): not starting it again",
                len(crashes),
                CRASH_WINDOW_S,
                code,
            )
            return code
        if code == RESTART_EXIT_CODE:
            continue
        log.warning("the kiosk stopped with exit code %d: starting it again in %.0f s", code, CRASH_PAUSE_S)
        sleep(CRASH_PAUSE_S)
