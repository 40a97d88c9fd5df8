"""The prompt catalogue: a pure function of the instrument, every id the voice flow asks for, exact texts."""

from __future__ import annotations

import pytest

from kiosk.domain.instrument import load_instrument
from kiosk.domain.prompts import (
    confirmation_prompt,
    confirmation_prompt_for_item,
    item_prompt,
    prompt_catalogue,
    reprompt,
    review_prompt,
    text_sha256,
)

FR = load_instrument("qlq-c30", "fr")
EN = load_instrument("qlq-c30", "en")


def test_catalogue_holds_every_prompt_the_kiosk_can_say() -> None:
    catalogue = prompt_catalogue(FR)
    expected = {
        "intro",
        "check-audio",
        "check-microphone",
        "confirm-unclear",
        "reprompt",
        "no-speech",
        "touch-fallback",
        "recognizer-error",
        "voice-off",
        "end",
        "end-abandoned",
    }
    expected |= {f"item-{n:02d}" for n in range(1, 31)}
    expected |= {f"confirm-likert4-{v}" for v in range(1, 5)} | {f"confirm-numeric7-{v}" for v in range(1, 8)}
    expected |= {"reprompt-likert4", "reprompt-numeric7"} | {f"review-{n}" for n in range(1, 31)}
    assert set(catalogue) == expected
    assert all(text.strip() for text in catalogue.values())
    assert list(catalogue)[:4] == ["check-audio", "check-microphone", "intro", "item-01"]  # speaking order


def test_catalogue_is_a_pure_function_of_the_instrument() -> None:
    assert prompt_catalogue(FR) == prompt_catalogue(load_instrument("qlq-c30", "fr"))
    assert prompt_catalogue(FR)["item-05"] != prompt_catalogue(EN)["item-05"]


def test_item_prompt_reads_header_item_then_options() -> None:
    assert item_prompt(FR, 7).text == (
        "Au cours de la semaine passée, Avez-vous été gêné dans vos activités de "
        "loisirs ? Répondez : pas du tout, un peu, assez, ou beaucoup."
    )
    text29 = item_prompt(FR, 29).text
    assert text29.startswith("Au cours de la semaine passée, Pour les questions suivantes")
    assert text29.endswith("Répondez par un chiffre de 1, très mauvais, à 7, excellent.")
    assert "(e)" not in item_prompt(FR, 4).text  # the spoken form, not the screen's "obligé(e)"


@pytest.mark.parametrize(
    ("scale", "value", "text"),
    [
        ("likert4", 3, "Vous avez répondu : assez. Est-ce bien cela ?"),
        ("likert4", 1, "Vous avez répondu : pas du tout. Est-ce bien cela ?"),
        ("numeric7", 5, "Vous avez répondu : 5. Est-ce bien cela ?"),
        ("numeric7", 7, "Vous avez répondu : 7, excellent. Est-ce bien cela ?"),
    ],
)
def test_confirmation_questions(scale: str, value: int, text: str) -> None:
    prompt = confirmation_prompt(FR, scale, value)
    assert prompt.prompt_id == f"confirm-{scale}-{value}" and prompt.text == text
    assert prompt_catalogue(FR)[prompt.prompt_id] == text


def test_confirmation_for_an_item_uses_its_scale_and_refuses_other_values() -> None:
    assert confirmation_prompt_for_item(FR, 12, 2).prompt_id == "confirm-likert4-2"
    assert confirmation_prompt_for_item(FR, 30, 2).prompt_id == "confirm-numeric7-2"
    with pytest.raises(ValueError, match="5 is not an answer of scale 'likert4'"):
        confirmation_prompt_for_item(FR, 12, 5)


def test_english_kiosk_messages_come_from_the_catalogue() -> None:
    assert confirmation_prompt(EN, "likert4", 3).text == "You answered: quite a bit. Is that right?"
    assert reprompt(EN).text == "Sorry, I did not understand. Could you say your answer again?"
    assert reprompt(EN, "likert4").text.endswith("Answer: not at all, a little, quite a bit, or very much.")
    assert review_prompt(EN, 2).text == "You have not answered 2 questions. Would you like to go back to them?"
    assert reprompt(FR).text == "Je n'ai pas bien compris. Pouvez-vous répéter votre réponse ?"
    assert review_prompt(FR, 1).text.startswith("Vous n'avez pas répondu à 1 question.")


def test_text_hash_is_sha256_of_the_utf8_text() -> None:
    import hashlib

    assert text_sha256("Assez ?") == hashlib.sha256(b"Assez ?").hexdigest()
    assert text_sha256("Assez ?") != text_sha256("Assez\u00a0?")  # the exact text: one space differs
    assert item_prompt(FR, 1).text_sha256 == text_sha256(item_prompt(FR, 1).text)


def test_prompts_packs_and_prepare_audio_import_without_qt_or_google() -> None:
    """The catalogue is domain code; the pack format, builder and command work on a machine without Qt."""
    import subprocess
    import sys

    probe = """
import importlib.abc, sys
BLOCKED = ["PySide6", "shiboken6", "grpc", "google", "sqlalchemy", "httpx", "pyaudio", "keyring"]
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in BLOCKED:
            raise ImportError('blocked: ' + name)
sys.meta_path.insert(0, Block())
from kiosk.domain.instrument import load_instrument
from kiosk.domain.prompts import prompt_catalogue
import kiosk.audio.pack, kiosk.audio.build, kiosk.audio.synth, kiosk.cli.prepare_audio
catalogue = prompt_catalogue(load_instrument("qlq-c30", "en"))
print(len(catalogue), catalogue["reprompt"])
"""
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "84 Sorry, I did not understand. Could you say your answer again?"
