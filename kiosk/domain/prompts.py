"""Everything the kiosk says aloud, as a pure function of the instrument: prompt id → exact text spoken.

The audio pack (``qlq-kiosk prepare-audio``) is built from :func:`prompt_catalogue`, and the kiosk plays a
recording only if the sha256 of its text equals the sha256 of the text this module gives *now* for the same
id (:mod:`kiosk.audio.pack`). So a change of the instrument file (a corrected licensed wording) or of a kiosk
message makes the old clip stale, and a stale clip is never played.

Prompt ids (stable; also listed in ``docs/voice-audio.md``):

==============================  ===========================================================================
``intro``                       the introduction (``text.introduction_spoken``)
``check-audio``                 item 0, sound check (``check.audio_spoken``)
``check-microphone``            item 0, microphone check (``check.microphone_spoken``)
``item-NN``                     item NN (two digits): section header, section instruction, the item's spoken
                                text, then its answer options (the scale's ``instruction_spoken``)
``confirm-<scale>-<value>``     "Vous avez répondu : assez. Est-ce bien cela ?", one per value of each
                                response scale (``confirm-likert4-3``, ``confirm-numeric7-5``)
``confirm-unclear``             a confirmation reply that was neither yes nor no: "répondez par oui ou non"
``reprompt``                    "Je n'ai pas bien compris…" (generic)
``reprompt-<scale>``            the same followed by that scale's answer options
``no-speech``                   nothing heard after the prompt (start timeout)
``touch-fallback``              two failed attempts: "touchez votre réponse sur l'écran"
``recognizer-error``            the recogniser failed: answer this item by touch
``voice-off``                   voice given up for the rest of the session: touch from now on
``review-N``                    the review prompt with N unanswered items (N = 1..item count)
``end``                         end of a completed session
``end-abandoned``               end of an interrupted session
==============================  ===========================================================================

The kiosk's own messages are French source text translated through :mod:`kiosk.domain.i18n` into the instrument's
language; the questionnaire's wording always comes from the instrument file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from kiosk.domain.i18n import Translator, translator
from kiosk.domain.instrument import Instrument, ResponseScale


@dataclass(frozen=True)
class Prompt:
    """One thing the kiosk says: its stable id (names the clip in an audio pack) and the exact text."""

    prompt_id: str
    text: str

    @property
    def text_sha256(self) -> str:
        return text_sha256(self.text)


def text_sha256(text: str) -> str:
    """The hash an audio pack binds a clip to: sha256 of the exact text spoken, UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _tr(instrument: Instrument) -> Translator:
    return translator(instrument.language)


# ---------------------------------------------------------------------------------------------- ids
def item_prompt_id(number: int) -> str:
    return f"item-{number:02d}"


def confirm_prompt_id(scale_id: str, value: int) -> str:
    return f"confirm-{scale_id}-{value}"


def reprompt_id(scale_id: str | None = None) -> str:
    return "reprompt" if scale_id is None else f"reprompt-{scale_id}"


def review_prompt_id(unanswered: int) -> str:
    return f"review-{unanswered}"


# ---------------------------------------------------------------------------------------------- texts
def introduction_prompt(instrument: Instrument) -> Prompt:
    texts = instrument.texts
    return Prompt("intro", texts.introduction_spoken or texts.introduction)


def check_audio_prompt(instrument: Instrument) -> Prompt:
    return Prompt("check-audio", instrument.check.audio_spoken)


def check_microphone_prompt(instrument: Instrument) -> Prompt:
    return Prompt("check-microphone", instrument.check.microphone_spoken)


def item_prompt(instrument: Instrument, number: int) -> Prompt:
    """The item read aloud: header, section instruction, the item's spoken text, then its answer options."""
    section = instrument.section_of(number)
    scale = instrument.scale_of(number)
    parts = [
        section.header_spoken or section.header,
        section.instruction_spoken,
        instrument.item(number).spoken_text,
        scale.instruction_spoken,
    ]
    return Prompt(item_prompt_id(number), " ".join(p for p in parts if p))


def answer_words(scale: ResponseScale, value: int) -> str:
    """How an answer is said back to the patient: "assez", "5", "1, très mauvais"."""
    label = scale.label(value)
    if scale.kind == "verbal" and label:
        return label[:1].lower() + label[1:]
    return f"{value}, {label[:1].lower() + label[1:]}" if label else str(value)


