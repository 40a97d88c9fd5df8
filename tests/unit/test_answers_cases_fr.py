"""The table of French utterances (``data/utterances_fr.tsv``) that :func:`parse_answer` must get right.

Each line gives a scale, an expected outcome and a transcript. "safe" and "?N|unclear" are for utterances
where several outcomes are acceptable as long as no value is saved without the patient's confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from kiosk.domain.answers import ParsedAnswer, parse_answer

TABLE = Path(__file__).parent / "data" / "utterances_fr.tsv"


@dataclass(frozen=True)
class Case:
    line: int
    scale: int
    expected: str
    utterance: str

    @property
    def id(self) -> str:
        return f"L{self.line}-s{self.scale}-{self.utterance or '<empty>'}"


def load_cases() -> list[Case]:
    cases = []
    for number, raw in enumerate(TABLE.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        scale, expected, *rest = raw.split("\t")
        cases.append(Case(number, int(scale), expected.strip(), rest[0] if rest else ""))
    return cases


CASES = load_cases()


def matches(expected: str, got: ParsedAnswer) -> bool:
    if got.kind == "answer" and got.value is not None and not got.needs_confirmation:
        auto_ok = expected.startswith("=") and got.value == int(expected[1:])
        return auto_ok
    for option in expected.split("|"):
        if option == "safe":
            return True
        if option == "unclear" and got.kind == "unclear":
            return True
        if option in ("repeat", "back", "dont_know", "skip") and got.kind == "command" and got.command == option:
            return True
        if option.startswith("?") and got.kind == "answer" and got.value == int(option[1:]):
            return True
    return False


def test_table_is_big_enough_and_covers_both_scales() -> None:
    assert len(CASES) >= 200
    assert {c.scale for c in CASES} == {4, 7}
    assert sum(c.scale == 7 for c in CASES) >= 50


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_utterance(case: Case) -> None:
    got = parse_answer(case.utterance, case.scale)
    assert matches(case.expected, got), f"expected {case.expected}, got {got}"
    if got.kind == "answer":
        assert got.value is not None and 1 <= got.value <= case.scale
