"""The confirmation-reply parser: a table of replies (French and English) and its safety properties."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.answers import Alternative
from kiosk.domain.confirmation import parse_confirmation

# (scale, reply, expected kind, expected value or command); proposed answer is 3 (scale 4) / 5 (scale 7)
FR: list[tuple[int, str, str, int | str | None]] = [
    (4, "oui", "yes", None),
    (4, "Oui.", "yes", None),
    (4, "OUI !", "yes", None),
    (4, "ouais", "yes", None),
    (4, "oui oui", "yes", None),
    (4, "oui, c'est ça", "yes", None),
    (4, "c'est ça", "yes", None),
    (4, "c'est bien ça", "yes", None),
    (4, "exactement", "yes", None),
    (4, "tout à fait", "yes", None),
    (4, "tout à fait, merci", "yes", None),
    (4, "euh oui", "yes", None),
    (4, "oui madame", "yes", None),
    (4, "d'accord", "yes", None),
    (4, "absolument", "yes", None),
    (4, "c'est exact", "yes", None),
    (4, "oui, c'est bien cela", "yes", None),
    (4, "voilà", "yes", None),
    (4, "c'est correct", "yes", None),
    (4, "bien sûr", "yes", None),
    (4, "oui merci", "yes", None),
    (4, "oui, je confirme", "yes", None),
    (4, "oui, assez", "yes", None),
    (7, "oui, cinq", "yes", None),
    (7, "oui 5", "yes", None),
    (4, "non", "no", None),
    (4, "Non.", "no", None),
    (4, "non non", "no", None),
    (4, "nan", "no", None),
    (4, "c'est pas ça", "no", None),
    (4, "ce n'est pas ça", "no", None),
    (4, "non, c'est faux", "no", None),
    (4, "euh non", "no", None),
    (4, "pas du tout ça", "no", None),
    (4, "non merci", "no", None),
    (4, "pas vraiment", "no", None),
    (4, "non, je me suis trompé", "no", None),
    (4, "faux", "no", None),
    (4, "non, attendez", "no", None),
    (4, "non je crois pas", "unclear", None),
    (4, "non, un peu", "answer", 2),
    (4, "non, beaucoup", "answer", 4),
    (4, "non pas du tout", "answer", 1),
    (4, "un peu", "answer", 2),
    (4, "beaucoup", "answer", 4),
    (4, "non, 1 peu", "answer", 2),
    (4, "non deux", "answer", 2),
    (7, "non, six", "answer", 6),
    (7, "non, c'est un six", "answer", 6),
    (7, "je dirais un cinq", "answer", 5),
    (7, "non, je dirais un quatre", "answer", 4),
    (7, "sept", "answer", 7),
    (4, "oui, beaucoup", "answer", 4),
    (4, "non c'est assez", "answer", 3),
    (7, "non 7", "answer", 7),
    (4, "répéter", "command", "repeat"),
    (4, "pardon ?", "command", "repeat"),
    (4, "comment ?", "command", "repeat"),
    (4, "vous pouvez répéter ?", "command", "repeat"),
    (4, "j'ai pas compris", "command", "repeat"),
    (4, "retour", "command", "back"),
    (4, "question précédente", "command", "back"),
    (4, "passer", "command", "skip"),
    (4, "oui non", "unclear", None),
    (4, "non oui", "unclear", None),
    (4, "je sais pas", "unclear", None),
    (4, "je ne sais pas", "unclear", None),
    (4, "peut-être", "unclear", None),
    (4, "oui peut-être", "unclear", None),
    (4, "oui je crois", "unclear", None),
    (4, "je pense", "unclear", None),
    (4, "hum", "unclear", None),
    (4, "", "unclear", None),
    (4, "   ", "unclear", None),
    (4, "euh", "unclear", None),
    (4, "kof kof", "unclear", None),
    (4, "bonjour", "unclear", None),
    (4, "oui mais non", "unclear", None),
    (4, "plus ou moins", "unclear", None),
    (4, "bof", "unclear", None),
    (4, "oui, enfin...", "unclear", None),
    (4, "je ne suis pas sûre", "unclear", None),
    (4, "merci", "unclear", None),
    (4, "oui, un peu", "answer", 2),
    (4, "si", "unclear", None),
    (4, "oui et non", "unclear", None),
    (4, "mmh mmh", "unclear", None),
    (4, "c'est possible", "unclear", None),
    (4, "on va dire oui", "unclear", None),
]
EN: list[tuple[int, str, str, int | str | None]] = [
    (4, "yes", "yes", None),
    (4, "yeah", "yes", None),
    (4, "that's right", "yes", None),
    (4, "correct", "yes", None),
    (4, "yes, quite a bit", "yes", None),
    (4, "no", "no", None),
    (4, "that's wrong", "no", None),
    (4, "no, a little", "answer", 2),
    (4, "very much", "answer", 4),
    (4, "repeat", "command", "repeat"),
    (4, "go back", "command", "back"),
    (4, "maybe", "unclear", None),
    (4, "yes no", "unclear", None),
    (4, "i don't know", "unclear", None),
    (4, "yes i think", "unclear", None),
    (7, "no, six", "answer", 6),
]


def _check(lang: str, scale: int, text: str, kind: str, extra: int | str | None) -> None:
    proposed = 3 if scale == 4 else 5
    r = parse_confirmation(text, scale, language=lang, proposed=proposed)
    assert r.kind == kind, (text, r)
    if kind == "answer":
        assert r.value == extra, (text, r)
    if kind == "command":
        assert r.command == extra, (text, r)


def test_the_table_is_big_enough() -> None:
    assert len(FR) + len(EN) >= 80 and len(FR) >= 80


@pytest.mark.parametrize(("scale", "text", "kind", "extra"), FR)
def test_french_replies(scale: int, text: str, kind: str, extra: int | str | None) -> None:
    _check("fr", scale, text, kind, extra)


@pytest.mark.parametrize(("scale", "text", "kind", "extra"), EN)
def test_english_replies(scale: int, text: str, kind: str, extra: int | str | None) -> None:
    _check("en", scale, text, kind, extra)


def test_a_restated_answer_without_knowing_the_proposal_is_a_new_answer() -> None:
    assert parse_confirmation("oui, assez", 4).kind == "answer"
    assert parse_confirmation("oui, assez", 4, proposed=4).kind == "answer"  # not the answer being confirmed


def test_a_yes_with_low_confidence_or_contradicted_by_an_alternative_is_unclear() -> None:
    assert parse_confirmation([Alternative("oui", 0.3)], 4).kind == "unclear"
    assert parse_confirmation([Alternative("oui", 0.9)], 4).kind == "yes"
    assert parse_confirmation([Alternative("oui", 0.9), Alternative("non", None)], 4).kind == "unclear"
    assert parse_confirmation([Alternative("oui", 0.9), Alternative("ouais", None)], 4).kind == "yes"
    assert parse_confirmation([], 4).kind == "unclear"


words = st.sampled_from(
    [
        "oui",
        "non",
        "peut",
        "etre",
        "je",
        "sais",
        "pas",
        "euh",
        "un",
        "peu",
        "merci",
        "mais",
        "beaucoup",
        "ca",
        "c",
        "est",
        "crois",
        "bof",
        "assez",
        "sur",
        "x",
    ]
)


@given(st.lists(words, max_size=6).map(" ".join))
def test_yes_only_when_there_is_a_yes_and_no_no_nor_doubt(text: str) -> None:
    r = parse_confirmation(text, 4, proposed=3)
    tokens = text.split()
    if r.kind == "yes":
        assert "oui" in tokens or "assez" in tokens or "c" in tokens
        assert "non" not in tokens and "crois" not in tokens and "mais" not in tokens and "bof" not in tokens
        assert not ("peut" in tokens and "etre" in tokens) and "sais" not in tokens


@given(st.text(max_size=40))
def test_never_raises(text: str) -> None:
    parse_confirmation(text, 7)


def test_cli_prints_one_json_object() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "kiosk.cli.main", "parse-confirmation", "--scale", "4", "non, un peu"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(out) == {"kind": "answer", "value": 2, "command": None}
    bad = subprocess.run(
        [sys.executable, "-m", "kiosk.cli.main", "parse-confirmation", "--scale", "5", "oui"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
