"""The sync on screen: the nurse's status panel, and the admin's enrollment page. Thin: all logic is in
:mod:`kiosk.viewmodels.sync_vm`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QFrame, QHBoxLayout, QLineEdit, QMessageBox, QVBoxLayout, QWidget

from kiosk.domain.clock import Clock
from kiosk.sync.config import Enrollment
from kiosk.sync.engine import SyncStatus
from kiosk.ui.item_screen import button
from kiosk.ui.widgets import label
from kiosk.viewmodels.sync_vm import SyncViewModel, nurse_lines


class SyncStatusPanel(QFrame):
    """On the nurse's start screen: sessions waiting, last successful sync, the last problem in plain French, the
    clock warning, parked sessions, and "Synchroniser maintenant" (disabled while the tablet is not enrolled)."""

    def __init__(self, vm: SyncViewModel, clock: Clock, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("syncPanel")
        self._vm = vm
        self._clock = clock
        # Fixed sizes, like the rest of the nurse's form (the text size is the patient's): the start form must still
        # fit an 800 px high screen when everything goes wrong at once.
        root = QVBoxLayout(self)
        root.setContentsMargins(14, 8, 14, 10)
        root.setSpacing(6)
        self.waiting = label("", "syncWaiting")
        root.addWidget(self.waiting)
        row = QHBoxLayout()
        self.last_success = label("", "syncLine")
        row.addWidget(self.last_success, 1)
        self.sync_now = button("Synchroniser maintenant", "choice")
        self.sync_now.clicked.connect(vm.sync_now)
        row.addWidget(self.sync_now, 0, Qt.AlignmentFlag.AlignVCenter)
        root.addLayout(row)
        self.problem = label("", "syncProblem")  # the last problem, then the clock warning
        self.parked = label("", "syncLine")
        for widget in (self.problem, self.parked):
            root.addWidget(widget)
        vm.status_changed.connect(self.show_status)
        vm.enrollment_changed.connect(lambda _e: self.show_status(vm.status))
        self.show_status(vm.status)

    def show_status(self, status: SyncStatus) -> None:
        enrolled = self._vm.enrollment is not None
        lines = nurse_lines(status, self._clock.now(), enrolled=enrolled)
        waiting, last, problem = lines.waiting, lines.last_success, lines.problem
        if self._vm.problem is not None:  # the sync could not start: its count is unknown
            waiting, last, problem = "Envoi au centre indisponible", "", self._vm.problem
        elif not self._vm.ready:
            waiting, last, problem = "Envoi au centre : vérification…", "", None
        self.waiting.setText(waiting)
        self.last_success.setText(last)
        self.last_success.setVisible(bool(last))
        trouble = "\n".join(text for text in (problem, lines.clock_warning) if text)
        for widget, text in ((self.problem, trouble), (self.parked, lines.parked)):
            widget.setText(text or "")
            widget.setVisible(bool(text))
        self.sync_now.setEnabled(self._vm.ready and enrolled and not status.running)
        self.sync_now.setToolTip("" if enrolled else "Tablette non reliée au serveur du centre")


class EnrollmentPage(QWidget):
    """Admin ("Serveur du centre"): enroll with the centre (server URL + code, or the pasted QR text, the tablet's
    name, optionally the hospital's CA file), or see the link and forget it or enroll again."""

    back = Signal()

    def __init__(self, vm: SyncViewModel, parent: QWidget | None = None) -> None:  # noqa: PLR0915 - the screen's widgets laid out top to bottom, in one place
        super().__init__(parent)
        self.setProperty("screen", True)
        self._vm = vm
        root = QVBoxLayout(self)
        root.setContentsMargins(60, 20, 60, 30)
        root.setSpacing(12)
        root.addWidget(label("Serveur du centre", "title"))
        # Not enrolled (or enrolling again): the form.
        self.form_box = QWidget()
        form = QFormLayout(self.form_box)
        form.setContentsMargins(0, 0, 0, 0)
        form.setVerticalSpacing(14)
        self.server = QLineEdit()
        self.server.setPlaceholderText("https://qlq.hopital.fr")
        self.code = QLineEdit()
        self.code.setPlaceholderText("code, ou texte du QR code (qlq-enroll:…)")
        self.name = QLineEdit()
        self.name.setPlaceholderText("Tablette salle d'attente 1")
        self.ca_bundle = QLineEdit()
        self.ca_bundle.setPlaceholderText("facultatif : chemin du fichier .pem")
        for field, name in (
            (self.server, "Adresse du serveur"),
            (self.code, "Code d'enregistrement"),
            (self.name, "Nom de cette tablette"),
            (self.ca_bundle, "Certificat de l'hôpital"),
        ):
            field.setAccessibleName(name)
            form.addRow(label(name, wrap=False), field)
        root.addWidget(self.form_box)
        self.hint = label(
            "Le service informatique donne l'adresse et un code valable 24 h. Le texte du QR code "
            "peut être collé dans le champ du code : il contient l'adresse. Le certificat de "
            "l'hôpital (fichier PEM) n'est utile que si le service informatique le demande.",
            "caption",
        )
        root.addWidget(self.hint)
        # Enrolled: what the link is.
        self.details_box = QWidget()
        details = QFormLayout(self.details_box)
        details.setContentsMargins(0, 0, 0, 0)
        details.setVerticalSpacing(12)
        self.site = label("", wrap=False)
        self.device = label("", wrap=False)
        self.since = label("", wrap=False)
        self.url = label("", wrap=False)
        self.ca_used = label("")
        details.addRow(label("Site", "caption", wrap=False), self.site)
        details.addRow(label("Nom de la tablette", "caption", wrap=False), self.device)
        details.addRow(label("Enregistrée depuis", "caption", wrap=False), self.since)
        details.addRow(label("Serveur", "caption", wrap=False), self.url)
        details.addRow(label("Certificat", "caption", wrap=False), self.ca_used)
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
        vm.code_used.connect(self.code.clear)  # a one-time code that reached the server is spent: never kept
        vm.busy_changed.connect(self._busy)
        self.show_enrollment(vm.enrollment)

    def show_enrollment(self, enrollment: Enrollment | None) -> None:
        self.error.setVisible(False)
        enrolled = enrollment is not None
        self._show_parts(form=not enrolled, details=enrolled)
        if enrollment is not None:
            self.site.setText(enrollment.site)
            self.device.setText(enrollment.device_name)
            local = enrollment.enrolled_at.astimezone()
            self.since.setText(f"{local:%d/%m/%Y à %H:%M}")
            self.url.setText(enrollment.server_url)
            self.ca_used.setText(enrollment.ca_bundle or "autorités publiques (par défaut)")
            self.server.setText(enrollment.server_url)
            self.name.setText(enrollment.device_name)
            self.ca_bundle.setText(enrollment.ca_bundle or "")
        self.code.clear()

    def _show_parts(self, *, form: bool, details: bool) -> None:
        for widget in (self.form_box, self.hint, self.submit):
            widget.setVisible(form)
        self.details_box.setVisible(details)
        enrolled = self._vm.enrollment is not None
        self.forget.setVisible(enrolled)
        self.reenroll.setVisible(enrolled and not form)

    def _show_form(self) -> None:
        """ "Réenregistrer": the form, filled with the current link (a new code is needed)."""
        self.error.setVisible(False)
        self._show_parts(form=True, details=False)

    def _submit(self) -> None:
        self.error.setVisible(False)
        self._vm.enroll(self.server.text(), self.code.text(), self.name.text(), self.ca_bundle.text())

    def _failed(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(True)

    def _busy(self, busy: bool) -> None:
        for widget in (self.server, self.code, self.name, self.ca_bundle, self.forget, self.reenroll, self.back_button):
            widget.setEnabled(not busy)
        self.submit.setEnabled(not busy)
        self.submit.setText("Enregistrement…" if busy else "Enregistrer la tablette")

    def _confirm_forget(self) -> None:
        answer = QMessageBox.question(
            self,
            "Oublier ce serveur",
            "La tablette ne sera plus reliée au serveur du centre. Les questionnaires en attente restent sur la "
            "tablette et seront envoyés après un nouvel enregistrement. Continuer ?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self._vm.forget_server()
