"""The nurse flow without widgets: which page shows, why the PIN was asked, where it goes back, the demo PIN."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from kiosk.audio.silent import SilentAudioService
from kiosk.domain.clock import FakeClock
from kiosk.domain.session import Mode, Phase
from kiosk.storage.fake import InMemorySessionStore
from kiosk.storage.pin import hash_pin, verify_pin
from kiosk.tasks import TaskManager
from kiosk.version import version_label
from kiosk.viewmodels.kiosk_vm import KioskViewModel
from kiosk.viewmodels.nurse_flow import PIN_PROMPTS, AdminState, NurseFlowViewModel, Page, PinPurpose
from kiosk.viewmodels.options import DEMO_PIN, PIN_HASH_KEY, KioskSettings
from kiosk.viewmodels.session_vm import SessionViewModel
from kiosk.viewmodels.start_form import StartForm
from tests.ui.fresh import page, return_to

PIN = "4321"
_PIN_HASH = hash_pin(PIN)
FORM = StartForm(
    initials="J D",
    birth_date=date(1952, 3, 7),
    session_date=date(2026, 11, 25),
    mode=Mode.TOUCH,
    audio_enabled=False,
    language="fr",
    consent_answers=True,
    consent_voice=False,
)


@pytest.fixture
def tasks() -> Iterator[TaskManager]:
    manager = TaskManager()
    yield manager
    manager.shutdown(wait=True)


def _flow(qtbot, tasks: TaskManager, store: InMemorySessionStore, *, demo: bool = False):
    kiosk = KioskViewModel(
        lambda: store,
        tasks=tasks,
        audio=SilentAudioService(),
        clock=FakeClock(),
        settings=KioskSettings(answer_beat_ms=0),
    )
    flow = NurseFlowViewModel(kiosk, demo=demo)
    pages: list[Page] = []
    flow.page_changed.connect(pages.append)
    kiosk.open()
    qtbot.waitUntil(lambda: page(flow) is not Page.LOADING and tasks.idle, timeout=5000)
    return kiosk, flow, pages


def _enter(qtbot, kiosk: KioskViewModel, tasks: TaskManager, pin: str) -> None:
    kiosk.verify_pin(pin)
    qtbot.waitUntil(lambda: tasks.idle, timeout=5000)


def test_first_start_asks_for_a_pin_and_demo_mode_sets_the_demo_pin(qtbot, tasks):
    _, flow, pages = _flow(qtbot, tasks, InMemorySessionStore())
    assert pages == [Page.PIN_SETUP] and flow.demo_pin is None
    assert not flow.request_pin(PinPurpose.ADMIN)  # nothing to check a PIN against yet

    store = InMemorySessionStore()
    _, demo, pages = _flow(qtbot, tasks, store, demo=True)
    qtbot.waitUntil(lambda: page(demo) is Page.NURSE, timeout=5000)
    assert pages == [Page.NURSE] and demo.demo_pin == DEMO_PIN
    stored = store.get_setting(PIN_HASH_KEY)
    assert stored is not None and verify_pin(stored, DEMO_PIN) and DEMO_PIN not in stored


def test_the_pin_gate_remembers_why_and_where_from(qtbot, tasks):
    store = InMemorySessionStore()
    store.set_setting(PIN_HASH_KEY, _PIN_HASH)
    kiosk, flow, _ = _flow(qtbot, tasks, store)
    assert page(flow) is Page.NURSE
    prompts: list[str] = []
    refused: list[bool] = []
    opened: list[AdminState] = []
    flow.pin_requested.connect(prompts.append)
    flow.pin_refused.connect(lambda: refused.append(True))
    flow.admin_opened.connect(opened.append)

    assert flow.request_pin("admin")
    assert page(flow) is Page.PIN and prompts == [PIN_PROMPTS[PinPurpose.ADMIN]] and return_to(flow) is Page.NURSE
    assert not flow.request_pin(PinPurpose.SUMMARY)  # not from the PIN page itself
    _enter(qtbot, kiosk, tasks, "0000")
    assert refused == [True] and page(flow) is Page.PIN
    flow.leave_pin()  # "Annuler"
    assert page(flow) is Page.NURSE and return_to(flow) is None

    flow.request_pin(PinPurpose.ADMIN)
    _enter(qtbot, kiosk, tasks, PIN)
    assert page(flow) is Page.ADMIN and opened == [AdminState(kiosk.settings, 0, False, version=version_label())]
    assert not flow.request_pin(PinPurpose.ADMIN)  # not from the settings either
    flow.save_settings(kiosk.settings.with_changes(inactivity_seconds=240))
    qtbot.waitUntil(lambda: tasks.idle)
    assert page(flow) is Page.NURSE and store.get_setting("kiosk.inactivity_seconds") == "240"


def test_from_a_running_session_to_the_summary_and_a_new_patient(qtbot, tasks):
    store = InMemorySessionStore()
    store.set_setting(PIN_HASH_KEY, _PIN_HASH)
    kiosk, flow, pages = _flow(qtbot, tasks, store)
    kiosk.session_started.connect(flow.show_session)
    assert kiosk.start_session(FORM)
    qtbot.waitUntil(lambda: page(flow) is Page.SESSION, timeout=5000)
    session = flow.session
    assert isinstance(session, SessionViewModel)

    # The summary is only for a finished session: asked during the session, the PIN opens the settings.
    flow.request_pin(PinPurpose.SUMMARY)
    opened: list[AdminState] = []
    flow.admin_opened.connect(opened.append)
    _enter(qtbot, kiosk, tasks, PIN)
    assert page(flow) is Page.ADMIN and opened[-1].session_running
    flow.abandon_running()  # "Abandonner la session en cours"
    qtbot.waitUntil(lambda: tasks.idle and session.phase is Phase.ABANDONED, timeout=5000)
    flow.leave_pin()
    assert page(flow) is Page.SESSION  # its end screen

    flow.request_pin(PinPurpose.SUMMARY)
    assert return_to(flow) is Page.SESSION
    _enter(qtbot, kiosk, tasks, PIN)
    assert page(flow) is Page.SUMMARY
    assert flow.summary().missing_items == tuple(range(1, 31))
    flow.new_patient()
    assert page(flow) is Page.NURSE and flow.session is None and return_to(flow) is None
    assert pages[-4:] == [Page.SESSION, Page.PIN, Page.SUMMARY, Page.NURSE]
