"""The clinician summary of a finished session: scale scores grouped by direction, missing items, voice count.

Functional scales and global health (QL2): higher is better. Symptom scales: higher is worse. The groups keep
that visible in the table and the bar chart. Pure data, no Qt.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.domain.scoring import score_answers
from kiosk.domain.session import ItemStatus, Method, Session

GROUP_TITLES = {
    "global": "État de santé global (plus haut = mieux)",
    "functional": "Échelles fonctionnelles (plus haut = mieux)",
    "symptom": "Symptômes (plus haut = pire)",
    "summary": "Score résumé (plus haut = mieux)",
}
GROUP_ORDER = ("global", "functional", "symptom", "summary")

# French names of the QLQ-C30 scales for the nurse; a scale the table does not know keeps its file name.
FRENCH_NAMES = {
    "QL2": "Santé globale / qualité de vie",
    "PF2": "Fonctionnement physique",
    "RF2": "Activités quotidiennes",
    "EF": "Fonctionnement émotionnel",
    "CF": "Fonctionnement cognitif",
    "SF": "Fonctionnement social",
    "FA": "Fatigue",
    "NV": "Nausées et vomissements",
    "PA": "Douleur",
    "DY": "Dyspnée",
    "SL": "Insomnie",
    "AP": "Perte d'appétit",
    "CO": "Constipation",
    "DI": "Diarrhée",
    "FI": "Difficultés financières",
    "SUMSC": "Score résumé QLQ-C30",
}


@dataclass(frozen=True)
class ScoreRow:
    code: str
    name: str
    group: str  # "global" | "functional" | "symptom" | "summary"
    score: float | None  # unrounded; None = not computable

    @property
    def display(self) -> str:
        return "—" if self.score is None else f"{self.score:.0f}"


@dataclass(frozen=True)
class ClinicianSummary:
    initials: str
    outcome: str  # "completed" | "abandoned"
    rows: tuple[ScoreRow, ...]
    missing_items: tuple[int, ...]
    voice_answers: int
    answered: int
    item_count: int

    def group(self, name: str) -> tuple[ScoreRow, ...]:
        return tuple(r for r in self.rows if r.group == name)

    @property
    def missing_text(self) -> str:
        if not self.missing_items:
            return "Aucune question sans réponse."
        items = ", ".join(str(n) for n in self.missing_items)
        return f"Questions sans réponse ({len(self.missing_items)}) : {items}"

    @property
    def voice_text(self) -> str:
        return f"Réponses données à la voix : {self.voice_answers} sur {self.answered}"


def summarise(session: Session) -> ClinicianSummary:
    report = score_answers(session.instrument, session.answers())
    rows = tuple(
        ScoreRow(code=s.code, name=FRENCH_NAMES.get(s.code, s.name), group=s.kind, score=s.score) for s in report.scales
    )
    voice = 0
    for number in session.item_numbers:
        record = session.records.get(number)
        event = record.current if record else None
        if event is not None and event.status is ItemStatus.ANSWERED and event.method is Method.VOICE:
            voice += 1
    return ClinicianSummary(
        initials=session.patient.initials,
        outcome=session.phase.value,
        rows=rows,
        missing_items=tuple(session.unanswered()),
        voice_answers=voice,
        answered=session.answered_count(),
        item_count=len(session.item_numbers),
    )
