"""The voice turn: listen, understand, confirm when in doubt, record — or hand the item over to touch.

:class:`VoiceViewModel` (QtCore only) sits beside the :class:`~kiosk.viewmodels.session_vm.SessionViewModel`
and follows its screens. On an item:

* *voix continue*: it listens once the item's prompt has FINISHED playing (never while it plays: it waits for
  the audio service's ``finished`` of that very prompt); *voix à la demande*: when the patient presses the
  microphone button (:meth:`press_microphone`; releasing it after a hold ends the turn, a tap lets the
  endpointing end it).
* Listening runs on worker threads (:class:`~kiosk.speech.listener.ListeningTurn`); its callbacks come back
  here as queued signals, so everything below runs on the GUI thread.
* Every alternative goes through :func:`~kiosk.domain.answers.parse_answer`. Sure → recorded at once
  (``Method.VOICE``, confirmation "none"). Unsure → "Vous avez répondu : assez. Est-ce bien cela ?" aloud and
  on screen with Oui/Non; the reply goes through :func:`~kiosk.domain.confirmation.parse_confirmation`: only a
  clear yes (or the Oui button) records it; "non" asks again; "non, un peu" is a new answer confirmed in its
  turn; unclear asks again.
* Commands: repeat (the prompt is read again, then it listens), back, "je ne sais pas" (left missing,
  ``DONT_KNOW``), skip.
* Start timeout: the prompt once more, then touch for that item. Two failed attempts (not understood, a "no"
  to the confirmation, an unclear reply) → touch for that item, said aloud. A recogniser error → touch for
  that item with a notice; three in a row → the session continues in touch (mode change recorded). A
  microphone that fails → touch for the session at once.

What was heard is kept with the answer (:class:`~kiosk.domain.voice_record.VoiceDetail`): every alternative,
attempts, confirmation, recogniser, and the times prompt end / speech start / speech end / result.

Everything said aloud here (confirmation questions, re-prompts, the fallbacks to touch) is a prompt of the one
catalogue, :mod:`kiosk.domain.prompts`: same id, same text, so it is played from the audio pack like every
other prompt (and never from a stale clip). Everything shown (notices, reasons) goes through the session
language's gettext catalogue (:mod:`kiosk.domain.i18n`), so an English session is all English.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from PySide6.QtCore import QObject, QTimer, Signal

from kiosk.audio.capture import AudioCapture, CaptureUnavailable
from kiosk.audio.service import AudioService
from kiosk.domain import prompts
from kiosk.domain.answers import Alternative, ParsedAnswer, parse_answer
from kiosk.domain.clock import Clock
from kiosk.domain.confirmation import parse_confirmation
from kiosk.domain.i18n import Translator, translator
from kiosk.domain.prompts import Prompt
from kiosk.domain.session import ItemStatus, Method, Mode
from kiosk.domain.voice_record import Fallback, HeardAlternative, VoiceDetail
from kiosk.speech.endpointing import EndpointConfig, SileroDetector, SpeechDetector, level_of
from kiosk.speech.listener import ListeningTurn, TurnCallbacks, TurnTiming
from kiosk.speech.recognizer import RecognitionError, RecognitionRequest, RecognitionResult, Recognizer, phrase_hints
from kiosk.viewmodels.screens import ItemScreen, ScreenKind, ScreenState
from kiosk.viewmodels.session_vm import SessionViewModel

log = logging.getLogger(__name__)

RECOGNISER_LANGUAGES = {"fr": "fr-FR", "en": "en-GB"}


class VoiceState(StrEnum):
    OFF = "off"  # not a voice item (or touch session)
    WAITING = "waiting"  # the prompt is playing: not listening
    IDLE = "idle"  # voix à la demande: waiting for the microphone button
    LISTENING = "listening"  # "J'écoute…"
    THINKING = "thinking"  # "Je réfléchis…"
    UNDERSTOOD = "understood"  # "J'ai compris : assez"
    CONFIRMING = "confirming"  # "Vous avez répondu : assez. Est-ce bien cela ?"
    TOUCH = "touch"  # this item by touch (fallback)
    UNAVAILABLE = "unavailable"  # voice cannot be used: reason shown


# On-screen notices (French source text, translated through kiosk.domain.i18n for the session's language).
NOTICE_TOUCH_ITEM = "Touchez votre réponse sur l'écran."
NOTICE_VOICE_OFF = "La suite du questionnaire se fait au toucher."
NOT_CONFIGURED = "La reconnaissance vocale n'est pas configurée."


@dataclass(frozen=True)
class VoiceSettings:
    endpoint: EndpointConfig = field(default_factory=EndpointConfig)
    min_confidence: float = 0.6
    max_attempts: int = 2  # failed attempts on one item before touch
    max_errors: int = 3  # recogniser errors in a row before the session goes on in touch
    boost: float = 12.0
    max_alternatives: int = 5
    prompt_wait_s: float = 90.0  # a prompt that never reports its end does not block listening forever


@dataclass
class _Pending:
    """An answer heard but not yet confirmed."""

    value: int
    result: RecognitionResult
    timing: TurnTiming


class VoiceViewModel(QObject):
    state_changed = Signal(str)  # VoiceState
    level_changed = Signal(float)  # 0..1, the live microphone level while listening
    heard_changed = Signal(str)  # interim text while listening, then what was understood
    confirmation_requested = Signal(int, str)  # (value, "Vous avez répondu : assez. Est-ce bien cela ?")
    confirmation_closed = Signal()
    notice = Signal(str)  # notice in the session's language (touch for this item, voice given up...)
    understood = Signal(int)  # value understood and being recorded (the benchmark's "answer on screen")

    # worker thread -> GUI thread (queued: emitted from the listening threads)
    _t_level = Signal(int, float)
    _t_speech_end = Signal(int)
    _t_interim = Signal(int, str)
    _t_result = Signal(int, object, object)
    _t_no_speech = Signal(int, object)
    _t_error = Signal(int, object, object)

    def __init__(
        self,
        session: SessionViewModel,
        *,
        audio: AudioService,
        clock: Clock,
        capture_factory: Callable[[], AudioCapture],
        recognizer: Recognizer | None,
        unavailable_reason: str | None = None,
        settings: VoiceSettings | None = None,
        detector_factory: Callable[[], SpeechDetector] = SileroDetector,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self._audio = audio
        self._clock = clock
        self._capture_factory = capture_factory
        self._recognizer = recognizer
        self.settings = settings or VoiceSettings()
        self._detector_factory = detector_factory
        self.state = VoiceState.OFF
        self._instrument = session.session.instrument
        self._tr = translator(self._instrument.language)
        reason = unavailable_reason if recognizer is not None else (unavailable_reason or NOT_CONFIGURED)
        #: Why voice cannot be used, in the session's language (None: it can).
        self.unavailable_reason = self._tr(reason) if reason is not None else None
        self._turn: ListeningTurn | None = None
        self._turn_id = 0
        self._item: ItemScreen | None = None
        self._awaiting_prompt: str | None = None
        self._prompt_end_at: datetime | None = None
        self._attempts = 0  # listening turns on this item (stored)
        self._failures = 0  # not understood, a 'no', an unclear reply: two of them and the item goes to touch
        self._reprompted = False
        self._errors_in_a_row = 0
        self._pending: _Pending | None = None
        self._fallback: Fallback = ""
        self._last_result: RecognitionResult | None = None
        self._press_started = 0.0
        self._monitor: AudioCapture | None = None
        self._mic_failed: CaptureUnavailable | None = None
        self._gave_up = False  # voice switched the session to touch itself: its notice stays for good
        self.last_timing: TurnTiming | None = None  # of the last result (benchmarks: decision -> screen)
        self.language = RECOGNISER_LANGUAGES.get(session.session.config.language, session.session.config.language)
        self._prompt_timer = QTimer(self)
        self._prompt_timer.setSingleShot(True)
        self._prompt_timer.timeout.connect(self._prompt_timed_out)
        self._t_level.connect(self._on_level)
        self._t_speech_end.connect(self._on_speech_end)
        self._t_interim.connect(self._on_interim)
        self._t_result.connect(self._on_result)
        self._t_no_speech.connect(self._on_no_speech)
        self._t_error.connect(self._on_error)
        audio.finished.connect(self._on_prompt_finished)
        session.screen_changed.connect(self._on_screen)
        session.pending_answer.connect(lambda _v: self._cancel_turn())
        session.touch_voice_detail = self._touch_detail
        session.finished.connect(lambda _o: self.shutdown())

    # ------------------------------------------------------------------ queries
    @property
    def recognizer(self) -> Recognizer | None:
        return self._recognizer

    @property
    def translator(self) -> Translator:
        """The session language's translator: the voice widgets' texts go through it."""
        return self._tr

    @property
    def active(self) -> bool:
        return self.session.mode.is_voice and self.unavailable_reason is None

    @property
    def on_demand(self) -> bool:
        return self.session.mode is Mode.VOICE_ON_DEMAND

    def _set_state(self, state: VoiceState) -> None:
        self.state = state
        self.session.listening_changed.emit(
            {VoiceState.LISTENING: "listening", VoiceState.THINKING: "processing"}.get(state, "off")
        )
        self.state_changed.emit(state.value)

    # ------------------------------------------------------------------ following the screens
    def start(self) -> None:
        """Begin with the screen on display (call once the views are connected)."""
        self._on_screen(self.session.screen)

    def _on_screen(self, state: ScreenState) -> None:
        if state.kind is ScreenKind.CHECK:
            self._start_level_monitor()
        else:
            self._stop_level_monitor()
        item = state.item if state.kind is ScreenKind.ITEM else None
        same_item = item is not None and self._item is not None and item.number == self._item.number
        if same_item and self.session.busy:
            return  # the same item re-rendered while an answer is saved (or after a failed save)
        self._cancel_turn()
        self._close_confirmation()
        if not same_item:
            self._attempts = 0
            self._failures = 0
            self._reprompted = False
            self._fallback = ""
            self._last_result = None
        self._item = item
        self._prompt_end_at = None
        if item is None:
            self._set_state(VoiceState.OFF)
            return
        if not self.session.mode.is_voice:
            if not self._gave_up:  # touch chosen on the nurse's or patient's side (item 0): no voice notice stays
                self.notice.emit("")
            self._set_state(VoiceState.OFF)
            return
        if self.unavailable_reason is not None:
            self._set_state(VoiceState.UNAVAILABLE)
            return
        if self._mic_failed is not None:
            self._microphone_lost(self._mic_failed)
            return
        if same_item and self.state is VoiceState.TOUCH:
            self._set_state(VoiceState.TOUCH)
            return
        if same_item:  # the same item shown again (a save failed): its prompt is not replayed, listen again
            self._listen_again()
            return
        self._after_prompt(prompts.item_prompt_id(item.number), played_by_session=True)

    def _after_prompt(self, prompt: Prompt | str, *, played_by_session: bool = False) -> None:
        """Listen once ``prompt`` has finished playing. A :class:`Prompt` is played here; a prompt id alone is
        one the session plays itself (the item's question)."""
        prompt_id = prompt.prompt_id if isinstance(prompt, Prompt) else prompt
        to_play = prompt if isinstance(prompt, Prompt) and not played_by_session else None
        if self.on_demand and self._pending is None:
            self._awaiting_prompt = None
            if to_play is not None and self.session.audio_enabled:
                self._play(to_play)
            self._set_state(VoiceState.IDLE)
            return
        if not self.session.audio_enabled:
            self._awaiting_prompt = None
            self._set_state(VoiceState.WAITING)
            QTimer.singleShot(0, self._listen)
            return
        self._awaiting_prompt = prompt_id
        self._set_state(VoiceState.WAITING)
        self._prompt_timer.start(int(self.settings.prompt_wait_s * 1000))
        if to_play is not None:
            self._play(to_play)

    def _play(self, prompt: Prompt) -> None:
        self._audio.play(prompt.prompt_id, prompt.text)

    def _words(self, value: int) -> str:
        """How the answer is said back ("assez", "5, excellent"): the prompt catalogue's own words."""
        assert self._item is not None
        return prompts.answer_words(self._instrument.scale_of(self._item.number), value)

    def _reprompt(self) -> Prompt:
        """ "Je n'ai pas bien compris." followed by this item's answer options."""
        assert self._item is not None
        return prompts.reprompt(self._instrument, self._instrument.item(self._item.number).scale)

    def _on_prompt_finished(self, prompt_id: str) -> None:
        if self._awaiting_prompt is None or prompt_id != self._awaiting_prompt:
            return
        self._awaiting_prompt = None
        self._prompt_timer.stop()
        if prompt_id.startswith("item-"):
            self._prompt_end_at = self._clock.now()
        self._listen()

    def _prompt_timed_out(self) -> None:
        if self._awaiting_prompt is not None:
            log.warning("prompt %s never reported its end: listening anyway", self._awaiting_prompt)
            self._awaiting_prompt = None
            self._listen()

    # ------------------------------------------------------------------ item 0: the real microphone level
    def _start_level_monitor(self) -> None:
        """Item 0's microphone check shows the real level: capture only (nothing is recognised or kept)."""
        if self._monitor is not None or not self.session.mode.is_voice:
            return
        try:
            capture = self._capture_factory()
            capture.start(lambda chunk: self._t_level.emit(-1, level_of(chunk)))
        except CaptureUnavailable as exc:
            self._mic_failed = exc  # the items will go on in touch (recorded), see _on_screen
            self.notice.emit(self._reason(exc))
            return
        self._monitor = capture

    def _stop_level_monitor(self) -> None:
        monitor, self._monitor = self._monitor, None
        if monitor is not None:
            monitor.stop()

    # ------------------------------------------------------------------ listening
    def press_microphone(self) -> None:
        """The microphone button (voix à la demande; also usable in voix continue to listen again)."""
        if not self.active or self._item is None or self.session.busy:
            return
        if self._turn is not None:
            return
        self._audio.stop()
        self._press_started = time.monotonic()
        self._listen()

    def release_microphone(self) -> None:
        """Released after a hold (> 0.6 s): the turn ends now; after a tap the endpointing ends it."""
        if self._turn is not None and self.on_demand and time.monotonic() - self._press_started > 0.6:
            self._turn.force_end()

    def _request(self) -> RecognitionRequest:
        assert self._item is not None
        labels = tuple(o.caption if self._item.numeric else o.label for o in self._item.options)
        hints = phrase_hints(labels, self.language, scale_max=max(o.value for o in self._item.options))
        return RecognitionRequest(
            language=self.language,
            phrase_hints=hints,
            boost=self.settings.boost,
            max_alternatives=self.settings.max_alternatives,
        )

    def _listen(self) -> None:
        if self._item is None or not self.active or self._recognizer is None or self.session.busy:
            return
        if self._audio.playing is not None:  # never listen while the kiosk speaks
            self._awaiting_prompt = self._audio.playing
            return
        self._cancel_turn()
        self._turn_id += 1
        tid = self._turn_id
        callbacks = TurnCallbacks(
            on_level=lambda level: self._t_level.emit(tid, level),
            on_speech_end=lambda: self._t_speech_end.emit(tid),
            on_interim=lambda text: self._t_interim.emit(tid, text),
            on_result=lambda r, t: self._t_result.emit(tid, r, t),
            on_no_speech=lambda t: self._t_no_speech.emit(tid, t),
            on_error=lambda e, t: self._t_error.emit(tid, e, t),
        )
        try:
            capture = self._capture_factory()
        except CaptureUnavailable as exc:
            self._microphone_lost(exc)
            return
        self._turn = ListeningTurn(
            capture,
            self._recognizer,
            self._request(),
            callbacks,
            config=self.settings.endpoint,
            detector=self._detector_factory(),
            clock=self._clock.now,
        )
        self.heard_changed.emit("")
        self._set_state(VoiceState.LISTENING)
        self._turn.start()

    def _cancel_turn(self) -> None:
        self._awaiting_prompt = None
        self._prompt_timer.stop()
        if self._turn is not None:
            self._turn.cancel()
            self._turn = None
        self._turn_id += 1  # anything still in flight is now stale

    def shutdown(self) -> None:
        self._stop_level_monitor()
        self._cancel_turn()
        self._close_confirmation()

    # ------------------------------------------------------------------ worker callbacks (GUI thread)
    def _current(self, tid: int) -> bool:
        return tid == self._turn_id and self._item is not None

    def _on_level(self, tid: int, level: float) -> None:
        if tid == -1 and self._monitor is not None:  # item 0's meter
            self.session.mic_level.emit(level)
        elif self._current(tid):
            self.level_changed.emit(level)
            self.session.mic_level.emit(level)

    def _on_speech_end(self, tid: int) -> None:
        if self._current(tid) and self.state is VoiceState.LISTENING:
            self._set_state(VoiceState.THINKING)

    def _on_interim(self, tid: int, text: str) -> None:
        if self._current(tid):
            self.heard_changed.emit(text)

    def _on_no_speech(self, tid: int, _timing: TurnTiming) -> None:
        if not self._current(tid):
            return
        self._turn = None
        if self._pending is not None:  # no reply to "Est-ce bien cela ?": ask once more, then touch
            self._failed_confirmation()
            return
        if not self._reprompted:
            self._reprompted = True
            if self.on_demand:
                self._set_state(VoiceState.IDLE)
                return
            self._after_prompt(prompts.no_speech_prompt(self._instrument))
            return
        self._to_touch("no_speech", prompts.touch_fallback_prompt(self._instrument))

    def _on_error(self, tid: int, exc: Exception, _timing: TurnTiming) -> None:
        if not self._current(tid):
            return
        self._turn = None
        if isinstance(exc, CaptureUnavailable):
            self._microphone_lost(exc)
            return
        assert isinstance(exc, RecognitionError)
        log.warning("recogniser error: %s", exc.kind)
        self._errors_in_a_row += 1
        if self._errors_in_a_row >= self.settings.max_errors:
            self._give_up_voice(f"{self._errors_in_a_row} erreurs de reconnaissance vocale de suite ({exc.kind})")
            return
        self.notice.emit(self._tr(exc.message))  # the state says "Touchez votre réponse sur l'écran"
        self._to_touch("recogniser_error", prompts.recognizer_error_prompt(self._instrument), notice=False)

    def _on_result(self, tid: int, result: RecognitionResult, timing: TurnTiming) -> None:
        if not self._current(tid):
            return
        self._turn = None
        self._errors_in_a_row = 0
        self._last_result = result
        self.last_timing = timing
        alternatives = [Alternative(a.transcript, a.confidence) for a in result.alternatives]
        if self._pending is not None:
            self._on_confirmation_reply(result, alternatives, timing)
            return
        assert self._item is not None
        scale = max(o.value for o in self._item.options)
        parsed = parse_answer(
            alternatives, 7 if scale == 7 else 4, min_confidence=self.settings.min_confidence, language=self.language
        )
        self._act_on_answer(parsed, result, timing)

    # ------------------------------------------------------------------ deciding
    def _act_on_answer(self, parsed: ParsedAnswer, result: RecognitionResult, timing: TurnTiming) -> None:
        assert self._item is not None
        self._attempts += 1
        top = result.alternatives[0] if result.alternatives else None
        if parsed.kind == "answer" and parsed.value is not None:
            if not parsed.needs_confirmation:
                self.heard_changed.emit(self._words(parsed.value))
                self._set_state(VoiceState.UNDERSTOOD)
                self.understood.emit(parsed.value)
                self.session.answer(
                    parsed.value,
                    method=Method.VOICE,
                    transcript=top.transcript if top else None,
                    confidence=top.confidence if top else None,
                    confirmed=False,
                    voice=self._detail(result, timing, "none"),
                )
                return
            self._ask_confirmation(_Pending(parsed.value, result, timing))
            return
        if parsed.kind == "command":
            self._attempts -= 1  # a command is not a failed attempt
            detail = self._detail(result, timing, "none")
            transcript, confidence = (top.transcript, top.confidence) if top else (None, None)
            if parsed.command == "repeat":
                self.heard_changed.emit("")
                self._after_prompt(prompts.item_prompt_id(self._item.number), played_by_session=True)
                self.session.play_screen_prompt()
                if not self.session.audio_enabled and not self.on_demand:
                    QTimer.singleShot(0, self._listen)
            elif parsed.command == "back":
                if not self.session.back():
                    self._listen_again()
            elif parsed.command == "dont_know":
                self.session.skip(
                    status=ItemStatus.DONT_KNOW,
                    method=Method.VOICE,
                    transcript=transcript,
                    confidence=confidence,
                    voice=detail,
                )
            elif parsed.command == "skip":
                self.session.skip(method=Method.VOICE, transcript=transcript, confidence=confidence, voice=detail)
            return
        self.heard_changed.emit(top.transcript if top else "")
        self._failed_attempt()

    def _listen_again(self) -> None:
        if self.on_demand:
            self._set_state(VoiceState.IDLE)
        else:
            self._listen()

    def _failed_attempt(self) -> None:
        self._failures += 1
        if self._failures >= self.settings.max_attempts:
            self._to_touch("not_understood", prompts.touch_fallback_prompt(self._instrument))
            return
        self._after_prompt(self._reprompt())

    def _ask_confirmation(self, pending: _Pending) -> None:
        assert self._item is not None
        self._pending = pending
        question = prompts.confirmation_prompt_for_item(self._instrument, self._item.number, pending.value)
        self.heard_changed.emit(self._words(pending.value))
        self._set_state(VoiceState.CONFIRMING)
        self.confirmation_requested.emit(pending.value, question.text)  # shown exactly as it is spoken
        self._after_prompt(question)
        if self.state is not VoiceState.CONFIRMING:  # _after_prompt shows WAITING/IDLE: the dialog stays
            self._set_state(VoiceState.CONFIRMING)

    def _on_confirmation_reply(
        self, result: RecognitionResult, alternatives: list[Alternative], timing: TurnTiming
    ) -> None:
        pending = self._pending
        assert pending is not None and self._item is not None
        scale = max(o.value for o in self._item.options)
        reply = parse_confirmation(
            alternatives,
            7 if scale == 7 else 4,
            language=self.language,
            proposed=pending.value,
            min_confidence=self.settings.min_confidence,
        )
        heard = result.alternatives[0].transcript if result.alternatives else None
        self._attempts += 1
        if reply.kind == "yes":
            self._record_confirmed(pending, "voice", heard)
        elif reply.kind == "answer" and reply.value is not None:
            self._failures += 1
            if self._failures >= self.settings.max_attempts:
                self._to_touch("not_understood", prompts.touch_fallback_prompt(self._instrument))
                return
            self._ask_confirmation(_Pending(reply.value, result, timing))
        elif reply.kind == "command" and reply.command == "repeat":
            self._ask_confirmation(pending)
        elif reply.kind == "command" and reply.command == "back":
            self._close_confirmation()
            if not self.session.back():
                self._listen_again()
        elif reply.kind == "command" and reply.command == "skip":
            self._close_confirmation()
            self.session.skip(method=Method.VOICE, transcript=heard, voice=self._detail(result, timing, "none"))
        elif reply.kind == "no":
            self._close_confirmation()
            self._failures += 1
            if self._failures >= self.settings.max_attempts:
                self._to_touch("not_understood", prompts.touch_fallback_prompt(self._instrument))
                return
            self._after_prompt(self._reprompt())
        else:
            self._failed_confirmation()

    def _failed_confirmation(self) -> None:
        self._failures += 1
        if self._failures >= self.settings.max_attempts:
            # the dialog stays: Oui/Non by touch; the answer buttons too
            self._fallback = "not_understood"
            self._awaiting_prompt = None
            self._play(prompts.touch_fallback_prompt(self._instrument))
            self.notice.emit(self._tr(NOTICE_TOUCH_ITEM))
            self._set_state(VoiceState.CONFIRMING)
            return
        self._after_prompt(prompts.confirm_unclear_prompt(self._instrument))
        self._set_state(VoiceState.CONFIRMING)

    def confirm_by_touch(self, yes: bool) -> None:
        """The Oui / Non buttons of the confirmation dialog."""
        pending = self._pending
        if pending is None:
            return
        self._cancel_turn()
        if yes:
            self._record_confirmed(pending, "touch", None)
            return
        self._close_confirmation()
        self._failures += 1
        if self._failures >= self.settings.max_attempts:
            self._to_touch("not_understood", prompts.touch_fallback_prompt(self._instrument))
            return
        self._after_prompt(self._reprompt())

    def _record_confirmed(self, pending: _Pending, how: str, reply: str | None) -> None:
        top = pending.result.alternatives[0] if pending.result.alternatives else None
        detail = replace(self._detail(pending.result, pending.timing, how), confirmation_transcript=reply)
        self._close_confirmation()
        assert self._item is not None
        self.heard_changed.emit(self._words(pending.value))
        self._set_state(VoiceState.UNDERSTOOD)
        self.understood.emit(pending.value)
        self.session.answer(
            pending.value,
            method=Method.VOICE,
            transcript=top.transcript if top else None,
            confidence=top.confidence if top else None,
            confirmed=True,
            voice=detail,
        )

    def _close_confirmation(self) -> None:
        if self._pending is not None:
            self._pending = None
            self.confirmation_closed.emit()

    # ------------------------------------------------------------------ falling back to touch
    def _to_touch(self, why: Fallback, prompt: Prompt, *, notice: bool = True) -> None:
        self._cancel_turn()
        self._close_confirmation()
        self._fallback = why
        if self.session.audio_enabled:
            self._play(prompt)
        if notice:
            self.notice.emit(self._tr(NOTICE_TOUCH_ITEM))
        self._set_state(VoiceState.TOUCH)

    def _reason(self, exc: CaptureUnavailable) -> str:
        """The microphone's reason in the session's language."""
        return self._tr(exc.message, **exc.fields)

    def _microphone_lost(self, exc: CaptureUnavailable) -> None:
        reason = self.unavailable_reason = self._reason(exc)
        # the mode change is recorded in French (the data's language), whatever the session's language
        self._give_up_voice(
            f"microphone indisponible : {exc.reason}",
            notice=f"{reason} {self._tr(NOTICE_VOICE_OFF)}",
            fallback="microphone",
        )

    def _give_up_voice(
        self, reason: str, *, notice: str | None = None, fallback: Fallback = "recogniser_error"
    ) -> None:
        self._cancel_turn()
        self._close_confirmation()
        self._gave_up = True
        self._fallback = fallback
        if self.session.audio_enabled:
            self._play(prompts.voice_off_prompt(self._instrument))
        self.notice.emit(notice or self._tr(NOTICE_VOICE_OFF))
        self._set_state(VoiceState.OFF)
        self.session.switch_to_touch(reason[:200])

    # ------------------------------------------------------------------ what is stored
    def _detail(self, result: RecognitionResult, timing: TurnTiming, confirmation: str) -> VoiceDetail:
        return VoiceDetail(
            alternatives=tuple(HeardAlternative(a.transcript, a.confidence) for a in result.alternatives),
            attempts=max(1, self._attempts),
            confirmation=confirmation,  # type: ignore[arg-type]
            engine=result.engine,
            model=result.model,
            language=result.language,
            prompt_end_at=self._prompt_end_at,
            speech_start_at=timing.speech_start_at,
            speech_end_at=timing.speech_end_at,
            result_at=timing.result_at,
        )

    def _touch_detail(self) -> VoiceDetail | None:
        """A touch answer after voice attempts on the item keeps them (and why voice gave way)."""
        if not self.session.mode.is_voice and not self._fallback:
            return None
        if self._attempts == 0 and not self._fallback:
            return None
        r = self._last_result
        return VoiceDetail(
            alternatives=tuple(HeardAlternative(a.transcript, a.confidence) for a in r.alternatives) if r else (),
            attempts=self._attempts,
            confirmation="none",
            engine=r.engine if r else "",
            model=r.model if r else "",
            language=r.language if r else self.language,
            prompt_end_at=self._prompt_end_at,
            fallback=self._fallback,
        )
