"""The nurse start form as plain data, and its validation into a new :class:`Session` (no Qt, unit-testable).

The domain checks the patient's details (:func:`~kiosk.domain.patient.validate_patient`, French messages per
field); this module adds the two consents the nurse confirms: the processing of the answers (always required)
and cloud voice processing (required for the voice modes, else only touch mode is allowed). Both consents are
recorded with their time in the session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from kiosk.domain.instrument import Instrument
from kiosk.domain.patient import PatientValidationError, validate_patient
from kiosk.domain.session import Consent, ConsentKind, InvalidTransition, Mode, Session, SessionConfig

CONSENT_ANSWERS_MISSING = "Le patient doit avoir accepté le traitement de ses réponses pour commencer."
CONSENT_VOICE_MISSING = (
    "Les modes vocaux demandent l'accord du patient pour l'envoi de sa voix au service de "
    "reconnaissance en ligne. Sans cet accord, choisissez « Tactile seulement »."
)


@dataclass(frozen=True)
class StartForm:
    initials: str
    birth_date: date | str  # a date, or the text "JJ/MM/AAAA" built from the day/month/year pickers
    session_date: date | str
    mode: Mode
    audio_enabled: bool
    language: str
    consent_answers: bool
    consent_voice: bool


def date_text(day: int | None, month: int | None, year: int | None) -> str:
    """The day/month/year pickers as the text the domain parses ("" when any part is missing)."""
    if not (day and month and year):
        return ""
    return f"{day:02d}/{month:02d}/{year:04d}"


def build_session(
    form: StartForm, instrument: Instrument, *, session_id: str, now: datetime, today: date
) -> tuple[Session | None, dict[str, str]]:
    """A new session, or ``(None, errors)`` with every problem at once, keyed by form field."""
    errors: dict[str, str] = {}
    patient = None
    try:
        patient = validate_patient(form.initials, form.birth_date, form.session_date, today=today)
    except PatientValidationError as exc:
        errors.update(exc.errors)
    if not form.consent_answers:
        errors["consent_answers"] = CONSENT_ANSWERS_MISSING
    if form.mode.is_voice and not form.consent_voice:
        errors["consent_voice"] = CONSENT_VOICE_MISSING
    if errors or patient is None:
        return None, errors
    consents = [
        Consent(ConsentKind.ANSWERS, True, now),
        Consent(ConsentKind.CLOUD_VOICE, bool(form.consent_voice), now),
    ]
    try:
        session = Session.start(
            session_id=session_id,
            instrument=instrument,
            patient=patient,
            config=SessionConfig(mode=form.mode, audio_enabled=form.audio_enabled, language=form.language),
            consents=consents,
            now=now,
        )
    except InvalidTransition as exc:  # not expected after the checks above; shown rather than crashing
        return None, {"mode": str(exc)}
    return session, {}
