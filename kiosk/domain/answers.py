"""Understand a spoken answer to a QLQ-C30 item: :func:`parse_answer`.

The recogniser gives one or more transcripts (its n-best list, best first). This module turns them into one
:class:`ParsedAnswer`: an answer on the item's scale, a command (repeat, back, don't know) or "unclear". The
one unacceptable outcome is a wrong value saved without the patient's confirmation, so every doubt becomes
``needs_confirmation=True`` or ``kind="unclear"``; only a clean utterance is accepted as it is.

How one transcript is read (vocabulary per language: :mod:`kiosk.domain.answer_lexicon_fr`,
:mod:`kiosk.domain.answer_lexicon_en`; the interface they fill is :class:`kiosk.domain.lexicon.Lexicon`):

1. :func:`normalise`: case, accents, punctuation, apostrophes and hyphens do not matter.
2. The tokens are cut into phrases, longest first ("pas du tout" beats "tout", "un peu" beats "un"). A run of
   unknown words that *sounds* like a label (same French phonetic key, within a small edit distance that
   grows with the label's length) is a fuzzy match, always confirmed: "bocou", "pas du toux", "un peut".
3. Context: digits are read as the number words ("1 peu" is "un peu", "3" is "trois"); "un", "de", "cette",
   "si" are numbers only when no ordinary word follows ("un mal de tete" is not 1), and an indefinite article
   before a number is an article ("c'est un six" is 6, "je dirais un cinq" is 5, neither is 1);
   "sur" + number is a denominator ("six sur sept"); an introducer ("numero", "le") makes "un" a number.
4. Decision. An answer is accepted without confirmation only if exactly one in-scale value was said (the same
   answer twice is fine), exactly, with nothing around it but fillers and neutral words. Confirmation is
   required for: mishearings, homophones ("cette" for 7, "de" for 2), a bare "un"/"1" (one syllable, often a
   truncated "un peu"), paraphrases, the legacy label "plutot" alone (3), hedges ("peut-etre"), a command in
   the same breath ("je ne sais pas, un peu"), a self-correction ("un peu, non, beaucoup" -> the last one), a
   dangling negation, unknown words. "Unclear" for: a negated answer alone ("pas beaucoup"), two different
   answers ("deux ou trois"), a value between two ("trois et demi"), out-of-scale values, Likert phrases on the
   1-7 scale and the 1-7 end labels on the 4-point scale. A negation binds to the next answer ("je n'ai pas eu
   beaucoup"), but agrees with "pas du tout" ("non, jamais, pas du tout"; "je ne suis pas du tout fatiguee").
5. Commands: words that are also ordinary words ("quoi", "encore", "pardon", "comment") are commands only
   when no answer was said ("un peu, quoi" is 2); "repeat" wins over other commands (it is harmless).

Across the n-best list (only the best transcript's confidence counts): low confidence (< ``min_confidence``)
forces confirmation; a lower alternative giving another value, or mentioning an answer it cannot accept
("pas beaucoup" under "beaucoup"), forces confirmation; if the best one is unclear, the first lower one that
is an answer is used, confirmed. A command in the best transcript wins over everything below it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from kiosk.domain import answer_lexicon_en, answer_lexicon_fr
from kiosk.domain.lexicon import Lexicon

Kind = Literal["answer", "command", "unclear"]
Command = Literal["repeat", "back", "dont_know", "skip"]
COMMANDS: tuple[Command, ...] = ("repeat", "back", "dont_know", "skip")
Family = Literal["likert", "label7", "number"]
_EntryKind = Literal[
    "answer",
    "command",
    "weak_command",
    "filler",
    "introducer",
    "neutral",
    "negation",
    "hedge",
    "between",
    "legacy",
    "denominator",
]
SCALES: tuple[int, ...] = (4, 7)
#: The answer lexicons, by language code: the vocabulary is data (one module per language), the rules are here.
LEXICONS: dict[str, Lexicon] = {"fr": answer_lexicon_fr, "en": answer_lexicon_en}


@dataclass(frozen=True)
class Alternative:
    """One transcript of the recogniser's n-best list, with its confidence (0..1) when known."""

    transcript: str
    confidence: float | None = None


