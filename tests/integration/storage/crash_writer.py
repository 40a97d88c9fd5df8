"""Crash-test writer: answers items one by one on a real store and reports each ``save()`` once it returned.

A writer resumes the newest unfinished session (or starts one), answers the next item, saves (after the last
item: finishes, with the submission), prints ``saved <session id> <answered count>``, and goes on forever,
until it is killed. By hand::

    uv run python tests/integration/storage/crash_writer.py /tmp/crash/kiosk.db

``--zygote`` is for ``test_crash_durability``: the process imports everything once, then forks a fresh writer
each time it reads ``fork`` on stdin (the writer prints ``pid <pid>`` first), and reaps it on ``reap``
(answering ``reaped``, after anything the writer printed). A new interpreter per kill would spend seconds on
imports; a fork costs milliseconds, and each writer still opens its own store as the kiosk does at start-up.
"""

from __future__ import annotations

import os
import sys
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from kiosk.domain.instrument import load_instrument
from kiosk.domain.patient import PatientDetails
from kiosk.domain.session import Consent, ConsentKind, Mode, Session, SessionConfig
from kiosk.domain.submission import build_submission
from kiosk.storage.sqlite_store import SqliteSessionStore
from tests.integration.storage.storage_helpers import value_for


def _now() -> datetime:
    return datetime.now(UTC)


def _say(line: str) -> None:
    # One write() per line: a pipe write of under PIPE_BUF bytes is atomic, so a kill never leaves half a line
    # (print() may write the text and its newline separately, and the kill can fall in between).
    os.write(sys.stdout.fileno(), (line + "\n").encode())


def run(db_path: Path, report: Callable[[str], None] = _say) -> None:
    instrument = load_instrument("qlq-c30", "fr")
    store = SqliteSessionStore(db_path)
    while True:
        resumable = store.unfinished()
        if resumable:
            session = store.load(resumable[0].session_id, instrument)
        else:
            session = Session.start(
                session_id=str(uuid.uuid4()),
                instrument=instrument,
                patient=PatientDetails(initials="C K", birth_date=date(1960, 1, 1), session_date=_now().date()),
                config=SessionConfig(mode=Mode.TOUCH, audio_enabled=False, language=instrument.language),
                consents=(Consent(kind=ConsentKind.ANSWERS, given=True, at=_now()),),
                now=_now(),
            )
            session = session.begin_items(now=_now())
            store.save(session)
        report(f"ready {session.id} {session.answered_count()}")
        while not session.phase.is_final:
            assert session.current_item is not None
            session = session.answer(value_for(instrument, session.current_item), now=_now())
            if session.phase.is_final:
                submission = build_submission(
                    session, device_id=store.device_id(), app_version="crash-test", frozen_at=_now()
                )
                store.finish(session, submission)
            else:
                store.save(session)
            report(f"saved {session.id} {session.answered_count()}")


def zygote(db_path: Path) -> None:
    child = 0
    _say("zygote")
    for command in sys.stdin:
        if command.strip() == "fork":
            child = os.fork()
            if child == 0:
                try:
                    _say(f"pid {os.getpid()}")
                    run(db_path)
                except BaseException:
                    traceback.print_exc()
                finally:
                    os._exit(1)
        elif command.strip() == "reap" and child:
            os.waitpid(child, 0)
            child = 0
            _say("reaped")


if __name__ == "__main__":
    if sys.argv[1] == "--zygote":
        zygote(Path(sys.argv[2]))
    else:
        run(Path(sys.argv[1]))
