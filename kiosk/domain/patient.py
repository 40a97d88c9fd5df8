"""Patient details entered by the nurse, validated with French messages shown next to each field.

Only what the paper form asks for: initials, birth date and the date of the session. No name, no record number.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

MIN_AGE = 18
MAX_AGE = 120
MAX_INITIAL_LETTERS = 4

# A letter (any script, accents allowed), then up to three more letters, each optionally preceded by a
# separator: a space, a hyphen, a dot (possibly followed by a space) or an apostrophe. A final dot is allowed.
_LETTER = r"[^\W\d_]"
_SEPARATOR = r"(?:\.\s?|[\s'’\-])"
_INITIALS_RE = re.compile(rf"^{_LETTER}(?:{_SEPARATOR}?{_LETTER}){{0,{MAX_INITIAL_LETTERS - 1}}}\.?$")


class PatientValidationError(ValueError):
    """Patient details were refused. ``errors`` maps each field name to a French message for the nurse."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.errors.items()))


@dataclass(frozen=True)
class PatientDetails:
    initials: str
    birth_date: date
    session_date: date

    @property
    def age_at_session(self) -> int:
        return age_on(self.birth_date, self.session_date)

    def masked_initials(self) -> str:
        """What may appear in a log or on a shared screen: no letters at all."""
        return "*" * len([c for c in self.initials if c.isalpha()])


def age_on(birth: date, on: date) -> int:
    """Completed years of age on a given day."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def normalise_initials(raw: str) -> str:
    """Upper-case, NFC, single spaces, typographic apostrophe made plain."""
    text = unicodedata.normalize("NFC", raw).strip().replace("’", "'")
    text = re.sub(r"\s+", " ", text)
    return text.upper()


def initials_are_valid(text: str) -> bool:
    """Whether ``text`` is initials exactly as :func:`validate_patient` stores them: normalised, 1 to
    ``MAX_INITIAL_LETTERS`` letters with the allowed separators (the sync server applies the same rule)."""
    return (
        bool(text)
        and normalise_initials(text) == text
        and all(c.isalpha() or c in " .'-" for c in text)
        and sum(1 for c in text if c.isalpha()) <= MAX_INITIAL_LETTERS
        and bool(_INITIALS_RE.match(text))
    )


def _parse_date(value: date | str, field: str, errors: dict[str, str]) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = (value or "").strip()
    if not text:
        errors[field] = "Ce champ est obligatoire."
        return None
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no time zone
        except ValueError:
            continue
    errors[field] = f"Date invalide « {text} » : utilisez le format JJ/MM/AAAA (par exemple 07/03/1952)."
    return None


def validate_patient(initials: str, birth_date: date | str, session_date: date | str, *, today: date) -> PatientDetails:
    """Check the nurse's entries; raise :class:`PatientValidationError` listing every problem at once.

    ``today`` is the kiosk's current date, passed in so that this stays a pure function.
    """
    errors: dict[str, str] = {}
    clean = normalise_initials(initials or "")
    if not clean:
        errors["initials"] = "Saisissez les initiales du patient."
    elif not initials_are_valid(clean):
        errors["initials"] = (
            "Initiales invalides : de 1 à 4 lettres, éventuellement séparées par un espace, un tiret, "
            "un point ou une apostrophe (par exemple « J D », « M-L B », « O'N »)."
        )
    birth = _parse_date(birth_date, "birth_date", errors)
    session = _parse_date(session_date, "session_date", errors)
    if session is not None and session > today:
        errors["session_date"] = "La date de la séance ne peut pas être dans le futur."
    if birth is not None:
        if birth >= today:
            errors["birth_date"] = "La date de naissance doit être dans le passé."
        elif session is not None and "session_date" not in errors:
            age = age_on(birth, session)
            if age < MIN_AGE:
                errors["birth_date"] = (
                    f"Le patient doit avoir au moins {MIN_AGE} ans à la date de la séance "
                    f"(âge calculé : {max(age, 0)} ans). Vérifiez la date de naissance."
                )
            elif age > MAX_AGE:
                errors["birth_date"] = (
                    f"Âge calculé de {age} ans (plus de {MAX_AGE} ans) : vérifiez la date de naissance."
                )
    if errors:
        raise PatientValidationError(errors)
    assert birth is not None and session is not None
    return PatientDetails(initials=clean, birth_date=birth, session_date=session)