@dataclass(frozen=True)
class ParsedAnswer:
    """What the patient said: an answer (``value``), a ``command``, or unclear; ``reason`` is for support."""

    kind: Kind
    value: int | None = None
    needs_confirmation: bool = False
    command: Command | None = None
    reason: str = ""
    matched: str = ""

    def to_json_dict(self) -> dict[str, str | int | bool | None]:
        return {
            "kind": self.kind,
            "value": self.value,
            "needs_confirmation": self.needs_confirmation,
            "command": self.command,
            "reason": self.reason,
            "matched": self.matched,
        }


def normalise(text: str) -> str:
    """Lowercase, strip accents, turn punctuation/apostrophes/hyphens into spaces, collapse whitespace."""
    text = re.sub(r"(?<=\d)\s*/\s*(?=\d)", " sur ", text)  # "6/7" is "six sur sept"
    for _ in range(2):  # twice: a few exotic characters only fold fully on the second pass
        text = text.casefold().replace("œ", "oe").replace("æ", "ae")
        text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    text = "".join(ch if ch.isalnum() else " " for ch in text)
    text = re.sub(r"(?<=\d)(?=[^\W\d_])|(?<=[^\W\d_])(?=\d)", " ", text)  # "3eme" -> "3 eme"
    text = re.sub(r"([^\W\d_])\1{2,}", r"\1", text)  # "euuuh" -> "euh", "beaucouuup" -> "beaucoup"
    return " ".join(text.split())


# --- Sounding alike -------------------------------------------------------------------------------------
def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def fuzzy_threshold(key_length: int) -> int:
    """Edits allowed for a label whose key has this length: none for short ones ("ase", "Ipe")."""
    return 0 if key_length <= 3 else 1 if key_length <= 7 else 2


# --- The phrase table -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Entry:
    kind: _EntryKind
    value: int | None = None
    family: Family | None = None
    command: Command | None = None
    note: str = ""  # non-empty: this answer must be confirmed, and why
    homophone: bool = False  # a word that merely sounds like a number: yields to any other answer


def _as_command(name: str) -> Command:
    if name not in COMMANDS:
        raise ValueError(f"unknown command {name!r} in the lexicon")
    return name


def _build_table(lex: Lexicon) -> dict[tuple[str, ...], _Entry]:
    """Every phrase of the lexicon; a phrase listed in several categories keeps the first one below."""
    one = "one-syllable '{p}' (often misheard, or a truncated 'un peu')"
    answers: list[tuple[Mapping[str, int], Family, str]] = [
        (lex.LIKERT, "likert", ""),
        (lex.LABELS_7, "label7", ""),
        (lex.NUMBERS, "number", ""),
        (lex.LIKERT_VARIANTS, "likert", "recogniser variant '{p}' for {v}"),
        (lex.LABELS_7_VARIANTS, "label7", "recogniser variant '{p}' for {v}"),
        (lex.ORDINALS, "number", "ordinal '{p}' for {v}"),
    ]
    plain: list[tuple[_EntryKind, frozenset[str]]] = [
        ("negation", lex.NEGATIONS),
        ("between", lex.BETWEEN),
        ("hedge", lex.HEDGES),
        ("introducer", lex.INTRODUCERS),
        ("filler", lex.FILLERS),
        ("neutral", lex.NEUTRAL),
    ]
    entries = [(p, _Entry("command", command=_as_command(c))) for p, c in lex.COMMANDS.items()]
    entries += [(p, _Entry("answer", v, "likert", note=n)) for p, (v, n) in lex.LIKERT_WEAK.items()]
    for words, family, note in answers:
        entries += [
            (
                p,
                _Entry(
                    "answer",
                    v,
                    family,
                    note=(one if family == "number" and v == 1 and not note else note).format(p=p, v=v),
                ),
            )
            for p, v in words.items()
        ]
    entries += [
        (p, _Entry("answer", v, "number", note=f"homophone '{p}' for {v}", homophone=True))
        for p, v in lex.NUMBER_HOMOPHONES.items()
    ]
    if lex.LEGACY_PLUTOT:
        entries.append((lex.LEGACY_PLUTOT, _Entry("legacy")))
    entries += [(p, _Entry("weak_command", command=_as_command(c))) for p, c in lex.WEAK_COMMANDS.items()]
    entries += [(p, _Entry(kind)) for kind, phrases in plain for p in sorted(phrases)]
    table: dict[tuple[str, ...], _Entry] = {}
    for phrase, entry in entries:
        table.setdefault(tuple(phrase.split()), entry)
    return table


