"""The nurse PIN: a numeric keypad page to enter it, and the first-start page to choose it (entered twice).

The PIN is only ever compared by the view model against its argon2 hash (``kiosk.storage.pin``), on the DB
worker; these pages hold the digits only until they are submitted, then clear them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from kiosk.ui.item_screen import button
from kiosk.ui.widgets import label

MIN_PIN = 4
MAX_PIN = 8


class PinPad(QWidget):
    """A masked entry and a 3×4 keypad: digits, "Effacer" and "Valider"."""

    submitted = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.entry = QLineEdit()
        self.entry.setEchoMode(QLineEdit.EchoMode.Password)
        self.entry.setMaxLength(MAX_PIN)
        self.entry.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.entry.setMinimumHeight(64)
        self.entry.returnPressed.connect(self._submit)
        layout.addWidget(self.entry)
        grid = QGridLayout()
        grid.setSpacing(10)
        keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "⌫", "0", "OK"]
        for index, key in enumerate(keys):
            b = button(key, "keyOk" if key == "OK" else "key")
            b.setMinimumHeight(76)
            b.clicked.connect(lambda _c=False, k=key: self._press(k))
            grid.addWidget(b, index // 3, index % 3)
        layout.addLayout(grid)

    def _press(self, key: str) -> None:
        if key == "⌫":
            self.entry.backspace()
        elif key == "OK":
            self._submit()
        else:
            self.entry.insert(key)

    def _submit(self) -> None:
        pin = self.entry.text()
        self.entry.clear()
        self.submitted.emit(pin)

    def clear(self) -> None:
        self.entry.clear()


def _pin_layout(page: QWidget, title: str) -> tuple[QVBoxLayout, QLabel, QLabel, PinPad]:
    """The two PIN pages' shared layout: title, a line of text and an error line on the left, the keypad on the
    right. Returns the left column (for what each page adds below), the text line, the error line and the pad."""
    page.setProperty("screen", True)
    root = QHBoxLayout(page)
    root.setContentsMargins(60, 30, 60, 30)
    left = QVBoxLayout()
    left.addWidget(label(title, "title"))
    text = label("")
    left.addWidget(text)
    error = label("", "fieldError")
    left.addWidget(error)
    root.addLayout(left, 1)
    pad = PinPad()
    pad.setMaximumWidth(480)
    root.addWidget(pad, 1)
    return left, text, error, pad


class PinPage(QWidget):
    """Asks for the nurse PIN before the admin screen, the clinician summary or leaving the kiosk."""

    entered = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        left, self.purpose, self.error, self.pad = _pin_layout(self, "Espace soignant")
        left.addStretch(1)
        self.cancel = button("Annuler")
        self.cancel.clicked.connect(self.cancelled)
        left.addWidget(self.cancel, 0, Qt.AlignmentFlag.AlignLeft)
        self.pad.submitted.connect(self.entered)

    def ask(self, purpose: str) -> None:
        self.purpose.setText(purpose)
        self.error.setText("")
        self.pad.clear()

    def refuse(self) -> None:
        self.error.setText("Code incorrect. Réessayez.")


class PinSetupPage(QWidget):
    """First start: choose the nurse PIN (4 to 8 digits), entered twice."""

    chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        left, self.step, self.error, self.pad = _pin_layout(self, "Première mise en service")
        left.addWidget(
            label(
                "Le code protège la sortie du kiosque, les réglages et le résumé clinique. "
                "Il est conservé chiffré (jamais en clair).",
                "caption",
            )
        )
        left.addStretch(1)
        self.pad.submitted.connect(self._entered)
        self._first: str | None = None
        self._prompt()

    def _prompt(self) -> None:
        if self._first is None:
            self.step.setText(f"Choisissez le code soignant ({MIN_PIN} à {MAX_PIN} chiffres).")
        else:
            self.step.setText("Saisissez le même code une seconde fois.")

    def _entered(self, pin: str) -> None:
        if self._first is None:
            if not (pin.isdigit() and MIN_PIN <= len(pin) <= MAX_PIN):
                self.error.setText(f"Le code doit comporter de {MIN_PIN} à {MAX_PIN} chiffres.")
                return
            self._first = pin
            self.error.setText("")
        elif pin != self._first:
            self._first = None
            self.error.setText("Les deux codes sont différents. Recommencez.")
        else:
            self._first = None
            self.error.setText("")
            self.chosen.emit(pin)
        self._prompt()
