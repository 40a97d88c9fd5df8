"""Colours and type sizes, from the A−/A+ text size and the high-contrast toggle.

One style sheet (``resources/styles/kiosk.qss``, a ``string.Template``) is filled with pixel sizes and a colour
set and applied to the main window, so every screen follows both settings at once. Custom-painted widgets
(answer buttons, the bar chart, the level meter) read the same colours through :func:`colors`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from string import Template

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor

from kiosk.domain.resources import resources_dir
from kiosk.viewmodels.options import TEXT_SIZES

ITEM_TEXT_PX = 34  # item text at the normal size; the brief asks for at least 32 px

NORMAL = {
    "bg": "#F6F4EF",
    "fg": "#161616",
    "muted": "#3F4A55",
    "faint": "#C9C4BA",
    "border": "#5C6B7A",
    "button_bg": "#FFFFFF",
    "field_bg": "#FFFFFF",
    "accent": "#1B4F9C",
    "accent_fg": "#FFFFFF",
    "disabled": "#A0A0A0",
    "error": "#A4161A",
    "error_bg": "#FBE3E4",
    "error_fg": "#7A0E12",
    "info_bg": "#E4ECF7",
    "good": "#2E7D4F",
    "bad": "#B5562B",
    "neutral": "#1B4F9C",
    "listen": "#2E7D4F",
}
HIGH_CONTRAST = {
    "bg": "#000000",
    "fg": "#FFFFFF",
    "muted": "#FFFFFF",
    "faint": "#444444",
    "border": "#FFFFFF",
    "button_bg": "#000000",
    "field_bg": "#000000",
    "accent": "#FFD400",
    "accent_fg": "#000000",
    "disabled": "#8A8A8A",
    "error": "#FF6B6B",
    "error_bg": "#000000",
    "error_fg": "#FF8080",
    "info_bg": "#1A1A1A",
    "good": "#5CE08A",
    "bad": "#FF9A5C",
    "neutral": "#FFD400",
    "listen": "#5CE08A",
}


@dataclass(frozen=True)
class DisplayState:
    text_size: int = 0  # index into TEXT_SIZES
    high_contrast: bool = False

    @property
    def scale(self) -> float:
        return TEXT_SIZES[self.text_size]


class DisplayPrefs(QObject):
    """The patient's A−/A+ and contrast choice, kept for the whole session and reset for the next patient."""

    changed = Signal(object)  # DisplayState

    def __init__(self, default_size: int = 0, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = DisplayState(text_size=default_size)

    def bigger(self) -> None:
        self._set(DisplayState(min(self.state.text_size + 1, len(TEXT_SIZES) - 1), self.state.high_contrast))

    def smaller(self) -> None:
        self._set(DisplayState(max(self.state.text_size - 1, 0), self.state.high_contrast))

    def toggle_contrast(self) -> None:
        self._set(DisplayState(self.state.text_size, not self.state.high_contrast))

    def reset(self, default_size: int) -> None:
        self._set(DisplayState(text_size=default_size))

    def _set(self, state: DisplayState) -> None:
        if state != self.state:
            self.state = state
            self.changed.emit(state)


_current = DisplayState()


@cache
def _colors(high_contrast: bool) -> dict[str, QColor]:
    palette = HIGH_CONTRAST if high_contrast else NORMAL
    return {k: QColor(v) for k, v in palette.items()}


def colors() -> dict[str, QColor]:
    """The current colour set, for custom painting (do not modify the returned colours)."""
    return _colors(_current.high_contrast)


def current() -> DisplayState:
    return _current


@cache
def _template() -> Template:
    return Template((resources_dir() / "styles" / "kiosk.qss").read_text(encoding="utf-8"))


def sizes(state: DisplayState) -> dict[str, int]:
    s = state.scale
    return {
        "item": round(ITEM_TEXT_PX * s),
        "intro": round(ITEM_TEXT_PX * min(s, 1.3)),  # five sentences: capped so that they fit one screen
        "title": round(34 * s),
        "header": round(26 * min(s, 1.5)),
        "instruction": round(22 * min(s, 1.5)),
        "body": round(24 * min(s, 1.5)),
        "button": round(26 * min(s, 1.4)),
        "answer": round(28 * min(s, 1.45)),
        "field": 24,  # nurse screens keep their size: the nurse does not use A−/A+
        "small": round(20 * min(s, 1.3)),
    }


def style_sheet(state: DisplayState) -> str:
    """Fill the QSS template and make ``state`` the current one for custom painting."""
    global _current  # noqa: PLW0603 - the one colour set custom painting follows
    _current = state
    palette = HIGH_CONTRAST if state.high_contrast else NORMAL
    return _template().substitute({**palette, **{k: str(v) for k, v in sizes(state).items()}})