class _Grammar:
    """One language's phrase table and fuzzy targets, built once from its lexicon module."""

    def __init__(self, lex: Lexicon) -> None:
        self.lex = lex
        self.table = _build_table(lex)
        self.max_phrase = max(len(k) for k in self.table)
        self.fuzzy: tuple[tuple[str, tuple[str, ...], _Entry], ...] = tuple(
            (lex.phrase_key(p.split()), tuple(p.split()), self.table[tuple(p.split())]) for p in lex.FUZZY_TARGETS
        )
        self.max_fuzzy_window = max((len(target) for _, target, _ in self.fuzzy), default=0) + 1


_DIGITS = re.compile(r"[0-9]+")
_GRAMMARS: dict[str, _Grammar] = {}


def lexicon_for(language: str) -> Lexicon:
    """The answer lexicon of a language ("fr", "fr-FR", "en", "en-GB"...); ValueError for an unknown one."""
    base = language.replace("_", "-").split("-")[0].casefold()
    if base not in LEXICONS:
        raise ValueError(f"no answer lexicon for language {language!r} (known: {', '.join(sorted(LEXICONS))})")
    return LEXICONS[base]


def _grammar(language: str) -> _Grammar:
    lex = lexicon_for(language)
    if lex.LANGUAGE not in _GRAMMARS:
        _GRAMMARS[lex.LANGUAGE] = _Grammar(lex)
    return _GRAMMARS[lex.LANGUAGE]


def _lookup(g: _Grammar, tokens: Sequence[str]) -> _Entry | None:
    if len(tokens) == 1 and _DIGITS.fullmatch(tokens[0]):
        value = int(tokens[0]) if len(tokens[0]) <= 3 else 1000  # never int() a 5000-digit string
        note = f"bare digit '{tokens[0]}' (often a misheard or truncated 'un peu')" if value == 1 else ""
        return _Entry("answer", value, "number", note=note)
    return g.table.get(tuple(tokens))


def _is_unknown(g: _Grammar, token: str) -> bool:
    return _lookup(g, [token]) is None


def _is_weak_answer(g: _Grammar, token: str) -> bool:
    entry = _lookup(g, [token])
    return entry is not None and entry.kind == "answer" and bool(entry.note)


def _strong_answer(g: _Grammar, token: str) -> bool:
    entry = _lookup(g, [token])
    return entry is not None and entry.kind == "answer" and not entry.note


@dataclass(frozen=True)
class _Seg:
    entry: _Entry | None  # None: an unknown word
    index: int
    text: str


def _fuzzy_at(g: _Grammar, tokens: list[str], i: int, shorter_than: int) -> tuple[int, _Entry] | None:
    """The longest window from ``i`` (longer than the exact match) that sounds like a label."""
    for length in range(min(len(tokens) - i, g.max_fuzzy_window), shorter_than, -1):
        window = tokens[i : i + length]
        if not any(_is_unknown(g, t) for t in window):
            continue
        key = g.lex.phrase_key(window)
        best: tuple[int, str, _Entry] | None = None
        for target_key, target, entry in g.fuzzy:
            allowed = fuzzy_threshold(len(target_key))
            if length > len(target) + 1 or len(key) < 3 or abs(len(key) - len(target_key)) > allowed:
                continue
            if not all(
                _is_unknown(g, t) or _is_weak_answer(g, t) or (t in target and not _strong_answer(g, t)) for t in window
            ):
                continue
            distance = levenshtein(key, target_key)
            if distance <= allowed and (best is None or distance < best[0]):
                best = (distance, " ".join(target), entry)
        if best is not None:
            heard = " ".join(window)
            return length, _Entry(
                "answer", best[2].value, best[2].family, note=f"fuzzy match '{heard}' for '{best[1]}'"
            )
    return None


