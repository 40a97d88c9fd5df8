"""The plausibility rule shared by the kiosk and the server (``kiosk/domain/plausibility.py``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.domain.clock import FakeClock
from kiosk.domain.instrument import load_instrument
from kiosk.domain.patient import PatientValidationError, initials_are_valid, normalise_initials, validate_patient
from kiosk.domain.plausibility import CODES, DEFAULT_CLOCK_SKEW, plausibility_problems, text_is_clean
from kiosk.domain.submission import Submission, check_against_instrument
from tests.unit.domain_factory import TODAY, answer_all, start_session
from tests.unit.test_submission import completed


def _codes(sub: Submission, now: datetime, **kwargs: object) -> list[tuple[str, str]]:
    return [(p.code, p.field) for p in plausibility_problems(sub, now=now, **kwargs)]  # type: ignore[arg-type]


def _edit(sub: Submission, **changes: object) -> Submission:
    data = sub.model_dump(mode="json")
    for dotted, value in changes.items():
        target: Any = data  # a dict or, below it, a list
        *parents, last = dotted.split(".")
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        target[last] = value
    return Submission.model_validate(data)


def test_a_real_session_is_plausible():
    sub = completed()
    assert _codes(sub, sub.frozen_at) == []
    assert check_against_instrument(sub, load_instrument(), today=TODAY) == []


@given(st.text(max_size=12))
@settings(max_examples=400, deadline=None)
def test_the_server_accepts_exactly_the_initials_the_start_form_stores(raw):
    try:
        stored = validate_patient(raw, date(1950, 1, 1), TODAY, today=TODAY).initials
    except PatientValidationError as exc:
        if "initials" in exc.errors:
            assert not initials_are_valid(normalise_initials(raw))
        return
    assert initials_are_valid(stored)


@pytest.mark.parametrize("initials", ["JD", "M-L B", "O'N", "J.D.", "É", "ŁŻ", "ЖД", "李", "J D"])
def test_initials_the_kiosk_accepts(initials):
    assert initials_are_valid(initials)


@pytest.mark.parametrize(
    "initials", ["<script>", "J\u202eD", "J😀", "Jean Dupont", "jd", " JD", "J²", "J_D", "", "J\x00", "JD1"]
)
def test_initials_the_kiosk_refuses(initials):
    assert not initials_are_valid(initials)


def test_every_text_is_visited():
    sub = _edit(completed(), **{"answers.4.transcript": "ok\u202e", "device.app_version": "1\x07"})
    assert [f for c, f in _codes(sub, sub.frozen_at) if c == "invalid_text"] == [
        "device.app_version",
        "answers[4].transcript",
    ]


def test_times_far_in_the_future_and_the_skew():
    sub = completed()
    late = sub.frozen_at - DEFAULT_CLOCK_SKEW - timedelta(seconds=1)  # the checker's clock is behind the kiosk's
    assert ("implausible_date", "frozen_at") in _codes(sub, late)
    assert _codes(sub, late, clock_skew=DEFAULT_CLOCK_SKEW + timedelta(seconds=2)) == []


def test_offsets_beyond_fourteen_hours():
    sub = completed()
    for offset in (timedelta(hours=14, minutes=1), -timedelta(hours=23, minutes=59)):
        moved = _edit(sub, **{"session.started_at": sub.session.started_at.astimezone(timezone(offset)).isoformat()})
        assert ("implausible_time_zone", "session.started_at") in _codes(moved, sub.frozen_at), offset
    same_instant = _edit(
        sub, **{"session.started_at": sub.session.started_at.astimezone(timezone(timedelta(hours=14))).isoformat()}
    )
    assert _codes(same_instant, sub.frozen_at) == []


def test_durations_must_match_the_times():
    sub = completed()
    assert ("implausible_duration", "session.duration_seconds") in _codes(
        _edit(sub, **{"session.duration_seconds": sub.session.duration_seconds + 1}), sub.frozen_at
    )
    assert ("implausible_number", "session.duration_seconds") in _codes(
        _edit(sub, **{"session.duration_seconds": float("inf")}), sub.frozen_at
    )


def test_events_in_order_for_a_kiosk_not_for_legacy_data():
    sub = completed()
    early = (sub.session.started_at - timedelta(minutes=1)).isoformat()
    moved = _edit(sub, **{"answers.0.first_shown_at": early})
    assert ("implausible_date", "answers[0].first_shown_at") in _codes(moved, sub.frozen_at)
    assert _codes(moved, sub.frozen_at, kiosk=False) == []


def test_pauses_add_up():
    from kiosk.domain.submission import build_submission

    clock = FakeClock(step=5)
    session = start_session(clock=clock)
    if session.phase.value == "check":
        session = session.record_check(audio_ok=True, microphone_ok=None, now=clock.tick())
    session = session.begin_items(now=clock.tick())
    session = session.pause(now=clock.tick(60))
    session = session.resume(now=clock.tick(30))
    session = answer_all(session, clock, {n: 2 for n in range(1, 31)})
    if session.phase.value == "review_prompt":
        session = session.decline_review(now=clock.tick())
    sub = build_submission(session, device_id="d", app_version="1", frozen_at=clock.tick())
    assert sub.session.paused_seconds == 30 and _codes(sub, sub.frozen_at) == []
    wrong = _edit(sub, **{"session.paused_seconds": 31.0})
    assert ("implausible_duration", "session.paused_seconds") in _codes(wrong, sub.frozen_at)


def test_each_code_has_a_meaning():
    assert all(CODES.values()) and text_is_clean("Très bien 😀 é\u0301 \u200d")
    assert not text_is_clean("\ud800") and not text_is_clean("\ue000") and not text_is_clean("\x85")
    assert datetime(2000, 1, 1, tzinfo=UTC)


def _leaves(data: object, path: tuple = ()) -> list[tuple]:
    if isinstance(data, dict):
        return [leaf for key, value in data.items() for leaf in _leaves(value, (*path, key))]
    if isinstance(data, list):
        return [leaf for index, value in enumerate(data) for leaf in _leaves(value, (*path, index))]
    return [path]


_SAMPLE = completed()
_SAMPLE_LEAVES = _leaves(_SAMPLE.model_dump(mode="json"))
_CANDIDATES = [
    "ok",
    "a\tb",
    "x\u202ey",
    "\ue000",
    "1850-01-01",
    "1849-12-31",
    "1999-12-31",
    "2000-01-01",
    "2999-01-01",
    "1999-12-31T23:59:00+00:00",
    "2000-01-01T00:00:00+14:00",
    "2026-01-01T00:00:00+14:30",
    "2026-01-01T00:00:00+00:00:30",
    "2099-01-01T00:00:00+00:00",
    1e308,
    -0.0,
    3,
    None,
    True,
]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(_SAMPLE_LEAVES), st.sampled_from(_CANDIDATES), st.booleans())
def test_the_fast_pass_agrees_with_the_field_by_field_pass(path, value, as_key):
    """``plausibility_problems`` first runs a pass that builds no field path; it must call a submission sound
    exactly when the field-by-field pass finds nothing, for any leaf changed to any value the schema accepts."""
    from pydantic import ValidationError

    from kiosk.domain.plausibility import _collect, _Sound

    data = _SAMPLE.model_dump(mode="json")
    target = data
    for part in path[:-1]:
        target = target[part]
    if as_key and isinstance(target, dict) and isinstance(value, str):
        target[value] = target.pop(path[-1])  # dict keys are visited too (scores)
    else:
        target[path[-1]] = value
    try:
        sub = Submission.model_validate(data)
    except ValidationError:
        return  # refused by the schema before any plausibility check
    latest = _SAMPLE.frozen_at + DEFAULT_CLOCK_SKEW
    found: list = []
    _collect(sub, "", latest, found)
    assert _Sound(latest).model(sub, top=True) == (found == []), (path, value, found)
