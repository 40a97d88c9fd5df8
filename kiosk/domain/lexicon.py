"""What a language's answer lexicon provides: the interface :mod:`kiosk.domain.answers` and
:mod:`kiosk.domain.confirmation` read, filled as plain data by one module per language
(:mod:`kiosk.domain.answer_lexicon_fr`, :mod:`kiosk.domain.answer_lexicon_en`).

Every phrase is normalised (lowercase, no accents, apostrophes and hyphens as spaces: see
:func:`kiosk.domain.answers.normalise`). A module satisfies this protocol by defining these names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol


class Lexicon(Protocol):
    """The vocabulary of one language (read-only attributes, so that ``Final`` module constants fit)."""

    @property
    def LANGUAGE(self) -> str: ...  # "fr", "en"
    # answers
    @property
    def LIKERT(self) -> Mapping[str, int]: ...
    @property
    def LIKERT_WEAK(self) -> Mapping[str, tuple[int, str]]: ...
    @property
    def LIKERT_VARIANTS(self) -> Mapping[str, int]: ...
    @property
    def LABELS_7(self) -> Mapping[str, int]: ...
    @property
    def LABELS_7_VARIANTS(self) -> Mapping[str, int]: ...
    @property
    def NUMBERS(self) -> Mapping[str, int]: ...
    @property
    def DIGIT_WORDS(self) -> Mapping[str, str]: ...  # "3" -> "trois": digits read like the words
    @property
    def NUMBER_HOMOPHONES(self) -> Mapping[str, int]: ...
    @property
    def ORDINALS(self) -> Mapping[str, int]: ...
    @property
    def FUZZY_TARGETS(self) -> Sequence[str]: ...
    @property
    def LEGACY_PLUTOT(self) -> str: ...  # "" when the language has no legacy label
    # context
    @property
    def ARTICLE_LIKE(self) -> frozenset[str]: ...
    @property
    def INDEFINITE_ARTICLES(self) -> frozenset[str]: ...  # "un six": the article is not the answer 1
    @property
    def ONE_WORDS(self) -> frozenset[str]: ...  # the words for 1 that an introducer makes a plain number
    @property
    def NUMBER_FOLLOWERS(self) -> frozenset[str]: ...
    @property
    def INTRODUCERS(self) -> frozenset[str]: ...
    @property
    def DENOMINATOR_WORD(self) -> str: ...
    # commands and neutral words
    @property
    def COMMANDS(self) -> Mapping[str, str]: ...
    @property
    def WEAK_COMMANDS(self) -> Mapping[str, str]: ...
    @property
    def FILLERS(self) -> frozenset[str]: ...
    @property
    def CORRECTION_MARKERS(self) -> frozenset[str]: ...
    @property
    def NEUTRAL(self) -> frozenset[str]: ...
    @property
    def NEGATIONS(self) -> frozenset[str]: ...
    @property
    def HEDGES(self) -> frozenset[str]: ...
    @property
    def TAG_HOMOPHONES(self) -> frozenset[str]: ...
    @property
    def BETWEEN(self) -> frozenset[str]: ...
    @property
    def YES_NO_WORDS(self) -> frozenset[str]: ...
    @property
    def NO_WORDS(self) -> frozenset[str]: ...
    # confirmation replies ("Vous avez répondu : assez. Est-ce bien cela ?")
    @property
    def CONFIRM_YES(self) -> frozenset[str]: ...  # a clear yes, alone or with politeness
    @property
    def CONFIRM_NO(self) -> frozenset[str]: ...
    @property
    def CONFIRM_POLITE(self) -> frozenset[str]: ...  # words that may surround a yes/no without changing it
    @property
    def CONFIRM_DOUBT(self) -> frozenset[str]: ...  # "peut-etre", "je crois": a yes with these is not clear

    @property
    def HINT_PHRASES(self) -> Sequence[str]: ...  # commands and yes/no as written (accents), for the recogniser

    def phrase_key(self, words: Sequence[str]) -> str: ...
