"""The answer parser's interface, its n-best/confidence rules and its safety properties (Hypothesis).

The French vocabulary itself is covered by the utterance table (``test_answers_cases_fr.py``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.domain import answer_lexicon_fr as lex
from kiosk.domain.answer_lexicon_fr import phonetic_key, phrase_key
from kiosk.domain.answers import Alternative, ParsedAnswer, levenshtein, normalise, parse_answer

PROPERTIES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def auto_accepted(p: ParsedAnswer) -> bool:
    return p.kind == "answer" and not p.needs_confirmation


# --- interface --------------------------------------------------------------------------------------------
def test_json_dict_has_the_documented_keys() -> None:
    d = parse_answer("un peu", 4).to_json_dict()
    assert d == {
        "kind": "answer",
        "value": 2,
        "needs_confirmation": False,
        "command": None,
        "reason": d["reason"],
        "matched": "un peu",
    }
    assert isinstance(d["reason"], str)
    c = parse_answer("répétez", 4).to_json_dict()
    assert (c["kind"], c["value"], c["command"]) == ("command", None, "repeat")


@pytest.mark.parametrize("scale", [0, 1, 3, 5, 6, 8, 10, -4, True])
def test_other_scales_are_refused(scale: int) -> None:
    with pytest.raises(ValueError, match="scale"):
        parse_answer("un peu", scale)


@pytest.mark.parametrize("threshold", [-0.1, 1.5, math.nan])
def test_min_confidence_outside_0_1_is_refused(threshold: float) -> None:
    with pytest.raises(ValueError, match="min_confidence"):
        parse_answer("un peu", 4, min_confidence=threshold)


def test_a_string_a_list_of_strings_and_alternatives_are_the_same() -> None:
    assert parse_answer("assez", 4) == parse_answer(["assez"], 4) == parse_answer([Alternative("assez")], 4)


def test_no_alternative_at_all_is_unclear() -> None:
    assert parse_answer([], 4).kind == "unclear"


def test_parsed_answer_is_immutable() -> None:
    p = parse_answer("assez", 4)
    with pytest.raises(AttributeError):
        p.value = 4  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pas du tout !", "pas du tout"),
        ("J'DIRAIS   un peu", "j dirais un peu"),
        ("peut-être", "peut etre"),
        ("Très mauvais.", "tres mauvais"),
        ("ŒUVRE", "oeuvre"),
        ("3.", "3"),
        ("6/7", "6 sur 7"),
        ("3ème", "3 eme"),
        ("euuuuh", "euh"),
        ("«assez»", "assez"),
        ("", ""),
        ("\u00a0\t\n", ""),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_every_lexicon_phrase_is_written_normalised() -> None:
    collections: list[Iterable[str]] = [
        lex.LIKERT,
        lex.LIKERT_WEAK,
        lex.LIKERT_VARIANTS,
        lex.LABELS_7,
        lex.LABELS_7_VARIANTS,
        lex.NUMBERS,
        lex.ORDINALS,
        lex.NUMBER_HOMOPHONES,
        lex.COMMANDS,
        lex.WEAK_COMMANDS,
        lex.FILLERS,
        lex.NEUTRAL,
        lex.NEGATIONS,
        lex.HEDGES,
        lex.BETWEEN,
        lex.INTRODUCERS,
        lex.CORRECTION_MARKERS,
        lex.NUMBER_FOLLOWERS,
        lex.ARTICLE_LIKE,
        lex.FUZZY_TARGETS,
    ]
    bad = [p for c in collections for p in c if normalise(p) != p]
    assert bad == []


def test_recogniser_variants_never_shadow_a_label() -> None:
    labels = set(lex.LIKERT) | set(lex.LABELS_7) | set(lex.NUMBERS)
    assert not labels & (set(lex.LIKERT_VARIANTS) | set(lex.LABELS_7_VARIANTS) | set(lex.NUMBER_HOMOPHONES))


# --- phonetics --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("heard", "label"),
    [
        ("bocou", "beaucoup"),
        ("beau coup", "beaucoup"),
        ("pas du toux", "pas du tout"),
        ("un peut", "un peu"),
        ("in peu", "un peu"),
        ("a ces", "assez"),
        ("a c", "assez"),
        ("asser", "assez"),
        ("exelent", "excellent"),
        ("tres mauvaise", "tres mauvais"),
    ],
)
def test_mishearings_sound_like_the_label(heard: str, label: str) -> None:
    assert phrase_key(heard.split()) == phrase_key(label.split())


@pytest.mark.parametrize(
    ("word", "label"),
    [
        ("assis", "assez"),
        ("casse", "assez"),
        ("passe", "assez"),
        ("tout", "pas du tout"),
        ("beau", "beaucoup"),
        ("bonjour", "un peu"),
    ],
)
def test_unrelated_words_do_not_sound_like_the_label(word: str, label: str) -> None:
    assert phonetic_key(word) != phrase_key(label.split())


def test_levenshtein() -> None:
    assert levenshtein("", "") == 0
    assert levenshtein("boku", "buku") == 1
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("abc", "") == 3


# --- n-best list and confidence ----------------------------------------------------------------------------
def test_low_confidence_forces_confirmation() -> None:
    p = parse_answer([Alternative("beaucoup", 0.42)], 4)
    assert (p.kind, p.value, p.needs_confirmation) == ("answer", 4, True)
    assert "low confidence 0.42 < 0.6" in p.reason


def test_confidence_at_the_threshold_is_enough() -> None:
    assert auto_accepted(parse_answer([Alternative("beaucoup", 0.6)], 4))
    assert auto_accepted(parse_answer([Alternative("beaucoup", 0.5)], 4, min_confidence=0.5))
    assert not auto_accepted(parse_answer([Alternative("beaucoup", 0.5)], 4, min_confidence=0.51))


def test_nan_confidence_is_treated_as_low() -> None:
    assert parse_answer([Alternative("assez", math.nan)], 4).needs_confirmation


def test_alternatives_that_disagree_force_confirmation() -> None:
    p = parse_answer([Alternative("deux", 0.9), Alternative("trois", 0.3)], 4)
    assert (p.value, p.needs_confirmation) == (2, True)
    assert "alternative #2" in p.reason


def test_alternatives_that_agree_do_not() -> None:
    assert auto_accepted(parse_answer(["un peu", "un peut", "un pneu", "bonjour"], 4))


def test_a_lower_alternative_is_used_only_with_confirmation() -> None:
    p = parse_answer([Alternative("bonjour", 0.9), Alternative("assez", 0.2)], 4)
    assert (p.kind, p.value, p.needs_confirmation) == ("answer", 3, True)
    assert "alternative #2" in p.reason


def test_a_command_on_top_wins_over_lower_answers() -> None:
    p = parse_answer(["répétez", "beaucoup"], 4)
    assert (p.kind, p.command) == ("command", "repeat")


def test_nothing_anywhere_is_unclear() -> None:
    assert parse_answer(["euh", "bonjour", ""], 7).kind == "unclear"


# --- properties -----------------------------------------------------------------------------------------
scales = st.sampled_from([4, 7])
confidences = st.none() | st.floats(allow_nan=True, allow_infinity=True)
alternatives = st.lists(st.builds(Alternative, st.text(max_size=60), confidences), max_size=4)
SAFE_FILLERS = [
    "euh",
    "heu",
    "bah",
    "ben",
    "bon",
    "alors",
    "je dirais",
    "j'dirais",
    "je pense",
    "disons",
    "oui",
    "c'est",
    "ça",
    "je crois",
    "voilà",
    "hmm",
    "mmh",
    "s'il vous plaît",
    "eh bien",
    "moi",
]
fillers = st.lists(st.sampled_from(SAFE_FILLERS), max_size=3).map(" ".join)
words = st.sampled_from(sorted(lex.FILLERS | lex.NEUTRAL | lex.HEDGES | {"bonjour", "toux", "semaine", "tout"}))
LIKERT_PHRASES = sorted(lex.LIKERT) + sorted(lex.LIKERT_WEAK) + sorted(lex.LIKERT_VARIANTS) + ["plutot"]
NEGATIONS = [
    "pas",
    "jamais",
    "pas vraiment",
    "pas trop",
    "pas tellement",
    "pas très",
    "pas si",
    "n'ai pas",
    "je ne dirais pas",
    "plus vraiment",
    "guère",
]


def exact_answers(scale: int) -> list[tuple[str, int]]:
    """Labels and number words accepted as they are (bare "un" excluded: always confirmed)."""
    numbers = {w: v for w, v in lex.NUMBERS.items() if 2 <= v <= scale}
    labels = lex.LIKERT if scale == 4 else lex.LABELS_7
    return sorted({**numbers, **{str(v): v for v in range(2, scale + 1)}, **labels}.items())


@PROPERTIES
@given(st.text(), scales)
def test_never_raises_on_any_string(text: str, scale: int) -> None:
    p = parse_answer(text, scale)
    assert p.kind in ("answer", "command", "unclear")


@PROPERTIES
@given(alternatives, scales, st.floats(min_value=0.0, max_value=1.0))
def test_answers_are_in_scale_and_low_confidence_is_confirmed(
    alts: list[Alternative], scale: int, threshold: float
) -> None:
    p = parse_answer(alts, scale, min_confidence=threshold)
    assert isinstance(p.to_json_dict(), dict)
    if p.kind == "answer":
        assert p.value is not None and 1 <= p.value <= scale
        assert p.command is None
        top = alts[0].confidence
        if top is not None and not top >= threshold:
            assert p.needs_confirmation
    else:
        assert p.value is None and not p.needs_confirmation
    assert (p.kind == "command") == (p.command is not None)


@PROPERTIES
@given(fillers, st.sampled_from(LIKERT_PHRASES), st.lists(words, max_size=3).map(" ".join))
def test_a_likert_phrase_is_never_an_answer_on_the_7_scale(before: str, phrase: str, after: str) -> None:
    assert parse_answer(f"{before} {phrase} {after}", 7).kind != "answer"


@PROPERTIES
@given(scales, fillers, st.sampled_from(NEGATIONS), st.sampled_from(["", "eu", "vraiment", "euh"]), st.data())
def test_a_negated_answer_is_never_auto_accepted(
    scale: int, before: str, negation: str, gap: str, data: st.DataObject
) -> None:
    # A negation before "pas du tout" agrees with it ("non, jamais, pas du tout"): that case is in the table.
    not_at_all = {p for p, v in lex.LIKERT.items() if v == 1}
    phrase, _ = data.draw(st.sampled_from([a for a in exact_answers(scale) if a[0] not in not_at_all]))
    assert not auto_accepted(parse_answer(f"{before} {negation} {gap} {phrase}", scale))


@PROPERTIES
@given(scales, st.sampled_from(["ou", "et", "", ",", "voire", "enfin", "non", "ou bien", "entre"]), st.data())
def test_two_different_answers_are_never_auto_accepted(scale: int, joiner: str, data: st.DataObject) -> None:
    (a, va), (b, vb) = data.draw(st.lists(st.sampled_from(exact_answers(scale)), min_size=2, max_size=2))
    p = parse_answer(f"{a} {joiner} {b}", scale)
    assert p.value == va or not auto_accepted(p) if va == vb else not auto_accepted(p)


@PROPERTIES
@given(scales, fillers, fillers, st.data())
def test_an_exact_label_among_fillers_is_accepted(scale: int, before: str, after: str, data: st.DataObject) -> None:
    phrase, value = data.draw(st.sampled_from(exact_answers(scale)))
    p = parse_answer(f"{before} {phrase.upper()} {after}", scale)
    assert (p.kind, p.value, p.needs_confirmation) == ("answer", value, False), p


@PROPERTIES
@given(scales, st.data())
def test_out_of_scale_numbers_are_unclear(scale: int, data: st.DataObject) -> None:
    value = data.draw(st.integers(min_value=0, max_value=10_000).filter(lambda v: not 1 <= v <= scale))
    p = parse_answer(str(value), scale)
    assert p.kind == "unclear" and "out of scale" in p.reason


@PROPERTIES
@given(st.text(max_size=40))
def test_normalise_is_idempotent(text: str) -> None:
    assert normalise(normalise(text)) == normalise(text)