def _longest_exact(g: _Grammar, tokens: list[str], i: int, max_length: int) -> tuple[int, _Entry | None]:
    for length in range(min(max_length, len(tokens) - i), 0, -1):
        entry = _lookup(g, tokens[i : i + length])
        if entry is not None:
            return length, entry
    return 0, None


def _overrun(g: _Grammar, tokens: list[str], i: int, length: int, *, fuzzy: bool) -> int | None:
    """Where a meaningful phrase starts inside ``tokens[i:i+length]`` and runs past it ("un [peut] etre"); a
    fuzzy window gives way to any exact phrase it cuts ("tres mauvais [s] il vous plait")."""
    for k in range(i + 1, i + length):
        overlap, entry = _longest_exact(g, tokens, k, g.max_phrase)
        if (
            overlap > i + length - k
            and entry is not None
            and (fuzzy or entry.kind not in ("filler", "neutral", "introducer"))
        ):
            return k
    return None


def _segment(g: _Grammar, tokens: list[str]) -> list[_Seg]:
    """Cut the tokens into phrases, longest first; a longer fuzzy window beats a shorter exact phrase, but a
    guessed (weak) match never swallows the start of an exact phrase ("un peut-etre" is "un" + "peut etre")."""
    segs: list[_Seg] = []
    i = 0
    while i < len(tokens):
        length, entry = _longest_exact(g, tokens, i, g.max_phrase)
        fuzzy = _fuzzy_at(g, tokens, i, length)
        if fuzzy is not None:
            length, entry = fuzzy
        if (
            entry is not None
            and entry.note
            and (k := _overrun(g, tokens, i, length, fuzzy=fuzzy is not None)) is not None
        ):
            length, entry = _longest_exact(g, tokens, i, k - i)
        if entry is None:
            segs.append(_Seg(None, len(segs), tokens[i]))
            i += 1
        else:
            segs.append(_Seg(entry, len(segs), " ".join(tokens[i : i + length])))
            i += length
    return _apply_context(g, segs)


def _number(seg: _Seg | None) -> _Entry | None:
    e = seg.entry if seg is not None else None
    return e if e is not None and e.kind == "answer" and e.family == "number" else None


def _apply_context(g: _Grammar, segs: list[_Seg]) -> list[_Seg]:
    """Articles are not numbers; "N sur M" is N out of M; an introducer ("numero", "le") makes N a number."""
    out: list[_Seg] = []
    for k, seg in enumerate(segs):
        e = _number(seg)
        prev = segs[k - 1] if k > 0 else None
        nxt = segs[k + 1] if k + 1 < len(segs) else None
        after = segs[k + 2] if k + 2 < len(segs) else None
        if e is None:
            out.append(seg)
            continue
        if k >= 2 and prev is not None and prev.text == g.lex.DENOMINATOR_WORD and _number(segs[k - 2]):
            e = _Entry("denominator", e.value)  # "six sur sept": the 7 is the scale, not a second answer
        elif (
            seg.text in g.lex.INDEFINITE_ARTICLES
            and _number(nxt)
            and nxt is not None
            and (nxt.text not in g.lex.ARTICLE_LIKE)
        ):
            e = _Entry("neutral")  # "c'est un six", "je dirais un cinq": an article, not the answer 1
        elif (
            seg.text in g.lex.ARTICLE_LIKE
            and nxt is not None
            and nxt.text not in g.lex.NUMBER_FOLLOWERS
            and (nxt.entry is None or nxt.entry.kind not in ("answer", "legacy", "between", "command", "weak_command"))
        ):
            e = _Entry("neutral")  # "un mal de tete", "de plus", "cette semaine", "si je..."
        elif seg.text in g.lex.ONE_WORDS and (
            (prev is not None and prev.entry is not None and prev.entry.kind == "introducer")
            or (nxt is not None and nxt.text == g.lex.DENOMINATOR_WORD and _number(after))
        ):
            e = _Entry("answer", e.value, "number")
        out.append(_Seg(e, seg.index, seg.text))
    return out


