"""Behind the nurse PIN: the clinician summary of the finished session, and the admin screen.

The summary shows the 15 scale scores and the summary score as a table and as a bar chart, grouped so that
the direction is plain (functional and global health: higher is better; symptoms: higher is worse), the
items left missing and how many answers were given by voice. "Nouveau patient" leaves it for good.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk.domain.session import Mode
from kiosk.ui import theme
from kiosk.ui.chart import GROUP_COLOURS, ScoreChart
from kiosk.ui.item_screen import button
from kiosk.ui.widgets import label
from kiosk.viewmodels.options import (
    MODE_LABELS,
    SPEECH_RATE_NAMES,
    SPEECH_RATES,
    START_TIMEOUT_MS,
    TEXT_SIZE_NAMES,
    TRAILING_SILENCE_MS,
    KioskSettings,
)
from kiosk.viewmodels.summary import GROUP_ORDER, GROUP_TITLES, ClinicianSummary

DEFAULT_MICROPHONE = "Micro par défaut de la tablette"
MISSING_MICROPHONE = "{name} (non branché)"
OUTCOME_TEXT = {"completed": "questionnaire terminé", "abandoned": "séance interrompue (abandon)"}


class SummaryPage(QWidget):
    new_patient = Signal()

    def __init__(self, summary: ClinicianSummary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("screen", True)
        root = QVBoxLayout(self)
        root.setContentsMargins(30, 16, 30, 16)
        root.setSpacing(8)
        top = QHBoxLayout()
        top.addWidget(label(f"Résumé clinique — {summary.initials}", "title"), 1)
        top.addWidget(label(OUTCOME_TEXT.get(summary.outcome, summary.outcome), "caption", wrap=False))
        top.addSpacing(100)
        root.addLayout(top)
        body = QHBoxLayout()
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Échelle", "Code", "Score"])
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        colours = theme.colors()
        for group in GROUP_ORDER:
            rows = summary.group(group)
            if not rows:
                continue
            self._add_row(GROUP_TITLES[group], "", "", title_colour=colours[GROUP_COLOURS[group]])
            for row in rows:
                self._add_row(row.name, row.code, row.display)
        body.addWidget(self.table, 5)
        self.chart = ScoreChart(summary)
        body.addWidget(self.chart, 4)
        root.addLayout(body, 1)
        bottom = QHBoxLayout()
        facts = QVBoxLayout()
        facts.addWidget(label(summary.missing_text))
        facts.addWidget(label(summary.voice_text))
        bottom.addLayout(facts, 1)
        self.new_patient_button = button("Nouveau patient  ▶", "primary")
        self.new_patient_button.clicked.connect(self.new_patient)
        bottom.addWidget(self.new_patient_button, 0, Qt.AlignmentFlag.AlignBottom)
        root.addLayout(bottom)

    def _add_row(self, name: str, code: str, score: str, title_colour: QColor | None = None) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        for column, text in enumerate((name, code, score)):
            cell = QTableWidgetItem(text)
            if column == 2:
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if title_colour is not None:
                font = cell.font()
                font.setBold(True)
                cell.setFont(font)
                cell.setForeground(title_colour)
            self.table.setItem(r, column, cell)


class AdminPage(QWidget):
    """Settings, pending count, "Serveur du centre" (when the kiosk has a sync), interrupting the running session,
    leaving the kiosk."""

    saved = Signal(object)  # KioskSettings
    back = Signal()
    exit_requested = Signal()
    abandon_requested = Signal()
    server_requested = Signal()
    update_check_requested = Signal()
    update_restart_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:  # noqa: PLR0915 - the screen's widgets laid out top to bottom, in one place
        super().__init__(parent)
        self.setProperty("screen", True)
        root = QVBoxLayout(self)
        root.setContentsMargins(60, 20, 60, 30)
        title_row = QHBoxLayout()
        title_row.addWidget(label("Réglages du kiosque", "title", wrap=False))
        title_row.addStretch(1)
        self.version = label("", "caption", wrap=False)  # "Kiosque QLQ-C30 version 0.1.0", always in view
        title_row.addWidget(self.version, 0, Qt.AlignmentFlag.AlignBottom)
        title_row.addSpacing(40)  # clear of the corner's "…" button
        root.addLayout(title_row)
        form = QFormLayout()
        form.setVerticalSpacing(10)
        self.inactivity = QSpinBox()
        self.inactivity.setRange(1, 60)
        self.inactivity.setSuffix(" min")
        self.abandon = QSpinBox()
        self.abandon.setRange(2, 240)
        self.abandon.setSuffix(" min")
        self.mode = QComboBox()
        for mode in (Mode.TOUCH, Mode.VOICE_ON_DEMAND, Mode.VOICE_CONTINUOUS):
            self.mode.addItem(MODE_LABELS[mode], mode)
        self.text_size = QComboBox()
        for index, name in enumerate(TEXT_SIZE_NAMES):
            self.text_size.addItem(name, index)
        idle_row = QHBoxLayout()  # pause and abandon on one row: the page must fit an 800 px high screen
        idle_row.addWidget(self.inactivity, 2)
        idle_row.addSpacing(12)
        idle_row.addWidget(label("abandon après", wrap=False))
        idle_row.addWidget(self.abandon, 2)
        self.inactivity.setAccessibleName("Pause après une inactivité de")
        self.abandon.setAccessibleName("Abandon après une inactivité de")
        form.addRow(label("Pause après une inactivité de", wrap=False), idle_row)
        form.addRow(label("Mode de réponse par défaut", wrap=False), self.mode)
        form.addRow(label("Taille du texte par défaut", wrap=False), self.text_size)
        self.speech_rate = QComboBox()
        for percent, name in zip(SPEECH_RATES, SPEECH_RATE_NAMES, strict=True):
            self.speech_rate.addItem(name, percent)
        self.volume = QSpinBox()
        self.volume.setRange(0, 100)
        self.volume.setSingleStep(10)
        self.volume.setSuffix(" %")
        voice_row = QHBoxLayout()  # one row: the page must fit an 800 px high screen
        voice_row.addWidget(self.speech_rate, 3)
        voice_row.addSpacing(12)
        voice_row.addWidget(label("volume", wrap=False))
        voice_row.addWidget(self.volume, 2)
        form.addRow(label("Vitesse de la voix", wrap=False), voice_row)
        self.microphone = QComboBox()
        self.microphone.setMinimumWidth(360)
        self.microphone.setAccessibleName("Microphone")
        form.addRow(label("Microphone", wrap=False), self.microphone)
        self.trailing_silence = QDoubleSpinBox()
        self.trailing_silence.setDecimals(1)
        self.trailing_silence.setSingleStep(0.1)
        self.trailing_silence.setRange(TRAILING_SILENCE_MS[0] / 1000, TRAILING_SILENCE_MS[1] / 1000)
        self.trailing_silence.setSuffix(" s")
        self.trailing_silence.setAccessibleName("Fin de la réponse après un silence de")
        self.start_timeout = QSpinBox()
        self.start_timeout.setRange(START_TIMEOUT_MS[0] // 1000, START_TIMEOUT_MS[1] // 1000)
        self.start_timeout.setSuffix(" s")
        self.start_timeout.setAccessibleName("Attente de la réponse")
        listen_row = QHBoxLayout()  # one row: the page must fit an 800 px high screen
        listen_row.addWidget(self.trailing_silence, 2)
        listen_row.addSpacing(12)
        listen_row.addWidget(label("attente de la réponse", wrap=False))
        listen_row.addWidget(self.start_timeout, 2)
        form.addRow(label("Fin de réponse après un silence de", wrap=False), listen_row)
        self.voice_reason = label("", "fieldError")
        self.voice_reason.hide()
        form.addRow(self.voice_reason)
        # The settings scroll when they do not fit (the largest text size on an 800 px high screen); the
        # buttons below stay in view. Without it this page would make the whole window taller than the screen.
        body = QWidget()
        body.setObjectName("adminBody")
        column = QVBoxLayout(body)
        column.setContentsMargins(0, 0, 0, 16)  # the last line clear of the scroll area's edge
        column.addLayout(form)
        self.pending = label("", "info")
        column.addWidget(self.pending)
        self.provisioning_problems = label("", "fieldError")  # IT's file: each refused field, named
        self.provisioning_problems.hide()
        column.addWidget(self.provisioning_problems)
        self.about = label("", "caption")  # where IT's provisioning file is and what it sets (below the actions)
        self.update_line = label("", "info")  # updates: hidden when the kiosk has none (demo mode)
        self.update_line.hide()
        column.addWidget(self.update_line)
        column.addStretch(1)
        actions = QHBoxLayout()
        self.server = button("Serveur du centre  ▶")
        self.server.setVisible(False)  # shown by set_server_available (not in demo mode: no server there)
        self.abandon_session = button("Interrompre la séance en cours")
        self.update_check = button("Rechercher une mise à jour")
        self.update_restart = button("Redémarrer sur la nouvelle version", "primary")
        self.update_check.hide()
        self.update_restart.hide()
        actions.addWidget(self.server)
        actions.addWidget(self.update_check)
        actions.addWidget(self.update_restart)
        actions.addWidget(self.abandon_session)
        actions.addStretch(1)
        column.addLayout(actions)
        column.addWidget(self.about)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        scroll.setStyleSheet("QScrollArea, QWidget#adminBody { background: transparent; }")
        root.addWidget(scroll, 1)
        row = QHBoxLayout()
        self.back_button = button("◀  Retour")
        self.save_button = button("Enregistrer", "primary")
        self.exit_button = button("Quitter le kiosque")
        row.addWidget(self.back_button)
        row.addStretch(1)
        row.addWidget(self.exit_button)
        row.addWidget(self.save_button)
        root.addLayout(row)
        self.back_button.clicked.connect(self.back)
        self.exit_button.clicked.connect(self.exit_requested)
        self.abandon_session.clicked.connect(self.abandon_requested)
        self.server.clicked.connect(self.server_requested)
        self.update_check.clicked.connect(self.update_check_requested)
        self.update_restart.clicked.connect(self.update_restart_requested)
        self.save_button.clicked.connect(self._save)
        self._settings = KioskSettings()

    def set_server_available(self, available: bool) -> None:
        self.server.setVisible(available)

    def show_update(self, line: str, *, can_check: bool, can_restart: bool) -> None:
        """The updates line (version offered, downloaded, installed, refused and why) and its two buttons;
        restarting is offered only once a verified version is installed and no session is running."""
        self.update_line.setText(line)
        self.update_line.setVisible(bool(line))
        self.update_check.setVisible(can_check)
        self.update_restart.setVisible(can_restart)

    def show_settings(
        self,
        settings: KioskSettings,
        pending_text: str,
        session_running: bool,
        microphones: tuple[str, ...] = (),
        voice_reason: str | None = None,
        *,
        version: str = "",
        provisioning: str = "",
        provisioning_problems: tuple[str, ...] = (),
    ) -> None:
        self._settings = settings
        self.version.setText(version)
        self.about.setText(provisioning)
        self.about.setVisible(bool(provisioning))
        self.provisioning_problems.setText("\n".join(provisioning_problems))
        self.provisioning_problems.setVisible(bool(provisioning_problems))
        self.show_voice(microphones, voice_reason, selected=settings.microphone)
        self.trailing_silence.setValue(settings.voice_trailing_silence_ms / 1000)
        self.start_timeout.setValue(settings.voice_start_timeout_ms // 1000)
        self.inactivity.setValue(max(1, settings.inactivity_seconds // 60))
        self.abandon.setValue(max(2, settings.abandon_seconds // 60))
        self.mode.setCurrentIndex(max(self.mode.findData(settings.default_mode), 0))
        self.text_size.setCurrentIndex(settings.default_text_size)
        self.speech_rate.setCurrentIndex(max(self.speech_rate.findData(settings.speech_rate_percent), 0))
        self.volume.setValue(settings.volume_percent)
        self.pending.setText(pending_text)
        self.abandon_session.setVisible(session_running)

    def show_voice(self, microphones: tuple[str, ...], reason: str | None, *, selected: str | None = None) -> None:
        """The microphone list (the default input first; a chosen one that is not plugged in stays, marked) and
        why voice modes are unavailable."""
        chosen = self.microphone.currentData() if selected is None else selected
        self.microphone.clear()
        self.microphone.addItem(DEFAULT_MICROPHONE, "")
        for name in microphones:
            self.microphone.addItem(name, name)
        if chosen and chosen not in microphones:
            self.microphone.addItem(MISSING_MICROPHONE.format(name=chosen), chosen)
        self.microphone.setCurrentIndex(max(self.microphone.findData(chosen or ""), 0))
        self.voice_reason.setText(f"Modes vocaux indisponibles : {reason}" if reason else "")
        self.voice_reason.setVisible(bool(reason))

    def _save(self) -> None:
        self.saved.emit(
            self._settings.with_changes(
                inactivity_seconds=self.inactivity.value() * 60,
                abandon_seconds=self.abandon.value() * 60,
                default_mode=self.mode.currentData(),
                default_text_size=self.text_size.currentData(),
                speech_rate_percent=self.speech_rate.currentData(),
                volume_percent=self.volume.value(),
                microphone=self.microphone.currentData() or "",
                voice_trailing_silence_ms=round(self.trailing_silence.value() * 1000),
                voice_start_timeout_ms=self.start_timeout.value() * 1000,
            )
        )
