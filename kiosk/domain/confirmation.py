"""Understand the reply to "Vous avez répondu : assez. Est-ce bien cela ?": :func:`parse_confirmation`.

The reply is one of:

* ``yes``: a clear yes, and nothing else ("oui", "oui, c'est ça", "tout à fait, merci"). The ONLY outcome
  that confirms the answer.
* ``no``: a clear no ("non", "c'est pas ça", "non, euh..."): the kiosk asks the question again.
* ``answer``: a new answer ("non, un peu" → 2), which is confirmed in its turn (never recorded directly).
* ``command``: repeat ("répéter", "pardon", "comment ?"), back ("retour") or skip ("passer").
* ``unclear``: anything else — "oui non", "je sais pas", "peut-être", "oui je crois", a cough, silence, a yes
  with low recogniser confidence or contradicted by a lower alternative.

How: the words are normalised like answers (:func:`kiosk.domain.answers.normalise`, digits read as words),
then covered, longest phrase first, by the language's yes / no / politeness / doubt phrases
(:class:`kiosk.domain.lexicon.Lexicon`). Fully covered: yes only → yes, no only → no, both or any doubt →
unclear. Otherwise the answer parser reads the words: an answer → ``answer`` (or ``yes`` when it restates the
``proposed`` value after a yes: "oui, assez"), a command → ``command``; else a leading no → ``no``, anything
else → unclear. "Je ne sais pas" is doubt here, not the item's "don't know".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from kiosk.domain.answers import Alternative, Command, lexicon_for, normalise, parse_answer
from kiosk.domain.lexicon import Lexicon

ReplyKind = Literal["yes", "no", "answer", "command", "unclear"]
_Word = Literal["yes", "no", "polite", "doubt"]
#: Commands that make sense in reply to a confirmation question ("je ne sais pas" is doubt, not a command).
CONFIRMATION_COMMANDS: frozenset[Command] = frozenset({"repeat", "back", "skip"})


@dataclass(frozen=True)
class ConfirmationReply:
    kind: ReplyKind
    value: int | None = None
    command: Command | None = None
    reason: str = ""

    def to_json_dict(self) -> dict[str, str | int | None]:
        return {"kind": self.kind, "value": self.value, "command": self.command}


def _cover(tokens: list[str], lex: Lexicon) -> list[tuple[_Word | None, str]]:
    """Longest-first cover by the confirmation phrases; None for a word none of them has."""
    phrases: dict[tuple[str, ...], _Word] = {}
    groups: tuple[tuple[_Word, frozenset[str]], ...] = (
        ("doubt", lex.CONFIRM_DOUBT),
        ("no", lex.CONFIRM_NO),
        ("yes", lex.CONFIRM_YES),
        ("polite", lex.CONFIRM_POLITE),
    )
    for word_kind, group in groups:
        for p in sorted(group):
            phrases.setdefault(tuple(p.split()), word_kind)
    longest = max(len(k) for k in phrases)
    out: list[tuple[_Word | None, str]] = []
    i = 0
    while i < len(tokens):
        for length in range(min(longest, len(tokens) - i), 0, -1):
            found = phrases.get(tuple(tokens[i : i + length]))
            if found is not None:
                out.append((found, " ".join(tokens[i : i + length])))
                i += length
                break
        else:
            out.append((None, tokens[i]))
            i += 1
    return out


def _one(text: str, scale: int, lex: Lexicon, proposed: int | None) -> ConfirmationReply:
    tokens = " ".join(lex.DIGIT_WORDS.get(t, t) for t in normalise(text).split()).split()
    if not tokens:
        return ConfirmationReply("unclear", reason="nothing heard")
    cover = _cover(tokens, lex)
    kinds = [k for k, _ in cover]
    doubts = [p for k, p in cover if k == "doubt"]
    has_yes, has_no = "yes" in kinds, "no" in kinds
    if None not in kinds:
        if doubts:
            return ConfirmationReply("unclear", reason=f"doubt: '{doubts[0]}'")
        if has_yes and has_no:
            return ConfirmationReply("unclear", reason="both yes and no")
        if has_yes:
            return ConfirmationReply("yes", reason="clear yes")
        if has_no:
            return ConfirmationReply("no", reason="clear no")
        return ConfirmationReply("unclear", reason="no yes or no in the reply")
    parsed = parse_answer(text, scale, language=lex.LANGUAGE)
    if parsed.kind == "answer" and parsed.value is not None:
        if (
            proposed is not None
            and parsed.value == proposed
            and has_yes
            and not has_no
            and not doubts
            and not parsed.needs_confirmation
        ):
            return ConfirmationReply("yes", reason=f"yes, restating the answer ('{parsed.matched}')")
        return ConfirmationReply("answer", value=parsed.value, reason=f"new answer: {parsed.reason}")
    if parsed.kind == "command" and parsed.command in CONFIRMATION_COMMANDS and not has_yes:
        return ConfirmationReply("command", command=parsed.command, reason=parsed.reason)
    if kinds[0] == "no" and not has_yes and not doubts:
        return ConfirmationReply("no", reason=f"starts with a no ('{cover[0][1]}')")
    return ConfirmationReply("unclear", reason=f"not a clear yes or no ({parsed.reason})")


def parse_confirmation(
    heard: Sequence[Alternative | str] | str,
    scale: int,
    *,
    language: str = "fr",
    proposed: int | None = None,
    min_confidence: float = 0.6,
) -> ConfirmationReply:
    """Understand a reply to the confirmation question for an item on the 4- or 7-point scale.

    ``heard`` is one transcript or the recogniser's n-best list (best first); ``proposed`` is the answer being
    confirmed, when known. A yes counts only if the best transcript is a clear yes, its confidence (when given)
    is at least ``min_confidence``, and no lower alternative reads as anything but yes.
    """
    lex = lexicon_for(language)
    if not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"min_confidence must be within 0..1, not {min_confidence!r}")
    items = [heard] if isinstance(heard, str) else list(heard)
    alternatives = [a if isinstance(a, Alternative) else Alternative(a) for a in items]
    if not alternatives:
        return ConfirmationReply("unclear", reason="nothing heard (no transcript)")
    top = _one(alternatives[0].transcript, scale, lex, proposed)
    confidence = alternatives[0].confidence
    if top.kind == "yes":
        if confidence is not None and not (math.isfinite(confidence) and confidence >= min_confidence):
            return ConfirmationReply("unclear", reason=f"yes with low confidence {confidence:.2f}")
        for k, other in enumerate(alternatives[1:], 2):
            reading = _one(other.transcript, scale, lex, proposed)
            if reading.kind not in ("yes", "unclear"):
                return ConfirmationReply("unclear", reason=f"alternative #{k} reads as {reading.kind}")
    return top
