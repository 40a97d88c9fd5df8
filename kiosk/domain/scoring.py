"""Scale scores from answers, driven entirely by the instrument's ``[scoring]`` definition.

The rules are those of the EORTC Scoring Manual (3rd ed.). Nothing here names a QLQ-C30 scale, so another
EORTC module is a new instrument file, not new code:

- raw score RS = mean of the scale's answered items; range = highest minus lowest answer of their scale;
- functional: ``(1 - (RS - min)/range) * 100``; symptom and global: ``(RS - min)/range * 100`` (the manual
  writes ``RS - 1`` because its scales start at 1);
- a scale is scored when at least ``ScoredScale.required_answers`` of its items are answered (half the
  items unless the file says otherwise); otherwise its score is ``None``, never 0;
- the summary score (``summary_code``) is the mean of ``summary_components``, functional and global scales
  as they are and symptom scales as ``100 - score``; it is ``None`` unless every component has a score.

Scores stay unrounded, and every score, the summary included, is the float nearest its exact value: it is
computed in integer arithmetic with one final, correctly rounded division (for a scale
``100 * (sum - count*min) / (count*range)``, the manual's formula with the fractions cleared). The kiosk and
the server therefore get bit-identical floats for the same answers, whatever the platform or the order of the
answers. (Evaluating the formula step by step in floats can differ in the last digit: for answers 1,2,2,3,1,
PF2 is 73.33333333333333 here, 73.33333333333334 step by step.)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from kiosk.domain.instrument import Instrument, ScaleKind

ScoreKind = Literal["functional", "symptom", "global", "summary"]


class ScoringError(ValueError):
    """Answers that cannot be scored: an unknown item number or a value outside the item's response scale."""


@dataclass(frozen=True)
class ScaleScore:
    """One scale's score, with how many of its items were answered, needed and exist."""

    code: str
    name: str
    kind: ScoreKind
    score: float | None  # unrounded; None when not computable (never 0 for missing)
    answered: int  # items answered (for the summary: components with a score)
    required: int  # items needed to score
    total: int  # items in the scale


@dataclass(frozen=True)
class ScoreReport:
    """All scale scores of one set of answers, in the instrument's scale order, then the summary score."""

    scales: tuple[ScaleScore, ...]

    def as_dict(self) -> dict[str, float | None]:
        """``{"QL2": 66.66666666666667, ..., "SUMSC": None}`` in output order."""
        return {scale.code: scale.score for scale in self.scales}

    def scale(self, code: str) -> ScaleScore:
        for scale in self.scales:
            if scale.code == code:
                return scale
        raise KeyError(code)

    def __getitem__(self, code: str) -> float | None:
        return self.scale(code).score


@dataclass(frozen=True)
class _ScalePlan:
    code: str
    name: str
    kind: ScaleKind
    items: tuple[int, ...]
    required: int
    low: int  # lowest possible answer of the scale's items
    span: int  # the manual's "range": highest minus lowest possible answer
    to_common: tuple[int, ...]  # [count]: common denominator // (count * span), for the summary


# A scale's result: (score, its term in the summary score over the common denominator, answered count, and
# the ScaleScore that reports them). The term is an exact integer: the score, or 100 - score for a symptom
# scale, times the common denominator. The ScaleScore (immutable) is built once with the result, so a report
# made of results already computed builds none.
_Result = tuple[float | None, int | None, int, ScaleScore]
_Known = dict[tuple[int | None, ...], _Result]  # a scale's results already computed, by answers to its items
_INT_OR_NONE = frozenset({int, type(None)})
_KNOWN_MAX = 10_000  # remembered answer tuples per scale: bounds memory for modules with long scales


