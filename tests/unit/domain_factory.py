"""Builders for domain objects used across unit tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from kiosk.domain.instrument import Instrument, load_instrument
from kiosk.domain.patient import PatientDetails
from kiosk.domain.session import Consent, ConsentKind, Mode, Session, SessionConfig

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)


class Clock:
    """A fake clock: each call to ``tick`` moves time forward."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def tick(self, seconds: float = 5) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def fr() -> Instrument:
    return load_instrument("qlq-c30", "fr")


def start_session(mode: Mode = Mode.TOUCH, audio: bool = True, *, clock: Clock | None = None,
                  instrument: Instrument | None = None, voice_consent: bool = True) -> Session:
    clock = clock or Clock()
    instrument = instrument or fr()
    consents = [Consent(ConsentKind.ANSWERS, True, clock.now)]
    if voice_consent:
        consents.append(Consent(ConsentKind.CLOUD_VOICE, True, clock.now))
    return Session.start(
        session_id=str(uuid.uuid4()), instrument=instrument,
        patient=PatientDetails(initials="J D", birth_date=date(1952, 3, 7), session_date=TODAY),
        config=SessionConfig(mode=mode, audio_enabled=audio, language=instrument.language),
        consents=consents, now=clock.now)


def answer_all(session: Session, clock: Clock, values: dict[int, int | None]) -> None:
    """Drive a session from its current phase through every item; None values are skipped."""
    if session.phase.value == "check":
        session.record_check(audio_ok=True if session.config.audio_enabled else None,
                             microphone_ok=True if session.mode.is_voice else None, now=clock.tick())
    if session.phase.value == "introduction":
        session.begin_items(now=clock.tick())
    while session.phase.value == "items":
        assert session.current_item is not None
        value = values.get(session.current_item)
        if value is None:
            session.skip(now=clock.tick())
        else:
            session.answer(value, now=clock.tick())
