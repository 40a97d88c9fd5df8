"""SIGKILL the writer at random moments: no answer reported as saved is ever lost, and the file stays sound.

The writers come from ``crash_writer.py --zygote``, a helper process that imports SQLAlchemy and the domain
once and forks a fresh writer for each round: each writer opens its own store, answers and saves, and reports
``saved …`` after every ``save()`` returned; the test kills it with SIGKILL, which leaves it no chance to clean
up, then reopens the file and checks that every reported answer is there (and at most one more: the one whose
commit landed just before the kill, unreported).

A process kill is what this can test. A power cut also loses what the operating system had not yet written;
that is covered by ``synchronous=FULL`` (each commit fsyncs the WAL), which ``test_sqlite_store`` checks is set.
"""

from __future__ import annotations

import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kiosk.domain.instrument import Instrument
from kiosk.storage.sqlite_store import SqliteSessionStore
from tests.integration.storage.storage_helpers import quick_check, value_for

WRITER = Path(__file__).with_name("crash_writer.py")
KILLS = 20
MIN_KILLS = 10  # on a very slow machine, fewer kills within the time bound still prove the point
TIME_BOUND_S = 25.0
MAX_DELAY_S = 0.15


class Zygote:
    """The helper process, with its output lines read by a thread into a queue (so reads can time out)."""

    def __init__(self, db: Path) -> None:
        self.errors = db.with_name("crash_writer.stderr")
        with self.errors.open("w") as errors:
            self.process = subprocess.Popen(
                [sys.executable, str(WRITER), "--zygote", str(db)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
                bufsize=1,
                cwd=WRITER.parent,
            )
        self.child = 0
        self.transcript: list[str] = []
        self.lines: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        assert self.next_line(timeout=60) == "zygote"

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.transcript.append(line)
            self.lines.put(line.strip())

    def next_line(self, timeout: float = 20) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(
                f"no word from the crash writer in {timeout} s (exit code {self.process.poll()}); "
                f"zygote {_state(self.process.pid)}; writer {_state(self.child)}; "
                f"stderr: {self.errors.read_text()[-3000:]}; last lines: {self.transcript[-6:]}"
            )

    def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.reader.join(10)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def writer_killed_after(self, delay: float) -> list[str]:
        """Fork a writer, let it work ``delay`` seconds after it is ready, SIGKILL it; return its reports."""
        self.send("fork")
        pid = 0
        reports: list[str] = []
        while not (pid and reports):
            line = self.next_line()
            if line.startswith("pid "):
                pid = self.child = int(line.split()[1])
            else:
                reports.append(line)
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        self.send("reap")
        while (line := self.next_line()) != "reaped":
            reports.append(line)
        return reports


def _state(pid: int) -> str:
    try:
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
        wchan = Path(f"/proc/{pid}/wchan").read_text()
    except OSError as exc:
        return f"{pid}: {exc.strerror}"
    return f"{pid}: " + " ".join(line for line in status if line.startswith("State")) + f" wchan={wchan}"


def _check(db: Path, instrument: Instrument, reports: list[str], context: str) -> None:
    kind, session_id, count = reports[-1].split()
    saved = int(count)
    assert kind in ("ready", "saved"), f"{context}: {reports[-1]}"
    assert quick_check(db) == ["ok"], context
    with SqliteSessionStore(db) as store:
        session = store.load(session_id, instrument)
        found = session.answered_count()
        assert saved <= found <= saved + 1, f"{context}: reported {saved} saved, found {found}"
        for item, value in session.answers().items():
            assert value in (None, value_for(instrument, item)), context
        assert len(store.unfinished()) <= 1, context
        if session.phase.is_final:
            assert [q.status for q in store.queued(limit=1000) if q.submission_id == session_id] == ["pending"]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and fork are POSIX")
def test_sigkill_at_random_moments_never_loses_a_saved_answer(tmp_path: Path, instrument: Instrument) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    db = tmp_path / "kiosk.db"
    zygote = Zygote(db)
    started = time.monotonic()
    kills = saves = finished = 0
    try:
        while kills < KILLS and time.monotonic() - started < TIME_BOUND_S:
            delay = 0.0 if rng.random() < 0.15 else rng.uniform(0, MAX_DELAY_S)
            reports = zygote.writer_killed_after(delay)
            _check(db, instrument, reports, f"seed {seed}, kill {kills + 1} after {delay * 1000:.0f} ms")
            saves += sum(1 for line in reports if line.startswith("saved"))
            finished += sum(1 for line in reports if line.startswith("saved") and line.endswith(" 30"))
            kills += 1
    finally:
        zygote.close()
    assert kills >= MIN_KILLS, f"only {kills} kills in {TIME_BOUND_S} s"
    assert saves > kills, "the kills should land among saves, not only before the first one"
    print(f"{kills} kills, {saves} saves reported, {finished} sessions finished (seed {seed})")
