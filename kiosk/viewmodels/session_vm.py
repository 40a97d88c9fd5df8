"""The patient's side of one session: answers, navigation, pause and abandon, each saved before it shows.

Every change follows the same path (:meth:`SessionViewModel._commit`): the domain transition computes the new
(immutable) session, the DB worker writes it (``store.save``, or ``store.finish`` with the frozen submission when
the session ended), and only when the worker reports success does :attr:`SessionViewModel.session` become the new
state and the new screen show. If the save fails, nothing needs undoing: the session is still the saved one, the
French error is shown and the item stays on screen, so the patient's answer is never shown as taken when it was
not written.

The voice issue plugs in here: :meth:`answer` takes ``method``/``transcript``/``confidence``; the listening
indicator follows :attr:`listening_changed`; the microphone level meter follows :attr:`mic_level`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from PySide6.QtCore import QObject, QTimer, Signal

from kiosk import __version__
from kiosk.audio.service import AudioService
from kiosk.domain.clock import Clock
from kiosk.domain.session import InvalidTransition, ItemStatus, Method, Mode, Phase, Session
from kiosk.domain.submission import build_submission
from kiosk.domain.voice_record import VoiceDetail
from kiosk.storage.interface import SessionStore, StorageError
from kiosk.tasks import TaskManager
from kiosk.viewmodels.options import KioskSettings
from kiosk.viewmodels.screens import ScreenKind, ScreenState, prompt_for, screen_of

log = logging.getLogger(__name__)

SAVE_FAILED = (
    "La réponse n'a pas pu être enregistrée. Touchez-la de nouveau ; "
    "si le problème continue, appelez l'équipe soignante."
)


class SessionViewModel(QObject):
    """Wraps one :class:`Session`; views render :attr:`screen` and call the action methods.

    :attr:`session` is always the state last written to the store.
    """

    screen_changed = Signal(object)  # ScreenState
    pending_answer = Signal(int)  # a touched answer is being saved: highlight it
    answer_saved = Signal(int, int)  # (item, value) once the store's save for it returned
    error = Signal(str)  # French message for the patient screen
    busy_changed = Signal(bool)
    finished = Signal(str)  # "completed" | "abandoned", after store.finish returned
    mic_level = Signal(float)  # 0..1, fed by the voice service (microphone check meter)
    listening_changed = Signal(str)  # "off" | "listening" | "processing" (voice indicator)

    def __init__(
        self,
        session: Session,
        *,
        store: SessionStore,
        tasks: TaskManager,
        audio: AudioService,
        clock: Clock,
        settings: KioskSettings,
        device_id: str,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self._unsaved: Session | None = None  # the newest state handed to the worker, until it is written
        self._store = store
        self._tasks = tasks
        self._audio = audio
        self._clock = clock
        self.settings = settings
        self._device_id = device_id
        self._busy = False
        self._last_activity = clock.now()
        self.screen: ScreenState = screen_of(session)
        #: Set by the voice view model: the voice detail a TOUCH answer carries (voice attempts before it).
        self.touch_voice_detail: Callable[[], VoiceDetail | None] | None = None
        audio.set_language(session.config.language)

    # ------------------------------------------------------------------ queries
    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def audio(self) -> AudioService:
        """The one audio service (views follow its ``unavailable``/``audible`` signals)."""
        return self._audio

    @property
    def mode(self) -> Mode:
        return self.session.mode

    @property
    def audio_enabled(self) -> bool:
        return self.session.config.audio_enabled

    @property
    def needs_audio_check(self) -> bool:
        return self.session.config.audio_enabled

    @property
    def needs_microphone_check(self) -> bool:
        return self.session.mode.is_voice

    # ------------------------------------------------------------------ patient actions
    def answer(
        self,
        value: int,
        *,
        method: Method = Method.TOUCH,
        transcript: str | None = None,
        confidence: float | None = None,
        confirmed: bool = False,
        voice: VoiceDetail | None = None,
    ) -> bool:
        """Record an answer to the item on screen; the next screen shows once the save returned."""
        if self._busy or self.screen.kind is not ScreenKind.ITEM or self.screen.item is None:
            return False
        number = self.screen.item.number
        if method is Method.TOUCH and voice is None and self.touch_voice_detail is not None:
            voice = self.touch_voice_detail()
        self.pending_answer.emit(value)
        return self._commit(
            lambda s, now: s.answer(
                value,
                now=now,
                method=method,
                transcript=transcript,
                confidence=confidence,
                confirmed=confirmed,
                voice=voice,
            ),
            beat_ms=self.settings.answer_beat_ms,
            saved=lambda: self.answer_saved.emit(number, value),
        )

    def skip(
        self,
        *,
        status: ItemStatus = ItemStatus.SKIPPED,
        method: Method = Method.TOUCH,
        transcript: str | None = None,
        confidence: float | None = None,
        voice: VoiceDetail | None = None,
    ) -> bool:
        """Leave the item missing: "Passer" (touch or voice) or "je ne sais pas" (voice, ``DONT_KNOW``)."""
        if self.screen.kind is not ScreenKind.ITEM:
            return False
        return self._commit(
            lambda s, now: s.skip(
                now=now, status=status, method=method, transcript=transcript, confidence=confidence, voice=voice
            )
        )

    def switch_to_touch(self, reason: str) -> bool:
        """Voice gave up (microphone lost, recogniser failing): the session continues in touch, recorded."""
        if not self.session.mode.is_voice:
            return False
        return self._commit(lambda s, now: s.switch_mode(Mode.TOUCH, now=now, reason=reason))

    def back(self) -> bool:
        return self._commit(lambda s, now: s.back(now=now))

    def accept_review(self) -> bool:
        return self._commit(lambda s, now: s.accept_review(now=now))

    def decline_review(self) -> bool:
        return self._commit(lambda s, now: s.decline_review(now=now))

    def begin_items(self) -> bool:
        return self._commit(lambda s, now: s.begin_items(now=now))

    def record_check(self, *, audio_ok: bool | None, microphone_ok: bool | None, switch_to_touch: bool = False) -> bool:
        """Item 0's result; ``switch_to_touch`` after a failed check continues in touch-only mode."""

        def apply(session: Session, now: datetime) -> Session:
            if switch_to_touch:  # first, so that the checks a touch session does not need are not required
                reason = "échec du contrôle du son" if audio_ok is False else "échec du contrôle du microphone"
                session = session.switch_mode(
                    Mode.TOUCH,
                    now=now,
                    reason=reason,
                    audio_enabled=session.config.audio_enabled and audio_ok is not False,
                )
            return session.record_check(audio_ok=audio_ok, microphone_ok=microphone_ok, now=now)

        return self._commit(apply)

    def note_activity(self) -> None:
        """Any touch or key: restarts the inactivity countdown."""
        self._last_activity = self._clock.now()

    def resume(self) -> bool:
        self.note_activity()
        return self._commit(lambda s, now: s.resume(now=now))

    def abandon(self, reason: str) -> bool:
        """Close the session unfinished (nurse decision or inactivity): frozen and queued."""
        if self.session.phase.is_final:
            return False
        self._audio.stop()
        return self._commit(lambda s, now: s.abandon(now=now, reason=reason), force=True)

    def tick(self) -> None:
        """Called every second (and by tests with a fake clock): pause, then abandon, after inactivity."""
        if self._busy or self.session.phase.is_final:
            return
        idle = self._clock.now() - self._last_activity
        if idle >= timedelta(seconds=self.settings.abandon_seconds):
            self.abandon("inactivité")
        elif idle >= timedelta(seconds=self.settings.inactivity_seconds) and not self.session.paused:
            self._audio.stop()
            self._commit(lambda s, now: s.pause(now=now))

    # ------------------------------------------------------------------ audio
    def play_screen_prompt(self) -> None:
        """Read the current screen aloud ("Répéter" does the same), when audio is on."""
        if not self.audio_enabled:
            return
        prompt = prompt_for(self.screen, self.session.instrument)
        if prompt is not None:
            self._audio.play(prompt.prompt_id, prompt.text)

    def play_check_message(self) -> None:
        check = self.session.instrument.check
        self._audio.play("check-audio", check.audio_spoken)

    def play_microphone_instruction(self) -> None:
        if self.audio_enabled:
            check = self.session.instrument.check
            self._audio.play("check-microphone", check.microphone_spoken)

    def set_volume(self, volume: float) -> None:
        self._audio.set_volume(volume)

    def volume(self) -> float:
        return self._audio.volume()

    # ------------------------------------------------------------------ the one path to the store
    def _commit(
        self,
        transition: Callable[[Session, datetime], Session],
        *,
        beat_ms: int = 0,
        saved: Callable[[], None] | None = None,
        force: bool = False,
    ) -> bool:
        if self._busy and not force:
            return False
        if self.session.phase.is_final:
            return False
        # A forced change (abandon) while a save is on its way builds on that newer state, not on the saved one.
        base = self._unsaved if self._unsaved is not None else self.session
        now = self._clock.now()
        try:
            new = transition(base, now)
        except InvalidTransition as exc:
            log.warning("refused: %s", exc)
            return False
        self._unsaved = new
        store, device_id = self._store, self._device_id

        def work() -> None:
            if new.phase.is_final:
                frozen = build_submission(new, device_id=device_id, app_version=__version__, frozen_at=now)
                store.finish(new, frozen)
            else:
                store.save(new)

        def done(_result: object) -> None:
            self.session = new
            if self._unsaved is new:
                self._unsaved = None
            if saved is not None:
                saved()
            if beat_ms > 0 and not new.phase.is_final:
                QTimer.singleShot(beat_ms, self._publish)
            else:
                self._publish()

        def failed(exc: BaseException) -> None:
            log.error("saving the session failed: %s", exc)
            if self._unsaved is new:
                self._unsaved = None
            self._set_busy(False)
            message = exc.nurse_message if isinstance(exc, StorageError) else ""
            self.screen_changed.emit(self.screen)  # re-render the unchanged screen, without the highlight
            self.error.emit(SAVE_FAILED + (f"\n({message})" if message else ""))

        self._set_busy(True)
        self._tasks.run_in_background(work, done, failed)
        return True

    def _publish(self) -> None:
        self._set_busy(False)
        previous = self.screen
        self.screen = screen_of(self.session)
        self.screen_changed.emit(self.screen)
        number = self.screen.item.number if self.screen.item else None
        old_number = previous.item.number if previous.item else None
        if self.screen.kind is not ScreenKind.PAUSED and (self.screen.kind, number) != (previous.kind, old_number):
            self.play_screen_prompt()
        if self.session.phase.is_final:
            self.finished.emit(self.session.phase.value)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)

    @property
    def phase(self) -> Phase:
        return self.session.phase
