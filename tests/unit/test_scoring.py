"""Scoring worked by hand from the EORTC Scoring Manual's rules (see /work/shared/reference/qlq-c30.md)."""

from __future__ import annotations

import copy
import tomllib
from fractions import Fraction
from typing import Any, cast

import pytest

from kiosk.domain.instrument import Instrument, load_instrument, parse_instrument
from kiosk.domain.resources import instruments_dir
from kiosk.domain.scoring import ScaleScore, ScoreReport, ScoringError, score_answers, score_codes

CODES = ["QL2", "PF2", "RF2", "EF", "CF", "SF", "FA", "NV", "PA", "DY", "SL", "AP", "CO", "DI", "FI", "SUMSC"]
FUNCTIONAL = ["PF2", "RF2", "EF", "CF", "SF"]
SYMPTOM = ["FA", "NV", "PA", "DY", "SL", "AP", "CO", "DI", "FI"]
SUMMARY_PARTS = ["PF2", "RF2", "SF", "EF", "CF", "FA", "PA", "NV", "DY", "SL", "AP", "CO", "DI"]
ITEMS = {
    "QL2": (29, 30),
    "PF2": (1, 2, 3, 4, 5),
    "RF2": (6, 7),
    "EF": (21, 22, 23, 24),
    "CF": (20, 25),
    "SF": (26, 27),
    "FA": (10, 12, 18),
    "NV": (14, 15),
    "PA": (9, 19),
    "DY": (8,),
    "SL": (11,),
    "AP": (13,),
    "CO": (16,),
    "DI": (17,),
    "FI": (28,),
}


@pytest.fixture(scope="module")
def qlq() -> Instrument:
    return load_instrument("qlq-c30", "fr")


def all_answers(likert: int, numeric: int) -> dict[int, int | None]:
    return {n: (numeric if n >= 29 else likert) for n in range(1, 31)}


def test_output_order_is_the_reference_order(qlq: Instrument) -> None:
    assert list(score_codes(qlq)) == CODES
    report = score_answers(qlq, all_answers(2, 4))
    assert list(report.as_dict()) == CODES
    assert [s.code for s in report.scales] == CODES


def test_the_file_defines_the_reference_scales(qlq: Instrument) -> None:
    scales = {s.code: s for s in qlq.scoring.scales}
    assert {code: s.items for code, s in scales.items()} == ITEMS
    assert [c for c in CODES[:-1] if scales[c].kind == "functional"] == FUNCTIONAL
    assert [c for c in CODES[:-1] if scales[c].kind == "symptom"] == SYMPTOM
    assert scales["QL2"].kind == "global"
    assert sorted(qlq.scoring.summary_components) == sorted(SUMMARY_PARTS)


def test_english_file_scores_identically(qlq: Instrument) -> None:
    english = load_instrument("qlq-c30", "en")
    answers = {1: 2, 2: 3, 6: 1, 9: 4, 10: 2, 12: 3, 18: 1, 21: 2, 22: 3, 29: 5, 30: 2}
    assert score_codes(english) == score_codes(qlq)
    assert score_answers(english, answers) == score_answers(qlq, answers)


def test_best_case_all_ones_and_sevens(qlq: Instrument) -> None:
    scores = score_answers(qlq, all_answers(1, 7)).as_dict()
    assert all(scores[c] == 100.0 for c in FUNCTIONAL)
    assert all(scores[c] == 0.0 for c in SYMPTOM)
    assert scores["QL2"] == 100.0
    assert scores["SUMSC"] == 100.0


def test_all_ones_including_global(qlq: Instrument) -> None:
    scores = score_answers(qlq, all_answers(1, 1)).as_dict()
    assert all(scores[c] == 100.0 for c in FUNCTIONAL)
    assert all(scores[c] == 0.0 for c in SYMPTOM)
    assert scores["QL2"] == 0.0  # global is not reversed: 1 = "très mauvais"


def test_worst_case_all_fours_and_ones(qlq: Instrument) -> None:
    scores = score_answers(qlq, all_answers(4, 1)).as_dict()
    assert all(scores[c] == 0.0 for c in FUNCTIONAL)
    assert all(scores[c] == 100.0 for c in SYMPTOM)
    assert scores["QL2"] == 0.0
    assert scores["SUMSC"] == 0.0