class Scorer:
    """An instrument's scoring definition, checked and prepared once; :meth:`score` then scores any answers.

    Use :func:`score_answers` for one set of answers; keep a ``Scorer`` when scoring many (the ``qlq-score``
    command scores every row of a file with one).
    """

    def __init__(self, instrument: Instrument) -> None:
        definition = instrument.scoring
        self._allowed: dict[int, range] = {
            item.number: instrument.response_scales[item.scale].values for item in instrument.items
        }
        self._valid_pairs = frozenset(
            (number, value) for number, values in self._allowed.items() for value in (None, *values)
        )
        shapes: list[tuple[int, int]] = []  # (lowest answer, range) of each scale's items
        for scored in definition.scales:
            answer_scales = [instrument.scale_of(n) for n in scored.items]
            lows = {s.min for s in answer_scales}
            spans = {s.range for s in answer_scales}
            if len(lows) != 1 or len(spans) != 1:
                raise ScoringError(
                    f"{instrument.source_name}: scoring scale '{scored.code}' mixes items with different "
                    f"response scales ({sorted({s.id for s in answer_scales})})"
                )
            shapes.append((lows.pop(), spans.pop()))
        # An exact score is 100*k / (count*span). Over one common denominator the summary is exact too.
        denominators = [
            count * span
            for scored, (_, span) in zip(definition.scales, shapes, strict=True)
            for count in range(1, len(scored.items) + 1)
        ]
        self._common = math.lcm(*denominators)
        plans: list[_ScalePlan] = []
        for scored, (low, span) in zip(definition.scales, shapes, strict=True):
            counts = range(1, len(scored.items) + 1)
            plans.append(
                _ScalePlan(
                    code=scored.code,
                    name=scored.name,
                    kind=scored.kind,
                    items=scored.items,
                    required=scored.required_answers,
                    low=low,
                    span=span,
                    to_common=(0, *(self._common // (count * span) for count in counts)),
                )
            )
        self._plans = tuple(plans)
        # Per scale: its items, the results already computed for a tuple of their answers (a scale has few
        # possible answer tuples: 5**5 for PF2, None included), and the scale.
        self._steps: tuple[tuple[tuple[int, ...], _Known, _ScalePlan], ...] = tuple(
            (plan.items, {}, plan) for plan in plans
        )
        position = {plan.code: index for index, plan in enumerate(plans)}
        self._summary_code = definition.summary_code if definition.summary_components else None
        self._summary_name = definition.summary_name or (self._summary_code or "")
        self._summary_indices = tuple(position[code] for code in definition.summary_components)
        # Output order: the scales as listed in the file, then the summary code if there is one.
        self.codes: tuple[str, ...] = tuple(plan.code for plan in plans) + (
            (self._summary_code,) if self._summary_code else ()
        )

    def validate(self, answers: Mapping[int, int | None]) -> None:
        """Raise :class:`ScoringError` for an unknown item number or a value outside the item's scale."""
        # Fast path, all in C: every (item, value) pair is a valid one, and every value an int or None (the
        # pair check alone would let True and 1.0 pass, as they equal 1).
        if answers.items() <= self._valid_pairs and set(map(type, answers.values())) <= _INT_OR_NONE:
            return
        allowed = self._allowed
        for number, value in answers.items():
            values = allowed.get(number)
            if values is None:
                raise ScoringError(f"item {number!r} (value {value!r}): no such item in this instrument")
            if value is not None and (type(value) is not int or value not in values):
                low, high = values.start, values.stop - 1
                raise ScoringError(f"item {number}: value {value!r} is outside its scale {low}..{high}")

    def score(self, answers: Mapping[int, int | None]) -> ScoreReport:
        """Score answers mapping item number to value (``None`` or absent = not answered)."""
        self.validate(answers)
        results = self._compute(answers)
        scales = [result[3] for result in results]
        if self._summary_code is not None:
            count = len(self._summary_indices)
            summary, answered = self._summary(results)
            scales.append(
                ScaleScore(
                    code=self._summary_code,
                    name=self._summary_name,
                    kind="summary",
                    score=summary,
                    answered=answered,
                    required=count,
                    total=count,
                )
            )
        return ScoreReport(tuple(scales))

    def scores(self, answers: Mapping[int, int | None]) -> tuple[float | None, ...]:
        """Just the scores, in :attr:`codes` order: the same numbers as :meth:`score`, for bulk scoring."""
        self.validate(answers)
        results = self._compute(answers)
        scores = [result[0] for result in results]
        if self._summary_code is not None:
            scores.append(self._summary(results)[0])
        return tuple(scores)

    def _compute(self, answers: Mapping[int, int | None]) -> list[_Result]:
        """The result of every scale, in :attr:`codes` order. The answers are already validated."""
        get = answers.get
        return [
            known.get(key) or _remember(known, key, plan)
            for items, known, plan in self._steps
            for key in (tuple(map(get, items)),)
        ]

    def _summary(self, results: list[_Result]) -> tuple[float | None, int]:
        """The summary score of the scales' results (None unless every component has one), and how many of its
        components have a score. Only for an instrument with a summary score."""
        parts = [results[index][1] for index in self._summary_indices]
        count = len(parts)
        missing = parts.count(None)
        summary = None if missing else sum(filter(None, parts)) / (count * self._common)  # 0s add nothing
        return summary, count - missing


def _remember(known: _Known, given: tuple[int | None, ...], plan: _ScalePlan) -> _Result:
    """Compute one scale's result for the answers ``given`` to its items, and keep it for next time."""
    values = [value for value in given if value is not None]
    count = len(values)
    score: float | None = None
    term: int | None = None
    if count >= max(1, plan.required):
        # S = (RS - low)/range * 100 with RS = sum/count, reversed for functional scales, fractions cleared:
        # integers, then one correctly rounded division.
        above_low = sum(values) - count * plan.low
        denominator = count * plan.span
        if plan.kind == "functional":
            above_low = denominator - above_low
        term = 100 * above_low * plan.to_common[count]
        if plan.kind == "symptom":
            term = 100 * plan.to_common[count] * denominator - term
        score = 100 * above_low / denominator
    reported = ScaleScore(
        code=plan.code,
        name=plan.name,
        kind=plan.kind,
        score=score,
        answered=count,
        required=plan.required,
        total=len(plan.items),
    )
    result: _Result = (score, term, count, reported)
    if len(known) < _KNOWN_MAX:
        known[given] = result
    return result


# A few prepared scorers, keyed by the instrument object's id. The entry keeps the instrument alive, so its id
# cannot be reused by another object while cached; identity is checked anyway.
_SCORERS: dict[int, tuple[Instrument, Scorer]] = {}
_SCORERS_MAX = 8


def scorer_for(instrument: Instrument) -> Scorer:
    """The (cached) :class:`Scorer` of an instrument."""
    cached = _SCORERS.get(id(instrument))
    if cached is not None and cached[0] is instrument:
        return cached[1]
    scorer = Scorer(instrument)
    if len(_SCORERS) >= _SCORERS_MAX:
        _SCORERS.clear()  # rare (tests building many instruments); clear() is safe across threads
    _SCORERS[id(instrument)] = (instrument, scorer)
    return scorer


def score_answers(instrument: Instrument, answers: Mapping[int, int | None]) -> ScoreReport:
    """Score one set of answers (item number → value; ``None`` or absent = missing).

    Raises :class:`ScoringError` naming the item and the value for an unknown item or an out-of-scale value.
    """
    return scorer_for(instrument).score(answers)


def score_codes(instrument: Instrument) -> tuple[str, ...]:
    """Score column order: the instrument's scales in file order, then its summary code if it has one."""
    return scorer_for(instrument).codes
