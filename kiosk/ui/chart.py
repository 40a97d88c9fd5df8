"""The clinician summary's bar chart, drawn with QPainter (no chart library).

Scores are 0–100. Groups are drawn apart, each with its own colour, and a legend says which way is better:
global health and functional scales, higher is better; symptoms, higher is worse. A missing score is shown
as "—", never as a zero-length bar that could be read as 0.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from kiosk.ui import theme
from kiosk.viewmodels.summary import GROUP_ORDER, ClinicianSummary

GROUP_COLOURS = {"global": "neutral", "functional": "good", "symptom": "bad", "summary": "neutral"}
LEGEND = (
    ("neutral", "Santé globale, score résumé : plus haut = mieux"),
    ("good", "Échelles fonctionnelles : plus haut = mieux"),
    ("bad", "Symptômes : plus haut = pire"),
)


class ScoreChart(QWidget):
    """Horizontal bars, one per scale, grouped as the summary groups them."""

    def __init__(self, summary: ClinicianSummary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._summary = summary
        self.setMinimumSize(520, 500)

    def paintEvent(self, _event: QPaintEvent) -> None:
        c = theme.colors()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(self.font())
        font.setPixelSize(15)
        painter.setFont(font)
        rows = [(group, row) for group in GROUP_ORDER for row in self._summary.group(group)]
        groups = len({g for g, _ in rows})
        legend_h = 26 * len(LEGEND) + 12
        line_h = max(16.0, (self.height() - legend_h - groups * 10) / max(len(rows), 1))
        label_w = 58.0
        value_w = 44.0
        bar_x = label_w
        bar_w = self.width() - label_w - value_w - 8
        y = 0.0
        previous = None
        for group, row in rows:
            if previous is not None and group != previous:
                y += 10
            previous = group
            painter.setPen(c["fg"])
            painter.drawText(QRectF(0, y, label_w - 6, line_h), int(Qt.AlignmentFlag.AlignVCenter), row.code)
            track = QRectF(bar_x, y + line_h * 0.15, bar_w, line_h * 0.7)
            painter.fillRect(track, c["faint"].lighter(115) if not theme.current().high_contrast else QColor("#222"))
            if row.score is not None:
                bar = QRectF(track.x(), track.y(), bar_w * max(min(row.score, 100.0), 0.0) / 100, track.height())
                painter.fillRect(bar, c[GROUP_COLOURS[group]])
            painter.setPen(c["fg"])
            painter.drawText(
                QRectF(bar_x + bar_w + 6, y, value_w, line_h),
                int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight),
                row.display,
            )
            y += line_h
        # scale ticks at 0, 50, 100
        painter.setPen(QPen(c["muted"], 1, Qt.PenStyle.DashLine))
        for tick in (0, 50, 100):
            x = bar_x + bar_w * tick / 100
            painter.drawLine(int(x), 0, int(x), int(y))
        # legend
        y += 12
        x = 0.0
        for colour, text in LEGEND:
            painter.fillRect(QRectF(x, y + 4, 18, 18), c[colour])
            painter.setPen(c["fg"])
            painter.drawText(QRectF(x + 24, y, self.width() - x - 24, 26), int(Qt.AlignmentFlag.AlignVCenter), text)
            y += 26
        painter.end()
