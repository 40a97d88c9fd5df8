"""Realistic submissions for the export tests, built with the real domain (Session → build_submission)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from kiosk.domain.anonymised import anonymise
from kiosk.domain.clock import FakeClock
from kiosk.domain.instrument import Instrument, load_instrument
from kiosk.domain.patient import PatientDetails
from kiosk.domain.session import Consent, ConsentKind, ItemStatus, Method, Mode, Session, SessionConfig
from kiosk.domain.submission import Submission, build_submission
from sync_server.exports import ExportRecord
from sync_server.services.ingest import age_band

T0 = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
INITIALS = "Q-X"  # distinctive: must never appear in an export
BIRTH = date(1951, 6, 17)


def new_clock(start: datetime = T0) -> FakeClock:
    return FakeClock(start, step=7.25)


def fr() -> Instrument:
    return load_instrument("qlq-c30", "fr")


def start(instrument: Instrument, mode: Mode, clock: FakeClock, *, audio: bool = True) -> Session:
    consents = [Consent(ConsentKind.ANSWERS, True, clock.now()), Consent(ConsentKind.CLOUD_VOICE, True, clock.now())]
    session = Session.start(
        session_id=str(uuid.uuid4()),
        instrument=instrument,
        patient=PatientDetails(initials=INITIALS, birth_date=BIRTH, session_date=clock.now().date()),
        config=SessionConfig(mode=mode, audio_enabled=audio, language=instrument.language),
        consents=consents,
        now=clock.now(),
    )
    if session.phase.value == "check":
        session = session.record_check(
            audio_ok=True if audio else None, microphone_ok=True if mode.is_voice else None, now=clock.tick()
        )
    session = session.begin_items(now=clock.tick())
    return session


def freeze(session: Session, clock: FakeClock) -> Submission:
    return build_submission(session, device_id="tablet-07", app_version="0.1.0", frozen_at=clock.tick())


def touch_completed(instrument: Instrument | None = None) -> Submission:
    """Every item answered by touch."""
    instrument = instrument or fr()
    clock = new_clock()
    s = start(instrument, Mode.TOUCH, clock, audio=False)
    while s.phase.value == "items":
        n = s.current_item
        assert n is not None
        s = s.answer(n % 4 + 1 if n <= 28 else n - 24, now=clock.tick())
    return freeze(s, clock)


def voice_with_changes() -> Submission:
    """Voice answers with transcripts and confidence, a confirmed answer, a changed answer (2 then 3 then 4 on
    item 2), a low-confidence answer confirmed on item 5, a "je ne sais pas" on item 9, a switch to touch from
    item 20 on."""
    clock = new_clock(T0 + timedelta(hours=1))
    s = start(fr(), Mode.VOICE_CONTINUOUS, clock)
    s = s.answer(1, now=clock.tick(), method=Method.VOICE, transcript="pas du tout", confidence=0.93)
    s = s.answer(2, now=clock.tick(), method=Method.VOICE, transcript="un peu", confidence=0.41, confirmed=True)
    s = s.back(now=clock.tick())
    s = s.answer(3, now=clock.tick(), method=Method.VOICE, transcript="assez", confidence=0.88)
    s = s.back(now=clock.tick())
    s = s.answer(4, now=clock.tick())  # corrected by touch
    while s.phase.value == "items":
        n = s.current_item
        assert n is not None
        if n == 9:
            s = s.skip(
                now=clock.tick(),
                status=ItemStatus.DONT_KNOW,
                method=Method.VOICE,
                transcript="je ne sais pas",
                confidence=0.77,
            )
        elif n == 5:
            s = s.answer(2, now=clock.tick(), method=Method.VOICE, transcript="un peu", confidence=0.45, confirmed=True)
        elif n == 20:
            s = s.switch_mode(Mode.TOUCH, now=clock.tick(), reason="noisy room")
            s = s.answer(2, now=clock.tick())
        elif n < 20:
            value = n % 4 + 1 if n <= 28 else 6
            s = s.answer(value, now=clock.tick(), method=Method.VOICE, transcript=f"réponse {value}", confidence=0.9)
        else:
            s = s.answer(n % 4 + 1 if n <= 28 else 7, now=clock.tick())
    if s.phase.value == "review_prompt":
        s = s.decline_review(now=clock.tick())
    return freeze(s, clock)


def abandoned_early() -> Submission:
    """Abandoned after four items: most scales missing."""
    clock = new_clock(T0 + timedelta(hours=2))
    s = start(fr(), Mode.TOUCH, clock)
    for value in (2, 3, 1, 4):
        s = s.answer(value, now=clock.tick())
    s = s.abandon(now=clock.tick(600), reason="inactivity")
    return freeze(s, clock)


def partially_missing() -> Submission:
    """Items 3, 12, 18, 29 and 30 skipped, review declined: completed with missing values and scores."""
    clock = new_clock(T0 + timedelta(hours=3))
    s = start(fr(), Mode.TOUCH, clock)
    while s.phase.value == "items":
        n = s.current_item
        assert n is not None
        s = s.skip(now=clock.tick()) if n in (3, 12, 18, 29, 30) else s.answer(3, now=clock.tick())
    s = s.decline_review(now=clock.tick())
    return freeze(s, clock)


def all_submissions() -> list[Submission]:
    return [touch_completed(), voice_with_changes(), abandoned_early(), partially_missing()]


def record(
    sub: Submission,
    *,
    anonymized: bool = False,
    source: str = "kiosk",
    legacy_id: str | None = None,
    device_id: str | None = "tablet-07",
    site: str = "CHU-LYON",
) -> ExportRecord:
    """The session as the server hands it to the Python writers; ``anonymized``: with its patient anonymised
    (the domain's :class:`AnonymisedSubmission`, as the server reads an anonymised row)."""
    stored = anonymise(sub, age_band(sub.patient.age_at_session)) if anonymized else sub
    return ExportRecord(
        submission=stored,
        site_code=site,
        device_id=device_id,
        received_at=sub.frozen_at + timedelta(minutes=3),
        source=source,
        legacy_id=legacy_id,
    )


def copies(sub: Submission, count: int, consumed: list[int] | None = None) -> Iterator[ExportRecord]:
    """``count`` records of the same session under fresh ids; ``consumed[0]`` counts what was taken."""
    for i in range(count):
        if consumed is not None:
            consumed[0] = i + 1
        yield record(sub.model_copy(update={"submission_id": uuid.uuid4()}))
