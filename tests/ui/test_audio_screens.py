"""The patient screens with the real audio service: the "audio indisponible" notice (never a hang, the text
stays), two patients in a row on one audio service, the nurse's rate/volume settings, and an English session
whose screens are English throughout (one gettext catalogue)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

from kiosk.audio.qt_player import QtAudioService
from kiosk.audio.silent import SilentAudioService
from kiosk.domain.clock import FakeClock
from kiosk.storage.fake import InMemorySessionStore
from kiosk.tasks import TaskManager
from kiosk.ui.main_window import MainWindow
from kiosk.viewmodels.kiosk_vm import KioskViewModel
from kiosk.viewmodels.options import PIN_HASH_KEY, KioskSettings
from kiosk.viewmodels.screens import ScreenKind
from tests.ui.kiosk_harness import _PIN_HASH, Kiosk, close_kiosk

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
FRENCH_MARKS = set("éèàùçâêîôûœ")


def kiosk_with(qtbot, audio, settings: KioskSettings | None = None) -> Kiosk:
    store = InMemorySessionStore()
    store.set_setting(PIN_HASH_KEY, _PIN_HASH)
    tasks = TaskManager()
    vm = KioskViewModel(
        lambda: store, tasks=tasks, audio=audio, clock=FakeClock(), settings=settings or KioskSettings(answer_beat_ms=0)
    )
    window = MainWindow(vm, tick_ms=3_600_000)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    kiosk = Kiosk(window, vm, tasks, FakeClock(), audio, store, qtbot)
    vm.open()
    qtbot.waitUntil(lambda: window.current_page() is not window.loading, timeout=5000)
    kiosk.settle()
    return kiosk


def texts_of(widget: QWidget) -> list[str]:
    found = []
    for child in widget.findChildren(QWidget):
        if child.isVisibleTo(widget) and isinstance(child, QLabel | QAbstractButton) and child.text():
            found.append(child.text())
    return found


def test_audio_unavailable_notice_text_stays_and_screenshot(qtbot, tmp_path) -> None:
    audio = QtAudioService(tmp_path / "packs" / "fr", live=None)  # no pack, no live voice
    k = kiosk_with(qtbot, audio)
    try:
        k.start(audio=True)
        view = k.window.session_view
        assert k.screen_kind() is ScreenKind.CHECK
        qtbot.waitUntil(lambda: view.check.toolbar.audio_status.shown, timeout=3000)
        qtbot.waitUntil(lambda: audio.playing is None, timeout=1000)  # finished: nothing waits for a sound
        k.click(view.check.audio_yes)
        k.to_items()
        items = view.items
        qtbot.waitUntil(lambda: items.toolbar.audio_status.shown, timeout=3000)
        assert items.toolbar.audio_status.text.text() == "✕ Audio indisponible"
        assert "difficultés" in items.text.text()  # the question is there to read
        k.answer(3)  # touch still works; the next item's prompt is unavailable too
        assert k.screen.item.number == 2
        qtbot.waitUntil(lambda: items.toolbar.audio_status.shown, timeout=3000)
        assert k.window.height() == 800  # no page (the admin page's audio settings included) grows the window
        SHOTS.mkdir(parents=True, exist_ok=True)
        assert k.window.grab().save(str(SHOTS / "13-audio-unavailable.png"))
        for _ in range(3):
            k.window.prefs.bigger()
        toolbar = items.toolbar

        def fits() -> bool:  # once the new style is laid out: nothing overlaps, "Question 2 sur 30" not cut
            widgets = (toolbar.progress, toolbar.audio_status, toolbar.contrast, items.back, items.repeat)
            return toolbar.progress.geometry().right() < toolbar.audio_status.geometry().left() and all(
                w.width() >= w.sizeHint().width() for w in widgets
            )

        qtbot.waitUntil(fits, timeout=3000)
        assert k.window.grab().save(str(SHOTS / "13-audio-unavailable-largest.png"))
    finally:
        close_kiosk(k)


def test_notice_goes_away_once_a_prompt_is_heard(qtbot) -> None:
    audio = SilentAudioService()
    k = kiosk_with(qtbot, audio)
    try:
        k.start(audio=True)
        k.click(k.window.session_view.check.audio_yes)
        k.to_items()
        status = k.window.session_view.items.toolbar.audio_status
        assert not status.shown
        audio.unavailable.emit("item-01", "no output device")
        assert status.shown
        audio.audible.emit("item-01")
        assert not status.shown
    finally:
        close_kiosk(k)


def test_two_patients_in_a_row_share_the_audio_service(qtbot, tmp_path) -> None:
    """The first patient's widgets are deleted; the audio service's signals must not reach them."""
    audio = QtAudioService(tmp_path / "packs" / "fr", live=None)
    k = kiosk_with(qtbot, audio)
    try:
        k.start(audio=True)
        k.window.detach_session()
        qtbot.wait(50)  # deleteLater runs
        with qtbot.waitSignal(audio.finished, timeout=3000):
            audio.play("intro", "Nous nous intéressons à vous")  # would raise in a deleted widget's slot
        k.window.nurse.reset()
        k.start(audio=True)
        qtbot.waitUntil(lambda: k.window.session_view.check.toolbar.audio_status.shown, timeout=3000)
    finally:
        close_kiosk(k)


def test_nurse_rate_and_volume_reach_the_audio_service(qtbot) -> None:
    audio = SilentAudioService()
    k = kiosk_with(qtbot, audio, KioskSettings(answer_beat_ms=0, speech_rate_percent=115, volume_percent=60))
    try:
        k.start(audio=True)
        assert audio.rate() == pytest.approx(1.15) and audio.volume() == pytest.approx(0.6)
        k.vm.save_settings(k.vm.settings.with_changes(speech_rate_percent=83, volume_percent=140))
        assert k.vm.settings.speech_rate_percent == 80 and k.vm.settings.volume_percent == 100  # snapped, clamped
        assert audio.rate() == pytest.approx(0.8) and audio.volume() == 1.0
    finally:
        close_kiosk(k)


def test_admin_page_edits_rate_and_volume(qtbot) -> None:
    k = kiosk_with(qtbot, SilentAudioService())
    try:
        admin = k.window.admin
        admin.show_settings(KioskSettings(), "", False)
        assert admin.speech_rate.currentData() == 90 and admin.volume.value() == 100
        saved: list[KioskSettings] = []
        admin.saved.connect(saved.append)
        admin.speech_rate.setCurrentIndex(admin.speech_rate.findData(100))
        admin.volume.setValue(70)
        admin.save_button.click()
        assert (saved[0].speech_rate_percent, saved[0].volume_percent) == (100, 70)
    finally:
        close_kiosk(k)


def test_english_session_screens_are_english(qtbot) -> None:
    audio = SilentAudioService()
    k = kiosk_with(qtbot, audio)
    try:
        nurse = k.window.nurse
        k.fill_form(audio=True)
        nurse.language.setCurrentIndex(nurse.language.findData("en"))
        k.click(nurse.start)
        view = k.window.session_view
        seen: list[str] = []
        assert k.screen_kind() is ScreenKind.CHECK
        seen += texts_of(view.check)
        k.click(view.check.audio_no)  # the failure page too
        seen += texts_of(view.check)
        k.click(view.check.retry)
        k.click(view.check.audio_yes)
        assert k.screen_kind() is ScreenKind.INTRODUCTION
        seen += texts_of(view.intro)
        k.to_items()
        seen += texts_of(view.items)
        assert view.items.back.text().endswith("Back") and view.items.repeat.text().endswith("Repeat")
        assert view.items.toolbar.progress.text() == "Question 1 of 30"
        SHOTS.mkdir(parents=True, exist_ok=True)
        assert k.window.grab().save(str(SHOTS / "14-item-english.png"))
        for number in range(1, 31):
            if number == 5:
                k.click(view.items.skip)
            else:
                k.answer(2)
        assert k.screen_kind() is ScreenKind.REVIEW
        seen += texts_of(view.review)
        assert view.review.findChild(QLabel, "itemText").text().startswith("You have not answered 1 question.")
        assert audio.played[-1][1] == "You have not answered 1 question. Would you like to go back to it?"
        k.click(view.review_no)
        assert k.screen_kind() is ScreenKind.END
        seen += texts_of(view.end)
        assert audio.played[-1] == (
            "end",
            "Thank you. The questionnaire is complete. Please hand the tablet back to the care team.",
        )
        french = [t for t in seen if FRENCH_MARKS & set(t.lower())]
        assert french == []
        for word in ("Retour", "Répéter", "Passer", "Oui", "Non", "Commencer", "Réessayer", "sur 30", "Merci"):
            assert not any(word in t for t in seen), word
    finally:
        close_kiosk(k)
