"""Updates as the admin screen sees them (QtCore only).

:class:`UpdateViewModel` owns the kiosk's :class:`~kiosk.update.service.Updater` (built off the GUI thread by the
factory the application gives) and runs every blocking step on one background thread, in order:

- at start, :meth:`~kiosk.update.service.Updater.recover` (an update whose self-test never finished is rolled
  back; when the version rolled back is the one running, the kiosk asks to restart at once, onto the previous
  one), then a first check a little later, then one every ``check_interval_ms``;
- a check asks the source (the centre's server, with the device token), downloads the newer release and
  verifies it (signature and signed manifest) — in the background, during sessions too;
- :meth:`between_sessions` (the kiosk calls it when a session ends, and the view model after each download)
  installs a verified release only when no session is in progress: the :class:`~kiosk.update.service.SessionLock`
  refuses new sessions while the install runs, and an install attempted while a session runs is ``deferred``;
- once installed, :attr:`restart_pending` is true and :meth:`restart_now` (the admin's button, or the window when
  the nurse screen has been left untouched) emits :attr:`restart_requested`: the application exits with
  :data:`kiosk.update.launcher.RESTART_EXIT_CODE` and its supervisor (the systemd unit, or ``qlq-kiosk launch``)
  starts the new version.

:func:`french_line` is the admin screen's line for a :class:`~kiosk.update.service.UpdateStatus`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from kiosk.update.service import SessionLock, Updater, UpdateStatus

log = logging.getLogger(__name__)

HOUR_MS = 3_600_000

_FAILURES = {
    "tampered_file": "le fichier téléchargé ne correspond pas à sa signature (altéré) : il a été supprimé",
    "wrong_key": "la mise à jour n'est pas signée par la clé de ce kiosque : elle a été refusée",
    "missing_signature": "la mise à jour n'a pas de signature : elle a été refusée",
    "manifest_mismatch": "la liste signée des fichiers ne correspond pas à l'archive : mise à jour refusée",
    "not_newer": "la version signée n'est pas plus récente que celle installée : mise à jour refusée",
    "wrong_platform": "la mise à jour est pour un autre système : elle a été refusée",
    "not_enrolled": "la tablette n'est pas reliée au serveur du centre",
    "source_unavailable": "le serveur du centre ne répond pas ; nouvel essai plus tard",
    "download_too_large": "le téléchargement est plus gros qu'annoncé : il a été interrompu et supprimé",
    "download_failed": "le téléchargement n'a pas pu être enregistré (disque plein ?)",
    "unpack_failed": "la mise à jour n'a pas pu être installée (disque plein ?) ; la version actuelle reste",
}


def french_line(status: UpdateStatus | None, *, enabled: bool = True) -> str:
    """What the admin reads about updates, in French (the version running first)."""
    if not enabled or status is None:
        return "Mises à jour automatiques : non prévues sur cette installation (mise à jour par le paquet)."
    offered = status.offered_version or ""
    stage = status.stage
    if stage == "installed":
        return (
            f"Version {offered} installée et vérifiée : elle démarrera au prochain redémarrage du kiosque "
            "(automatique quand l'écran d'accueil reste inutilisé quelques minutes)."
        )
    if stage == "rolled_back":
        return (
            f"La version {offered} a échoué à son auto-test : retour automatique à la version précédente. "
            "Prévenez le service informatique."
        )
    if stage == "failed":
        reason = _FAILURES.get(status.code or "", f"erreur {status.code}")
        return f"Dernière recherche de mise à jour : {reason}."
    lines = {
        "idle": "Mises à jour : recherche prévue.",
        "checking": "Recherche d'une mise à jour…",
        "up_to_date": "Le kiosque est à jour.",
        "available": f"Version {offered} disponible : téléchargement…",
        "downloading": f"Téléchargement et vérification de la version {offered}…",
        "ready": f"Version {offered} téléchargée et vérifiée : installation entre deux séances.",
        "deferred": f"Version {offered} prête : installation à la fin de la séance en cours.",
        "installing": f"Installation de la version {offered}… (aucune séance ne peut commencer pendant ce temps)",
    }
    return lines.get(stage, f"Mises à jour : {stage}.")


class UpdateViewModel(QObject):
    status_changed = Signal(object)  # UpdateStatus (always on the GUI thread)
    restart_requested = Signal()  # installed, no session: the application should exit for the new version
    _internal = Signal(object)  # UpdateStatus, from the update thread
    _recovered = Signal(bool)  # the running version itself was rolled back

    def __init__(
        self,
        open_updater: Callable[[Callable[[UpdateStatus], None]], Updater],
        *,
        gate: SessionLock,
        running_version: str,
        first_check_ms: int = 120_000,
        check_interval_ms: int = 6 * HOUR_MS,
        parent: QObject | None = None,
    ) -> None:
        """``open_updater(on_status)`` builds the updater (blocking: called on the update thread)."""
        super().__init__(parent)
        self._open_updater = open_updater
        self.gate = gate
        self.running_version = running_version
        self.updater: Updater | None = None
        self.status: UpdateStatus | None = None
        self.problem: str | None = None  # French: the updater could not be set up
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qlq-update")
        self._stopped = False
        self._internal.connect(self._deliver)
        self._recovered.connect(self._on_recovered)
        self._first = QTimer(self)
        self._first.setSingleShot(True)
        self._first.setInterval(first_check_ms)
        self._first.timeout.connect(self.check_now)
        self._periodic = QTimer(self)
        self._periodic.setInterval(check_interval_ms)
        self._periodic.timeout.connect(self.check_now)

    # --- life -----------------------------------------------------------------------------------------------
    def start(self) -> None:
        def work() -> None:
            try:
                self.updater = self._open_updater(self._internal.emit)
                recovered = self.updater.recover()
            except Exception as exc:  # a broken update folder must not stop the kiosk
                log.error("updates unavailable: %s", exc)
                self.problem = f"Mises à jour indisponibles : {exc}"
                return
            self._recovered.emit(recovered is not None and recovered.offered_version == self.running_version)

        self._submit(work)
        self._first.start()
        self._periodic.start()

    def stop(self) -> None:
        self._stopped = True
        self._first.stop()
        self._periodic.stop()
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _submit(self, work: Callable[[], None]) -> None:
        if not self._stopped:
            self._executor.submit(work)

    # --- steps ----------------------------------------------------------------------------------------------
    @Slot()
    def check_now(self) -> None:
        """Ask for a newer release, download and verify it, then install it if no session is in progress."""

        def work() -> None:
            updater = self.updater
            if updater is not None and not self.restart_pending and updater.check_and_fetch() is not None:
                updater.install_pending()  # deferred (nothing touched) while a session runs

        self._submit(work)

    @Slot()
    def between_sessions(self) -> None:
        """A session ended: install the verified release waiting, if any."""

        def work() -> None:
            if self.updater is not None and self.updater.ready is not None:
                self.updater.install_pending()

        self._submit(work)

    @property
    def enabled(self) -> bool:
        return self.problem is None

    @property
    def restart_pending(self) -> bool:
        status = self.status
        return status is not None and status.restart_required

    @Slot()
    def restart_now(self) -> bool:
        """Restart onto the installed version, unless a session is in progress (then nothing happens)."""
        if not self.restart_pending or not self.gate.begin_session():
            return False
        self.gate.end_session()  # the gate was free: no session is running; the application exits now
        log.info("restarting onto version %s", self.status.offered_version if self.status else "?")
        self.restart_requested.emit()
        return True

    def line(self) -> str:
        return self.problem if self.problem is not None else french_line(self.status)

    # --- GUI thread -----------------------------------------------------------------------------------------
    def _deliver(self, status: UpdateStatus) -> None:
        if (
            self.status is not None
            and self.status.restart_required
            and not status.restart_required
            and status.stage in ("checking", "up_to_date")
        ):
            return  # keep "installed, restart pending" in view until the restart
        self.status = status
        self.status_changed.emit(status)

    def _on_recovered(self, own_version_rolled_back: bool) -> None:
        if own_version_rolled_back:  # this very version failed its self-test before a crash: leave it now
            log.error("this version's update never passed its self-test; restarting onto the previous one")
            self.restart_requested.emit()