def test_all_fours_and_sevens(qlq: Instrument) -> None:
    scores = score_answers(qlq, all_answers(4, 7)).as_dict()
    assert all(scores[c] == 0.0 for c in FUNCTIONAL)
    assert all(scores[c] == 100.0 for c in SYMPTOM)
    assert scores["QL2"] == 100.0


def test_physical_functioning_worked_example(qlq: Instrument) -> None:
    # RS = (1+2+2+3+1)/5 = 1.8; PF2 = (1 - (1.8-1)/3) * 100 = 73.333...
    report = score_answers(qlq, {1: 1, 2: 2, 3: 2, 4: 3, 5: 1})
    assert report["PF2"] == pytest.approx(73.33333333333333, abs=1e-12)
    assert report["PF2"] == 1100 / 15  # the float nearest the exact value 220/3


@pytest.mark.parametrize(
    ("code", "answers", "worked"),
    [
        ("QL2", {29: 5, 30: 6}, 75.0),  # RS 5.5: (5.5-1)/6*100
        ("QL2", {29: 3, 30: 6}, 58.3333333333),  # RS 4.5: 3.5/6*100
        ("QL2", {29: 4}, 50.0),  # one of two answered: RS 4
        ("RF2", {6: 2, 7: 3}, 50.0),  # RS 2.5: (1 - 1.5/3)*100
        ("EF", {21: 1, 22: 2, 23: 2, 24: 4}, 58.3333333333),  # RS 2.25: (1 - 1.25/3)*100
        ("CF", {20: 1, 25: 4}, 50.0),  # RS 2.5
        ("SF", {26: 3, 27: None}, 33.3333333333),  # RS 3: (1 - 2/3)*100
        ("FA", {10: 2, 12: 3, 18: 3}, 55.5555555556),  # RS 8/3: (5/3)/3*100
        ("NV", {14: 1, 15: 2}, 16.6666666667),  # RS 1.5: 0.5/3*100
        ("PA", {9: 4, 19: 3}, 83.3333333333),  # RS 3.5: 2.5/3*100
        ("DY", {8: 3}, 66.6666666667),
        ("FI", {28: 4}, 100.0),
    ],
)
def test_computed_values(qlq: Instrument, code: str, answers: dict[int, int | None], worked: float) -> None:
    score = score_answers(qlq, answers)[code]
    assert score == pytest.approx(worked, abs=1e-9)
    # And exactly the float nearest the manual's formula evaluated in exact arithmetic.
    scale = next(s for s in qlq.scoring.scales if s.code == code)
    given = [v for v in (answers.get(n) for n in scale.items) if v is not None]
    fraction = (Fraction(sum(given), len(given)) - 1) / (6 if code == "QL2" else 3)
    assert score == float((1 - fraction) * 100 if scale.kind == "functional" else fraction * 100)


def test_symptom_and_functional_use_the_nearest_float(qlq: Instrument) -> None:
    # Exact value 200/3: the nearest float, whichever kind of scale and whichever formula order.
    report = score_answers(qlq, {8: 3, 6: 2, 7: 2})
    assert report["DY"] == report["RF2"] == 200 / 3 == 66.66666666666667


@pytest.mark.parametrize(
    ("code", "scored", "unscored"),
    [
        ("PF2", 3, 2),
        ("EF", 2, 1),
        ("FA", 2, 1),
        ("RF2", 1, 0),
        ("CF", 1, 0),
        ("SF", 1, 0),
        ("NV", 1, 0),
        ("PA", 1, 0),
        ("QL2", 1, 0),
        ("DY", 1, 0),
        ("SL", 1, 0),
        ("AP", 1, 0),
        ("CO", 1, 0),
        ("DI", 1, 0),
        ("FI", 1, 0),
    ],
)
def test_half_items_boundary(qlq: Instrument, code: str, scored: int, unscored: int) -> None:
    items = ITEMS[code]
    value = 4 if code == "QL2" else 2
    enough = {n: (value if i < scored else None) for i, n in enumerate(items)}
    too_few = {n: value for n in items[:unscored]}  # the others absent
    present = score_answers(qlq, enough).scale(code)
    missing = score_answers(qlq, too_few).scale(code)
    assert present.score is not None
    assert (present.answered, present.required, present.total) == (scored, scored, len(items))
    assert missing.score is None
    assert (missing.answered, missing.required) == (unscored, scored)