# --- Reading one transcript -----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Cand:
    value: int
    family: Family
    note: str
    homophone: bool
    index: int
    text: str
    negated_by: str = ""

    def valid_on(self, scale: int) -> bool:
        if self.family == "likert":
            return scale == 4
        if self.family == "label7":
            return scale == 7
        return 1 <= self.value <= scale


@dataclass
class _Reading:
    cands: list[_Cand] = field(default_factory=list)
    commands: list[tuple[Command, str]] = field(default_factory=list)
    weak_commands: list[tuple[Command, str]] = field(default_factory=list)
    dangling_negations: list[str] = field(default_factory=list)
    hedges: list[str] = field(default_factory=list)
    betweens: list[str] = field(default_factory=list)
    markers: list[tuple[int, str]] = field(default_factory=list)
    legacy: list[_Seg] = field(default_factory=list)
    denominators: list[int] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def _read(g: _Grammar, segs: list[_Seg]) -> _Reading:
    """Sort the phrases into candidates, commands, negations...; a negation binds to the next answer, except
    that negations agree with "pas du tout" ("non, jamais, pas du tout"; "je ne suis pas du tout ...")."""
    r = _Reading()
    pending: list[_Seg] = []  # negations not yet bound to an answer
    negations: list[_Seg] = []
    settled: set[int] = set()  # negations bound to an answer, or agreeing with a "not at all" answer
    for seg in segs:
        e = seg.entry
        if e is None:
            r.unknown.append(seg.text)
            continue
        if e.kind == "answer" and e.value is not None and e.family is not None:
            not_at_all = e.family == "likert" and e.value == 1
            negated_by = "" if not_at_all else " ".join(n.text for n in pending)
            settled.update(n.index for n in pending)
            pending = []
            r.cands.append(_Cand(e.value, e.family, e.note, e.homophone, seg.index, seg.text, negated_by))
        elif e.kind == "negation":
            pending.append(seg)
            negations.append(seg)
            if any(c.family == "likert" and c.value == 1 for c in r.cands):
                settled.add(seg.index)
        elif e.kind in ("command", "weak_command") and e.command is not None:
            (r.commands if e.kind == "command" else r.weak_commands).append((e.command, seg.text))
        elif e.kind == "hedge":
            r.hedges.append(seg.text)
        elif e.kind == "between":
            r.betweens.append(seg.text)
        elif e.kind == "denominator" and e.value is not None:
            r.denominators.append(e.value)
        elif e.kind == "legacy":
            r.legacy.append(seg)
        if seg.text in g.lex.CORRECTION_MARKERS or e.kind == "legacy":
            r.markers.append((seg.index, seg.text))
            pending = [] if e.kind in ("filler", "weak_command") else pending
    if r.commands or any(c.text not in g.lex.TAG_HOMOPHONES for c in r.cands):  # "beaucoup, hein"; "hein ? quoi ?"
        r.cands = [c for c in r.cands if c.text not in g.lex.TAG_HOMOPHONES]
    r.dangling_negations = [n.text for n in negations if n.index not in settled]
    return r


def _quote(tokens: list[str], limit: int = 60) -> str:
    text = " ".join(tokens)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _unclear(reason: str, matched: str = "") -> ParsedAnswer:
    return ParsedAnswer("unclear", reason=reason, matched=matched)


def _pick_command(commands: list[tuple[Command, str]]) -> tuple[Command, str]:
    """Repeating is always harmless, so it wins; otherwise the first command said."""
    return next((c for c in commands if c[0] == "repeat"), commands[0])


def _out_of_scale_reason(c: _Cand, scale: int) -> str:
    if c.family == "likert":
        return f"Likert phrase '{c.text}' is not an answer on the 1-7 scale"
    if c.family == "label7":
        return f"'{c.text}' is a 1-7 end label, not an answer on the 4-point scale"
    return f"out of scale: {c.value} is not in 1-{scale}" + (f" ({c.note})" if c.note else "")


