"""Patient details: initials, birth date and session date, validated with French messages."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.patient import PatientValidationError, age_on, validate_patient

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("JD", "JD"),
        ("j d", "J D"),
        ("M-L B", "M-L B"),
        ("O'N", "O'N"),
        ("O’N", "O'N"),
        ("É", "É"),
        ("J.D.", "J.D."),
        ("J. D.", "J. D."),
        ("  jd  ", "JD"),
        ("ÉÈÇÀ", "ÉÈÇÀ"),
        ("a-b-c-d", "A-B-C-D"),
        ("J  D", "J D"),
    ],
)
def test_valid_initials(raw: str, clean: str) -> None:
    assert validate_patient(raw, "07/03/1952", TODAY, today=TODAY).initials == clean


@pytest.mark.parametrize("raw", ["", "   ", "ABCDE", "J1", "J--D", "-JD", "J_D", "12", "J D E F G", "J@D"])
def test_invalid_initials_have_a_french_message(raw: str) -> None:
    with pytest.raises(PatientValidationError) as err:
        validate_patient(raw, "07/03/1952", TODAY, today=TODAY)
    assert set(err.value.errors) == {"initials"}
    assert "initiales" in err.value.errors["initials"].lower()


@pytest.mark.parametrize("text", ["07/03/1952", "1952-03-07", "07-03-1952", "07.03.1952", date(1952, 3, 7)])
def test_date_formats(text) -> None:
    assert validate_patient("JD", text, TODAY, today=TODAY).birth_date == date(1952, 3, 7)


def test_all_problems_reported_at_once() -> None:
    with pytest.raises(PatientValidationError) as err:
        validate_patient("", "31/02/1950", "26/11/2026", today=TODAY)
    assert set(err.value.errors) == {"initials", "birth_date", "session_date"}
    assert "JJ/MM/AAAA" in err.value.errors["birth_date"]
    assert err.value.errors["session_date"] == "La date de la séance ne peut pas être dans le futur."


@pytest.mark.parametrize(
    ("birth", "ok"),
    [
        (date(2008, 11, 25), True),  # 18 today
        (date(2008, 11, 26), False),  # 18 tomorrow
        (date(1906, 11, 25), True),  # exactly 120 today: 18–120 inclusive
        (date(1905, 11, 26), True),  # 121 only tomorrow
        (date(1905, 11, 25), False),  # 121 today
        (date(1905, 1, 1), False),  # 121
        (date(2026, 11, 25), False),  # today
        (date(2030, 1, 1), False),  # future
    ],
)
def test_age_bounds(birth: date, ok: bool) -> None:
    if ok:
        validate_patient("JD", birth, TODAY, today=TODAY)
    else:
        with pytest.raises(PatientValidationError) as err:
            validate_patient("JD", birth, TODAY, today=TODAY)
        assert "birth_date" in err.value.errors


def test_age_is_at_the_session_date() -> None:
    p = validate_patient("JD", "10/06/2000", "01/06/2020", today=TODAY)
    assert p.age_at_session == 19
    with pytest.raises(PatientValidationError, match="au moins 18 ans"):
        validate_patient("JD", "10/06/2005", "01/06/2020", today=TODAY)


def test_masked_initials_hide_letters() -> None:
    assert validate_patient("M-L B", "07/03/1952", TODAY, today=TODAY).masked_initials() == "***"


@given(
    st.dates(min_value=date(1800, 1, 1), max_value=date(2100, 1, 1)),
    st.dates(min_value=date(1800, 1, 1), max_value=date(2100, 1, 1)),
)
def test_age_on_is_monotone_and_exact_on_birthdays(birth: date, on: date) -> None:
    age = age_on(birth, on)
    if on >= birth:
        assert age >= 0
        assert (
            age_on(
                birth,
                on.replace(year=on.year + 1) if not (on.month == 2 and on.day == 29) else on.replace(year=on.year + 4),
            )
            >= age + 1
        )


@given(st.text(max_size=12))
def test_validation_never_crashes_on_any_initials(text: str) -> None:
    try:
        validate_patient(text, "07/03/1952", TODAY, today=TODAY)
    except PatientValidationError as err:
        assert set(err.errors) == {"initials"}