def test_missing_is_none_never_zero(qlq: Instrument) -> None:
    report = score_answers(qlq, {})
    assert all(score is None for score in report.as_dict().values())
    report = score_answers(qlq, {n: None for n in range(1, 31)})
    assert all(score is None for score in report.as_dict().values())


def test_scales_scored_from_the_answered_items_only(qlq: Instrument) -> None:
    # PF with 3 of 5 answered (3, 3, 4): RS = 10/3
    expected = (1 - (10 / 3 - 1) / 3) * 100
    assert score_answers(qlq, {1: 3, 2: None, 3: 3, 5: 4})["PF2"] == pytest.approx(expected)


def complete_but(missing: int | None = None) -> dict[int, int | None]:
    answers: dict[int, int | None] = {n: (n % 4) + 1 for n in range(1, 29)}
    answers |= {29: 3, 30: 5}
    if missing is not None:
        answers[missing] = None
    return answers


def test_summary_score_is_the_mean_of_its_components(qlq: Instrument) -> None:
    report = score_answers(qlq, complete_but())
    parts = [report[c] for c in SUMMARY_PARTS]
    assert all(p is not None for p in parts)
    known = cast(list[float], parts)  # none is None: asserted just above
    expected = sum((100 - p) if c in SYMPTOM else p for c, p in zip(SUMMARY_PARTS, known, strict=True)) / 13
    assert report["SUMSC"] == pytest.approx(expected, abs=1e-9)
    summary = report.scale("SUMSC")
    assert (summary.kind, summary.answered, summary.required, summary.total) == ("summary", 13, 13, 13)


@pytest.mark.parametrize("code", SUMMARY_PARTS)
def test_summary_absent_when_exactly_one_component_is_missing(qlq: Instrument, code: str) -> None:
    answers = complete_but()
    for n in ITEMS[code]:
        answers[n] = None
    report = score_answers(qlq, answers)
    assert report[code] is None
    assert sum(report[c] is None for c in CODES) == 2  # the component and the summary
    assert report["SUMSC"] is None
    assert report.scale("SUMSC").answered == 12


@pytest.mark.parametrize("code", ["QL2", "FI"])
def test_global_health_and_financial_do_not_affect_the_summary(qlq: Instrument, code: str) -> None:
    base = score_answers(qlq, complete_but())["SUMSC"]
    answers = complete_but()
    for n in ITEMS[code]:
        answers[n] = None
    assert score_answers(qlq, answers)["SUMSC"] == base
    for n in ITEMS[code]:
        answers[n] = 7 if code == "QL2" else 4
    assert score_answers(qlq, answers)["SUMSC"] == base


def test_summary_of_a_hand_worked_case(qlq: Instrument) -> None:
    # All 2s on items 1-28: functional (1 - 1/3)*100 = 66.67 and symptom 33.33 -> 100 - 33.33 = 66.67.
    assert score_answers(qlq, all_answers(2, 4))["SUMSC"] == 200 / 3  # exactly the float nearest 200/3


def test_report_shape(qlq: Instrument) -> None:
    report = score_answers(qlq, {1: 2})
    assert isinstance(report, ScoreReport)
    pf = report.scale("PF2")
    assert pf == ScaleScore(
        code="PF2", name="Physical functioning", kind="functional", score=None, answered=1, required=3, total=5
    )
    with pytest.raises(KeyError):
        report["XX"]


@pytest.mark.parametrize(
    ("answers", "words"),
    [
        ({1: 5}, ["item 1", "5"]),
        ({1: 0}, ["item 1", "0"]),
        ({29: 8}, ["item 29", "8"]),
        ({12: -1}, ["item 12", "-1"]),
        ({31: 1}, ["item 31", "1"]),
        ({0: 1}, ["item 0"]),
        ({3: 2.0}, ["item 3", "2.0"]),
        ({3: "2"}, ["item 3", "'2'"]),
        ({3: True}, ["item 3", "True"]),
    ],
)
def test_bad_answers_raise_naming_item_and_value(qlq: Instrument, answers: dict[Any, Any], words: list[str]) -> None:
    with pytest.raises(ScoringError) as caught:
        score_answers(qlq, answers)
    assert isinstance(caught.value, ValueError)
    for word in words:
        assert word in str(caught.value)


