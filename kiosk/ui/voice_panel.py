"""The voice widgets of the item screen: what the kiosk is doing with the patient's voice, always visible.

* :class:`VoicePanel` (in place of the item screen's listening placeholder): "J'écoute…" with the live level,
  "Je réfléchis…", "J'ai compris : assez", "Touchez votre réponse", "Voix indisponible : <raison>", the
  interim text, notices, and the large microphone button of *voix à la demande* (hold or tap).
* :class:`ConfirmationPanel` (above the answer buttons): "Vous avez répondu : assez. Est-ce bien cela ?" with
  big Oui / Non buttons (the patient may answer by voice or touch).

:func:`attach_voice` fits both into an :class:`~kiosk.ui.item_screen.ItemView` without changing its layout
code. Thin: every decision is the :class:`~kiosk.viewmodels.voice_vm.VoiceViewModel`'s. Every text goes
through the session language's gettext catalogue (``vm.translator``; French is the source), like the other patient
screens: an English session is all English.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QHBoxLayout,
    QLayout,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk.ui import theme
from kiosk.ui.item_screen import ItemView
from kiosk.ui.widgets import LevelMeter, label
from kiosk.viewmodels.voice_vm import VoiceState, VoiceViewModel

#: What the panel says in each state (French source texts, looked up in the session's catalogue).
STATE_TEXT: dict[VoiceState, str] = {
    VoiceState.OFF: "",
    VoiceState.WAITING: "Écoutez la question…",
    VoiceState.IDLE: "Appuyez sur le micro pour répondre",
    VoiceState.LISTENING: "J'écoute…",
    VoiceState.THINKING: "Je réfléchis…",
    VoiceState.UNDERSTOOD: "J'ai compris :",
    VoiceState.CONFIRMING: "Est-ce bien cela ?",
    VoiceState.TOUCH: "Touchez votre réponse sur l'écran",
    VoiceState.UNAVAILABLE: "Voix indisponible",
}


def _style() -> str:
    """Sizes and colours of the voice widgets (read from the theme's colours)."""
    c = theme.colors()
    return f"""
    QLabel#voiceStatus {{ font-size: 26px; font-weight: bold; color: {c["fg"].name()}; }}
    QLabel#voiceStatus[voiceState="listening"] {{ color: {c["listen"].name()}; }}
    QLabel#voiceStatus[voiceState="unavailable"] {{ color: {c["error"].name()}; }}
    QLabel#voiceHeard {{ font-size: 26px; color: {c["fg"].name()}; }}
    QLabel#voiceNotice {{ font-size: 22px; font-weight: bold; color: {c["error_fg"].name()}; }}
    QFrame#confirmPanel {{ border: 3px solid {c["accent"].name()}; border-radius: 14px;
                           background: {c["info_bg"].name()}; }}
    QLabel#confirmQuestion {{ font-size: 34px; font-weight: bold; color: {c["fg"].name()}; border: none; }}
    QPushButton#confirmYes, QPushButton#confirmNo {{ font-size: 34px; font-weight: bold; min-height: 110px; }}
    QPushButton#confirmYes {{ background: {c["accent"].name()}; color: {c["accent_fg"].name()}; }}
    QPushButton#micButton {{ font-size: 28px; font-weight: bold; min-height: 96px; }}
    """


def _big_button(text: str, name: str) -> QPushButton:
    b = QPushButton(text)
    b.setObjectName(name)
    b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    b.setMinimumHeight(96)
    return b


class VoicePanel(QFrame):
    def __init__(self, vm: VoiceViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("voicePanel")
        self.setStyleSheet(_style())
        self._vm = vm
        self._tr = tr = vm.translator
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 0, 8, 0)
        self.mic = _big_button("◉  " + tr("Parler"), "micButton")
        self.mic.setAccessibleName(tr("Microphone : appuyez pour répondre"))
        self.mic.setMinimumWidth(180)
        # share the bottom row, never widen the window: the texts wrap
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        column = QVBoxLayout()
        column.setSpacing(2)
        self.status = label("", "voiceStatus")
        self.heard = label("", "voiceHeard")
        self.notice = label("", "voiceNotice")
        self.meter = LevelMeter()
        self.meter.setMinimumSize(220, 18)
        self.meter.setMaximumHeight(22)
        column.addWidget(self.status)
        column.addWidget(self.meter)
        column.addWidget(self.heard)
        column.addWidget(self.notice)
        layout.addWidget(self.mic)
        layout.addLayout(column, 1)
        self.mic.pressed.connect(vm.press_microphone)
        self.mic.released.connect(vm.release_microphone)
        vm.state_changed.connect(self._on_state)
        vm.level_changed.connect(self.meter.set_level)
        vm.heard_changed.connect(self._on_heard)
        vm.notice.connect(self._on_notice)
        self._on_state(vm.state.value)

    def _on_state(self, value: str) -> None:
        state = VoiceState(value)
        text = STATE_TEXT[state]
        shown = self._tr(text) if text else ""
        self.status.setText("●  " + shown if state is VoiceState.LISTENING else shown)
        if state is VoiceState.UNAVAILABLE and self._vm.unavailable_reason:
            self.notice.setText(self._vm.unavailable_reason)
        self.status.setProperty("voiceState", state.value)
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
        self.meter.setVisible(state is VoiceState.LISTENING)
        if state is not VoiceState.LISTENING:
            self.meter.set_level(0.0)
        self.mic.setVisible(
            self._vm.on_demand
            and state in (VoiceState.IDLE, VoiceState.LISTENING, VoiceState.CONFIRMING, VoiceState.TOUCH)
        )
        self.mic.setEnabled(state is not VoiceState.LISTENING)
        if state in (VoiceState.LISTENING, VoiceState.WAITING, VoiceState.IDLE):
            self.notice.clear()  # a notice stays until voice goes on (after a switch to touch: for good)
        if state is VoiceState.OFF:
            self.heard.clear()
        self.setVisible(state is not VoiceState.OFF or bool(self.notice.text()))

    def _on_heard(self, text: str) -> None:
        self.heard.setText(self._tr("« {text} »", text=text) if text else "")

    def _on_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.setVisible(bool(text) or self._vm.state is not VoiceState.OFF)


class ConfirmationPanel(QFrame):
    def __init__(self, vm: VoiceViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("confirmPanel")
        self.setStyleSheet(_style())
        tr = vm.translator
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        self.question = label("", "confirmQuestion")
        self.question.setAlignment(Qt.AlignmentFlag.AlignCenter)
        row = QHBoxLayout()
        self.yes = _big_button(tr("Oui"), "confirmYes")
        self.no = _big_button(tr("Non"), "confirmNo")
        row.addWidget(self.yes)
        row.addWidget(self.no)
        layout.addWidget(self.question)
        layout.addLayout(row)
        self.yes.clicked.connect(lambda: vm.confirm_by_touch(True))
        self.no.clicked.connect(lambda: vm.confirm_by_touch(False))
        vm.confirmation_requested.connect(self._open)
        vm.confirmation_closed.connect(self.hide)
        self.hide()

    def _open(self, _value: int, question: str) -> None:
        self.question.setText(question)
        self.show()


def _layout_holding(layout: QLayout, widget: QWidget) -> QLayout | None:
    if layout.indexOf(widget) >= 0:
        return layout
    for i in range(layout.count()):
        child = layout.itemAt(i)
        sub = child.layout() if child is not None else None
        if sub is not None and (found := _layout_holding(sub, widget)) is not None:
            return found
    return None


def attach_voice(view: ItemView, vm: VoiceViewModel) -> tuple[VoicePanel, ConfirmationPanel]:
    """Put the voice panel where the item view keeps its listening placeholder, and the confirmation above
    the answers."""
    root = view.layout()
    assert isinstance(root, QBoxLayout)
    panel = VoicePanel(vm)
    holder = _layout_holding(root, view.listening)
    if holder is not None:
        holder.replaceWidget(view.listening, panel)
        view.listening.hide()
        if isinstance(holder, QBoxLayout):
            holder.setStretchFactor(panel, 1)
    confirm = ConfirmationPanel(vm)
    root.insertWidget(root.indexOf(view.answers_box), confirm)
    return panel, confirm
