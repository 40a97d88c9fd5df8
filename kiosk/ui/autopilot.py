"""Autopilot: a support and test feature that drives the real kiosk by touch, for the crash test.

``QLQ_KIOSK_AUTOPILOT="seed:N"`` (optionally ``seed:N,delay:MS``) makes the app resume the interrupted session
or start a touch-only session for a fixed demo patient, then touch answers chosen pseudo-randomly from the seed,
one after another (``MS`` = at most that many milliseconds between two touches, random, default 40). For each
answer it prints ``CONFIRMED <item> <value>`` on standard output, flushed, only AFTER the store's save for that
answer returned; so a test that kills the process at any moment knows which answers must have survived.
It prints ``SESSION <id>`` when a session starts or resumes and ``DONE`` when the questionnaire ends, then idles.
"""

from __future__ import annotations

import random
import sys
from dataclasses import replace
from datetime import date

from PySide6.QtCore import QObject, QTimer

from kiosk.domain.session import Mode
from kiosk.ui.main_window import MainWindow
from kiosk.viewmodels.kiosk_vm import KioskStatus
from kiosk.viewmodels.screens import ScreenKind, ScreenState
from kiosk.viewmodels.session_vm import SessionViewModel
from kiosk.viewmodels.start_form import StartForm

DEMO_PATIENT = StartForm(
    initials="A P",
    birth_date=date(1950, 5, 17),
    session_date="",
    mode=Mode.TOUCH,
    audio_enabled=False,
    language="fr",
    consent_answers=True,
    consent_voice=False,
)


def parse_spec(spec: str) -> tuple[int, int]:
    """``"seed:7"`` or ``"seed:7,delay:20"`` → (seed, max delay in ms)."""
    values = {"seed": 0, "delay": 40}
    for part in spec.split(","):
        key, _, value = part.partition(":")
        if key.strip() in values and value.strip().isdigit():
            values[key.strip()] = int(value)
    return values["seed"], values["delay"]


def emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Autopilot(QObject):
    def __init__(self, window: MainWindow, spec: str) -> None:
        super().__init__(window)
        seed, self._max_delay = parse_spec(spec)
        self._rng = random.Random(seed)  # noqa: S311 - reproducible test input, not security
        self._window = window
        self._started = False
        window.vm.status_changed.connect(self._on_status)
        window.vm.session_started.connect(self._on_session)
        window.vm.form_errors.connect(self._on_form_errors)

    @staticmethod
    def _on_form_errors(errors: dict[str, str]) -> None:
        if errors:
            emit(f"FORM-ERRORS {sorted(errors)}")

    def _on_status(self, status: KioskStatus) -> None:
        if self._started or not status.ready or status.corrupt_message or not status.has_pin:
            return
        self._started = True
        if status.unfinished:
            self._window.vm.resume(status.unfinished[0].session_id)
        else:
            form = replace(DEMO_PATIENT, session_date=self._window.vm.clock.today())
            self._window.vm.start_session(form)

    def _on_session(self, vm: SessionViewModel) -> None:
        emit(f"SESSION {vm.session.id}")
        vm.answer_saved.connect(lambda item, value: emit(f"CONFIRMED {item} {value}"))
        vm.screen_changed.connect(self._schedule)
        vm.finished.connect(lambda outcome: emit(f"DONE {outcome}"))
        QTimer.singleShot(0, lambda: self._schedule(vm.screen))

    def _schedule(self, state: ScreenState) -> None:
        QTimer.singleShot(self._rng.randint(0, self._max_delay), lambda: self._act(state))

    def _act(self, state: ScreenState) -> None:
        view = self._window.session_view
        if view is None or view.vm.screen is not state or view.vm.busy:
            return
        if state.kind is ScreenKind.CHECK:
            view.vm.record_check(
                audio_ok=True if view.vm.needs_audio_check else None,
                microphone_ok=None,
                switch_to_touch=view.vm.needs_microphone_check,
            )
        elif state.kind is ScreenKind.INTRODUCTION:
            view.intro_start.click()
        elif state.kind is ScreenKind.REVIEW:
            view.review_no.click()
        elif state.kind is ScreenKind.PAUSED:
            view.vm.resume()
        elif state.kind is ScreenKind.ITEM and state.item is not None:
            buttons = view.items.buttons
            buttons[self._rng.randrange(len(buttons))].click()
