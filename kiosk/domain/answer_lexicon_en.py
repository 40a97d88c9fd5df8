"""English vocabulary for understanding a spoken QLQ-C30 answer (the English QLQ-C30 labels: "Not at all",
"A little", "Quite a bit", "Very much"; 1-7 "Very poor" .. "Excellent"), as data.

Same shape as :mod:`kiosk.domain.answer_lexicon_fr` (the interface is :class:`kiosk.domain.lexicon.Lexicon`);
the rules are the parser's. Phrases are normalised: lowercase, apostrophes and hyphens as spaces ("don't" is
"don t"). Weak entries (``*_WEAK``, ``*_VARIANTS``, ``ORDINALS``, ``NUMBER_HOMOPHONES``) are always confirmed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Final

LANGUAGE: Final[str] = "en"

# --- Answers on the 4-point scale (items 1-28) ----------------------------------------------------------
LIKERT: Final[dict[str, int]] = {
    "not at all": 1,
    "not at all at all": 1,
    "a little": 2,
    "a little bit": 2,
    "a bit": 2,
    "a tiny bit": 2,
    "quite a bit": 3,
    "quite a lot": 3,
    "very much": 4,
    "very much so": 4,
}
LIKERT_WEAK: Final[dict[str, tuple[int, str]]] = {
    "at all": (1, "partial phrase 'at all' for 'not at all'"),
    "none at all": (1, "paraphrase 'none at all' for 'not at all'"),
    "little": (2, "'little' without 'a' (truncated 'a little'?)"),
    "slightly": (2, "paraphrase 'slightly' for 'a little'"),
    "quite": (3, "'quite' alone (truncated 'quite a bit'?)"),
    "a lot": (4, "paraphrase 'a lot' for 'very much'"),
    "lots": (4, "paraphrase 'lots' for 'very much'"),
    "extremely": (4, "paraphrase 'extremely' for 'very much'"),
}
LIKERT_VARIANTS: Final[dict[str, int]] = {
    "not a tall": 1,
    "knot at all": 1,
    "not that all": 1,
    "nodded all": 1,
    "a littel": 2,
    "a lil": 2,
    "uh little": 2,
    "a littl": 2,
    "quiet a bit": 3,
    "quite a bet": 3,
    "quite abit": 3,
    "quite a beat": 3,
    "quiet a lot": 3,
    "vary much": 4,
    "very mutch": 4,
    "very match": 4,
}
FUZZY_TARGETS: Final[tuple[str, ...]] = ("not at all", "a little", "quite a bit", "very much", "very poor", "excellent")
LEGACY_PLUTOT: Final[str] = ""  # no legacy label in English

# --- End labels of the 1-7 scale (items 29-30) -----------------------------------------------------------
LABELS_7: Final[dict[str, int]] = {"very poor": 1, "excellent": 7}
LABELS_7_VARIANTS: Final[dict[str, int]] = {
    "vary poor": 1,
    "very pour": 1,
    "very pure": 1,
    "excelent": 7,
    "excellant": 7,
}

# --- Numbers ----------------------------------------------------------------------------------------------
NUMBERS: Final[dict[str, int]] = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "twenty": 20,
    "hundred": 100,
    "a hundred": 100,
}
DIGIT_WORDS: Final[dict[str, str]] = {
    str(n): w
    for n, w in enumerate(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
    )
}
NUMBER_HOMOPHONES: Final[dict[str, int]] = {
    "won": 1,
    "to": 2,
    "too": 2,
    "tree": 3,
    "for": 4,
    "fore": 4,
    "sicks": 6,
    "sex": 6,
}
ORDINALS: Final[dict[str, int]] = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
}
#: Words that are numbers only when no ordinary word follows ("to the doctor", "for me", "one day").
ARTICLE_LIKE: Final[frozenset[str]] = frozenset({"one", "to", "too", "for", "fore", "won"})
INDEFINITE_ARTICLES: Final[frozenset[str]] = frozenset({"a"})  # "a six"
ONE_WORDS: Final[frozenset[str]] = frozenset({"one", "1"})
NUMBER_FOLLOWERS: Final[frozenset[str]] = frozenset(
    {
        "or",
        "and",
        "uh",
        "um",
        "er",
        "erm",
        "yes",
        "no",
        "well",
        "please",
        "thanks",
        "thank you",
        "i think",
        "i guess",
        "maybe",
        "out of",
        "i mean",
        "actually",
        "ok",
        "okay",
    }
)
INTRODUCERS: Final[frozenset[str]] = frozenset(
    {
        "number",
        "the number",
        "my answer is",
        "answer",
        "my answer",
        "i d say",
        "i would say",
        "i ll say",
        "i choose",
        "i pick",
        "i ll go with",
        "i d go with",
        "i say",
        "i give it",
        "i d give it",
    }
)
DENOMINATOR_WORD: Final[str] = "out of"

# --- Commands ---------------------------------------------------------------------------------------------
COMMANDS: Final[dict[str, str]] = {
    **dict.fromkeys(
        [
            "repeat",
            "repeat please",
            "please repeat",
            "repeat that",
            "can you repeat",
            "could you repeat",
            "say again",
            "say that again",
            "again",
            "once more",
            "one more time",
            "i didn t understand",
            "i didn t hear",
            "i didn t catch that",
            "what was the question",
            "read it again",
            "sorry what",
            "come again",
        ],
        "repeat",
    ),
    **dict.fromkeys(
        [
            "back",
            "go back",
            "previous",
            "previous question",
            "the previous question",
            "last question",
            "the question before",
            "i made a mistake",
            "change my answer",
            "correct my answer",
        ],
        "back",
    ),
    **dict.fromkeys(
        [
            "i don t know",
            "don t know",
            "dont know",
            "i do not know",
            "not sure",
            "i m not sure",
            "no idea",
            "i have no idea",
            "hard to say",
            "i can t say",
            "i can t tell",
            "i d rather not answer",
            "i don t want to answer",
            "no answer",
        ],
        "dont_know",
    ),
    **dict.fromkeys(["skip", "skip it", "skip this one", "skip the question", "pass", "next", "next question"], "skip"),
}
WEAK_COMMANDS: Final[dict[str, str]] = {
    "what": "repeat",
    "sorry": "repeat",
    "pardon": "repeat",
    "excuse me": "repeat",
    "huh": "repeat",
}

# --- Words that carry no answer ---------------------------------------------------------------------------
FILLERS: Final[frozenset[str]] = frozenset(
    {
        "uh",
        "um",
        "er",
        "erm",
        "ah",
        "oh",
        "hm",
        "hmm",
        "mm",
        "well",
        "so",
        "yes",
        "yeah",
        "no",
        "nope",
        "ok",
        "okay",
        "i think",
        "i guess",
        "i suppose so",
        "i would say",
        "i d say",
        "let s say",
        "it s",
        "it was",
        "that s",
        "i",
        "please",
        "thanks",
        "thank you",
        "doctor",
        "actually",
        "i mean",
        "and",
        "or",
        "like",
        "you know",
    }
)
CORRECTION_MARKERS: Final[frozenset[str]] = frozenset({"no", "sorry", "actually", "i mean", "or rather", "rather"})
NEUTRAL: Final[frozenset[str]] = frozenset(
    {
        "i ve",
        "i have",
        "had",
        "have",
        "has",
        "been",
        "i was",
        "i am",
        "i m",
        "was",
        "is",
        "it",
        "the",
        "of",
        "pain",
        "tired",
        "very",
        "really",
        "my",
        "health",
        "quality",
        "of life",
        "life",
        "this week",
        "week",
        "last week",
        "the past week",
        "too",
        "honestly",
        "frankly",
        "question",
        "for",
        "me",
        "a",
        "out of",
    }
)
NEGATIONS: Final[frozenset[str]] = frozenset(
    {
        "not",
        "never",
        "don t",
        "didn t",
        "wasn t",
        "haven t",
        "hasn t",
        "not really",
        "not very",
        "not that",
        "not so",
        "not too",
        "hardly",
    }
)
HEDGES: Final[frozenset[str]] = frozenset(
    {
        "maybe",
        "perhaps",
        "about",
        "around",
        "almost",
        "nearly",
        "more",
        "less",
        "kind of",
        "sort of",
        "probably",
        "sometimes",
        "often",
        "rarely",
        "always",
        "good",
        "bad",
        "so so",
        "more or less",
        "fairly",
        "pretty",
        "somewhat",
        "i m not sure",
        "not sure",
    }
)
TAG_HOMOPHONES: Final[frozenset[str]] = frozenset()
BETWEEN: Final[frozenset[str]] = frozenset({"half", "and a half", "point", "between", "in between"})
YES_NO_WORDS: Final[frozenset[str]] = frozenset({"yes", "no", "yeah", "nope", "yep"})
NO_WORDS: Final[frozenset[str]] = frozenset({"no", "nope"})

# --- Replies to "You answered: quite a bit. Is that right?" ------------------------------------------------
CONFIRM_YES: Final[frozenset[str]] = frozenset(
    {
        "yes",
        "yeah",
        "yep",
        "yes yes",
        "that s right",
        "right",
        "correct",
        "that s correct",
        "exactly",
        "absolutely",
        "of course",
        "sure",
        "yes that s right",
        "yes it is",
        "it is",
        "ok",
        "okay",
        "that s it",
        "yes please",
        "indeed",
    }
)
CONFIRM_NO: Final[frozenset[str]] = frozenset(
    {
        "no",
        "nope",
        "no no",
        "that s wrong",
        "wrong",
        "not right",
        "that s not right",
        "incorrect",
        "no it isn t",
        "it isn t",
        "not really",
        "no that s wrong",
        "not quite",
        "i made a mistake",
    }
)
CONFIRM_POLITE: Final[frozenset[str]] = frozenset(
    {
        "uh",
        "um",
        "er",
        "erm",
        "oh",
        "ah",
        "well",
        "please",
        "thanks",
        "thank you",
        "doctor",
        "i confirm",
        "confirmed",
    }
)
CONFIRM_DOUBT: Final[frozenset[str]] = frozenset(
    {
        "maybe",
        "perhaps",
        "i think",
        "i guess",
        "i suppose",
        "probably",
        "not sure",
        "i m not sure",
        "i don t know",
        "don t know",
        "kind of",
        "sort of",
        "more or less",
        "but",
        "or",
        "yes and no",
        "possibly",
        "almost",
    }
)


HINT_PHRASES: Final[tuple[str, ...]] = (
    "repeat",
    "say again",
    "pardon",
    "go back",
    "previous question",
    "I don't know",
    "skip",
    "yes",
    "no",
    "that's right",
)


# --- A rough English phonetic key for the fuzzy match ---------------------------------------------------------
_RULES: Final[tuple[tuple[str, str], ...]] = (
    (r"ph", "f"),
    (r"ck", "k"),
    (r"c(?=[eiy])", "s"),
    (r"c", "k"),
    (r"q", "k"),
    (r"x", "ks"),
    (r"wh", "w"),
    (r"(?<=[a-z])h", ""),
    (r"e$", ""),
    (r"y", "i"),
    (r"ee|ea|ie", "i"),
    (r"oo|ou", "u"),
    (r"ai|ay", "e"),
)
_COMPILED = tuple((re.compile(p), r) for p, r in _RULES)


@lru_cache(maxsize=4096)
def phonetic_key(word: str) -> str:
    for pattern, replacement in _COMPILED:
        word = pattern.sub(replacement, word)
    return re.sub(r"(.)\1+", r"\1", word)


def phrase_key(words: Sequence[str]) -> str:
    return re.sub(r"(.)\1+", r"\1", "".join(phonetic_key(w) for w in words))
