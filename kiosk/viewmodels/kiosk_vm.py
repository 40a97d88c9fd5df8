"""The kiosk's nurse side: open the store, start or resume sessions, the nurse PIN and the settings.

Everything that touches the store runs on the single DB worker (:class:`~kiosk.tasks.TaskManager`) -- the store
is even *opened* there, because a SQLite connection belongs to the thread that opened it. Results come back as
signals on the GUI thread. A corrupt database is reported with its French ``nurse_message`` and then the kiosk
refuses to start sessions; the file is never touched.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from kiosk.audio.service import AudioService
from kiosk.domain.clock import Clock
from kiosk.domain.instrument import Instrument, available_instruments, load_instrument
from kiosk.domain.session import Session
from kiosk.domain.submission import build_submission
from kiosk.secrets.interface import SecretStore
from kiosk.storage.interface import SessionStore, UnfinishedSession
from kiosk.tasks import TaskManager
from kiosk.update.service import SessionLock
from kiosk.viewmodels.options import PIN_HASH_KEY, KioskSettings, LoadedSettings, load_settings, save_settings
from kiosk.viewmodels.options_upgrade import upgrade_settings
from kiosk.viewmodels.provisioning import Provisioning, apply_settings
from kiosk.viewmodels.session_vm import SessionViewModel
from kiosk.viewmodels.start_form import StartForm, build_session

if TYPE_CHECKING:
    from kiosk.speech.recognizer import Recognizer
    from kiosk.viewmodels.voice_setup import VoiceAvailability

log = logging.getLogger(__name__)

#: Checks the microphone and the recogniser for the nurse side (``voice_setup.check_voice``); blocking.
VoiceCheck = Callable[[KioskSettings, "SecretStore | None"], "VoiceAvailability"]

INSTRUMENT_ID = "qlq-c30"
GENERIC_STORAGE_ERROR = "Erreur d'enregistrement : réessayez. Si le problème continue, contactez le support."
UPDATE_INSTALLING = (
    "Une mise à jour du kiosque s'installe (une minute au plus) : réessayez dans un instant. Rien n'est perdu."
)


@dataclass
class KioskStatus:
    """What the nurse screen shows besides the form."""

    ready: bool = False
    corrupt_message: str | None = None  # the database cannot be used: no session may start
    has_pin: bool = False
    pending: int = 0
    unfinished: list[UnfinishedSession] = field(default_factory=list)
    languages: tuple[str, ...] = ("fr",)
    device_id: str = "unknown-device"
    microphones: tuple[str, ...] = ()  # input devices found by the last voice check (admin screen's list)
    voice_reason: str | None = None  # French: why voice modes cannot be offered now; None: they can (or unchecked)


def _nurse_message(exc: BaseException) -> str:
    message = getattr(exc, "nurse_message", None)  # StorageError, PinError
    return message if isinstance(message, str) else GENERIC_STORAGE_ERROR


class KioskViewModel(QObject):
    status_changed = Signal(object)  # KioskStatus
    session_started = Signal(object)  # SessionViewModel
    form_errors = Signal(dict)  # field name -> French message
    message = Signal(str)  # a French message for the nurse screen
    pin_checked = Signal(bool)
    pin_saved = Signal()
    settings_changed = Signal(object)  # KioskSettings
    session_finished = Signal()  # a session was frozen and queued for sending (completed, abandoned or closed)
    between_sessions = Signal()  # the session on screen ended (finished, or its screen left): updates may install

    def __init__(
        self,
        store_factory: Callable[[], SessionStore],
        *,
        tasks: TaskManager,
        audio: AudioService,
        clock: Clock,
        settings: KioskSettings | None = None,
        secrets: SecretStore | None = None,
        voice_check: VoiceCheck | None = None,
        provisioning: Provisioning | None = None,
        gate: SessionLock | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        #: Held from a session's start (or resumption) until its screen ends, so that an update never installs
        #: during a session; a session cannot start while an update installs (None: no updates, tests).
        self.gate = gate
        self._holding: str | None = None  # the id of the session holding the gate
        #: IT's provisioning file as read at start (None: not read, e.g. demo mode); its settings are applied
        #: to the store on opening (kiosk.viewmodels.provisioning.apply_settings), its problems shown.
        self.provisioning = provisioning
        #: The kiosk's secret store (OS keyring), injected by the application; the voice set-up reads the
        #: Google credentials from it. None: no store (the standard Google environment is used).
        self.secrets = secrets
        self._voice_check = voice_check  # None (tests): voice modes are not checked, always offered
        #: The recogniser the last voice check built (credentials read off the GUI thread); None: not built.
        self.recognizer: Recognizer | None = None
        self._store_factory = store_factory
        self._store: SessionStore | None = None
        self.tasks = tasks
        self.audio = audio
        self.clock = clock
        self._settings_override = settings
        self.settings = settings or KioskSettings()
        self.status = KioskStatus()
        self._instruments: dict[str, Instrument] = {}
        self._pin_hash: str | None = None
        self.settings_changed.connect(self._apply_audio_settings)

    # ------------------------------------------------------------------ opening and status
    def open(self) -> None:
        """Open the store on the worker, then load settings, PIN, instruments and the status."""

        def work() -> tuple[LoadedSettings, str | None, str]:
            self._store = self._store_factory()
            languages = sorted(lang for (iid, lang) in available_instruments() if iid == INSTRUMENT_ID)
            for lang in languages:
                self._instruments[lang] = load_instrument(INSTRUMENT_ID, lang)
            if self.provisioning is not None and self.provisioning.settings:
                upgrade_settings(self._store)  # IT's values land in the current layout, then are read with the rest
                apply_settings(self.provisioning, self._store)
            settings = load_settings(self._store)
            device = getattr(self._store, "device_id", None)
            return settings, self._store.get_setting(PIN_HASH_KEY), device() if callable(device) else "test-device"

        def done(result: tuple[LoadedSettings, str | None, str]) -> None:
            loaded, pin_hash, device_id = result
            if self._settings_override is None:
                self.settings = loaded.settings
            self._pin_hash = pin_hash
            self.status.has_pin = pin_hash is not None
            self.status.device_id = device_id
            self.status.languages = tuple(self._instruments) or ("fr",)
            self.settings_changed.emit(self.settings)
            problems = [loaded.french()] if loaded.problems and self._settings_override is None else []
            if self.provisioning is not None and self.provisioning.problems:
                problems.append(self.provisioning.french())
            if problems:
                self.message.emit("\n".join(problems))
            self.refresh()
            self.check_voice()

        self.tasks.run_in_background(work, done, self._on_open_error)

    def _on_open_error(self, exc: BaseException) -> None:
        log.error("cannot open the kiosk database: %s", exc)
        self.status.ready = True
        self.status.corrupt_message = _nurse_message(exc)
        self.status_changed.emit(self.status)

    def refresh(self) -> None:
        """Reload the pending count and the unfinished sessions."""
        store = self._store
        if store is None:
            return

        def work() -> tuple[int, list[UnfinishedSession]]:
            return store.pending_count(), store.unfinished()

        def done(result: tuple[int, list[UnfinishedSession]]) -> None:
            self.status.pending, self.status.unfinished = result
            self.status.ready = True
            self.status_changed.emit(self.status)

        self.tasks.run_in_background(work, done, self._on_open_error)

    def check_voice(self) -> None:
        """Look for the microphone (by its name in the settings) and the recogniser's credentials, off the GUI
        thread; the nurse screen then offers voice modes, or shows them unavailable with the French reason."""
        check = self._voice_check
        if check is None:
            return
        settings, secrets = self.settings, self.secrets

        def done(availability: VoiceAvailability) -> None:
            self.status.microphones = availability.microphones
            self.status.voice_reason = availability.reason
            self.recognizer = availability.recognizer
            self.status_changed.emit(self.status)

        def failed(exc: BaseException) -> None:
            log.error("voice check failed: %s", type(exc).__name__)
            self.status.voice_reason = "La voix n'a pas pu être vérifiée sur cette tablette."
            self.status_changed.emit(self.status)

        self.tasks.run_in_background(lambda: check(settings, secrets), done, failed)

    @property
    def can_start(self) -> bool:
        return self._store is not None and self.status.corrupt_message is None

    def instrument(self, language: str) -> Instrument:
        return self._instruments[language]

    # ------------------------------------------------------------------ sessions
    def start_session(self, form: StartForm) -> bool:
        """Validate the form (errors → :attr:`form_errors`), save the new session, then :attr:`session_started`."""
        if not self.can_start:
            return False
        if form.mode.is_voice and self.status.voice_reason is not None:
            self.form_errors.emit({"mode": f"Modes vocaux indisponibles : {self.status.voice_reason}"})
            return False
        instrument = self._instruments.get(form.language)
        if instrument is None:
            self.form_errors.emit({"language": "Aucun questionnaire dans cette langue."})
            return False
        session, errors = build_session(
            form, instrument, session_id=str(uuid.uuid4()), now=self.clock.now(), today=self.clock.today()
        )
        if errors or session is None:
            self.form_errors.emit(errors)
            return False
        self.form_errors.emit({})
        if not self._hold(session.id):
            return False
        store = self._store
        assert store is not None
        self.tasks.run_in_background(
            lambda: store.save(session),
            lambda _: self._started(session),
            lambda exc: self._start_failed(session.id, exc),
        )
        return True

    def resume(self, session_id: str) -> None:
        """Reload an interrupted session exactly as last saved and carry on (a pause is ended)."""
        store = self._store
        entry = self._find_unfinished(session_id)
        if store is None or entry is None or not self._hold(session_id):
            return
        instrument = self._instruments[entry.language]

        def work() -> Session:
            session = store.load(session_id, instrument)
            if session.paused:
                session = session.resume(now=self.clock.now())
                store.save(session)
            return session

        self.tasks.run_in_background(work, self._started, lambda exc: self._start_failed(session_id, exc))

    def _hold(self, session_id: str) -> bool:
        """Take the session gate for the session about to start (one at a time on a kiosk: a previous one
        still holding it is over); False, and the nurse told why, while an update is being installed."""
        if self.gate is None:
            return True
        if self._holding is not None:
            self.session_ended(self._holding)
        if not self.gate.begin_session():
            self.message.emit(UPDATE_INSTALLING)
            return False
        self._holding = session_id
        return True

    def session_ended(self, session_id: str) -> None:
        """The session ``session_id`` is over on screen (finished, or its screen left by the nurse: it stays
        resumable). Ending it twice, or ending one that no longer holds the gate, does nothing."""
        if self._holding != session_id:
            return
        self._holding = None
        if self.gate is not None:
            self.gate.end_session()
        self.between_sessions.emit()

    @property
    def session_in_progress(self) -> bool:
        return self._holding is not None

    def _start_failed(self, session_id: str, exc: BaseException) -> None:
        self.message.emit(_nurse_message(exc))
        self.session_ended(session_id)

    def close_unfinished(self, session_id: str, reason: str = "session non terminée, fermée par l'équipe") -> None:
        """Close an interrupted session as abandoned: frozen and queued in one transaction."""
        store = self._store
        entry = self._find_unfinished(session_id)
        if store is None or entry is None:
            return
        instrument = self._instruments[entry.language]
        now = self.clock.now()
        device_id = self.status.device_id

        def work() -> None:
            session = store.load(session_id, instrument).abandon(now=now, reason=reason)
            store.finish(session, build_submission(session, device_id=device_id, app_version=_version(), frozen_at=now))

        def done(_result: None) -> None:
            self.session_finished.emit()
            self.refresh()

        self.tasks.run_in_background(work, done, lambda exc: self.message.emit(_nurse_message(exc)))

    def _find_unfinished(self, session_id: str) -> UnfinishedSession | None:
        return next((u for u in self.status.unfinished if u.session_id == session_id), None)

    def _apply_audio_settings(self, settings: KioskSettings) -> None:
        """The nurse's speaking rate and default volume, for the next prompts (and each new session)."""
        self.audio.set_rate(settings.speech_rate_percent / 100)
        self.audio.set_volume(settings.volume_percent / 100)

    def _started(self, session: Session) -> None:
        assert self._store is not None
        self._apply_audio_settings(self.settings)
        vm = SessionViewModel(
            session,
            store=self._store,
            tasks=self.tasks,
            audio=self.audio,
            clock=self.clock,
            settings=self.settings,
            device_id=self.status.device_id,
        )
        vm.finished.connect(lambda _outcome: self.session_finished.emit())  # after store.finish returned
        vm.finished.connect(lambda _outcome: self.session_ended(session.id))
        self.session_started.emit(vm)

    # ------------------------------------------------------------------ PIN and settings
    def verify_pin(self, pin: str) -> None:
        """Check a PIN against the stored argon2 hash, off the GUI thread; answer with :attr:`pin_checked`."""
        from kiosk.storage.pin import verify_pin

        stored = self._pin_hash
        if stored is None:
            self.pin_checked.emit(False)
            return
        self.tasks.run_in_background(
            lambda: verify_pin(stored, pin),
            lambda ok: self.pin_checked.emit(bool(ok)),
            lambda _exc: self.pin_checked.emit(False),
        )

    def set_pin(self, pin: str) -> None:
        """Store the nurse PIN, hashed (argon2); never in plain text."""
        from kiosk.storage.pin import hash_pin

        store = self._store
        if store is None:
            return

        def work() -> str:
            hashed = hash_pin(pin)
            store.set_setting(PIN_HASH_KEY, hashed)
            return hashed

        def done(hashed: str) -> None:
            self._pin_hash = hashed
            self.status.has_pin = True
            self.pin_saved.emit()
            self.status_changed.emit(self.status)

        self.tasks.run_in_background(work, done, lambda exc: self.message.emit(_nurse_message(exc)))

    def save_settings(self, settings: KioskSettings) -> None:
        store = self._store
        settings = settings.checked()
        previous, self.settings = self.settings, settings
        self.settings_changed.emit(settings)
        if store is not None:
            self.tasks.run_in_background(
                lambda: save_settings(settings, store), None, lambda exc: self.message.emit(_nurse_message(exc))
            )
        if settings.microphone != previous.microphone:
            self.check_voice()

    def close(self) -> None:
        """Close the store after every queued save ran (call before the task manager shuts down)."""
        store = self._store
        if store is not None:
            self.tasks.run_in_background(store.close)


def _version() -> str:
    from kiosk import __version__

    return __version__
