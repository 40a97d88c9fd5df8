"""The legacy value parsers, form by form: what the prototype (SQLite + JavaScript) could have written."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from sync_server.legacy.values import LegacyValueError, parse_date, parse_datetime, parse_int

AT = datetime(2024, 3, 5, 9, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw",
    [
        "2024-03-05T09:12:00Z",
        "2024-03-05 09:12:00",
        "2024-03-05T10:12:00+01:00",
        "2024-03-05T09:12:00.000Z",
        "05/03/2024 09:12",
        "05/03/2024 09:12:00",
        "05.03.2024 09:12",
        1709629920,
        1709629920000,
        "1709629920000",
        "Tue Mar 05 2024 10:12:00 GMT+0100 (heure normale d’Europe centrale)",  # JavaScript Date.toString()
        "Tue Mar 05 2024 10:12:00 GMT+0100 (Central European Standard Time)",
        "Tue Mar 05 2024 04:12:00 GMT-0500",
        "Tue, 05 Mar 2024 09:12:00 GMT",  # JavaScript Date.toUTCString()
        "05 Mar 2024 10:12:00 +0100",
    ],
)
def test_every_known_form_of_one_instant(raw: object) -> None:
    assert parse_datetime(raw) == AT


@pytest.mark.parametrize(
    "raw",
    [
        "Tue Mar 05 2024 10:12:00",
        "Tue Foo 05 2024 10:12:00 GMT+0100",
        "Tue Feb 30 2024 10:12:00 GMT+0100",
        "Tue, 32 Mar 2024 09:12:00 GMT",
        "yesterday",
        "03/05/24",
        "2024-13-01",
    ],
)
def test_unknown_or_impossible_forms_are_named(raw: str) -> None:
    with pytest.raises(LegacyValueError, match="2024|yesterday|24"):
        parse_datetime(raw)


def test_a_date_field_keeps_the_calendar_day_as_written() -> None:
    assert parse_date("Tue Mar 05 2024 00:30:00 GMT+0100 (heure normale d’Europe centrale)") == date(2024, 3, 5)
    assert parse_date("Mon, 04 Mar 2024 23:30:00 GMT") == date(2024, 3, 4)
    assert parse_date("2024-03-05T00:30:00+01:00") == date(2024, 3, 5)
    assert parse_date("05/03/2024") == date(2024, 3, 5)


@pytest.mark.parametrize(("raw", "expected"), [(3, 3), (3.0, 3), ("3", 3), (" 3 ", 3), ("3.0", 3), ("+4", 4)])
def test_whole_numbers_in_any_storage_class(raw: object, expected: int) -> None:
    assert parse_int(raw) == expected


@pytest.mark.parametrize("raw", [2.5, "2.5", "abc", None, True, "", "1e400", b"3"])
def test_not_whole_numbers(raw: object) -> None:
    with pytest.raises(LegacyValueError):
        parse_int(raw)
