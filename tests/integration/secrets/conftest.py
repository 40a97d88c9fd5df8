"""A real Secret Service for the keyring tests: GNOME Keyring on a private D-Bus session (``dbus-run-session``).

Each test gets its own bus and its own keyring folder (``XDG_DATA_HOME`` in a temporary directory), so nothing
touches the user's keyrings. ``scripts/bootstrap.sh`` installs gnome-keyring and dbus-daemon; without them the
tests fail saying so (they are never skipped: the Linux path must be known to work).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PASSWORD = "kiosk-test-login"  # the throwaway test keyring's password


@dataclass
class SecretService:
    """A running gnome-keyring-daemon on its own session bus."""

    home: Path
    address: str
    process: subprocess.Popen[str]

    @property
    def keyring_dir(self) -> Path:
        return self.home / "data" / "keyrings"

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_secret_service(home: Path, *, unlock: bool = True) -> SecretService:
    """``dbus-run-session`` running gnome-keyring (secrets component), unlocked with :data:`PASSWORD` or not."""
    missing = [tool for tool in ("dbus-run-session", "gnome-keyring-daemon") if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: run scripts/bootstrap.sh "
            "(apt-get install gnome-keyring dbus-daemon libsecret-1-0)"
        )
    (home / "run").mkdir(parents=True, exist_ok=True, mode=0o700)
    start = (
        f"printf '%s' '{PASSWORD}' | gnome-keyring-daemon --unlock --components=secrets >/dev/null"
        if unlock
        else "gnome-keyring-daemon --start --components=secrets >/dev/null"
    )
    script = f'echo "BUS=$DBUS_SESSION_BUS_ADDRESS"; {start}; echo READY; exec sleep 300'
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_RUNTIME_DIR": str(home / "run"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    process = subprocess.Popen(
        ["dbus-run-session", "--", "sh", "-c", script],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert process.stdout is not None
    address = ""
    deadline = time.monotonic() + 20
    for line in process.stdout:  # bounded: the script prints two lines then sleeps; the deadline is a guard
        if line.startswith("BUS="):
            address = line.strip()[4:]
        if line.strip() == "READY" or time.monotonic() > deadline:
            break
    if not address:
        process.kill()
        process.wait()
        process.stdout.close()
        pytest.fail("dbus-run-session did not start a session bus")
    return SecretService(home=home, address=address, process=process)


@pytest.fixture
def secret_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SecretService]:
    service = start_secret_service(tmp_path / "home")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", service.address)
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    try:
        yield service
    finally:
        service.stop()
