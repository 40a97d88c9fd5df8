"""Build and run the kiosk: QApplication, the store (opened on the DB worker), audio, view model, window.

``qlq-kiosk`` is the embedded default: a local SQLite file, no server, no cloud credentials. ``--demo`` keeps
its data in a temporary folder, sets the fixed demo PIN (shown on screen) and defaults to touch mode.

Shutdown order matters (see platform-notes): after ``app.exec()`` returns, queued saves are allowed to finish,
the store is closed on its own thread, the window is closed and deleted explicitly with ``shiboken6.delete``
(which removed an interpreter-exit segfault in PySide's atexit cleanup).

Environment hooks for support and tests (documented in docs/kiosk.md):
``QLQ_KIOSK_AUTOPILOT="seed:N"`` drives a touch session by itself (:mod:`kiosk.ui.autopilot`);
``QLQ_KIOSK_EXIT_WHEN_READY=1`` prints ``READY`` and exits once the first nurse-side screen is shown
(cold-start measurement).
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.viewmodels.options import KioskSettings

if TYPE_CHECKING:  # annotations only: this module imports its heavy parts lazily (cold start)
    from kiosk.audio.service import AudioService
    from kiosk.secrets.interface import SecretStore
    from kiosk.storage.interface import SessionStore
    from kiosk.update.interface import ReleaseSource
    from kiosk.update.service import SessionLock, Updater, UpdateStatus
    from kiosk.viewmodels.kiosk_vm import KioskStatus, KioskViewModel
    from kiosk.viewmodels.provisioning import Provisioning
    from kiosk.viewmodels.sync_vm import SyncViewModel
    from kiosk.viewmodels.update_vm import UpdateViewModel
    from kiosk.viewmodels.voice_setup import VoiceAvailability

log = logging.getLogger(__name__)

AUTOPILOT_ENV = "QLQ_KIOSK_AUTOPILOT"
EXIT_WHEN_READY_ENV = "QLQ_KIOSK_EXIT_WHEN_READY"


def _database_path(demo: bool, data_dir: Path | None) -> tuple[Path, tempfile.TemporaryDirectory[str] | None]:
    from kiosk.storage import paths

    if data_dir is not None:
        return Path(data_dir) / paths.DATABASE_FILE, None
    if demo:
        temp = tempfile.TemporaryDirectory(prefix="qlq-kiosk-demo-")
        return Path(temp.name) / paths.DATABASE_FILE, temp
    return paths.database_path(), None


def _audio_service(autopilot: bool) -> AudioService:
    """The Qt player over the audio packs (``$QLQ_AUDIO_DIR`` or ``resources/audio``), espeak-ng live when a clip
    is missing; silent under the autopilot (no timing from media)."""
    from kiosk.audio.silent import SilentAudioService

    if autopilot:
        return SilentAudioService()
    try:
        from kiosk.audio.pack import packs_root
        from kiosk.audio.qt_player import QtAudioService

        return QtAudioService(packs_root() / "fr")
    except Exception as exc:  # no QtMultimedia backend: the kiosk still works, silently
        log.warning("audio unavailable, running silent: %s", exc)
        return SilentAudioService()


def _release_source(sync: SyncViewModel, update_url: str | None = None) -> ReleaseSource | None:
    """Where to ask for updates now: the centre's server of the enrollment stored now, with the device token
    (None: not enrolled yet); or IT's ``update_url`` (provisioning file), another server with the same API, which
    gets the device token only when it is the centre's server itself (same host and port)."""
    import ssl
    from urllib.parse import urlsplit

    from kiosk.secrets.interface import SecretName
    from kiosk.sync.config import allow_http_from_env, ca_bundle_from_env, check_server_url
    from kiosk.update.http_source import HttpReleaseSource

    enrollment, backend = sync.enrollment, sync.backend
    if update_url is None and (enrollment is None or backend is None):
        return None
    ca_bundle = enrollment.ca_bundle_path() if enrollment is not None else ca_bundle_from_env()
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=str(ca_bundle)) if ca_bundle else True
    secrets = backend.secrets if backend is not None else None
    centre = None
    if enrollment is not None:
        centre = check_server_url(enrollment.server_url, allow_http=enrollment.allow_http or allow_http_from_env())
    url = update_url or centre
    assert url is not None
    same_server = centre is not None and urlsplit(url).netloc == urlsplit(centre).netloc
    token = (lambda: secrets.get(SecretName.DEVICE_TOKEN)) if secrets is not None and same_server else None
    return HttpReleaseSource(url, token, verify=verify)


