"""The English answer lexicon: an English session can be answered by voice; the parser takes the language."""

from __future__ import annotations

import pytest

from kiosk.domain import answer_lexicon_en, answer_lexicon_fr
from kiosk.domain.answers import LEXICONS, lexicon_for, parse_answer

CASES = [
    (4, "not at all", "=1"),
    (4, "Not at all.", "=1"),
    (4, "a little", "=2"),
    (4, "a little bit", "=2"),
    (4, "quite a bit", "=3"),
    (4, "very much", "=4"),
    (4, "um, very much", "=4"),
    (4, "I'd say a little", "=2"),
    (4, "3", "=3"),
    (4, "three", "=3"),
    (4, "number two", "=2"),
    (4, "one", "?1"),
    (4, "a lot", "?4"),
    (4, "not very much", "unclear"),
    (4, "two or three", "unclear"),
    (4, "five", "unclear"),
    (4, "repeat", "repeat"),
    (4, "say that again", "repeat"),
    (4, "go back", "back"),
    (4, "I don't know", "dont_know"),
    (4, "skip", "skip"),
    (4, "what?", "repeat"),
    (4, "quiet a bit", "?3"),
    (4, "a little, no, very much", "?4"),
    (7, "very poor", "=1"),
    (7, "excellent", "=7"),
    (7, "six", "=6"),
    (7, "it's a six", "=6"),
    (7, "6", "=6"),
    (7, "six out of seven", "=6"),
    (7, "a little", "unclear"),
    (7, "eight", "unclear"),
    (4, "pas du tout", "unclear"),
    (4, "beaucoup", "unclear"),
]


@pytest.mark.parametrize(("scale", "text", "expected"), CASES)
def test_english_utterances(scale: int, text: str, expected: str) -> None:
    p = parse_answer(text, scale, language="en-GB")
    if expected.startswith(("=", "?")):
        assert (p.kind, p.value, p.needs_confirmation) == ("answer", int(expected[1:]), expected[0] == "?"), p
    elif expected == "unclear":
        assert p.kind == "unclear" or (p.kind == "answer" and p.needs_confirmation), p
    else:
        assert (p.kind, p.command) == ("command", expected), p


def test_french_stays_the_default_and_english_words_are_not_french() -> None:
    assert parse_answer("un peu", 4).value == 2
    assert parse_answer("a little", 4).kind == "unclear"
    assert parse_answer("a little", 4, language="en").value == 2


def test_languages_resolve_by_their_base_code() -> None:
    assert lexicon_for("fr-FR") is answer_lexicon_fr and lexicon_for("en_GB") is answer_lexicon_en
    assert set(LEXICONS) == {"fr", "en"}
    with pytest.raises(ValueError, match="no answer lexicon for language 'de'"):
        parse_answer("ja", 4, language="de")


@pytest.mark.parametrize("lexicon", [answer_lexicon_fr, answer_lexicon_en])
def test_every_lexicon_phrase_is_normalised(lexicon: object) -> None:
    from kiosk.domain.answers import normalise

    for name in dir(lexicon):
        value = getattr(lexicon, name)
        if (
            name.isupper()
            and isinstance(value, (dict, frozenset, tuple))
            and name not in ("PHONETIC_RULES", "LETTER_NAMES", "_RULES", "DIGIT_WORDS", "HINT_PHRASES")
        ):
            for phrase in value:
                if isinstance(phrase, str):
                    assert normalise(phrase) == phrase, (name, phrase)
