"""The sync as the nurse and admin screens see it (QtCore only).

:class:`SyncViewModel` opens its :class:`~kiosk.sync.backend.SyncBackend` (own store, secret store) off the GUI
thread, owns the background :class:`~kiosk.sync.worker.SyncWorker` (built by the backend's factory, rebuilt after
an enrollment or a "forget"), relays its status to the GUI thread as a signal, and enrolls off the GUI thread.
Hooks for the kiosk: :meth:`session_finished` after each finished session, :meth:`network_changed` from
:func:`~kiosk.sync.network_watch.watch_network`, :meth:`sync_now` for "Synchroniser maintenant".

:func:`nurse_lines` turns a :class:`~kiosk.sync.engine.SyncStatus` into the French lines the nurse reads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from PySide6.QtCore import QObject, Signal, Slot

from kiosk.secrets.interface import SecretStoreError
from kiosk.storage.interface import StorageError
from kiosk.sync import messages
from kiosk.sync.backend import SyncBackend
from kiosk.sync.config import (
    CaBundleError,
    Enrollment,
    ServerUrlError,
    check_ca_bundle,
    check_server_url,
    load_enrollment,
)
from kiosk.sync.engine import SyncStatus
from kiosk.sync.enroll import EnrollmentError, enroll, forget, parse_enrollment_text
from kiosk.sync.worker import SyncWorker
from kiosk.viewmodels.provisioning import Provisioning, consume_enrollment_code

log = logging.getLogger(__name__)

_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def _when(moment: datetime, now: datetime) -> str:
    local, today = moment.astimezone(), now.astimezone()
    if local.date() == today.date():
        return f"aujourd'hui à {local:%H:%M}"
    if local.date() == (today - timedelta(days=1)).date():
        return f"hier à {local:%H:%M}"
    return f"le {local.day} {_MONTHS[local.month - 1]} {local.year} à {local:%H:%M}"


CANNOT_START = (
    "L'envoi au serveur du centre n'a pas pu démarrer sur cette tablette. Les questionnaires restent "
    "enregistrés sur la tablette. Prévenez le service informatique."
)


@dataclass(frozen=True)
class NurseSyncLines:
    waiting: str
    last_success: str
    problem: str | None  # the last error, in plain French (what happened, what to do)
    clock_warning: str | None
    parked: str | None


def nurse_lines(status: SyncStatus, now: datetime, *, enrolled: bool = True) -> NurseSyncLines:
    pending = status.counts.pending
    waiting = (
        "Aucun questionnaire en attente d'envoi"
        if pending == 0
        else f"{pending} questionnaire{'s' if pending > 1 else ''} en attente d'envoi"
    )
    if status.running:
        waiting += " — envoi en cours…"
    last = (
        f"Dernier envoi réussi : {_when(status.last_success_at, now)}"
        if status.last_success_at
        else "Aucun envoi réussi depuis le démarrage de la tablette"
    )
    parked = None
    if status.counts.rejected:
        n = status.counts.rejected
        parked = (
            f"{n} questionnaire{'s' if n > 1 else ''} refusé{'s' if n > 1 else ''} par le serveur, "
            f"conservé{'s' if n > 1 else ''} sur la tablette (voir Réglages, « Serveur du centre »)"
        )
    problem = status.last_error
    if not enrolled and problem is None:
        problem = messages.NOT_ENROLLED
    return NurseSyncLines(
        waiting=waiting, last_success=last, problem=problem, clock_warning=status.clock_warning, parked=parked
    )


class SyncViewModel(QObject):
    """The one sync of the kiosk. Everything that may block — opening the store and the keyring, enrolling,
    forgetting, stopping and building the worker — runs on one control thread, in order; results come back as
    signals on the GUI thread."""

    status_changed = Signal(object)  # SyncStatus (always delivered on the GUI thread)
    enrollment_changed = Signal(object)  # Enrollment | None
    enroll_failed = Signal(str)  # French message
    code_used = Signal()  # before enroll_failed, when the one-time code reached the server (it may be spent)
    busy_changed = Signal(bool)
    ready_changed = Signal()  # the backend was opened (``ready``) or could not be (``problem``)

    # Emitted from other threads; Qt queues them to this object's (the GUI) thread.
    _internal = Signal(object)  # SyncStatus
    _opened = Signal(object)  # Enrollment | None
    _unavailable = Signal(str)
    _enrolled = Signal(object)  # Enrollment
    _forgotten = Signal()
    _failed = Signal(str)
    _code_used = Signal()

    def __init__(self, open_backend: Callable[[], SyncBackend], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._open_backend = open_backend
        self._backend: SyncBackend | None = None
        self._worker: SyncWorker | None = None  # read on the GUI thread (wake-ups), replaced on the control thread
        self._control = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qlq-sync-control")
        self._stopped = False
        self._enrollment: Enrollment | None = None
        self.ready = False
        self.problem: str | None = None  # French: why the sync could not start (store or keyring)
        self.status = SyncStatus()
        self._internal.connect(self._deliver)
        self._opened.connect(self._on_opened)
        self._unavailable.connect(self._on_unavailable)
        self._enrolled.connect(self._on_enrolled)
        self._forgotten.connect(self._on_forgotten)
        self._failed.connect(self._on_failed)
        self._code_used.connect(self.code_used)

    @property
    def enrollment(self) -> Enrollment | None:
        return self._enrollment

    @property
    def backend(self) -> SyncBackend | None:
        """The opened backend (its secret store holds the device token the update source sends), or None."""
        return self._backend

    def start(self) -> None:
        """Open the backend, load the enrollment and start the worker, off the GUI thread (call once, after the
        screens are connected)."""

        def work() -> None:
            try:
                self._backend = self._open_backend()
                enrollment = load_enrollment(self._backend.settings)
                self._restart_worker()
            except (StorageError, SecretStoreError, ValueError) as exc:  # ValueError: a stored URL refused
                log.error("the sync cannot start: %s", type(exc).__name__)
                message = getattr(exc, "nurse_message", None)
                self._unavailable.emit(message if isinstance(message, str) else CANNOT_START)
                return
            self._opened.emit(enrollment)

        self._submit(work)

    def stop(self) -> None:
        """At exit, before the application's store closes: finish the running operation, stop the worker, close
        the sync's own store. Blocking (a pass in flight is allowed to end)."""
        if self._stopped:
            return
        self._stopped = True
        self._control.shutdown(wait=True, cancel_futures=True)
        self._stop_worker()
        if self._backend is not None:
            self._backend.close()
            self._backend = None

    def _submit(self, work: Callable[[], None]) -> bool:
        if self._stopped:
            return False
        self._control.submit(work)
        return True

    # Control thread only.
    def _stop_worker(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop()

    def _restart_worker(self) -> None:
        self._stop_worker()
        if self._backend is None or self._stopped:
            return
        worker = self._backend.worker_factory(self._internal.emit)
        worker.start()
        self._worker = worker

    @Slot(object)
    def _deliver(self, status: SyncStatus) -> None:
        self.status = status
        self.status_changed.emit(status)

    @Slot(object)
    def _on_opened(self, enrollment: Enrollment | None) -> None:
        self.ready = True
        self._enrollment = enrollment
        self.enrollment_changed.emit(enrollment)
        self.ready_changed.emit()
        self.status_changed.emit(self.status)

    @Slot(str)
    def _on_unavailable(self, message: str) -> None:
        self.problem = message
        self.ready_changed.emit()
        self.status_changed.emit(self.status)

    # ---------------------------------------------------------------- wake-ups
    @Slot()
    def sync_now(self) -> None:
        worker = self._worker
        if worker is not None:
            worker.sync_now()

    @Slot()
    def session_finished(self) -> None:
        worker = self._worker
        if worker is not None:
            worker.wake()

    @Slot()
    def network_changed(self) -> None:
        worker = self._worker
        if worker is not None:
            worker.wake()

    # ---------------------------------------------------------------- enrollment (admin screen)
    def enroll(
        self, server_url: str, code_or_qr: str, device_name: str, ca_bundle: str = "", *, allow_http: bool = False
    ) -> None:
        """Enroll off the GUI thread; ``enrollment_changed`` or ``enroll_failed`` follows. ``ca_bundle``: the path
        of the hospital's CA file (PEM), empty for the public roots; checked before anything is saved."""
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
        backend = self._backend
        if backend is None:
            self.enroll_failed.emit(self.problem or "La synchronisation démarre encore : réessayez dans un instant.")
            return
        url, code, ca_text = given.server_url, given.code, ca_bundle.strip()

        def work() -> None:
            try:  # first what can be checked here: the code is not spent on a typo
                check_server_url(url, allow_http=allow_http)
                ca = check_ca_bundle(ca_text) if ca_text else None
            except (ServerUrlError, CaBundleError) as exc:
                self._failed.emit(exc.nurse_message)
                return
            try:
                done = enroll(
                    server_url=url,
                    code=code,
                    device_name=device_name,
                    settings=backend.settings,
                    secrets=backend.secrets,
                    transport_for=lambda u: backend.transport_for(u, ca),
                    allow_http=allow_http,
                    ca_bundle=str(ca) if ca is not None else None,
                )
            except (EnrollmentError, SecretStoreError, StorageError) as exc:
                self._code_used.emit()
                self._failed.emit(exc.nurse_message)
                return
            self._restart_worker()  # on the new enrollment's server, with its token
            self._enrolled.emit(done)

        if self._submit(work):
            self.busy_changed.emit(True)

    def forget_server(self) -> None:
        """ "Oublier ce serveur" (the screen asks for confirmation first). Queued sessions stay on the tablet."""
        backend = self._backend
        if backend is None:
            return

        def work() -> None:
            try:
                forget(settings=backend.settings, secrets=backend.secrets)
            except (SecretStoreError, StorageError) as exc:
                self._failed.emit(exc.nurse_message)
                return
            self._restart_worker()
            self._forgotten.emit()

        if self._submit(work):
            self.busy_changed.emit(True)

    @Slot(object)
    def _on_enrolled(self, enrollment: Enrollment) -> None:
        self._enrollment = enrollment
        self.busy_changed.emit(False)
        self.enrollment_changed.emit(enrollment)
        self.sync_now()

    @Slot()
    def _on_forgotten(self) -> None:
        self._enrollment = None
        self.busy_changed.emit(False)
        self.enrollment_changed.emit(None)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.busy_changed.emit(False)
        self.enroll_failed.emit(message)


class ProvisionedEnrollment(QObject):
    """First start of a provisioned tablet: IT's file names the server and a one-time code, and the kiosk is not
    enrolled → it enrolls once, by itself, under ``device_name``; on success the code is erased from the file.

    A failure is reported like one typed on the "Serveur du centre" page (the nurse screen's panel says the
    tablet is not linked; the page shows why). A code that reached the server is single-use: the kiosk does not
    retry it at every start — IT provides a new one."""

    def __init__(
        self, sync: SyncViewModel, provisioning: Provisioning, device_name: str, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._sync = sync
        self._provisioning = provisioning
        self._device_name = device_name
        self.attempted = False
        sync.ready_changed.connect(self._maybe_enroll)
        sync.enrollment_changed.connect(self._enrolled)

    @Slot()
    def _maybe_enroll(self) -> None:
        link = self._provisioning.connection
        if self.attempted or not self._sync.ready or self._sync.enrollment is not None:
            return
        if not link.get("server_url") or not link.get("enrollment_code"):
            return
        self.attempted = True
        log.info("enrolling with the centre named in the provisioning file")
        self._sync.enroll(link["server_url"], link["enrollment_code"], self._device_name, link.get("ca_bundle", ""))

    @Slot(object)
    def _enrolled(self, enrollment: Enrollment | None) -> None:
        if enrollment is not None and self.attempted and "enrollment_code" in self._provisioning.connection:
            consume_enrollment_code(self._provisioning.path)