def _updates(sync: SyncViewModel, root: Path, gate: SessionLock, update_url: str | None) -> UpdateViewModel:
    """Signed updates from the centre into ``root`` (``QLQ_UPDATE_ROOT``), installed between sessions only."""
    from kiosk import __version__
    from kiosk.update.layout import InstallLayout
    from kiosk.update.service import Updater
    from kiosk.update.setup import FollowingReleaseSource
    from kiosk.viewmodels.update_vm import UpdateViewModel

    def open_updater(on_status: Callable[[UpdateStatus], None]) -> Updater:
        return Updater(
            FollowingReleaseSource(lambda: _release_source(sync, update_url)),
            InstallLayout(root),
            current_version=__version__,
            gate=gate,
            on_status=on_status,
        )

    return UpdateViewModel(open_updater, gate=gate, running_version=__version__)


def connect_sync(
    vm: KioskViewModel, sync: SyncViewModel, provisioning: Provisioning | None, *, device_name: str
) -> None:
    """The kiosk's links to its sync: every finished session wakes the worker at once (it is sent without
    waiting for the next poll), and IT's provisioning file enrolls the tablet when it is not enrolled yet."""
    if provisioning is not None:
        from kiosk.viewmodels.sync_vm import ProvisionedEnrollment

        ProvisionedEnrollment(sync, provisioning, device_name=device_name, parent=sync)
    vm.session_finished.connect(sync.session_finished)


def _update_gate(no_updates: bool) -> tuple[Path | None, SessionLock | None]:
    """Updates only where the kiosk was installed to update itself (``QLQ_UPDATE_ROOT``: the .deb's unit), never
    in demo mode or under the autopilot: the install folder, and the gate that keeps installs out of sessions."""
    from kiosk.update.setup import update_root

    root = None if no_updates else update_root()
    if root is None:
        return None, None
    from kiosk.update.service import SessionLock

    return root, SessionLock()


