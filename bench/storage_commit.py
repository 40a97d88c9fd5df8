"""How long ``SqliteSessionStore.save()`` takes after one answer: the durable commit behind every touch.

The UI's target is touch → next item shown, with the answer committed, in 50 ms at p95; the commit itself must
stay well under that. This answers 300 items (ten QLQ-C30 sessions of 30) on a real file and times each
``save()`` (snapshot, upsert of the session row, fsynced commit), then each ``finish()``.

    uv run python bench/storage_commit.py [--answers 300] [--dir FOLDER]

``--dir`` puts the database on the disk to measure (default: a temporary folder); the fsync cost depends on the
disk and file system far more than on this code, so measure on the tablet's own storage before concluding.
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from kiosk.domain.instrument import load_instrument
from kiosk.domain.patient import PatientDetails
from kiosk.domain.session import Consent, ConsentKind, Mode, Session, SessionConfig
from kiosk.domain.submission import build_submission
from kiosk.storage.sqlite_store import SqliteSessionStore


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def describe(label: str, seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (
        f"{label:<8} n={len(ms):<4} p50={percentile(ms, 0.50):6.2f} ms  p95={percentile(ms, 0.95):6.2f} ms  "
        f"p99={percentile(ms, 0.99):6.2f} ms  max={max(ms):6.2f} ms  mean={statistics.fmean(ms):6.2f} ms"
    )


def filesystem_of(folder: Path) -> str:
    """The mount (file system type) holding ``folder``, on Linux; "unknown" elsewhere."""
    best, kind = "", "unknown"
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return kind
    resolved = str(folder.resolve())
    for line in mounts:
        parts = line.split()
        if len(parts) >= 3 and resolved.startswith(parts[1]) and len(parts[1]) > len(best):
            best, kind = parts[1], f"{parts[2]} on {parts[1]}"
    return kind


def bench(folder: Path, answers: int) -> tuple[list[float], list[float]]:
    instrument = load_instrument("qlq-c30", "fr")
    saves: list[float] = []
    finishes: list[float] = []
    now = datetime.now(UTC)
    with SqliteSessionStore(folder / "kiosk.db") as store:
        device = store.device_id()
        while len(saves) < answers:
            session = Session.start(
                session_id=str(uuid.uuid4()),
                instrument=instrument,
                patient=PatientDetails(initials="B K", birth_date=date(1955, 6, 1), session_date=now.date()),
                config=SessionConfig(mode=Mode.TOUCH, audio_enabled=False, language="fr"),
                consents=(Consent(kind=ConsentKind.ANSWERS, given=True, at=now),),
                now=now,
            )
            session = session.begin_items(now=now)
            store.save(session)
            while not session.phase.is_final and len(saves) < answers:
                now += timedelta(seconds=3)
                assert session.current_item is not None
                scale = instrument.scale_of(session.current_item)
                session = session.answer(scale.min + session.current_item % scale.size, now=now)
                if session.phase.is_final:
                    submission = build_submission(session, device_id=device, app_version="bench", frozen_at=now)
                    started = time.perf_counter()
                    store.finish(session, submission)
                    finishes.append(time.perf_counter() - started)
                else:
                    started = time.perf_counter()
                    store.save(session)
                    saves.append(time.perf_counter() - started)
    return saves, finishes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=300, help="answers to save (default 300)")
    parser.add_argument("--dir", type=Path, help="folder for the database (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qlq-bench-", dir=args.dir) as tmp:
        folder = Path(tmp)
        print(f"database: {folder / 'kiosk.db'} ({filesystem_of(folder)})")
        print(f"python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {platform.platform()}")
        saves, finishes = bench(folder, args.answers)
    print(describe("save()", saves))
    if finishes:
        print(describe("finish()", finishes))
    verdict = "OK" if percentile([s * 1000 for s in saves], 0.95) <= 25 else "TOO SLOW"
    print(f"save() p95 against a 25 ms budget (half of the 50 ms touch-to-next-item target): {verdict}")


if __name__ == "__main__":
    main()
