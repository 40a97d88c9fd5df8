"""Small touch widgets shared by the screens: answer buttons, date pickers, meters and the nurse corner.

Answer buttons paint their own text so that a long label wraps inside the button instead of being cut, at
any text size, and so that the selected answer is unmistakable (filled, bold, with a check mark).
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from PySide6.QtCore import QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QAbstractButton, QComboBox, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QWidget

from kiosk.ui import theme

MIN_ANSWER_HEIGHT = 100  # >= 15 mm at up to ~170 dpi
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def label(text: str = "", name: str = "", *, wrap: bool = True) -> QLabel:
    widget = QLabel(text)
    if name:
        widget.setObjectName(name)
    widget.setWordWrap(wrap)
    widget.setTextFormat(Qt.TextFormat.PlainText)
    return widget


class AnswerButton(QAbstractButton):
    """A big answer button whose label wraps; ``value`` is the answer it gives."""

    def __init__(self, value: int, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.value = value
        self.setText(text)
        self.setObjectName("answer")
        self.setCheckable(True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMinimumHeight(MIN_ANSWER_HEIGHT)
        self.setAccessibleName(text)
        # Share the row equally and never grow the window: the label wraps instead.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)

    def set_point_size(self, px: int) -> None:
        font = QFont(self.font())
        font.setPixelSize(px)
        font.setBold(True)
        self.setFont(font)
        self.updateGeometry()

    def sizeHint(self) -> QSize:
        metrics = QFontMetrics(self.font())
        return QSize(metrics.horizontalAdvance("M" * 4) + 24, max(MIN_ANSWER_HEIGHT, metrics.height() * 2 + 28))

    def minimumSizeHint(self) -> QSize:
        return QSize(60, MIN_ANSWER_HEIGHT)

    def heightForWidth(self, width: int) -> int:
        rect = QFontMetrics(self.font()).boundingRect(
            QRect(0, 0, max(width - 28, 10), 10_000),
            int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignCenter),
            self.text(),
        )
        return max(MIN_ANSWER_HEIGHT, rect.height() + 32)

    def hasHeightForWidth(self) -> bool:
        return True

    def paintEvent(self, _event: QPaintEvent) -> None:
        c = theme.colors()
        selected = self.isChecked() or self.isDown()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(3, 3, -3, -3)
        painter.setPen(QPen(c["accent"] if selected else c["border"], 5 if selected else 3))
        painter.setBrush(c["accent"] if selected else c["button_bg"])
        painter.drawRoundedRect(rect, 16, 16)
        painter.setPen(c["accent_fg"] if selected else c["fg"])
        painter.setFont(self.font())
        text_rect = self.rect().adjusted(14, 10, -14, -10)
        painter.drawText(text_rect, int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignCenter), self.text())
        if self.isChecked():
            painter.drawText(
                self.rect().adjusted(10, 6, -12, -6), int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop), "✓"
            )
        painter.end()


class DatePicker(QWidget):
    """Day / month / year as three large combo boxes: easy by touch, no typing, no tiny calendar."""

    changed = Signal()

    def __init__(
        self, *, first_year: int, last_year: int, allow_empty: bool = True, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.day, self.month, self.year = QComboBox(), QComboBox(), QComboBox()
        if allow_empty:
            self.day.addItem("Jour", None)
            self.month.addItem("Mois", None)
            self.year.addItem("Année", None)
        for d in range(1, 32):
            self.day.addItem(str(d), d)
        for m, name in enumerate(MONTHS, start=1):
            self.month.addItem(name, m)
        for y in range(last_year, first_year - 1, -1):
            self.year.addItem(str(y), y)
        for box, stretch in ((self.day, 2), (self.month, 4), (self.year, 3)):
            box.setMaxVisibleItems(12)
            box.currentIndexChanged.connect(self.changed)
            layout.addWidget(box, stretch)
        self._allow_empty = allow_empty

    def parts(self) -> tuple[int | None, int | None, int | None]:
        return self.day.currentData(), self.month.currentData(), self.year.currentData()

    def set_date(self, value: date | None) -> None:
        if value is None:
            for box in (self.day, self.month, self.year):
                box.setCurrentIndex(0)
            return
        for box, part in ((self.day, value.day), (self.month, value.month), (self.year, value.year)):
            index = box.findData(part)
            if index >= 0:
                box.setCurrentIndex(index)


class LevelMeter(QWidget):
    """The microphone level, 0..1, as a row of bars; fed by a signal (the voice issue's recorder)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._level = 0.0
        self.peak = 0.0  # highest level seen: "the meter moved"
        self.setMinimumSize(360, 60)

    def set_level(self, level: float) -> None:
        self._level = min(max(level, 0.0), 1.0)
        self.peak = max(self.peak, self._level)
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:
        c = theme.colors()
        painter = QPainter(self)
        bars = 20
        gap = 4
        width = (self.width() - gap * (bars - 1)) / bars
        lit = round(self._level * bars)
        for i in range(bars):
            painter.fillRect(QRectF(i * (width + gap), 0, width, self.height()), c["listen"] if i < lit else c["faint"])
        painter.end()


class ListeningIndicator(QLabel):
    """Reserved place for the voice issue's "I am listening" sign; empty in touch mode, space kept."""

    TEXTS: ClassVar[dict[str, str]] = {"off": "", "listening": "●  Je vous écoute…", "processing": "…"}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("listening")
        self.setMinimumHeight(56)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.state = "off"

    def set_state(self, state: str) -> None:
        self.state = state
        self.setText(self.TEXTS.get(state, ""))


class NurseCorner(QToolButton):
    """A discreet top-right button; a long press (1.5 s) asks for the nurse PIN. A tap does nothing."""

    long_pressed = Signal()
    HOLD_MS = 1500

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("nurseCorner")
        self.setText("•••")
        self.setToolTip("Espace soignant : appui long")
        self.setFixedSize(96, 64)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(self.HOLD_MS)
        self._timer.timeout.connect(self.long_pressed)
        self.pressed.connect(self._timer.start)
        self.released.connect(self._timer.stop)