def run_app(demo: bool = False, windowed: bool = False, data_dir: Path | None = None) -> int:  # noqa: PLR0912, PLR0915 - the composition root: the wiring in start-up order
    """Run the kiosk until the nurse leaves it; return the process exit code."""
    os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")
    import shiboken6
    from PySide6.QtWidgets import QApplication

    from kiosk.domain.clock import SystemClock
    from kiosk.tasks import TaskManager
    from kiosk.viewmodels.kiosk_vm import KioskViewModel

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Kiosque QLQ-C30")
    autopilot = os.environ.get(AUTOPILOT_ENV, "").strip()
    exit_when_ready = os.environ.get(EXIT_WHEN_READY_ENV) == "1"
    db_path, temp = _database_path(demo, data_dir)
    from kiosk import log_setup

    log_setup.configure(db_path.parent)  # warnings on stderr; <data>/logs/kiosk.log for support (no patient data)
    tasks = TaskManager()
    audio = _audio_service(bool(autopilot))
    settings = KioskSettings(answer_beat_ms=0) if autopilot else None

    from kiosk.secrets.system import open_system_store

    # The OS keyring (demo: a memory store that keeps nothing): the database key, and Google credentials for voice.
    keyring = open_system_store(demo=demo, data_dir=db_path.parent)
    secrets = None if autopilot else keyring

    def open_store() -> SessionStore:
        # Imported here, on the DB thread, while the GUI thread builds the window: SQLAlchemy is slow to import.
        # Encrypted at rest with the key kept in the keyring (made on the first start); no keyring, a lost key or
        # a damaged file: a StorageError whose French message the nurse screen shows (docs/kiosk.md).
        from kiosk.storage.encryption import open_encrypted_store

        return open_encrypted_store(db_path, keyring)

    def voice_check(kiosk_settings: KioskSettings, store: SecretStore | None) -> VoiceAvailability:
        from kiosk.viewmodels.voice_setup import check_voice  # on the worker: PortAudio is slow to load

        return check_voice(kiosk_settings, store)

    root, gate = _update_gate(demo or bool(autopilot))
    provisioning = None
    if not demo and not autopilot:  # IT's provisioning file (docs/provisioning.md); demo mode never reads it
        from kiosk.domain.instrument import available_instruments
        from kiosk.viewmodels import provisioning as provisioning_file

        languages = tuple(sorted({lang for (_id, lang) in available_instruments()})) or ("fr",)
        provisioning = provisioning_file.load(languages=languages)

    vm = KioskViewModel(
        open_store,
        tasks=tasks,
        audio=audio,
        clock=SystemClock(),
        settings=settings,
        # not under the autopilot (touch only) nor when the process exits at the first nurse screen
        # (the check's answer could never be shown)
        secrets=secrets,
        voice_check=None if autopilot or exit_when_ready else voice_check,
        provisioning=provisioning,
        gate=gate,
    )
    vm.open()  # results are delivered once the event loop runs, after the window is connected
    sync = None
    if not demo and not autopilot:  # demo and autopilot never contact a server: no sync at all (docs/sync.md)
        from kiosk.sync.backend import open_app_sync
        from kiosk.sync.network_watch import watch_network
        from kiosk.viewmodels.sync_vm import SyncViewModel

        # The sync's own store and the OS keyring are opened by the view model, off the GUI thread.
        sync = SyncViewModel(lambda: open_app_sync(db_path))
        import socket

        connect_sync(vm, sync, provisioning, device_name=socket.gethostname())
        watch_network(sync.network_changed)
    update_url = provisioning.connection.get("update_url") if provisioning is not None else None
    updates = (
        _updates(sync, root, gate, update_url) if sync is not None and root is not None and gate is not None else None
    )
    restart = False

    from kiosk.ui.main_window import MainWindow

    window = MainWindow(vm, demo=demo or bool(autopilot), sync=sync, updates=updates)
    if sync is not None:
        sync.start()  # after the screens are connected: the status reaches them
    if updates is not None:

        def restart_for_update() -> None:
            nonlocal restart
            restart = True
            window.exit_kiosk()

        updates.restart_requested.connect(restart_for_update)
        updates.start()
    window.exited.connect(app.quit)
    if autopilot:
        from kiosk.ui.autopilot import Autopilot

        Autopilot(window, autopilot)
    if exit_when_ready:

        def ready(status: KioskStatus) -> None:
            if status.ready:
                sys.stdout.write("READY\n")
                sys.stdout.flush()
                window.exit_kiosk()

        vm.status_changed.connect(ready)
    if windowed:
        window.resize(1280, 800)
        window.show()
    else:
        from PySide6.QtCore import Qt

        window.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        window.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
        window.showFullScreen()
    try:
        code = app.exec()
    finally:
        if updates is not None:
            updates.stop()  # waits for a download or an install under way
        if sync is not None:
            sync.stop()  # its worker and its own store, before the application's store closes
        vm.close()
        tasks.shutdown(wait=True)
        window.allow_close = True
        window.close()
        shiboken6.delete(window)
        if temp is not None:
            temp.cleanup()
    if restart:  # the supervisor (systemd unit, launcher) starts the installed version
        from kiosk.update.launcher import RESTART_EXIT_CODE

        return RESTART_EXIT_CODE
    return int(code)