def _interpret(g: _Grammar, text: str, scale: int) -> tuple[ParsedAnswer, bool]:
    """What one transcript means on this scale, and whether it mentions an answer at all (even negated)."""
    tokens = " ".join(g.lex.DIGIT_WORDS.get(t, t) for t in normalise(text).split()).split()  # "1 peu" = "un peu"
    if not tokens:
        return _unclear("empty transcript"), False
    r = _read(g, _segment(g, tokens))
    if not r.cands and r.legacy:
        seg = r.legacy[0]
        r.cands.append(_Cand(3, "likert", "legacy label 'plutot' (old prototype) for 3", False, seg.index, seg.text))
    positive = [c for c in r.cands if not c.negated_by]
    negated = [c for c in r.cands if c.negated_by]
    valid = [c for c in positive if c.valid_on(scale)]
    invalid = [c for c in positive if not c.valid_on(scale) and not c.homophone]
    if valid and (not r.commands or not all(c.homophone for c in valid)):  # "de quoi ? repetez" is a command
        return _decide(g, valid, invalid, negated, r, scale), True
    return _explain_no_answer(g, r, tokens, scale), bool(invalid or negated)


def _explain_no_answer(g: _Grammar, r: _Reading, tokens: list[str], scale: int) -> ParsedAnswer:
    """Nothing in the scale was said: a command, or unclear with the most useful reason."""
    positive = [c for c in r.cands if not c.negated_by]
    negated = [c for c in r.cands if c.negated_by]
    invalid = [c for c in positive if not c.homophone]  # out of scale, Likert on 1-7, 1-7 label on 4
    commands = r.commands + (r.weak_commands if not r.cands else [])
    if commands and (not invalid or _pick_command(commands)[0] != "dont_know"):
        command, phrase = _pick_command(commands)
        return ParsedAnswer("command", command=command, reason=f"command phrase '{phrase}'", matched=phrase)
    if invalid:
        return _unclear(_out_of_scale_reason(invalid[0], scale), invalid[0].text)
    if negated:
        c = negated[0]
        return _unclear(f"negated phrase '{c.negated_by} {c.text}'", c.text)
    ignored = [c for c in positive if not c.valid_on(scale)]
    if ignored:
        return _unclear(_out_of_scale_reason(ignored[0], scale), ignored[0].text)
    if r.dangling_negations:
        return _unclear(f"negation '{r.dangling_negations[0]}' without an answer")
    if r.betweens:
        return _unclear(f"'{r.betweens[0]}' is not a point of the scale")
    if r.hedges:
        return _unclear(f"'{r.hedges[0]}' is not an answer on this scale")
    if r.unknown:
        return _unclear(f"no answer recognised in '{_quote(tokens)}'")
    if g.lex.YES_NO_WORDS & set(tokens):
        return _unclear(f"yes/no is not a point of the scale ('{_quote(tokens)}')")
    return _unclear(f"only filler words ('{_quote(tokens)}')")


def _decide(  # noqa: PLR0917,PLR0912
    g: _Grammar,
    valid: list[_Cand],
    invalid: list[_Cand],
    negated: list[_Cand],
    r: _Reading,
    scale: int,
) -> ParsedAnswer:
    """At least one in-scale answer was heard: accept it, ask for confirmation, or give up."""
    core = [c for c in valid if not c.homophone] or valid
    values = list(dict.fromkeys(c.value for c in core))
    last = core[-1]
    reasons: list[str] = []
    if len(values) > 1:
        prev = next(c for c in reversed(core) if c.value != last.value)
        marker = next((m for i, m in r.markers if prev.index < i < last.index), "")
        if not marker or r.betweens:
            return _unclear(
                f"two different answers: {prev.value} ('{prev.text}') and {last.value} ('{last.text}')",
                f"{prev.text} / {last.text}",
            )
        reasons.append(f"self-correction from {prev.value} ('{prev.text}') to {last.value} ('{last.text}')")
    if invalid:
        return _unclear(f"answer '{last.text}' mixed with: {_out_of_scale_reason(invalid[0], scale)}", last.text)
    if r.betweens:
        return _unclear(f"'{r.betweens[0]}' puts the answer between two points", last.text)
    same = [c for c in core if c.value == last.value]
    chosen = next((c for c in reversed(same) if not c.note), same[-1])
    if chosen.note:
        reasons.append(chosen.note)
    others = [c for c in valid if c.homophone and c.value != last.value]
    if others:
        reasons.append(f"homophone '{others[0].text}' suggests {others[0].value}")
    if negated:
        reasons.append(f"negated phrase '{negated[0].negated_by} {negated[0].text}' in the same utterance")
    if r.dangling_negations:
        reasons.append(f"negation '{r.dangling_negations[0]}' near the answer")
    if r.hedges:
        reasons.append(f"hedged with '{r.hedges[0]}'")
    if any(d != scale for d in r.denominators):
        reasons.append(f"said out of {r.denominators[0]}, not out of {scale}")
    if r.commands:
        reasons.append(f"said with the command '{r.commands[0][1]}'")
    trailing_no = [m for i, m in r.markers if i > last.index and m in g.lex.NO_WORDS]
    if trailing_no and not (last.family == "likert" and last.value == 1):
        reasons.append(f"'{trailing_no[0]}' after the answer")
    if r.unknown:
        reasons.append(f"extra words '{_quote(r.unknown)}' may change the meaning")
    if reasons:
        return ParsedAnswer("answer", last.value, True, reason="; ".join(reasons), matched=chosen.text)
    return ParsedAnswer("answer", last.value, False, reason=f"exact phrase '{chosen.text}'", matched=chosen.text)


