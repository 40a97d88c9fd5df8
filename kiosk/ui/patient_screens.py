"""The patient's screens other than the items: item 0 (sound and microphone check), introduction, review
prompt, pause and end, gathered in :class:`SessionView`, which follows the view model's current screen.

A :class:`SessionView` belongs to ONE session: the main window builds a new one for each patient and deletes
the old one, so nothing of a previous patient can stay on screen or be navigated back to.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QPushButton,
    QScrollArea,
    QSlider,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.domain.i18n import Translator, translator
from kiosk.domain.prompts import review_text
from kiosk.ui import theme
from kiosk.ui.item_screen import ItemView, PatientToolbar, button
from kiosk.ui.widgets import LevelMeter, label
from kiosk.viewmodels.screens import ABANDONED_TEXT, END_TEXT, PAUSED_TEXT, ScreenKind, ScreenState
from kiosk.viewmodels.session_vm import SessionViewModel


def _page(margins: int = 60) -> tuple[QWidget, QVBoxLayout]:
    page = QWidget()
    page.setProperty("screen", True)
    layout = QVBoxLayout(page)
    layout.setContentsMargins(margins, 24, margins, 40)
    layout.setSpacing(24)
    return page, layout


class CheckView(QWidget):
    """Item 0: "Entendez-vous ce message ?" with a volume control, then (voice modes) the microphone meter.

    Failing either offers to continue in touch-only mode.
    """

    def __init__(self, vm: SessionViewModel, prefs: theme.DisplayPrefs) -> None:  # noqa: PLR0915 - the screen's widgets laid out top to bottom, in one place
        super().__init__()
        self.setProperty("screen", True)
        self._vm = vm
        self._audio_ok: bool | None = None
        self._failed_audio = False
        self._tr = tr = translator(vm.session.instrument.language)
        root = QVBoxLayout(self)
        root.setContentsMargins(60, 16, 60, 40)
        self.toolbar = PatientToolbar(prefs, audio=vm.audio, tr=tr)
        root.addWidget(self.toolbar)
        self.steps = QStackedWidget()
        root.addWidget(self.steps, 1)
        check = vm.session.instrument.check

        audio, a = _page(0)
        a.addWidget(label(check.audio_text, "bigQuestion"))
        replay = button("↻  " + tr("Écouter de nouveau"))
        replay.clicked.connect(vm.play_check_message)
        a.addWidget(replay, 0, Qt.AlignmentFlag.AlignLeft)
        volume_row = QHBoxLayout()
        volume_row.addWidget(label(tr("Volume"), wrap=False))
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setRange(0, 100)
        self.volume.setValue(round(vm.volume() * 100))
        self.volume.setMinimumHeight(64)
        self.volume.valueChanged.connect(lambda v: vm.set_volume(v / 100))
        volume_row.addWidget(self.volume, 1)
        a.addLayout(volume_row)
        a.addStretch(1)
        self.audio_yes, self.audio_no = self._yes_no(a, tr)
        self.audio_yes.clicked.connect(lambda: self._audio_result(True))
        self.audio_no.clicked.connect(lambda: self._audio_result(False))

        mic, m = _page(0)
        m.addWidget(label(check.microphone_text, "bigQuestion"))
        self.meter = LevelMeter()
        vm.mic_level.connect(self.meter.set_level)
        m.addWidget(self.meter)
        m.addWidget(label(tr("La barre verte a-t-elle bougé quand vous avez parlé ?")))
        m.addStretch(1)
        self.mic_yes, self.mic_no = self._yes_no(m, tr)
        self.mic_yes.clicked.connect(lambda: self._mic_result(True))
        self.mic_no.clicked.connect(lambda: self._mic_result(False))

        failed, f = _page(0)
        self.failed_text = label("", "bigQuestion")
        f.addWidget(self.failed_text)
        f.addStretch(1)
        row = QHBoxLayout()
        self.retry = button(tr("Réessayer"))
        self.touch_only = button(tr("Continuer en tactile seulement"), "primary")
        row.addWidget(self.retry)
        row.addWidget(self.touch_only)
        f.addLayout(row)
        self.retry.clicked.connect(self.start)
        self.touch_only.clicked.connect(self._continue_touch_only)

        for page in (audio, mic, failed):
            self.steps.addWidget(page)
        self._audio_page, self._mic_page, self._failed_page = audio, mic, failed

    @staticmethod
    def _yes_no(layout: QVBoxLayout, tr: Translator) -> tuple[QPushButton, QPushButton]:
        row = QHBoxLayout()
        yes, no = button(tr("Oui"), "primary"), button(tr("Non"))
        for b in (yes, no):
            b.setMinimumHeight(110)
            row.addWidget(b)
        layout.addLayout(row)
        return yes, no

    def start(self) -> None:
        """Show the first check step (and play the test message)."""
        self._audio_ok = None
        self._failed_audio = False
        if self._vm.needs_audio_check:
            self.steps.setCurrentWidget(self._audio_page)
            self._vm.play_check_message()
        else:
            self._show_mic()

    def _show_mic(self) -> None:
        self.meter.peak = 0.0
        self.steps.setCurrentWidget(self._mic_page)
        self._vm.play_microphone_instruction()

    def _audio_result(self, ok: bool) -> None:
        self._audio_ok = ok
        if not ok:
            self._failed_audio = True
            self.failed_text.setText(
                self._tr(
                    "Le son ne fonctionne pas. Vous pouvez réessayer, ou continuer en touchant l'écran, sans le son."
                )
            )
            self.steps.setCurrentWidget(self._failed_page)
        elif self._vm.needs_microphone_check:
            self._show_mic()
        else:
            self._vm.record_check(audio_ok=True, microphone_ok=None)

    def _mic_result(self, ok: bool) -> None:
        if ok:
            self._vm.record_check(audio_ok=self._audio_ok, microphone_ok=True)
            return
        self.failed_text.setText(
            self._tr("Le microphone ne vous entend pas. Vous pouvez réessayer, ou continuer en touchant l'écran.")
        )
        self.steps.setCurrentWidget(self._failed_page)

    def _continue_touch_only(self) -> None:
        mic_ok = None if self._failed_audio or not self._vm.needs_microphone_check else False
        self._vm.record_check(audio_ok=self._audio_ok, microphone_ok=mic_ok, switch_to_touch=True)


class SessionView(QStackedWidget):
    """All screens of one session; shows the one the view model publishes."""

    nurse_requested = Signal()

    def __init__(self, vm: SessionViewModel, prefs: theme.DisplayPrefs, parent: QWidget | None = None) -> None:  # noqa: PLR0915 - the screen's widgets laid out top to bottom, in one place
        super().__init__(parent)
        self.vm = vm
        inst = vm.session.instrument
        self._tr = tr = translator(inst.language)
        self.check = CheckView(vm, prefs)

        self.intro, i = _page()
        i.addWidget(PatientToolbar(prefs, audio=vm.audio, tr=tr))
        i.addWidget(label(inst.info.title, "title"))
        intro_text = label(inst.texts.introduction, "introText")
        scroller = QScrollArea()  # a safety net: at the largest size the text scrolls, it is never cut
        scroller.setWidgetResizable(True)
        scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroller.setWidget(intro_text)
        i.addWidget(scroller, 1)
        row = QHBoxLayout()
        self.intro_repeat = button("↻  " + tr("Répéter"))
        self.intro_repeat.clicked.connect(vm.play_screen_prompt)
        self.intro_start = button(tr("Commencer le questionnaire") + "  ▶", "primary")
        self.intro_start.setMinimumHeight(100)
        self.intro_start.clicked.connect(vm.begin_items)
        row.addWidget(self.intro_repeat)
        row.addWidget(self.intro_start, 1)
        i.addLayout(row)

        self.items = ItemView(vm, prefs)

        self.review, r = _page()
        r.addWidget(PatientToolbar(prefs, audio=vm.audio, tr=tr))
        self.review_text = label("", "itemText")
        r.addWidget(self.review_text, 1)
        self.review_yes = button(tr("Oui, revenir à ces questions"), "primary")
        self.review_no = button(tr("Non, terminer le questionnaire"))
        self.review_back = button("◀  " + tr("Retour"))
        for b in (self.review_yes, self.review_no):
            b.setMinimumHeight(100)
            r.addWidget(b)
        r.addWidget(self.review_back, 0, Qt.AlignmentFlag.AlignLeft)
        self.review_yes.clicked.connect(vm.accept_review)
        self.review_no.clicked.connect(vm.decline_review)
        self.review_back.clicked.connect(vm.back)

        self.pause = PauseView(vm, tr)

        self.end, e = _page()
        self.end_text = label("", "title")
        self.end_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        e.addStretch(1)
        e.addWidget(self.end_text)
        e.addStretch(1)
        self.end_nurse = button(tr("Espace soignant (code)"), "discreet")
        self.end_nurse.clicked.connect(self.nurse_requested)
        e.addWidget(self.end_nurse, 0, Qt.AlignmentFlag.AlignRight)

        self._pages = {
            ScreenKind.CHECK: self.check,
            ScreenKind.INTRODUCTION: self.intro,
            ScreenKind.ITEM: self.items,
            ScreenKind.REVIEW: self.review,
            ScreenKind.PAUSED: self.pause,
            ScreenKind.END: self.end,
        }
        for page in self._pages.values():
            self.addWidget(page)
        vm.screen_changed.connect(self.show_state)
        self.show_state(vm.screen, first=True)

    def show_state(self, state: ScreenState, first: bool = False) -> None:
        previous = self.currentWidget()
        page = self._pages[state.kind]
        if state.kind is ScreenKind.ITEM:
            self.items.show_state(state)
        elif state.kind is ScreenKind.REVIEW:
            self.review_text.setText(review_text(self.vm.session.instrument, state.unanswered))
        elif state.kind is ScreenKind.END:
            self.end_text.setText(self._tr(ABANDONED_TEXT if state.abandoned else END_TEXT))
        self.intro_repeat.setVisible(self.vm.audio_enabled)
        self.setCurrentWidget(page)
        if state.kind is ScreenKind.CHECK and (first or previous is not page):
            self.check.start()

    def start(self) -> None:
        """Called once shown: read the first screen aloud."""
        if self.vm.screen.kind is not ScreenKind.CHECK:
            self.vm.play_screen_prompt()


class PauseView(QWidget):
    """Hides the item and its answers; a touch anywhere resumes."""

    def __init__(self, vm: SessionViewModel, tr: Translator) -> None:
        super().__init__()
        self.setProperty("screen", True)
        self._vm = vm
        layout = QVBoxLayout(self)
        text = label(tr(PAUSED_TEXT), "pauseText")
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(text)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._vm.resume()
        event.accept()
