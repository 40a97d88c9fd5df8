"""The session state machine: every transition, the invalid ones, and snapshots."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.domain.session import (
    InvalidTransition,
    ItemStatus,
    Method,
    Mode,
    Phase,
    Session,
)
from tests.unit.domain_factory import Clock, answer_all, fr, start_session


def at_item(clock: Clock, mode: Mode = Mode.TOUCH, audio: bool = True) -> Session:
    s = start_session(mode, audio, clock=clock)
    s.record_check(audio_ok=audio or None, microphone_ok=True if mode.is_voice else None, now=clock.tick())
    s.begin_items(now=clock.tick())
    return s


def test_start_goes_to_check_unless_touch_without_audio() -> None:
    assert start_session(Mode.TOUCH, True).phase is Phase.CHECK
    assert start_session(Mode.VOICE_CONTINUOUS, False).phase is Phase.CHECK
    assert start_session(Mode.TOUCH, False).phase is Phase.INTRODUCTION


def test_start_requires_answers_consent_and_voice_consent_for_voice() -> None:
    clock = Clock()
    s = start_session(Mode.TOUCH, clock=clock, voice_consent=False)
    assert s.phase is Phase.CHECK
    with pytest.raises(InvalidTransition, match="cloud voice"):
        start_session(Mode.VOICE_ON_DEMAND, voice_consent=False)
    with pytest.raises(InvalidTransition, match="cloud voice"):
        s.switch_mode(Mode.VOICE_CONTINUOUS, now=clock.tick(), reason="nurse")
    with pytest.raises(InvalidTransition, match="processing of their answers"):
        Session.start(session_id="x", instrument=s.instrument, patient=s.patient, config=s.config,
                      consents=[], now=clock.now)


def test_times_must_be_aware() -> None:
    s = start_session()
    with pytest.raises(ValueError, match="timezone-aware"):
        s.record_check(audio_ok=True, microphone_ok=None, now=datetime(2026, 11, 25, 9, 0))


def test_check_results_are_required_by_config() -> None:
    clock = Clock()
    s = start_session(Mode.VOICE_CONTINUOUS, True, clock=clock)
    with pytest.raises(InvalidTransition, match="microphone"):
        s.record_check(audio_ok=True, microphone_ok=None, now=clock.tick())
    with pytest.raises(InvalidTransition, match="audio check"):
        s.record_check(audio_ok=None, microphone_ok=True, now=clock.tick())
    s.record_check(audio_ok=True, microphone_ok=False, now=clock.tick())
    assert s.phase is Phase.INTRODUCTION and s.check is not None and s.check.microphone_ok is False


def test_failed_check_switches_to_touch_and_is_recorded() -> None:
    clock = Clock()
    s = start_session(Mode.VOICE_CONTINUOUS, True, clock=clock)
    s.record_check(audio_ok=False, microphone_ok=False, now=clock.tick())
    s.switch_mode(Mode.TOUCH, now=clock.tick(), reason="microphone check failed", audio_enabled=False)
    assert s.mode is Mode.TOUCH and not s.config.audio_enabled
    assert [(m.from_mode, m.to_mode) for m in s.mode_changes] == [(Mode.VOICE_CONTINUOUS, Mode.TOUCH)]


def test_items_before_introduction_are_refused() -> None:
    clock = Clock()
    s = start_session(clock=clock)
    with pytest.raises(InvalidTransition, match="phase 'check'"):
        s.begin_items(now=clock.tick())
    with pytest.raises(InvalidTransition, match="phase 'check'"):
        s.answer(1, now=clock.tick())


def test_full_session_by_touch_completes_with_all_answers() -> None:
    clock = Clock()
    s = start_session(clock=clock)
    answer_all(s, clock, {n: 1 for n in range(1, 31)})
    assert s.phase is Phase.COMPLETED and s.ended_at == clock.now
    assert s.answers() == {n: 1 for n in range(1, 31)}
    assert s.first_unanswered() is None and s.answered_count() == 30
    with pytest.raises(InvalidTransition, match="completed"):
        s.answer(1, now=clock.tick())


def test_answer_records_times_and_method() -> None:
    clock = Clock()
    s = at_item(clock, Mode.VOICE_CONTINUOUS)
    shown = clock.now
    s.answer(3, now=clock.tick(), method=Method.VOICE, transcript="assez", confidence=0.91)
    rec = s.records[1]
    assert rec.first_shown_at == shown and rec.current is not None
    assert (rec.current.value, rec.current.method, rec.current.transcript, rec.current.confidence) == (
        3, Method.VOICE, "assez", 0.91)
    assert s.current_item == 2 and s.records[2].first_shown_at == clock.now


@pytest.mark.parametrize("value", [0, 5, -1, True, 2.0, "2", None])
def test_out_of_scale_answer_is_refused_and_changes_nothing(value) -> None:
    clock = Clock()
    s = at_item(clock)
    before = s.to_dict()
    with pytest.raises(InvalidTransition, match="item 1"):
        s.answer(value, now=clock.tick())  # type: ignore[arg-type]
    assert s.to_dict() == before


def test_seven_point_items_accept_one_to_seven() -> None:
    clock = Clock()
    s = start_session(clock=clock)
    answer_all(s, clock, {})  # skip all, to reach the review prompt
    s.back(now=clock.tick())  # back to item 30
    assert s.current_item == 30
    with pytest.raises(InvalidTransition, match="outside 1..7"):
        s.answer(8, now=clock.tick())
    s.answer(7, now=clock.tick())


def test_voice_answer_in_touch_mode_and_touch_with_transcript_are_refused() -> None:
    clock = Clock()
    s = at_item(clock)
    with pytest.raises(InvalidTransition, match="touch mode"):
        s.answer(2, now=clock.tick(), method=Method.VOICE, transcript="un peu")
    with pytest.raises(InvalidTransition, match="no transcript"):
        s.answer(2, now=clock.tick(), transcript="un peu")
    v = at_item(clock, Mode.VOICE_ON_DEMAND)
    with pytest.raises(InvalidTransition, match="confidence"):
        v.answer(2, now=clock.tick(), method=Method.VOICE, transcript="un peu", confidence=1.5)


def test_back_and_change_keeps_history() -> None:
    clock = Clock()
    s = at_item(clock)
    s.answer(2, now=clock.tick())
    s.answer(3, now=clock.tick())
    assert s.back(now=clock.tick()) == 2
    s.answer(4, now=clock.tick())
    assert s.current_item == 3
    rec = s.records[2]
    assert [e.value for e in rec.events] == [3, 4] and rec.times_shown == 2
    assert s.answers()[2] == 4


def test_back_on_first_item_is_refused() -> None:
    clock = Clock()
    s = at_item(clock)
    with pytest.raises(InvalidTransition, match="first one"):
        s.back(now=clock.tick())


def test_skip_and_dont_know_leave_items_missing_and_review_is_offered_once() -> None:
    clock = Clock()
    s = start_session(clock=clock)
    values: dict[int, int | None] = {n: 2 for n in range(1, 31)}
    values[4] = None
    values[29] = None
    answer_all(s, clock, values)
    assert s.phase is Phase.REVIEW_PROMPT and s.unanswered() == [4, 29]
    assert s.accept_review(now=clock.tick()) == 4
    s.skip(now=clock.tick(), status=ItemStatus.DONT_KNOW)
    assert s.current_item == 29
    s.answer(6, now=clock.tick())
    # The review was offered once: item 4 still missing, the session completes.
    assert s.phase is Phase.COMPLETED
    assert s.answers()[4] is None and s.answers()[29] == 6
    assert s.status_of(4) is ItemStatus.DONT_KNOW


def test_back_within_review_walks_the_review_queue() -> None:
    clock = Clock()
    s = start_session(clock=clock)
    answer_all(s, clock, {n: 1 for n in range(1, 31) if n not in (3, 10)})
    s.accept_review(now=clock.tick())
    s.skip(now=clock.tick())
    assert s.current_item == 10
    assert s.back(now=clock.tick()) == 3


def test_decline_review_completes_and_back_from_prompt_returns_to_last_item() -> None:
    clock = Clock()
    s = start_session(clock=clock)
    answer_all(s, clock, {n: 1 for n in range(1, 30)})
    assert s.phase is Phase.REVIEW_PROMPT
    assert s.back(now=clock.tick()) == 30
    s.skip(now=clock.tick())
    assert s.phase is Phase.REVIEW_PROMPT
    s.decline_review(now=clock.tick())
    assert s.phase is Phase.COMPLETED


def test_review_prompt_only_when_something_is_missing() -> None:
    clock = Clock()
    s = start_session(clock=clock)
    answer_all(s, clock, {n: 1 for n in range(1, 31)})
    assert s.phase is Phase.COMPLETED
    with pytest.raises(InvalidTransition):
        s.accept_review(now=clock.tick())


def test_pause_blocks_answers_until_resume_and_counts_time() -> None:
    clock = Clock()
    s = at_item(clock)
    s.pause(now=clock.tick())
    assert s.paused
    with pytest.raises(InvalidTransition, match="paused"):
        s.answer(1, now=clock.tick())
    with pytest.raises(InvalidTransition, match="paused"):
        s.pause(now=clock.tick())
    s.resume(now=clock.tick(60))
    with pytest.raises(InvalidTransition, match="not paused"):
        s.resume(now=clock.tick())
    s.answer(1, now=clock.tick())
    assert s.paused_duration(clock.now) == timedelta(seconds=5 + 5 + 60)


def test_abandon_from_pause_closes_the_pause_and_freezes() -> None:
    clock = Clock()
    s = at_item(clock)
    s.answer(1, now=clock.tick())
    s.pause(now=clock.tick())
    s.abandon(now=clock.tick(20 * 60), reason="inactivity")
    assert s.phase is Phase.ABANDONED and not s.paused and s.abandon_reason == "inactivity"
    with pytest.raises(InvalidTransition, match="already abandoned"):
        s.abandon(now=clock.tick(), reason="again")
    with pytest.raises(InvalidTransition):
        s.resume(now=clock.tick())


def test_abandon_allowed_in_every_active_phase() -> None:
    clock = Clock()
    for step in range(4):
        s = start_session(clock=clock)
        if step >= 1:
            s.record_check(audio_ok=True, microphone_ok=None, now=clock.tick())
        if step >= 2:
            s.begin_items(now=clock.tick())
        if step >= 3:
            answer_all(s, clock, {})
            assert s.phase is Phase.REVIEW_PROMPT
        s.abandon(now=clock.tick(), reason="nurse")
        assert s.phase is Phase.ABANDONED


def test_language_must_match_instrument() -> None:
    s = start_session()
    from kiosk.domain.session import SessionConfig

    with pytest.raises(InvalidTransition, match="language"):
        Session.start(session_id="x", instrument=s.instrument, patient=s.patient,
                      config=SessionConfig(Mode.TOUCH, True, "en"), consents=s.consents, now=s.started_at)


def test_snapshot_round_trip_is_exact_and_json() -> None:
    clock = Clock()
    s = at_item(clock, Mode.VOICE_CONTINUOUS)
    s.answer(2, now=clock.tick(), method=Method.VOICE, transcript="un peu", confidence=0.8, confirmed=True)
    s.answer(3, now=clock.tick())
    s.back(now=clock.tick())
    s.pause(now=clock.tick())
    data = json.loads(json.dumps(s.to_dict()))
    restored = Session.from_dict(data, fr())
    assert restored.to_dict() == s.to_dict()
    restored.resume(now=clock.tick())
    restored.answer(4, now=clock.tick())
    assert restored.current_item == 3


def test_snapshot_refuses_another_instrument_or_version() -> None:
    s = start_session()
    data = s.to_dict()
    from kiosk.domain.instrument import load_instrument

    with pytest.raises(ValueError, match="another version"):
        Session.from_dict(data, load_instrument("qlq-c30", "en"))
    data["snapshot_version"] = 99
    with pytest.raises(ValueError, match="snapshot version"):
        Session.from_dict(data, fr())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["answer", "skip", "dontknow", "back", "pause", "resume", "review_yes",
                                 "review_no"]), max_size=80),
       st.integers(min_value=1, max_value=7))
def test_random_walks_keep_invariants(actions: list[str], value: int) -> None:
    """Whatever a patient does, the machine never corrupts itself: refused calls change nothing."""
    clock = Clock()
    s = at_item(clock)
    for action in actions:
        before = json.dumps(s.to_dict())
        try:
            if action == "answer":
                s.answer(value if s.current_item in (29, 30) else min(value, 4), now=clock.tick())
            elif action in ("skip", "dontknow"):
                s.skip(now=clock.tick(), status=ItemStatus.SKIPPED if action == "skip" else ItemStatus.DONT_KNOW)
            elif action == "back":
                s.back(now=clock.tick())
            elif action == "pause":
                s.pause(now=clock.tick())
            elif action == "resume":
                s.resume(now=clock.tick())
            elif action == "review_yes":
                s.accept_review(now=clock.tick())
            else:
                s.decline_review(now=clock.tick())
        except InvalidTransition:
            assert json.dumps(s.to_dict()) == before
        assert (s.current_item is not None) == (s.phase is Phase.ITEMS)
        assert all(v is None or 1 <= v <= 7 for v in s.answers().values())
        assert Session.from_dict(json.loads(json.dumps(s.to_dict())), s.instrument).to_dict() == s.to_dict()
