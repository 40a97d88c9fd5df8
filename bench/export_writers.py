"""Benchmark of a Python export writer alone (.sav or FHIR; CSV is written by PostgreSQL, see bench/export.py):
100,000 sessions into a discarding sink.

Builds one realistic submission with the real domain (voice session with transcripts, a changed answer, a
"je ne sais pas", a mode switch), then yields it 100,000 times as fresh ExportRecords with new uuids, and
streams them through ``write_export("sav", ...)`` into a sink that counts and drops the bytes (like
/dev/null). Prints rows/s, elapsed (wall) and CPU time, the 1-minute load average (a busy machine inflates
the wall time) and the peak RSS of the process. The generator's own cost (a pydantic ``model_copy`` and a uuid4
per record, about 12 µs) is included.

Context: the server writes these formats to a temporary file before the response starts (an error is then an
error response, never a cut stream), so the writer's speed is the researcher's wait for the first byte.

    uv run python bench/export_writers.py [--rows N] [--format sav|fhir]
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import BinaryIO, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk.domain.instrument import load_instrument
from kiosk.domain.patient import PatientDetails
from kiosk.domain.session import Consent, ConsentKind, ItemStatus, Method, Mode, Session, SessionConfig
from kiosk.domain.submission import Submission, build_submission
from sync_server.exports import FORMATS, ExportRecord, write_export


class NullSink(io.RawIOBase):
    """Counts the bytes and drops them."""

    def __init__(self) -> None:
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.size += len(b)
        return len(b)


def realistic_submission() -> Submission:
    instrument = load_instrument("qlq-c30", "fr")
    now = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)

    def tick(seconds: float = 6.5) -> datetime:
        nonlocal now
        now += timedelta(seconds=seconds)
        return now

    session = Session.start(
        session_id=str(uuid.uuid4()),
        instrument=instrument,
        patient=PatientDetails(initials="M-L B", birth_date=date(1958, 4, 2), session_date=now.date()),
        config=SessionConfig(mode=Mode.VOICE_CONTINUOUS, audio_enabled=True, language="fr"),
        consents=[Consent(ConsentKind.ANSWERS, True, now), Consent(ConsentKind.CLOUD_VOICE, True, now)],
        now=now,
    )
    session = session.record_check(audio_ok=True, microphone_ok=True, now=tick())
    session = session.begin_items(now=tick())
    while session.phase.value == "items":
        n = session.current_item
        assert n is not None
        if n == 9:
            session = session.skip(
                now=tick(), status=ItemStatus.DONT_KNOW, method=Method.VOICE, transcript="je sais pas", confidence=0.71
            )
        elif n == 4 and session.records[4].times_shown == 1:
            session = session.answer(2, now=tick(), method=Method.VOICE, transcript="un peu", confidence=0.52)
            session = session.back(now=tick())
        elif n == 24:
            session = session.switch_mode(Mode.TOUCH, now=tick(), reason="patient's choice")
            session = session.answer(3, now=tick())
        elif session.mode.is_voice:
            value = n % 4 + 1 if n <= 28 else 5
            session = session.answer(
                value, now=tick(), method=Method.VOICE, transcript=f"réponse {value}", confidence=0.9
            )
        else:
            session = session.answer(n % 4 + 1 if n <= 28 else 6, now=tick())
    if session.phase.value == "review_prompt":
        session = session.decline_review(now=tick())
    return build_submission(session, device_id="tablet-07", app_version="0.1.0", frozen_at=tick())


def records(sub: Submission, count: int) -> Iterator[ExportRecord]:
    received = sub.frozen_at + timedelta(minutes=2)
    for _ in range(count):
        yield ExportRecord(
            submission=sub.model_copy(update={"submission_id": uuid.uuid4()}),
            site_code="CHU-LYON",
            device_id="tablet-07",
            received_at=received,
            source="kiosk",
            legacy_id=None,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=[f for f in FORMATS if not f.startswith("csv")], default="sav")
    args = parser.parse_args()
    sub = realistic_submission()
    instrument = load_instrument("qlq-c30", "fr")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sink = NullSink()
    start, cpu_start = time.perf_counter(), time.process_time()
    written = write_export(args.format, records(sub, args.rows), cast(BinaryIO, sink), instrument=instrument)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(
        f"format={args.format} rows={written} bytes={sink.size} elapsed={elapsed:.2f}s "
        f"rows/s={written / elapsed:,.0f} cpu={cpu:.2f}s load1={os.getloadavg()[0]:.1f} "
        f"peak_rss={rss_after / 1024:.1f}MB "
        f"(before export {rss_before / 1024:.1f}MB)"
    )


if __name__ == "__main__":
    main()