def confirmation_prompt(instrument: Instrument, scale_id: str, value: int) -> Prompt:
    """ "Vous avez répondu : assez. Est-ce bien cela ?" for one value of one response scale."""
    scale = instrument.response_scales[scale_id]
    if value not in scale.values:
        raise ValueError(f"{value} is not an answer of scale {scale_id!r} ({scale.min}..{scale.max})")
    text = _tr(instrument)("Vous avez répondu : {answer}. Est-ce bien cela ?", answer=answer_words(scale, value))
    return Prompt(confirm_prompt_id(scale_id, value), text)


def confirmation_prompt_for_item(instrument: Instrument, number: int, value: int) -> Prompt:
    return confirmation_prompt(instrument, instrument.item(number).scale, value)


def confirm_unclear_prompt(instrument: Instrument) -> Prompt:
    return Prompt("confirm-unclear", _tr(instrument)("Je n'ai pas bien compris. Répondez par oui ou par non."))


def reprompt(instrument: Instrument, scale_id: str | None = None) -> Prompt:
    """ "Je n'ai pas bien compris…", generic or followed by the scale's answer options."""
    tr = _tr(instrument)
    if scale_id is None:
        return Prompt(reprompt_id(), tr("Je n'ai pas bien compris. Pouvez-vous répéter votre réponse ?"))
    scale = instrument.response_scales[scale_id]
    text = " ".join(p for p in (tr("Je n'ai pas bien compris."), scale.instruction_spoken) if p)
    return Prompt(reprompt_id(scale_id), text)


def no_speech_prompt(instrument: Instrument) -> Prompt:
    return Prompt("no-speech", _tr(instrument)("Je ne vous ai pas entendu. Pouvez-vous répondre maintenant ?"))


def touch_fallback_prompt(instrument: Instrument) -> Prompt:
    return Prompt(
        "touch-fallback", _tr(instrument)("Je n'arrive pas à vous comprendre. Touchez votre réponse sur l'écran.")
    )


def recognizer_error_prompt(instrument: Instrument) -> Prompt:
    return Prompt(
        "recognizer-error",
        _tr(instrument)("La reconnaissance de la voix ne répond pas. Touchez votre réponse sur l'écran."),
    )


def voice_off_prompt(instrument: Instrument) -> Prompt:
    return Prompt(
        "voice-off", _tr(instrument)("La voix ne fonctionne pas. Pour la suite, touchez vos réponses sur l'écran.")
    )


def review_text(instrument: Instrument, unanswered: int) -> str:
    """The review question, shown and spoken ("Vous n'avez pas répondu à 2 questions…")."""
    return _tr(instrument).n(
        "Vous n'avez pas répondu à {count} question. Voulez-vous y revenir\u00a0?",
        "Vous n'avez pas répondu à {count} questions. Voulez-vous y revenir\u00a0?",
        unanswered,
    )


def review_prompt(instrument: Instrument, unanswered: int) -> Prompt:
    return Prompt(review_prompt_id(unanswered), review_text(instrument, unanswered))


def end_prompt(instrument: Instrument, *, abandoned: bool = False) -> Prompt:
    tr = _tr(instrument)
    if abandoned:
        return Prompt(
            "end-abandoned", tr("La séance a été interrompue. Veuillez rendre la tablette à l'équipe soignante.")
        )
    return Prompt("end", tr("Merci. Le questionnaire est terminé. Veuillez rendre la tablette à l'équipe soignante."))


# ---------------------------------------------------------------------------------------------- catalogue
def prompt_catalogue(instrument: Instrument) -> dict[str, str]:
    """Every prompt of the instrument, in speaking order: id → exact text. What an audio pack must hold."""
    prompts: list[Prompt] = [
        check_audio_prompt(instrument),
        check_microphone_prompt(instrument),
        introduction_prompt(instrument),
    ]
    prompts += [item_prompt(instrument, item.number) for item in instrument.items]
    for scale_id, scale in instrument.response_scales.items():
        prompts += [confirmation_prompt(instrument, scale_id, value) for value in scale.values]
    prompts.append(confirm_unclear_prompt(instrument))
    prompts.append(reprompt(instrument))
    prompts += [reprompt(instrument, scale_id) for scale_id in instrument.response_scales]
    prompts += [
        no_speech_prompt(instrument),
        touch_fallback_prompt(instrument),
        recognizer_error_prompt(instrument),
        voice_off_prompt(instrument),
    ]
    prompts += [review_prompt(instrument, n) for n in range(1, instrument.item_count + 1)]
    prompts += [end_prompt(instrument), end_prompt(instrument, abandoned=True)]
    catalogue: dict[str, str] = {}
    for prompt in prompts:
        if prompt.prompt_id in catalogue:  # cannot happen with ids built above; guards future edits
            raise ValueError(f"duplicate prompt id {prompt.prompt_id!r}")
        catalogue[prompt.prompt_id] = prompt.text
    return catalogue
