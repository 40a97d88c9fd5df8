"""Bundle benchmark: one command, prints figures and PASS/FAIL.

    uv run --frozen python bench/bundle.py [BUNDLE_DIR]      (default: dist/qlq-kiosk, from installer/build.sh)

1. Size of the PyInstaller one-folder bundle unpacked (sum of file sizes) and compressed (the
   ``qlq-kiosk-*.tar.gz`` build.sh wrote beside it; else one made now with gzip -6, as build.sh does), and of the
   .deb when one is there. Target (issue 12): <= 300 MB unpacked.
2. Cold start of the bundled kiosk to the nurse's first screen (``QLQ_KIOSK_EXIT_WHEN_READY=1``: the process
   prints READY once the screen is shown): a new process each time, offscreen, full screen as installed, on a
   database created by one unmeasured start; median of 5. The bundle's bytecode is compiled at build time (in its
   PYZ archive), as installed. The OS file cache is warm (the unmeasured start). Target <= 1.5 s.
3. ``--self-test`` duration of the bundle, median of 3, in a private D-Bus session with an unlocked GNOME Keyring
   when dbus-run-session and gnome-keyring-daemon exist (so that every check can pass), with each check's time.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_UNPACKED_MB = 300.0
TARGET_COLD_S = 1.5
MB = 1_000_000


def tree_size(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def compressed_size(bundle: Path) -> tuple[int, str]:
    archives = sorted(bundle.parent.glob("qlq-kiosk-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if archives:
        return archives[-1].stat().st_size, archives[-1].name
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "bundle.tar.gz"
        with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
            tar.add(bundle, arcname=bundle.name)
        return archive.stat().st_size, "tar.gz made now (gzip -6)"


def cold_starts(exe: Path, runs: int = 5) -> tuple[list[float], list[float]]:
    """Wall seconds from spawning the bundled kiosk to its READY line, and the CPU seconds of each process
    (user + system: what the load of a shared machine does not inflate), ``runs`` times after one unmeasured
    start."""
    env = {**os.environ, "QLQ_KIOSK_EXIT_WHEN_READY": "1", "QT_QPA_PLATFORM": "offscreen"}
    env.pop("QLQ_KIOSK_AUTOPILOT", None)
    walls, cpus = [], []
    with tempfile.TemporaryDirectory() as data:
        for run in range(runs + 1):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            proc = subprocess.Popen(
                [str(exe), "--data-dir", data], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
            )
            assert proc.stdout is not None
            line = proc.stdout.readline()
            elapsed = time.perf_counter() - started
            code = proc.wait(timeout=60)
            proc.stdout.close()
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if line.strip() != "READY" or code != 0:
                raise RuntimeError(f"cold start failed: {line!r}, exit code {code}")
            if run:
                walls.append(elapsed)
                cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return walls, cpus


def self_tests(exe: Path, runs: int = 3) -> tuple[list[float], dict[str, object], str]:
    """Wall seconds of ``runs`` self-tests, the last JSON report, and how the keyring was provided."""
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "HOME": home, "XDG_DATA_HOME": f"{home}/data"}
        command = [str(exe), "--self-test", "--json"]
        how = "this machine's default keyring"
        if shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon"):
            env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.SecretService.Keyring"
            script = 'printf "" | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; exec "$@"'
            command = ["dbus-run-session", "--", "sh", "-c", script, "sh", *command]
            how = "GNOME Keyring in a private D-Bus session (its start-up included in the time)"
        walls, report = [], {}
        for _ in range(runs):
            started = time.perf_counter()
            run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
            walls.append(time.perf_counter() - started)
            if run.returncode not in (0, 1):
                raise RuntimeError(f"self-test crashed: exit code {run.returncode}: {run.stderr[-2000:]}")
            report = json.loads(run.stdout)
    return walls, report, how


def main(argv: list[str]) -> int:
    bundle = Path(argv[0] if argv else ROOT / "dist" / "qlq-kiosk").resolve()
    exe = bundle / "qlq-kiosk"
    if not exe.is_file():
        print(f"no bundle at {bundle}: build it with `bash installer/build.sh`", file=sys.stderr)
        return 2
    unpacked = tree_size(bundle)
    packed, what = compressed_size(bundle)
    print(f"bundle {bundle}")
    ok_size = unpacked / MB <= TARGET_UNPACKED_MB
    print(
        f"  unpacked   {unpacked / MB:7.1f} MB  target <= {TARGET_UNPACKED_MB:.0f} MB  {'PASS' if ok_size else 'FAIL'}"
    )
    print(f"  compressed {packed / MB:7.1f} MB  ({what})")
    for deb in sorted(bundle.parent.glob("qlq-kiosk_*.deb")):
        print(f"  .deb       {deb.stat().st_size / MB:7.1f} MB  ({deb.name})")

    walls, cpus = cold_starts(exe)
    cold = statistics.median(walls)
    ok_cold = cold <= TARGET_COLD_S
    print(
        f"cold start to the nurse screen: median {cold:.3f} s of {len(walls)} "
        f"(min {min(walls):.3f}, max {max(walls):.3f})  target <= {TARGET_COLD_S} s  {'PASS' if ok_cold else 'FAIL'}"
    )
    print(
        f"  CPU time of the kiosk process (user + system): median {statistics.median(cpus):.3f} s; "
        f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )

    durations, report, how = self_tests(exe)
    checks = report.get("checks", [])
    assert isinstance(checks, list)
    print(
        f"self-test: median {statistics.median(durations):.3f} s of {len(durations)} "
        f"(min {min(durations):.3f}, max {max(durations):.3f}); keyring: {how}; "
        f"{'passed' if report.get('passed') else 'FAILED'}"
    )
    for check in checks:
        print(f"  {check['id']:<20} {check['status']:<8} {check['seconds']:.3f} s")
    return 0 if ok_size and ok_cold else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
