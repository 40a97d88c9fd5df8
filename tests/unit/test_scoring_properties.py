"""Properties of scoring that must hold for any answers (Hypothesis)."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.domain.instrument import Instrument, load_instrument
from kiosk.domain.scoring import score_answers

QLQ: Instrument = load_instrument("qlq-c30", "fr")
SCALES = {s.code: s for s in QLQ.scoring.scales}
SUMMARY_ITEMS = {n for code in QLQ.scoring.summary_components for n in SCALES[code].items}
# Per test, not a global profile: other test modules keep their own settings.
THOROUGH = settings(max_examples=200, deadline=None)


def answer(number: int) -> st.SearchStrategy[int | None]:
    high = 7 if number >= 29 else 4
    return st.none() | st.integers(min_value=1, max_value=high)


answer_sets = st.fixed_dictionaries({n: answer(n) for n in range(1, 31)})
complete_answer_sets = st.fixed_dictionaries(
    {n: st.integers(min_value=1, max_value=7 if n >= 29 else 4) for n in range(1, 31)}
)


@THOROUGH
@given(answer_sets)
def test_scores_lie_between_0_and_100(answers: dict[int, int | None]) -> None:
    for code, score in score_answers(QLQ, answers).as_dict().items():
        if score is not None:
            assert 0.0 <= score <= 100.0, code
            assert math.isfinite(score)


def exact_scores(answers: dict[int, int | None]) -> dict[str, Fraction | None]:
    """The manual's formulas in exact rational arithmetic."""
    exact: dict[str, Fraction | None] = {}
    for code, scale in SCALES.items():
        given = [v for v in (answers[n] for n in scale.items) if v is not None]
        if len(given) < scale.required_answers:
            exact[code] = None
            continue
        fraction = (Fraction(sum(given), len(given)) - 1) / (6 if code == "QL2" else 3)
        exact[code] = (1 - fraction) * 100 if scale.kind == "functional" else fraction * 100
    parts = [(code, exact[code]) for code in QLQ.scoring.summary_components]
    values = [100 - v if SCALES[c].kind == "symptom" else v for c, v in parts if v is not None]
    exact["SUMSC"] = sum(values, Fraction(0)) / len(parts) if len(values) == len(parts) else None
    return exact


@THOROUGH
@given(answer_sets)
def test_every_score_is_the_float_nearest_its_exact_value(answers: dict[int, int | None]) -> None:
    expected = {code: (None if v is None else float(v)) for code, v in exact_scores(answers).items()}
    assert score_answers(QLQ, answers).as_dict() == expected


@THOROUGH
@given(complete_answer_sets)
def test_complete_answers_score_every_scale(answers: dict[int, int | None]) -> None:
    assert all(score is not None for score in score_answers(QLQ, answers).as_dict().values())


@THOROUGH
@given(answer_sets, st.integers(min_value=1, max_value=30))
def test_raising_one_answer_moves_scores_the_right_way(answers: dict[int, int | None], item: int) -> None:
    high = 7 if item >= 29 else 4
    current = answers[item]
    if current is None or current == high:
        return
    before = score_answers(QLQ, answers)
    after = score_answers(QLQ, {**answers, item: current + 1})
    for scale in before.scales:
        old, new = scale.score, after[scale.code]
        assert (old is None) == (new is None)  # the number of answered items did not change
        if old is None or new is None:
            continue
        if scale.kind == "functional":
            assert new <= old, scale.code
            if item in SCALES[scale.code].items:
                assert new < old, scale.code
        elif scale.kind in ("symptom", "global"):
            assert new >= old, scale.code
            if item in SCALES[scale.code].items:
                assert new > old, scale.code
        elif item in SUMMARY_ITEMS:  # summary: higher = better; a function down or a symptom up lowers it
            assert new <= old
        else:  # QL2 and FI are not part of the summary
            assert new == old


@THOROUGH
@given(answer_sets)
def test_a_scale_is_missing_exactly_when_too_few_items_are_answered(answers: dict[int, int | None]) -> None:
    report = score_answers(QLQ, answers)
    for code, scale in SCALES.items():
        answered = sum(answers[n] is not None for n in scale.items)
        result = report.scale(code)
        assert result.answered == answered
        assert (result.score is None) == (answered < scale.required_answers), code
    components = QLQ.scoring.summary_components
    assert (report["SUMSC"] is None) == any(report[c] is None for c in components)


@THOROUGH
@given(answer_sets, st.integers(min_value=1, max_value=30), st.data())
def test_adding_an_answer_never_loses_a_score(answers: dict[int, int | None], item: int, data: st.DataObject) -> None:
    if answers[item] is not None:
        return
    value = data.draw(st.integers(min_value=1, max_value=7 if item >= 29 else 4))
    before = score_answers(QLQ, answers).as_dict()
    after = score_answers(QLQ, {**answers, item: value}).as_dict()
    for code, score in before.items():
        if score is not None:
            assert after[code] is not None, code


@THOROUGH
@given(answer_sets, st.randoms(use_true_random=False))
def test_permuting_answers_within_a_scale_changes_nothing(answers: dict[int, int | None], rng: random.Random) -> None:
    base = score_answers(QLQ, answers)
    shuffled = dict(answers)
    for scale in SCALES.values():
        values = [answers[n] for n in scale.items]
        rng.shuffle(values)
        shuffled.update(zip(scale.items, values, strict=True))
    again = score_answers(QLQ, shuffled)
    assert [repr(v) for v in again.as_dict().values()] == [repr(v) for v in base.as_dict().values()]


@THOROUGH
@given(answer_sets)
def test_the_order_of_the_mapping_does_not_matter(answers: dict[int, int | None]) -> None:
    forward = score_answers(QLQ, answers).as_dict()
    backward = score_answers(QLQ, dict(reversed(list(answers.items())))).as_dict()
    assert [repr(v) for v in forward.values()] == [repr(v) for v in backward.values()]


@THOROUGH
@given(st.integers(min_value=1, max_value=30), st.integers())
def test_out_of_scale_values_are_refused(item: int, value: int) -> None:
    high = 7 if item >= 29 else 4
    if 1 <= value <= high:
        assert score_answers(QLQ, {item: value}) is not None
    else:
        with pytest.raises(ValueError, match=f"item {item}"):
            score_answers(QLQ, {item: value})
