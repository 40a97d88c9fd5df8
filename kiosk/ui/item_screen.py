"""One questionnaire item per screen: header, large item text, big answer buttons, and the patient's tools.

The view renders an :class:`~kiosk.viewmodels.screens.ItemScreen` value and forwards touches to the view
model; it never decides anything. A touched answer is highlighted at once; the next item only appears when
the view model says the save returned. The bottom row keeps a place for the voice issue's listening
indicator, so adding voice changes no layout.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QButtonGroup, QGridLayout, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from kiosk.audio.service import AudioService
from kiosk.domain.i18n import Translator, translator
from kiosk.ui import theme
from kiosk.ui.widgets import AnswerButton, ListeningIndicator, label
from kiosk.viewmodels.screens import ItemScreen, ScreenKind, ScreenState
from kiosk.viewmodels.session_vm import SessionViewModel


def button(text: str, name: str = "") -> QPushButton:
    widget = QPushButton(text)
    if name:
        widget.setObjectName(name)
    widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return widget


class AudioStatus(QWidget):
    """ "Audio indisponible", shown while the prompts cannot be heard (no clip and no live voice, no output
    device); hidden again as soon as a prompt is heard. The text of the screen is always there to read."""

    def __init__(self, audio: AudioService | None, tr: Translator, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.text = label("✕ " + tr("Audio indisponible"), "info", wrap=False)
        self.text.setAccessibleName(tr("Audio indisponible"))
        layout.addWidget(self.text)
        self.setVisible(False)
        if audio is not None:  # bound methods: Qt disconnects them when this widget is deleted (next patient)
            audio.unavailable.connect(self._on_unavailable)
            audio.audible.connect(self._on_audible)

    def _on_unavailable(self, _prompt_id: str, _reason: str) -> None:
        self.setVisible(True)

    def _on_audible(self, _prompt_id: str) -> None:
        self.setVisible(False)

    @property
    def shown(self) -> bool:
        return not self.isHidden()


class PatientToolbar(QWidget):
    """Progress on the left; the audio notice, A−, A+ and high contrast on the right (room kept for the nurse
    corner)."""

    def __init__(
        self,
        prefs: theme.DisplayPrefs,
        parent: QWidget | None = None,
        *,
        audio: AudioService | None = None,
        tr: Translator | None = None,
    ) -> None:
        super().__init__(parent)
        tr = tr or translator("fr")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 100, 0)
        self.progress = label("", "progress", wrap=False)
        layout.addWidget(self.progress, 1)
        self.audio_status = AudioStatus(audio, tr)
        layout.addWidget(self.audio_status)
        self.smaller = button("A−", "tool")
        self.bigger = button("A+", "tool")
        self.contrast = button("◐ " + tr("Contraste"), "tool")
        self.smaller.setAccessibleName(tr("Texte plus petit"))
        self.bigger.setAccessibleName(tr("Texte plus grand"))
        for b in (self.smaller, self.bigger, self.contrast):
            layout.addWidget(b)
        self.smaller.clicked.connect(prefs.smaller)
        self.bigger.clicked.connect(prefs.bigger)
        self.contrast.clicked.connect(prefs.toggle_contrast)


class ItemView(QWidget):
    def __init__(self, vm: SessionViewModel, prefs: theme.DisplayPrefs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("screen", True)
        self._vm = vm
        self._item: ItemScreen | None = None
        tr = translator(vm.session.instrument.language)
        root = QVBoxLayout(self)
        root.setContentsMargins(40, 16, 40, 20)
        root.setSpacing(14)
        self.toolbar = PatientToolbar(prefs, audio=vm.audio, tr=tr)
        root.addWidget(self.toolbar)
        self.header = label("", "sectionHeader")
        self.instruction = label("", "instruction")
        self.text = label("", "itemText")
        self.text.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        root.addWidget(self.header)
        root.addWidget(self.instruction)
        root.addWidget(self.text, 1)
        self.answers_box = QWidget()
        self.answers_layout = QGridLayout(self.answers_box)
        self.answers_layout.setContentsMargins(0, 0, 0, 0)
        self.answers_layout.setHorizontalSpacing(16)
        self.answers_layout.setVerticalSpacing(4)
        root.addWidget(self.answers_box)
        self.error = label("", "banner")
        self.error.hide()
        root.addWidget(self.error)
        bottom = QHBoxLayout()
        self.back = button("◀  " + tr("Retour"))
        self.repeat = button("↻  " + tr("Répéter"))
        self.listening = ListeningIndicator()
        self.skip = button(tr("Passer cette question"), "discreet")
        bottom.addWidget(self.back)
        bottom.addWidget(self.repeat)
        bottom.addWidget(self.listening, 1)
        bottom.addWidget(self.skip)
        root.addLayout(bottom)
        self.buttons: list[AnswerButton] = []
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)

        self.back.clicked.connect(vm.back)
        self.skip.clicked.connect(vm.skip)
        self.repeat.clicked.connect(vm.play_screen_prompt)
        vm.pending_answer.connect(self._highlight)
        vm.error.connect(self._show_error)
        vm.busy_changed.connect(self._set_busy)
        vm.listening_changed.connect(self.listening.set_state)
        prefs.changed.connect(lambda _s: self._fit_buttons())

    # ------------------------------------------------------------------ rendering
    def show_state(self, state: ScreenState) -> None:
        if state.kind is not ScreenKind.ITEM or state.item is None:
            return
        item = state.item
        same_answers = self._item is not None and self._item.options == item.options  # reuse the buttons
        self._item = item
        self.toolbar.progress.setText(item.progress)
        self.header.setText(item.header)
        self.header.setVisible(bool(item.header))
        self.instruction.setText(item.instruction)
        self.instruction.setVisible(bool(item.instruction))
        self.text.setText(item.text)
        self.back.setEnabled(item.can_go_back)
        self.repeat.setVisible(self._vm.audio_enabled)
        self.error.hide()
        if not same_answers:
            self._build_answers(item)
        self._group.setExclusive(False)
        for b in self.buttons:
            b.setChecked(b.value == item.current_value)
        self._group.setExclusive(True)
        self._fit_buttons()

    def _build_answers(self, item: ItemScreen) -> None:
        for b in self.buttons:
            self._group.removeButton(b)
            b.deleteLater()
        while self.answers_layout.count():
            child = self.answers_layout.takeAt(0)
            widget = child.widget() if child is not None else None
            if widget is not None and widget not in self.buttons:
                widget.deleteLater()
        self.buttons = []
        for column, option in enumerate(item.options):
            b = AnswerButton(option.value, option.label)
            b.clicked.connect(lambda _checked=False, v=option.value: self._vm.answer(v))
            self._group.addButton(b)
            self.buttons.append(b)
            self.answers_layout.addWidget(b, 0, column)
            self.answers_layout.setColumnStretch(column, 1)
            if item.numeric and option.caption:
                caption = label(option.caption, "caption")
                caption.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
                self.answers_layout.addWidget(caption, 1, column)

    def _fit_buttons(self) -> None:
        """Every answer button as tall as the tallest label needs at its width (labels wrap, never cut)."""
        if not self.buttons:
            return
        width = max(60, (self.answers_box.width() - 16 * (len(self.buttons) - 1)) // len(self.buttons))
        height = max(b.heightForWidth(width) for b in self.buttons)
        for b in self.buttons:
            b.setMinimumHeight(height)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_buttons()

    def _highlight(self, value: int) -> None:
        for b in self.buttons:
            b.setChecked(b.value == value)

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.back, self.skip):
            widget.setEnabled(not busy and (widget is not self.back or bool(self._item and self._item.can_go_back)))

    def _show_error(self, message: str) -> None:
        if self._vm.screen.kind is ScreenKind.ITEM:
            self.error.setText(message)
            self.error.show()
