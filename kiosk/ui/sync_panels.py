"""The sync on screen: the nurse's status panel, and the admin's enrollment page. Thin: all logic is in
:mod:`kiosk.viewmodels.sync_vm`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLineEdit, QMessageBox, QVBoxLayout, QWidget

from kiosk.domain.clock import Clock
from kiosk.sync.config import Enrollment
from kiosk.sync.engine import SyncStatus
from kiosk.ui.item_screen import button
from kiosk.ui.widgets import label
from kiosk.viewmodels.sync_vm import SyncViewModel, nurse_lines


class SyncStatusPanel(QWidget):
    """Sessions waiting, last successful sync, the last problem in plain French, "Synchroniser maintenant"."""

    def __init__(self, vm: SyncViewModel, clock: Clock, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vm = vm
        self._clock = clock
        root = QVBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        column = QVBoxLayout()
        self.waiting = label("", "sectionHeader")
        self.last_success = label("", "caption")
        column.addWidget(self.waiting)
        column.addWidget(self.last_success)
        row.addLayout(column, 1)
        self.sync_now = button("Synchroniser maintenant", "choice")
        self.sync_now.clicked.connect(vm.sync_now)
        row.addWidget(self.sync_now, 0, Qt.AlignmentFlag.AlignTop)
        root.addLayout(row)
        self.problem = label("", "banner")
        self.clock_warning = label("", "banner")
        self.parked = label("", "info")
        for widget in (self.problem, self.clock_warning, self.parked):
            root.addWidget(widget)
        vm.status_changed.connect(self.show_status)
        vm.enrollment_changed.connect(lambda _e: self.show_status(vm.status))
        self.show_status(vm.status)

    def show_status(self, status: SyncStatus) -> None:
        lines = nurse_lines(status, self._clock.now(), enrolled=self._vm.enrollment is not None)
        self.waiting.setText(lines.waiting)
        self.last_success.setText(lines.last_success)
        for widget, text in ((self.problem, lines.problem), (self.clock_warning, lines.clock_warning),
                             (self.parked, lines.parked)):
            widget.setText(text or "")
            widget.setVisible(bool(text))
        self.sync_now.setEnabled(not status.running and self._vm.enrollment is not None)


class EnrollmentPage(QWidget):
    """Admin: enroll with the centre (server URL + code, or the pasted QR text), or see and manage the link."""

    back = Signal()

    def __init__(self, vm: SyncViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("screen", True)
        self._vm = vm
        root = QVBoxLayout(self)
        root.setContentsMargins(60, 20, 60, 30)
        root.addWidget(label("Serveur du centre", "title"))
        # Not enrolled: the form.
        self.form_box = QWidget()
        form = QFormLayout(self.form_box)
        form.setVerticalSpacing(14)
        self.server = QLineEdit()
        self.server.setPlaceholderText("https://qlq.hopital.fr")
        self.code = QLineEdit()
        self.code.setPlaceholderText("code à usage unique, ou texte du QR code (qlq-enroll:…)")
        self.name = QLineEdit()
        self.name.setPlaceholderText("Tablette salle d'attente 1")
        form.addRow(label("Adresse du serveur", wrap=False), self.server)
        form.addRow(label("Code d'enregistrement", wrap=False), self.code)
        form.addRow(label("Nom de cette tablette", wrap=False), self.name)
        root.addWidget(self.form_box)
        self.hint = label("Le service informatique donne l'adresse et un code valable 24 h (qlq-server enroll). "
                          "Le texte du QR code peut être collé dans le champ du code : il contient l'adresse.",
                          "caption")
        root.addWidget(self.hint)
        # Enrolled: what the link is.
        self.details_box = QWidget()
        details = QFormLayout(self.details_box)
        details.setVerticalSpacing(12)
        self.site = label("", wrap=False)
        self.device = label("", wrap=False)
        self.since = label("", wrap=False)
        self.url = label("", wrap=False)
        details.addRow(label("Site", "caption", wrap=False), self.site)
        details.addRow(label("Nom de la tablette", "caption", wrap=False), self.device)
        details.addRow(label("Enregistrée depuis", "caption", wrap=False), self.since)
        details.addRow(label("Serveur", "caption", wrap=False), self.url)
        root.addWidget(self.details_box)
        self.error = label("", "banner")
        root.addWidget(self.error)
        root.addStretch(1)
        row = QHBoxLayout()
        self.back_button = button("◀  Retour")
        self.forget = button("Oublier ce serveur")
        self.reenroll = button("Réenregistrer")
        self.submit = button("Enregistrer la tablette", "primary")
        row.addWidget(self.back_button)
        row.addStretch(1)
        for widget in (self.forget, self.reenroll, self.submit):
            row.addWidget(widget)
        root.addLayout(row)
        self.back_button.clicked.connect(self.back)
        self.submit.clicked.connect(self._submit)
        self.reenroll.clicked.connect(self._show_form)
        self.forget.clicked.connect(self._confirm_forget)
        vm.enrollment_changed.connect(self.show_enrollment)
        vm.enroll_failed.connect(self._failed)
        vm.busy_changed.connect(self._busy)
        self._reenrolling = False
        self.show_enrollment(vm.enrollment)

    def show_enrollment(self, enrollment: Enrollment | None) -> None:
        self._reenrolling = False
        self.error.setVisible(False)
        enrolled = enrollment is not None
        self.form_box.setVisible(not enrolled)
        self.hint.setVisible(not enrolled)
        self.submit.setVisible(not enrolled)
        self.details_box.setVisible(enrolled)
        self.forget.setVisible(enrolled)
        self.reenroll.setVisible(enrolled)
        if enrollment is not None:
            self.site.setText(enrollment.site)
            self.device.setText(enrollment.device_name)
            local = enrollment.enrolled_at.astimezone()
            self.since.setText(f"{local:%d/%m/%Y à %H:%M}")
            self.url.setText(enrollment.server_url)
            self.server.setText(enrollment.server_url)
            self.name.setText(enrollment.device_name)
        self.code.clear()

    def _show_form(self) -> None:
        self._reenrolling = True
        self.form_box.setVisible(True)
        self.hint.setVisible(True)
        self.submit.setVisible(True)
        self.reenroll.setVisible(False)

    def _submit(self) -> None:
        self.error.setVisible(False)
        self._vm.enroll(self.server.text(), self.code.text(), self.name.text())

    def _failed(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(True)

    def _busy(self, busy: bool) -> None:
        self.submit.setEnabled(not busy)
        self.submit.setText("Enregistrement…" if busy else "Enregistrer la tablette")

    def _confirm_forget(self) -> None:
        answer = QMessageBox.question(
            self, "Oublier ce serveur",
            "La tablette ne sera plus reliée au serveur du centre. Les questionnaires en attente restent sur la "
            "tablette et seront envoyés après un nouvel enregistrement. Continuer ?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        if answer == QMessageBox.StandardButton.Yes:
            self._vm.forget_server()
