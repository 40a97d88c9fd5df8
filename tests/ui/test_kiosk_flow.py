"""The kiosk driven by touch, offscreen: few, thin tests of the whole flow (logic is tested below the GUI)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QCloseEvent, QKeyEvent

from kiosk.domain.instrument import load_instrument
from kiosk.domain.session import ItemStatus, Phase
from kiosk.storage.fake import InMemorySessionStore
from kiosk.storage.sqlite_store import SqliteSessionStore
from kiosk.viewmodels.screens import ScreenKind
from tests.ui.kiosk_harness import PIN, close_kiosk, make_kiosk


@pytest.fixture
def memory_kiosk(qtbot):
    kiosk = make_kiosk(qtbot, InMemorySessionStore())
    yield kiosk
    close_kiosk(kiosk)


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_full_session_by_touch_to_summary_then_new_patient(qtbot, tmp_path, backend):
    store = InMemorySessionStore() if backend == "memory" else SqliteSessionStore(tmp_path / "kiosk.db")
    k = make_kiosk(qtbot, store)
    try:
        k.start(audio=True)
        view = k.window.session_view
        assert k.screen_kind() is ScreenKind.CHECK  # item 0: audio on
        assert k.audio.prompt_ids[-1] == "check-audio"
        k.click(view.check.audio_yes)
        assert k.screen_kind() is ScreenKind.INTRODUCTION
        assert k.audio.prompt_ids[-1] == "intro"
        k.to_items()
        for number in range(1, 31):
            item = k.screen.item
            assert item.number == number and item.progress == f"Question {number} sur 30"
            assert len(view.items.buttons) == (7 if number >= 29 else 4)
            assert all(b.height() >= 90 for b in view.items.buttons)
            k.answer(2)
            assert k.audio.prompt_ids[-1] in (f"item-{number + 1:02d}", "end")
        assert k.screen_kind() is ScreenKind.END
        assert store.pending_count() == 1
        session = store.load(k.window.session.session.id, load_instrument("qlq-c30", "fr"))
        assert session.phase is Phase.COMPLETED and session.answers() == dict.fromkeys(range(1, 31), 2)

        k.click(view.end_nurse)
        assert k.window.current_page() is k.window.pin
        k.enter_pin(PIN)
        summary = k.window.summary
        assert k.window.current_page() is summary
        codes = [summary.table.item(r, 1).text() for r in range(summary.table.rowCount())]
        assert len([c for c in codes if c]) == 16  # 15 scales + the summary score
        k.click(summary.new_patient_button)
        assert k.window.current_page() is k.window.nurse
        assert k.window.session_view is None and k.window.summary is None
        assert k.window.nurse.initials.text() == "" and not k.window.nurse.consent_answers.isChecked()
    finally:
        close_kiosk(k)
        store.close()


def test_back_changes_an_answer(memory_kiosk):
    k = memory_kiosk
    k.start()
    k.to_items()
    k.answer(1)
    k.answer(3)
    assert k.screen.item.number == 3
    k.click(k.window.session_view.items.back)
    assert k.screen.item.number == 2 and k.screen.item.current_value == 3
    assert [b.isChecked() for b in k.window.session_view.items.buttons] == [False, False, True, False]
    k.answer(4)
    assert k.screen.item.number == 3
    events = k.window.session.session.records[2].events
    assert [e.value for e in events] == [3, 4]


def test_skip_then_review_prompt(memory_kiosk):
    k = memory_kiosk
    k.start()
    k.to_items()
    view = k.window.session_view
    for number in range(1, 31):
        if number in (4, 17):
            k.click(view.items.skip)
        else:
            k.answer(1)
    assert k.screen_kind() is ScreenKind.REVIEW
    assert view.review_text.text() == "Vous n'avez pas répondu à 2 questions. Voulez-vous y revenir\u00a0?"
    k.click(view.review_yes)
    assert k.screen.item.number == 4
    k.answer(2)
    assert k.screen.item.number == 17
    k.click(view.items.skip)
    assert k.screen_kind() is ScreenKind.END  # offered once only
    assert k.window.session.session.status_of(17) is ItemStatus.SKIPPED


def test_pause_then_abandon_on_the_fake_clock(memory_kiosk):
    k = memory_kiosk
    k.start()
    k.to_items()
    k.answer(2)
    k.clock.tick(minutes=2)
    k.window.tick()
    assert k.screen_kind() is ScreenKind.ITEM
    k.clock.tick(1, minutes=1)
    k.window.tick()
    k.settle()
    assert k.screen_kind() is ScreenKind.PAUSED
    assert k.window.session_view.currentWidget() is k.window.session_view.pause
    k.click(k.window.session_view.pause)  # a touch resumes
    assert k.screen_kind() is ScreenKind.ITEM and k.screen.item.number == 2
    k.clock.tick(minutes=21)
    k.window.tick()
    k.settle()
    assert k.screen_kind() is ScreenKind.END and k.screen.abandoned
    assert k.store.pending_count() == 1
    payload = k.store.queued()[0].payload_json
    assert '"outcome":"abandoned"' in payload.replace(" ", "")


def test_pin_gate_and_kiosk_lock(memory_kiosk):
    k = memory_kiosk
    w = k.window
    event = QCloseEvent()
    w.closeEvent(event)
    assert not event.isAccepted()
    for key, mods in (
        (Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier),
        (Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier),
    ):
        assert w.guard.eventFilter(w, QKeyEvent(QEvent.Type.KeyPress, key, mods)) is True
    w.corner.long_pressed.emit()
    assert w.current_page() is w.pin
    k.enter_pin("0000")
    assert w.current_page() is w.pin and "incorrect" in w.pin.error.text()
    k.enter_pin(PIN)
    assert w.current_page() is w.admin
    exited = []
    w.exited.connect(lambda: exited.append(True))
    w.admin.exit_button.click()
    assert exited and w.allow_close


def test_validation_messages_next_to_fields(memory_kiosk):
    k = memory_kiosk
    k.fill_form(initials="J5", birth=None, consent=False)
    k.click(k.window.nurse.start)
    errors = k.window.nurse.errors
    assert errors["initials"].isVisible() and "Initiales invalides" in errors["initials"].text()
    assert errors["birth_date"].text() == "Ce champ est obligatoire."
    assert "accepté le traitement" in errors["consent_answers"].text()
    assert k.window.session is None


def test_storage_error_keeps_the_item_on_screen(memory_kiosk):
    k = memory_kiosk
    k.start()
    k.to_items()
    k.store.fail_next("save")
    k.answer(3)
    assert k.screen.item.number == 1 and k.screen.item.current_value is None
    banner = k.window.session_view.items.error
    assert banner.isVisible() and "n'a pas pu être enregistrée" in banner.text()
    k.answer(3)
    assert k.screen.item.number == 2 and not banner.isVisible()


def test_resume_prompt_and_resume(qtbot):
    store = InMemorySessionStore()
    first = make_kiosk(qtbot, store)
    first.start()
    first.to_items()
    for value in (1, 2, 3):
        first.answer(value)
    close_kiosk(first)

    k = make_kiosk(qtbot, store)
    try:
        nurse = k.window.nurse
        assert nurse.resume_box.isVisible()
        assert nurse.resume_text.text() == "Reprendre la session J D — question 4 sur 30"
        assert not nurse.start.isEnabled()
        k.click(nurse.resume)
        assert k.screen_kind() is ScreenKind.ITEM and k.screen.item.number == 4
        assert k.window.session.session.answers()[3] == 3
    finally:
        close_kiosk(k)


def test_close_unfinished_as_abandoned(qtbot):
    store = InMemorySessionStore()
    first = make_kiosk(qtbot, store)
    first.start()
    close_kiosk(first)
    k = make_kiosk(qtbot, store)
    try:
        k.click(k.window.nurse.close_unfinished)
        assert store.unfinished() == [] and store.pending_count() == 1
        assert not k.window.nurse.resume_box.isVisible()
        assert k.window.nurse.pending.text() == "1 questionnaire en attente d'envoi"
    finally:
        close_kiosk(k)


def test_corrupt_database_is_reported_and_left_alone(qtbot, tmp_path):
    path = tmp_path / "kiosk.db"
    garbage = b"this is not a database" * 100
    path.write_bytes(garbage)
    k = make_kiosk(qtbot, store=None, with_pin=False, store_factory=lambda: SqliteSessionStore(path))
    try:
        nurse = k.window.nurse
        assert k.window.current_page() is nurse
        assert nurse.corrupt.isVisible() and nurse.corrupt.text()
        assert not nurse.start.isEnabled()
        k.fill_form()
        nurse.start.click()
        k.settle()
        assert k.window.session is None
        assert path.read_bytes() == garbage
    finally:
        close_kiosk(k)


def test_first_start_pin_setup(qtbot):
    store = InMemorySessionStore()
    k = make_kiosk(qtbot, store, with_pin=False)
    try:
        page = k.window.pin_setup
        assert k.window.current_page() is page
        for pin in ("2468", "2469"):  # a mismatch starts again
            page.pad.entry.setText(pin)
            page.pad.entry.returnPressed.emit()
        assert "différents" in page.error.text()
        for _ in range(2):
            page.pad.entry.setText("2468")
            page.pad.entry.returnPressed.emit()
        k.settle()
        assert k.window.current_page() is k.window.nurse
        stored = store.get_setting("nurse_pin_hash")
        assert stored and "2468" not in stored and stored.startswith("$argon2")
    finally:
        close_kiosk(k)
