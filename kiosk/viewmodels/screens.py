"""What each patient screen shows, as immutable values built from the session, and what it says aloud.

Views render only these values, never the live :class:`~kiosk.domain.session.Session`: while an answer is being
saved the session has already moved on, but the screen must keep showing the item until the save returned.
Prompt ids name the recordings of an audio pack (``resources/audio/<lang>/<prompt_id>.wav``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kiosk.domain import prompts
from kiosk.domain.instrument import Instrument
from kiosk.domain.prompts import Prompt
from kiosk.domain.session import ItemStatus, Phase, Session

__all__ = ["Prompt"]  # re-exported: the prompt type and texts live in kiosk.domain.prompts


class ScreenKind(StrEnum):
    CHECK = "check"
    INTRODUCTION = "introduction"
    ITEM = "item"
    REVIEW = "review"
    PAUSED = "paused"
    END = "end"


@dataclass(frozen=True)
class AnswerOption:
    value: int
    label: str  # "Pas du tout", or "3" on a numeric scale
    caption: str = ""  # under a numeric button: "Très mauvais" / "Excellent"


@dataclass(frozen=True)
class ItemScreen:
    number: int
    header: str
    instruction: str
    text: str
    options: tuple[AnswerOption, ...]
    numeric: bool
    current_value: int | None
    skipped: bool
    progress: str  # "Question 5 sur 30"
    can_go_back: bool


@dataclass(frozen=True)
class ScreenState:
    kind: ScreenKind
    item: ItemScreen | None = None
    unanswered: int = 0  # for the review prompt
    abandoned: bool = False  # for the end screen


def item_screen(session: Session, number: int) -> ItemScreen:
    inst = session.instrument
    item = inst.item(number)
    scale = inst.scale_of(number)
    section = inst.section_of(number)
    numeric = scale.kind == "numeric"
    options = []
    for value in scale.values:
        if numeric:
            options.append(AnswerOption(value, str(value), scale.label(value) or ""))
        else:
            options.append(AnswerOption(value, scale.label(value) or str(value)))
    record = session.records.get(number)
    current = record.current if record else None
    order = list(session.item_numbers)
    return ItemScreen(
        number=number,
        header=section.header,
        instruction=section.instruction,
        text=item.text,
        options=tuple(options),
        numeric=numeric,
        current_value=current.value if current else None,
        skipped=current is not None and current.status is not ItemStatus.ANSWERED,
        progress=inst.progress_text(number),
        can_go_back=order.index(number) > 0 or session.reviewing,
    )


def screen_of(session: Session) -> ScreenState:
    """The screen the session's state calls for."""
    if session.phase.is_final:
        return ScreenState(ScreenKind.END, abandoned=session.phase is Phase.ABANDONED)
    if session.paused:
        return ScreenState(ScreenKind.PAUSED)
    if session.phase is Phase.CHECK:
        return ScreenState(ScreenKind.CHECK)
    if session.phase is Phase.INTRODUCTION:
        return ScreenState(ScreenKind.INTRODUCTION)
    if session.phase is Phase.REVIEW_PROMPT:
        return ScreenState(ScreenKind.REVIEW, unanswered=len(session.unanswered()))
    assert session.current_item is not None
    return ScreenState(ScreenKind.ITEM, item=item_screen(session, session.current_item))


def prompt_for(state: ScreenState, instrument: Instrument) -> Prompt | None:
    """What the kiosk reads aloud on a screen (None: nothing); texts and ids from :mod:`kiosk.domain.prompts`."""
    if state.kind is ScreenKind.INTRODUCTION:
        return prompts.introduction_prompt(instrument)
    if state.kind is ScreenKind.REVIEW:
        return prompts.review_prompt(instrument, state.unanswered)
    if state.kind is ScreenKind.END:
        return prompts.end_prompt(instrument, abandoned=state.abandoned)
    if state.kind is ScreenKind.ITEM and state.item is not None:
        return prompts.item_prompt(instrument, state.item.number)
    return None


END_TEXT = "Merci ! Le questionnaire est terminé.\nVeuillez rendre la tablette à l'équipe soignante."
ABANDONED_TEXT = "La séance a été interrompue.\nVeuillez rendre la tablette à l'équipe soignante."
PAUSED_TEXT = "Pause\n\nTouchez l'écran pour continuer."
