"""The sync as the nurse and admin screens see it (QtCore only).

:class:`SyncViewModel` owns the background :class:`~kiosk.sync.worker.SyncWorker` (built by a factory, rebuilt
after an enrollment), relays its status to the GUI thread as a signal, and runs enrollment off the GUI thread.
Hooks for the kiosk: :meth:`session_finished` after each finished session, :meth:`network_changed` from a
:class:`NetworkWatch`, :meth:`sync_now` for "Synchroniser maintenant".

:func:`nurse_lines` turns a :class:`~kiosk.sync.engine.SyncStatus` into the French lines the nurse reads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from PySide6.QtCore import QObject, Signal, Slot

from kiosk.secrets.interface import SecretStore, SecretStoreError
from kiosk.storage.interface import StorageError
from kiosk.sync import messages
from kiosk.sync.config import Enrollment, SettingsStore, load_enrollment
from kiosk.sync.engine import SyncStatus
from kiosk.sync.enroll import EnrollmentError, enroll, forget, parse_enrollment_text
from kiosk.sync.transport import Transport
from kiosk.sync.worker import SyncWorker

log = logging.getLogger(__name__)

_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre")


def _when(moment: datetime, now: datetime) -> str:
    local, today = moment.astimezone(), now.astimezone()
    if local.date() == today.date():
        return f"aujourd'hui à {local:%H:%M}"
    if local.date() == (today - timedelta(days=1)).date():
        return f"hier à {local:%H:%M}"
    return f"le {local.day} {_MONTHS[local.month - 1]} {local.year} à {local:%H:%M}"


@dataclass(frozen=True)
class NurseSyncLines:
    waiting: str
    last_success: str
    problem: str | None  # the last error, in plain French (what happened, what to do)
    clock_warning: str | None
    parked: str | None


def nurse_lines(status: SyncStatus, now: datetime, *, enrolled: bool = True) -> NurseSyncLines:
    pending = status.counts.pending
    waiting = ("Aucun questionnaire en attente d'envoi" if pending == 0 else
               f"{pending} questionnaire{'s' if pending > 1 else ''} en attente d'envoi")
    if status.running:
        waiting += " — envoi en cours…"
    last = (f"Dernier envoi réussi : {_when(status.last_success_at, now)}" if status.last_success_at else
            "Aucun envoi réussi depuis le démarrage de la tablette")
    parked = None
    if status.counts.rejected:
        n = status.counts.rejected
        parked = (f"{n} questionnaire{'s' if n > 1 else ''} refusé{'s' if n > 1 else ''} par le serveur, "
                  f"conservé{'s' if n > 1 else ''} sur la tablette (voir Administration)")
    problem = status.last_error
    if not enrolled and problem is None:
        problem = messages.NOT_ENROLLED
    return NurseSyncLines(waiting=waiting, last_success=last, problem=problem, clock_warning=status.clock_warning,
                          parked=parked)


class SyncViewModel(QObject):
    status_changed = Signal(object)  # SyncStatus (always delivered on the GUI thread)
    enrollment_changed = Signal(object)  # Enrollment | None
    enroll_failed = Signal(str)  # French message
    busy_changed = Signal(bool)

    def __init__(self, *, settings: SettingsStore, secrets: SecretStore,
                 worker_factory: Callable[[Callable[[SyncStatus], None]], SyncWorker],
                 transport_for: Callable[[str], Transport], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._secrets = secrets
        self._factory = worker_factory
        self._transport_for = transport_for
        self._worker: SyncWorker | None = None
        self._enrollment: Enrollment | None = None
        self.status = SyncStatus()
        self._internal.connect(self._deliver)
        self._enrolled.connect(self._on_enrolled)
        self._failed.connect(self._on_failed)

    # Emitted from worker threads; Qt queues them to this object's (the GUI) thread.
    _internal = Signal(object)  # SyncStatus
    _enrolled = Signal(object)  # Enrollment
    _failed = Signal(str)

    @property
    def enrollment(self) -> Enrollment | None:
        return self._enrollment

    def start(self) -> None:
        """Load the enrollment and start the worker (call once, after the screens are connected)."""
        self._enrollment = load_enrollment(self._settings)
        self.enrollment_changed.emit(self._enrollment)
        self._restart_worker()

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.stop()
            self._worker = None

    def _restart_worker(self) -> None:
        self.stop()
        self._worker = self._factory(self._internal.emit)
        self._worker.start()

    @Slot(object)
    def _deliver(self, status: SyncStatus) -> None:
        self.status = status
        self.status_changed.emit(status)

    # ---------------------------------------------------------------- wake-ups
    @Slot()
    def sync_now(self) -> None:
        if self._worker is not None:
            self._worker.sync_now()

    @Slot()
    def session_finished(self) -> None:
        if self._worker is not None:
            self._worker.wake()

    @Slot()
    def network_changed(self) -> None:
        if self._worker is not None:
            self._worker.wake()

    # ---------------------------------------------------------------- enrollment (admin screen)
    def enroll(self, server_url: str, code_or_qr: str, device_name: str, *, allow_http: bool = False) -> None:
        """Enroll off the GUI thread; ``enrollment_changed`` or ``enroll_failed`` follows."""
        try:
            given = parse_enrollment_text(code_or_qr, server_url or None)
        except EnrollmentError as exc:
            self.enroll_failed.emit(exc.nurse_message)
            return
        if not given.server_url:
            self.enroll_failed.emit("Indiquez l'adresse du serveur du centre.")
            return
        if not device_name.strip():
            self.enroll_failed.emit("Donnez un nom à cette tablette (par exemple « Tablette salle d'attente 2 »).")
            return
        self.busy_changed.emit(True)
        url, code = given.server_url, given.code

        def work() -> None:
            try:
                done = enroll(server_url=url, code=code, device_name=device_name, settings=self._settings,
                              secrets=self._secrets, transport_for=self._transport_for, allow_http=allow_http)
            except (EnrollmentError, SecretStoreError, StorageError) as exc:
                self._failed.emit(exc.nurse_message)
                return
            self._enrolled.emit(done)

        threading.Thread(target=work, name="qlq-enroll", daemon=True).start()

    def forget_server(self) -> None:
        """"Oublier ce serveur" (the screen asks for confirmation first). Queued sessions stay on the tablet."""
        try:
            forget(settings=self._settings, secrets=self._secrets)
        except (SecretStoreError, StorageError) as exc:
            self.enroll_failed.emit(exc.nurse_message)
            return
        self._enrollment = None
        self.enrollment_changed.emit(None)
        self._restart_worker()

    @Slot(object)
    def _on_enrolled(self, enrollment: Enrollment) -> None:
        self._enrollment = enrollment
        self.busy_changed.emit(False)
        self.enrollment_changed.emit(enrollment)
        self._restart_worker()
        self.sync_now()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.busy_changed.emit(False)
        self.enroll_failed.emit(message)

