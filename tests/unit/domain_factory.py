"""Builders for domain objects used across unit tests."""

from __future__ import annotations

import uuid
from datetime import date

from kiosk.domain.clock import FAKE_START, FakeClock
from kiosk.domain.instrument import Instrument, load_instrument
from kiosk.domain.patient import PatientDetails
from kiosk.domain.session import Consent, ConsentKind, Mode, Session, SessionConfig

T0 = FAKE_START
TODAY = date(2026, 11, 25)


def fr() -> Instrument:
    return load_instrument("qlq-c30", "fr")


def start_session(
    mode: Mode = Mode.TOUCH,
    audio: bool = True,
    *,
    clock: FakeClock | None = None,
    instrument: Instrument | None = None,
    voice_consent: bool = True,
) -> Session:
    clock = clock or FakeClock(step=5)
    instrument = instrument or fr()
    consents = [Consent(ConsentKind.ANSWERS, True, clock.now())]
    if voice_consent:
        consents.append(Consent(ConsentKind.CLOUD_VOICE, True, clock.now()))
    return Session.start(
        session_id=str(uuid.uuid4()),
        instrument=instrument,
        patient=PatientDetails(initials="J D", birth_date=date(1952, 3, 7), session_date=TODAY),
        config=SessionConfig(mode=mode, audio_enabled=audio, language=instrument.language),
        consents=consents,
        now=clock.now(),
    )


def answer_all(session: Session, clock: FakeClock, values: dict[int, int | None]) -> Session:
    """Drive a session from its current phase through every item; None values are skipped."""
    if session.phase.value == "check":
        session = session.record_check(
            audio_ok=True if session.config.audio_enabled else None,
            microphone_ok=True if session.mode.is_voice else None,
            now=clock.tick(),
        )
    if session.phase.value == "introduction":
        session = session.begin_items(now=clock.tick())
    while session.phase.value == "items":
        assert session.current_item is not None
        value = values.get(session.current_item)
        session = session.skip(now=clock.tick()) if value is None else session.answer(value, now=clock.tick())
    return session