# --- The public function --------------------------------------------------------------------------------
def _confirm(parsed: ParsedAnswer, reason: str) -> ParsedAnswer:
    reasons = [reason] + ([parsed.reason] if parsed.needs_confirmation and parsed.reason else [])
    return ParsedAnswer("answer", parsed.value, True, reason="; ".join(reasons), matched=parsed.matched)


def parse_answer(
    heard: Sequence[Alternative | str] | str, scale: int, *, min_confidence: float = 0.6, language: str = "fr"
) -> ParsedAnswer:
    """Understand what the patient said for an item on the 4-point (items 1-28) or 1-7 (items 29-30) scale.

    ``heard`` is one transcript or the recogniser's n-best list, best first. Raises ``ValueError`` for a scale
    other than 4 or 7, a ``min_confidence`` outside 0..1 or a ``language`` without a lexicon (see
    :data:`LEXICONS`; "fr-FR" is "fr"); never raises for any transcript.
    """
    g = _grammar(language)
    if isinstance(scale, bool) or scale not in SCALES:
        raise ValueError(f"scale must be 4 or 7, not {scale!r}")
    if not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"min_confidence must be within 0..1, not {min_confidence!r}")
    items = [heard] if isinstance(heard, str) else list(heard)
    alternatives = [a if isinstance(a, Alternative) else Alternative(a) for a in items]
    if not alternatives:
        return _unclear("nothing heard (no transcript)")
    results = [_interpret(g, a.transcript, scale) for a in alternatives]
    (top, _), confidence = results[0], alternatives[0].confidence
    low = confidence is not None and not (confidence >= min_confidence and math.isfinite(confidence))
    low_reason = f"low confidence {confidence:.2f} < {min_confidence:g}" if low else ""
    if top.kind == "command":
        reason = f"{top.reason}; {low_reason}" if low else top.reason
        return ParsedAnswer("command", command=top.command, reason=reason, matched=top.matched)
    if top.kind == "answer":
        top = _confirm(top, low_reason) if low else top
        for k, (other, mentions_answer) in enumerate(results[1:], 2):
            heard = _quote(normalise(alternatives[k - 1].transcript).split())
            if other.kind == "answer" and other.value != top.value:
                return _confirm(top, f"alternative #{k} '{heard}' gives {other.value}")
            if other.kind == "unclear" and mentions_answer:  # e.g. "beaucoup" vs "pas beaucoup"
                return _confirm(top, f"alternative #{k} '{heard}' is unclear ({other.reason})")
        return top
    for k, (other, _) in enumerate(results[1:], 2):
        if other.kind == "answer":  # the best transcript is unclear: never trust a lower one blindly
            return _confirm(
                other,
                f"best transcript unclear ({top.reason}); alternative "
                f"#{k} '{_quote(normalise(alternatives[k - 1].transcript).split())}' gives "
                f"{other.value}",
            )
    return top
