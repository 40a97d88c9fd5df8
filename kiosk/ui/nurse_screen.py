"""The nurse start screen: patient details, mode, sound, language, consents, and "Commencer".

Also shows what the nurse must know before starting: an interrupted session to resume or close, the sending to the
centre (the :class:`~kiosk.ui.sync_panels.SyncStatusPanel`: how many questionnaires wait, the last successful
sending, the last problem, "Synchroniser maintenant"; without a sync — demo mode, tests — one line with the
count), and, if the database cannot be read, its French message (sessions are then refused). Validation messages
from the domain appear under their field. :meth:`reset` clears every field, so nothing of the previous patient
stays visible.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kiosk.domain.clock import Clock
from kiosk.domain.session import Mode
from kiosk.ui.item_screen import button
from kiosk.ui.widgets import DatePicker, label
from kiosk.viewmodels.kiosk_vm import KioskStatus, KioskViewModel
from kiosk.viewmodels.options import MODE_LABELS
from kiosk.viewmodels.start_form import StartForm, date_text

if TYPE_CHECKING:  # the sync is imported only when the kiosk has one (not in demo mode: httpx is slow to load)
    from kiosk.ui.sync_panels import SyncStatusPanel
    from kiosk.viewmodels.sync_vm import SyncViewModel

LANGUAGE_NAMES = {"fr": "Français", "en": "English"}


def pending_text(count: int) -> str:
    if count == 0:
        return "Aucun questionnaire en attente d'envoi."
    noun = "questionnaire" if count == 1 else "questionnaires"
    return f"{count} {noun} en attente d'envoi"


class NurseScreen(QWidget):
    settings_requested = Signal()

    def __init__(  # noqa: PLR0915 - the screen's widgets laid out top to bottom, in one place
        self,
        vm: KioskViewModel,
        clock: Clock,
        *,
        demo_pin: str | None = None,
        sync: SyncViewModel | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setProperty("screen", True)
        self._vm = vm
        self._clock = clock
        self._unfinished_id: str | None = None
        self._voice_reason: str | None = None  # why voice modes cannot be offered (French), from the voice check
        self._demo = bool(demo_pin)
        root = QVBoxLayout(self)
        root.setContentsMargins(40, 12, 40, 16)
        root.setSpacing(8)
        top = QHBoxLayout()
        top.addWidget(label("Nouvelle séance", "title", wrap=False), 1)
        self.pending = label("", "info")  # only without a sync panel: one place says how many are waiting
        top.addWidget(self.pending)
        self.pending.setVisible(sync is None)
        self.settings = button("⚙  Réglages (code)", "discreet")
        self.settings.clicked.connect(self.settings_requested)
        top.addWidget(self.settings)
        top.addSpacing(90)
        root.addLayout(top)
        self.corrupt = label("", "banner")
        self.demo = label(f"Mode démonstration — code soignant : {demo_pin}" if demo_pin else "", "info")
        self.demo.setVisible(bool(demo_pin))
        root.addWidget(self.corrupt)
        root.addWidget(self.demo)
        resume_row = QHBoxLayout()
        self.resume_text = label("", "info")
        self.resume = button("Reprendre", "choicePrimary")
        self.close_unfinished = button("Clore (abandon)", "choice")
        resume_row.addWidget(self.resume_text, 1)
        resume_row.addWidget(self.resume)
        resume_row.addWidget(self.close_unfinished)
        self.resume_box = QWidget()
        self.resume_box.setLayout(resume_row)
        root.addWidget(self.resume_box)

        columns = QHBoxLayout()
        columns.setSpacing(40)
        # The form and the sync panel scroll when they do not fit (an interrupted session, every sync line and the
        # largest text at once): nothing is ever cut; when they fit, the scroll area is invisible.
        form_body = QWidget()
        form_body.setObjectName("nurseFormBody")
        left, right = QGridLayout(form_body), QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        right.setSpacing(10)
        self.form_scroll = QScrollArea()
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.form_scroll.setWidget(form_body)
        self.form_scroll.setStyleSheet("QScrollArea, QWidget#nurseFormBody { background: transparent; }")
        columns.addWidget(self.form_scroll, 3)
        columns.addLayout(right, 2)
        root.addLayout(columns, 1)
        self.errors: dict[str, QLabel] = {}
        year = clock.today().year
        self.initials = QLineEdit()
        self.initials.setPlaceholderText("ex. J D")
        self.initials.setMaxLength(12)
        self.birth = DatePicker(first_year=year - 120, last_year=year - 18)
        self.session_date = DatePicker(first_year=year - 1, last_year=year, allow_empty=False)
        self.consent_answers = QCheckBox("Le patient accepte le traitement\nde ses réponses au questionnaire")
        self.consent_voice = QCheckBox(
            "Le patient accepte l'envoi de sa voix à la\nreconnaissance vocale en ligne (modes vocaux)"
        )
        for cb in (self.consent_answers, self.consent_voice):
            cb.setMinimumHeight(52)
        left.setVerticalSpacing(6)
        left.setHorizontalSpacing(16)
        row = 0
        for title, widget, key in (
            ("Initiales", self.initials, "initials"),
            ("Naissance", self.birth, "birth_date"),
            ("Séance", self.session_date, "session_date"),
            ("", self.consent_answers, "consent_answers"),
            ("", self.consent_voice, "consent_voice"),
        ):
            if title:
                left.addWidget(label(title, wrap=False), row, 0)
                left.addWidget(widget, row, 1)
            else:
                left.addWidget(widget, row, 0, 1, 2)
            error = label("", "fieldError")
            error.hide()
            self.errors[key] = error
            left.addWidget(error, row + 1, 0 if not title else 1, 1, 1 if title else 2)
            row += 2
        left.setColumnStretch(1, 1)
        left.setRowStretch(row, 1)
        self.sync_panel: SyncStatusPanel | None = None
        if sync is not None:
            from kiosk.ui.sync_panels import SyncStatusPanel as Panel

            self.sync_panel = Panel(sync, clock)
            left.addWidget(self.sync_panel, row + 1, 0, 1, 2)

        right.addWidget(label("Mode de réponse", wrap=False))
        self.mode_group = QButtonGroup(self)
        self.mode_buttons: dict[Mode, QPushButton] = {}
        for mode in (Mode.VOICE_CONTINUOUS, Mode.VOICE_ON_DEMAND, Mode.TOUCH):
            b = button(MODE_LABELS[mode], "choice")
            b.setCheckable(True)
            self.mode_group.addButton(b)
            self.mode_buttons[mode] = b
            right.addWidget(b)
        self.voice_unavailable = label("", "info")
        self.voice_unavailable.hide()
        right.addWidget(self.voice_unavailable)
        self.errors["mode"] = label("", "fieldError")
        right.addWidget(self.errors["mode"])
        self.audio = QCheckBox("Lire les questions\nà voix haute")
        self.audio.setMinimumHeight(52)
        right.addWidget(self.audio)
        lang_row = QHBoxLayout()
        lang_row.addWidget(label("Langue", wrap=False))
        self.language = QComboBox()
        lang_row.addWidget(self.language, 1)
        right.addLayout(lang_row)
        self.errors["language"] = label("", "fieldError")
        right.addWidget(self.errors["language"])
        right.addStretch(1)
        self.message = label("", "fieldError")
        self.message.hide()
        right.addWidget(self.message)
        self.start = button("Commencer  ▶", "primary")
        self.start.setMinimumHeight(84)
        right.addWidget(self.start)

        self.consent_voice.toggled.connect(self._update_voice_modes)
        self.start.clicked.connect(self.submit)
        self.resume.clicked.connect(lambda: self._unfinished_id and vm.resume(self._unfinished_id))
        self.close_unfinished.clicked.connect(lambda: self._unfinished_id and vm.close_unfinished(self._unfinished_id))
        vm.status_changed.connect(self.show_status)
        vm.form_errors.connect(self.show_errors)
        vm.message.connect(self._show_message)
        self.reset()

    # ------------------------------------------------------------------ form
    def reset(self) -> None:
        """Empty every field: the next patient sees nothing of the previous one."""
        self.initials.clear()
        self.birth.set_date(None)
        self.session_date.set_date(self._clock.today())
        self.consent_answers.setChecked(False)
        self.consent_voice.setChecked(False)
        self.mode_buttons[self._vm.settings.default_mode].setChecked(True)
        self.audio.setChecked(True)
        proposed = self.language.findData(self._vm.settings.default_language)
        if proposed >= 0:
            self.language.setCurrentIndex(proposed)
        self._update_voice_modes()
        self.show_errors({})
        self.message.hide()

    def is_blank(self) -> bool:
        """Nothing of a patient typed in yet (what :meth:`reset` leaves): the kiosk may restart for an update."""
        return (
            not self.initials.text().strip()
            and self.birth.parts() == (None, None, None)
            and not self.consent_answers.isChecked()
            and not self.consent_voice.isChecked()
        )

    def _update_voice_modes(self) -> None:
        """Voice modes need a working microphone and recogniser (else shown unavailable, with the reason) and
        the patient's consent to cloud voice processing; otherwise touch only."""
        allowed = self.consent_voice.isChecked() and self._voice_reason is None
        for mode, b in self.mode_buttons.items():
            if mode.is_voice:
                b.setEnabled(allowed)
                b.setToolTip(self._voice_reason or "")
        if not allowed and self.selected_mode().is_voice:
            self.mode_buttons[Mode.TOUCH].setChecked(True)

    def selected_mode(self) -> Mode:
        for mode, b in self.mode_buttons.items():
            if b.isChecked():
                return mode
        return Mode.TOUCH

    def form(self) -> StartForm:
        return StartForm(
            initials=self.initials.text(),
            birth_date=date_text(*self.birth.parts()),
            session_date=date_text(*self.session_date.parts()),
            mode=self.selected_mode(),
            audio_enabled=self.audio.isChecked(),
            language=self.language.currentData() or "fr",
            consent_answers=self.consent_answers.isChecked(),
            consent_voice=self.consent_voice.isChecked(),
        )

    def submit(self) -> None:
        self.message.hide()
        self._vm.start_session(self.form())

    def show_errors(self, errors: dict[str, str]) -> None:
        for key, widget in self.errors.items():
            text = errors.get(key, "")
            widget.setText(text)
            widget.setVisible(bool(text))

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()

    # ------------------------------------------------------------------ status
    def show_status(self, status: KioskStatus) -> None:
        self._voice_reason = status.voice_reason
        self.voice_unavailable.setText(
            f"Modes vocaux indisponibles : {status.voice_reason}" if status.voice_reason else ""
        )
        self.voice_unavailable.setVisible(status.voice_reason is not None)
        self._update_voice_modes()
        self.corrupt.setText(status.corrupt_message or "")
        self.corrupt.setVisible(bool(status.corrupt_message))
        if self.language.count() != len(status.languages):
            self.language.clear()
            for lang in status.languages:
                self.language.addItem(LANGUAGE_NAMES.get(lang, lang), lang)
            proposed = self.language.findData(self._vm.settings.default_language)
            self.language.setCurrentIndex(proposed if proposed >= 0 else max(self.language.findData("fr"), 0))
        demo = " — démonstration : rien n'est envoyé" if self._demo else ""
        self.pending.setText(pending_text(status.pending) + demo)
        self.pending.setVisible(status.corrupt_message is None and self.sync_panel is None)
        entry = status.unfinished[0] if status.unfinished else None
        self._unfinished_id = entry.session_id if entry else None
        self.resume_box.setVisible(entry is not None)
        if entry is not None:
            where = (
                f"question {entry.next_item} sur {entry.item_count}" if entry.next_item else "toutes les questions vues"
            )
            self.resume_text.setText(f"Reprendre la session {entry.initials} — {where}")
        self.start.setEnabled(self._vm.can_start and entry is None)
        self.start.setToolTip("Reprenez ou clôturez d'abord la session interrompue." if entry else "")
