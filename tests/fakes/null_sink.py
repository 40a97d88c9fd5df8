"""A private PulseAudio daemon with one null sink: a real audio output for QtMultimedia on a machine without a
sound card, so that QSoundEffect really plays (Loading → Ready → playing, samples pulled in real time).

The daemon's socket is in a temporary folder and only processes given ``PULSE_SERVER`` find it: nothing else on
the machine (other test runs) sees an audio device appear. Stopped by its pid when the context exits.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def pulseaudio_available() -> bool:
    return shutil.which("pulseaudio") is not None


@contextmanager
def null_sink(timeout: float = 10.0) -> Iterator[str]:
    """Start the daemon; yields the ``PULSE_SERVER`` value (set it before QtMultimedia starts)."""
    folder = Path(tempfile.mkdtemp(prefix="qlq-pulse-"))
    socket = folder / "native"
    env = {**os.environ, "HOME": str(folder), "PULSE_RUNTIME_PATH": str(folder), "PULSE_STATE_PATH": str(folder)}
    process = subprocess.Popen(
        [
            "pulseaudio",
            "-n",
            "--daemonize=no",
            "--exit-idle-time=-1",
            "--use-pid-file=no",
            "--log-target=stderr",
            "--log-level=error",
            "-L",
            "module-null-sink sink_name=qlq_null",
            "-L",
            f"module-native-protocol-unix socket={socket} auth-anonymous=1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout
        while not socket.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the private PulseAudio daemon did not start")
            time.sleep(0.05)
        yield f"unix:{socket}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)
