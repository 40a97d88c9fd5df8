"""The common case's one-pass checks of a submission agree with the checks that name each problem.

``plausibility_problems`` and ``check_against_instrument`` first test a submission in one pass that builds no
field path or message (``_Sound``, ``_answers_in_order``, ``_answers_fit``) and run the field-by-field checks
only when that pass finds something: whatever the submission, the problems must be the same, in the same order,
with the same messages, as when the field-by-field checks always run. Scoring reuses the ``ScaleScore`` of a
result already computed; the server's wide row numbers the methods from a table.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from kiosk.domain import plausibility, submission
from kiosk.domain.clock import FakeClock
from kiosk.domain.instrument import load_instrument
from kiosk.domain.plausibility import DEFAULT_CLOCK_SKEW, _collect, _Sound, plausibility_problems
from kiosk.domain.scoring import ScaleScore, score_answers, scorer_for
from kiosk.domain.session import ItemStatus, Method, Mode
from kiosk.domain.submission import Submission, build_submission, check_against_instrument
from sync_server.exports.columns import METHOD_CODES
from sync_server.services.ingest import wide_columns
from tests.unit.domain_factory import TODAY, start_session
from tests.unit.test_submission import completed
from tests.unit.voice.test_submission_v2 import detail

INSTRUMENT = load_instrument()


def _voice_with_earlier_answers() -> Submission:
    """Voice answers with their voice blocks, answers given again (earlier answers), a pause, a mode change."""
    clock = FakeClock(step=5)
    s = start_session(Mode.VOICE_CONTINUOUS, clock=clock)
    s = s.record_check(audio_ok=True, microphone_ok=True, now=clock.tick())
    s = s.begin_items(now=clock.tick())
    s = s.answer(2, now=clock.tick(5), method=Method.VOICE, transcript="un peu", confidence=0.91, voice=detail(clock))
    s = s.back(now=clock.tick())
    s = s.answer(3, now=clock.tick(5), method=Method.VOICE, transcript="assez", confidence=0.5, voice=detail(clock))
    s = s.skip(now=clock.tick(5), status=ItemStatus.DONT_KNOW, method=Method.VOICE, voice=detail(clock))
    s = s.back(now=clock.tick())
    s = s.answer(1, now=clock.tick(5), voice=detail(clock, attempts=2, fallback="not_understood"))
    s = s.pause(now=clock.tick())
    s = s.resume(now=clock.tick(20))
    s = s.switch_mode(Mode.TOUCH, now=clock.tick(), reason="tired")
    while s.phase.value == "items":
        s = s.answer(2, now=clock.tick())
    if s.phase.value == "review_prompt":
        s = s.decline_review(now=clock.tick())
    return build_submission(s, device_id="device-1", app_version="0.1.0", frozen_at=clock.tick())


_BASES = (completed(), _voice_with_earlier_answers())


def _leaves(data: object, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(data, dict) and data:
        return [leaf for key, value in data.items() for leaf in _leaves(value, (*path, key))]
    if isinstance(data, list) and data:
        return [leaf for index, value in enumerate(data) for leaf in _leaves(value, (*path, index))]
    return [path]


_LEAVES = [_leaves(base.model_dump(mode="json")) for base in _BASES]  # per base: the path of each leaf
_VALUES = [
    "ok",
    "x\u202ey",
    "1849-12-31",
    "2000-01-01",
    "2999-01-01",
    "1999-12-31T23:59:59+00:00",
    "2000-01-01T00:00:00+00:00",
    "2026-11-25T09:00:00+00:00",
    "2026-11-25T08:59:59+00:00",
    "2026-11-25T10:00:00+02:00",
    "2026-11-25T09:05:00+14:30",
    "2099-01-01T00:00:00+00:00",
    1e308,
    float("inf"),
    float("nan"),
    0.5,
    0,
    1,
    2,
    4,
    5,
    8,
    31,
    None,
    True,
    "answered",
    "skipped",
    "voice",
    "touch",
    "none",
    "3.x",
    "jd",
]


def _is_time(value: object) -> bool:
    return isinstance(value, str) and len(value) >= 20 and value[4] == "-" and value[10] == "T"


def _zoned(data: Any, zone: str) -> Any:
    """The payload with its times as datetime objects: all in one fixed-offset zone, each in its own, or all
    in a zone with summer time (whose offset depends on the time)."""
    if isinstance(data, dict):
        return {key: _zoned(value, zone) for key, value in data.items()}
    if isinstance(data, list):
        return [_zoned(value, zone) for value in data]
    if not _is_time(data):
        return data
    moment = datetime.fromisoformat(data)
    if zone == "one fixed zone":
        return moment.astimezone(_PLUS_ONE)
    if zone == "Europe/Paris":
        return moment.astimezone(_PARIS)
    return moment.astimezone(timezone(timedelta(hours=2)))  # a new zone object per time


_PLUS_ONE = timezone(timedelta(hours=1))
_PARIS = ZoneInfo("Europe/Paris")


def _later(time: object) -> object:
    if not isinstance(time, str) or not _is_time(time):
        return time
    return (datetime.fromisoformat(time) + timedelta(seconds=1)).isoformat()


def _changed(
    base: int, edits: list[tuple[tuple[Any, ...], object]], change: str, at: int, zone: str
) -> Submission | None:
    """A base submission with some leaves set to other values, one answer duplicated, dropped, given an earlier
    answer or moved; None when the schema refuses the result."""
    data = _BASES[base].model_dump(mode="json")
    for path, value in edits:
        target = data
        for part in path[:-1]:
            target = target[part] if isinstance(target, dict | list) else None
        if isinstance(target, dict | list):  # not below a leaf an earlier edit set
            target[path[-1]] = value
    answers = data["answers"]
    answer = answers[at % len(answers)]
    if change == "duplicate":
        answers.append(copy.deepcopy(answer))
    elif change == "drop":
        answers.remove(answer)
    elif change.startswith("earlier answer") and isinstance(answer["previous"], list):
        earlier = {key: answer[key] for key in ("status", "value", "method", "transcript", "confidence")}
        when = {
            "earlier answer": answer["first_shown_at"],
            "earlier answer after": _later(answer["answered_at"]),
            "earlier answer in 1999": "1999-12-31T23:59:59+00:00",
        }
        answer["previous"].append({**earlier, "at": when.get(change, data["session"]["started_at"])})
        answer["previous"][-1].update({"status": "answered", "value": at % 6} if at % 2 else {})
    elif change == "swap times":
        answer["first_shown_at"], answer["answered_at"] = answer["answered_at"], answer["first_shown_at"]
    elif change == "answered after the end":
        answer["answered_at"] = _later(data["session"]["ended_at"])
    elif change == "skipped with a value":
        answer["status"] = "skipped"
    elif change == "answered without a value":
        answer.update(status="answered", value=None)
    elif change == "a score not finite" and isinstance(data["scores"], dict):
        data["scores"][next(iter(data["scores"]))] = float("inf")
    try:
        if zone == "json":
            return Submission.model_validate_json(json.dumps(data))
        return Submission.model_validate(_zoned(data, zone))
    except ValidationError:
        return None


_submissions = st.integers(0, len(_BASES) - 1).flatmap(
    lambda base: st.builds(
        _changed,
        st.just(base),
        st.lists(st.tuples(st.sampled_from(_LEAVES[base]), st.sampled_from(_VALUES)), max_size=2),
        st.sampled_from(
            [
                "none",
                "duplicate",
                "drop",
                "earlier answer",
                "earlier answer after",
                "earlier answer at the start",
                "earlier answer in 1999",
                "swap times",
                "answered after the end",
                "skipped with a value",
                "answered without a value",
                "a score not finite",
            ]
        ),
        st.integers(0, 40),
        st.sampled_from(["json", "json", "one fixed zone", "a zone per time", "Europe/Paris"]),
    )
)


def _named(problems: list[submission.SubmissionProblem]) -> list[tuple[str, str, str]]:
    return [(p.code, p.field, p.message) for p in problems]


def _every_check(sub: Submission) -> list[list[tuple[str, str, str]]]:
    now = sub.frozen_at
    return [
        _named(plausibility_problems(sub, now=now)),
        _named(plausibility_problems(sub, now=now, kiosk=False)),
        _named(check_against_instrument(sub, INSTRUMENT, today=TODAY, now=now)),
        _named(check_against_instrument(sub, INSTRUMENT, today=TODAY, now=now, require_consent=False)),
        _named(check_against_instrument(sub, INSTRUMENT, today=TODAY)),
    ]


@settings(max_examples=300, deadline=None)
@given(_submissions)
def test_the_one_pass_checks_change_no_problem(sub):
    if sub is None:
        return
    fast = _every_check(sub)
    with pytest.MonkeyPatch.context() as mp:  # every submission through the field-by-field checks
        mp.setattr(_Sound, "model", lambda *_args, **_kwargs: False)
        mp.setattr(plausibility, "_answers_in_order", lambda *_args: False)
        mp.setattr(submission, "_answers_fit", lambda *_args: False)
        assert _every_check(sub) == fast


@settings(max_examples=300, deadline=None)
@given(_submissions)
def test_the_one_pass_plausibility_check_agrees_with_the_field_by_field_one(sub):
    """Times in one zone or many, voice blocks, earlier answers: sound exactly when ``_collect`` finds nothing."""
    if sub is None:
        return
    latest = sub.frozen_at + DEFAULT_CLOCK_SKEW
    found: list[submission.SubmissionProblem] = []
    _collect(sub, "", latest, found)
    assert _Sound(latest).model(sub, top=True) == (found == [])


_LATEST = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "times",
    [
        [datetime(2026, 11, 25, 9, tzinfo=UTC), datetime(2026, 11, 25, 11, tzinfo=UTC)],
        [datetime(2026, 11, 25, 9, tzinfo=UTC), _LATEST + timedelta(microseconds=1)],
        [datetime(2000, 1, 1, tzinfo=UTC), _LATEST],
        [datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), _LATEST],
        [datetime(2026, 11, 25, 13, 59, tzinfo=timezone(timedelta(hours=2)))] * 2,
        [datetime(2026, 11, 25, 14, 1, tzinfo=_PLUS_ONE), datetime(2026, 11, 25, 10, tzinfo=_PLUS_ONE)],
        [datetime(2000, 1, 1, 0, 59, tzinfo=_PLUS_ONE), datetime(2026, 1, 1, tzinfo=_PLUS_ONE)],
        [datetime(2026, 11, 25, 9, tzinfo=timezone(timedelta(hours=14, minutes=30)))] * 3,
        [datetime(2026, 11, 25, 9, tzinfo=timezone(timedelta(seconds=30)))],
        [datetime(2026, 10, 25, 2, 30, tzinfo=_PARIS), datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=_PARIS)],
        [datetime(2026, 11, 25, 9, tzinfo=UTC), datetime(2026, 11, 25, 9, tzinfo=_PLUS_ONE)],
    ],
)
def test_times_of_one_fixed_zone_are_checked_by_their_extremes(times):
    sound = _Sound(_LATEST)
    assert sound.moments(times) == all(sound.moment(time) for time in times)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(INSTRUMENT.item_numbers), st.none() | st.integers(1, 4)))
def test_a_report_of_results_already_computed_is_the_same_report(answers):
    answers = {number: value if value is None or number < 29 else value + 3 for number, value in answers.items()}
    scorer = scorer_for(INSTRUMENT)
    first = score_answers(INSTRUMENT, answers)
    assert score_answers(INSTRUMENT, answers) == first  # the second time, every result is remembered
    assert tuple(scale.score for scale in first.scales) == scorer.scores(answers)
    definition = {scale.code: scale for scale in INSTRUMENT.scoring.scales}
    for scale in first.scales:
        if scale.kind == "summary":
            continue
        scored = definition[scale.code]
        answered = sum(answers.get(number) is not None for number in scored.items)
        assert scale == ScaleScore(
            scale.code, scored.name, scored.kind, scale.score, answered, scored.required_answers, len(scored.items)
        )


def test_the_wide_row_numbers_the_methods_as_the_export_does():
    sub = _BASES[1]
    methods = wide_columns(sub, INSTRUMENT)["answer_methods"]
    assert {Method.VOICE, Method.TOUCH} <= {a.method for a in sub.answers}
    assert methods == [METHOD_CODES.index(a.method.value) + 1 for a in sorted(sub.answers, key=lambda a: a.item)]