def test_values_up_to_seven_are_only_for_items_29_and_30(qlq: Instrument) -> None:
    assert score_answers(qlq, {29: 7, 30: 1})["QL2"] == 50.0
    with pytest.raises(ScoringError, match="item 28"):
        score_answers(qlq, {28: 7})


# --- the rules come from the file, not from code ---------------------------------------------------------


def _raw_qlq() -> dict[str, Any]:
    return tomllib.loads((instruments_dir() / "qlq-c30.fr.toml").read_text(encoding="utf-8"))


def test_a_scale_starting_at_zero_uses_its_minimum() -> None:
    raw = copy.deepcopy(_raw_qlq())
    raw["response_scales"][0] |= {"min": 0, "max": 3, "labels": {"0": "a", "1": "b", "2": "c", "3": "d"}}
    shifted = parse_instrument(raw, "shifted.toml")
    original = load_instrument("qlq-c30", "fr")
    answers = {1: 1, 2: 2, 3: 2, 4: 3, 5: 1, 9: 3, 19: 2, 29: 4}
    expected = score_answers(original, answers)
    lowered = score_answers(shifted, {n: (v - 1 if n <= 28 else v) for n, v in answers.items()})
    assert lowered["PF2"] == expected["PF2"]
    assert lowered["PA"] == expected["PA"]
    assert lowered["QL2"] == expected["QL2"]
    assert score_answers(shifted, {1: 0})["PF2"] is None
    assert score_answers(shifted, {1: 0, 2: 0, 3: 0})["PF2"] == 100.0


def test_a_new_module_is_a_data_file() -> None:
    raw = copy.deepcopy(_raw_qlq())
    raw["scoring"] = {
        "summary_code": "TOT",
        "summary_name": "Total",
        "summary_components": ["AA", "BB"],
        "scales": [
            {"code": "BB", "name": "Bee", "kind": "symptom", "items": [3, 4, 5, 6]},
            {"code": "AA", "name": "Ay", "kind": "functional", "items": [1, 2], "min_answered": 2},
        ],
    }
    module = parse_instrument(raw, "module.toml")
    assert score_codes(module) == ("BB", "AA", "TOT")
    report = score_answers(module, {1: 1, 3: 4, 4: 4})
    assert report["AA"] is None  # min_answered = 2 overrides the half-items rule
    assert report["BB"] == 100.0  # 2 of 4 answered
    assert report["TOT"] is None
    report = score_answers(module, {1: 1, 2: 1, 3: 4, 4: 4})
    assert report["AA"] == 100.0
    assert report["TOT"] == 50.0  # (100 + (100 - 100)) / 2


def test_no_summary_when_the_file_has_none() -> None:
    raw = copy.deepcopy(_raw_qlq())
    del raw["scoring"]["summary_code"], raw["scoring"]["summary_components"]
    plain = parse_instrument(raw, "plain.toml")
    assert score_codes(plain) == tuple(CODES[:-1])
    assert "SUMSC" not in score_answers(plain, all_answers(1, 7)).as_dict()


def test_scale_mixing_answer_scales_is_refused() -> None:
    raw = copy.deepcopy(_raw_qlq())
    raw["response_scales"].append({"id": "shifted4", "min": 2, "max": 5, "kind": "numeric", "labels": {}})
    raw["items"][0]["scale"] = "shifted4"  # item 1 now 2..5, same range as items 2-5 but another minimum
    with pytest.raises(ScoringError, match="PF2"):
        score_answers(parse_instrument(raw, "mixed.toml"), {})


def test_scores_are_reproducible_bit_for_bit(qlq: Instrument) -> None:
    answers = complete_but(missing=22)
    first = score_answers(qlq, answers).as_dict()
    again = score_answers(load_instrument("qlq-c30", "fr"), dict(reversed(list(answers.items())))).as_dict()
    assert [repr(v) for v in first.values()] == [repr(v) for v in again.values()]
