"""A whole QLQ-C30 session by voice on the real screens (pytest-qt, offscreen): each turn, the fake microphone
plays an espeak-ng utterance through the REAL endpointing (Silero), and the scripted recogniser answers.
Covers an auto-accepted answer, a confirmed one, a rejected confirmation then a new answer, "répéter",
"retour", "je ne sais pas", a recogniser failure falling back to touch, two failed attempts, a touch
confirmation, a plain "non" to a confirmation followed by a new answer, and what the submission stores."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from kiosk.domain.prompts import prompt_catalogue
from kiosk.domain.session import ItemStatus, Method, Mode
from kiosk.domain.submission import Submission
from kiosk.speech.fake import Fail, Say
from kiosk.viewmodels.screens import ScreenKind
from kiosk.viewmodels.voice_vm import VoiceState
from tests.fakes.voice_clips import espeak_available
from tests.fakes.voice_kiosk import VoiceKiosk, make_voice_kiosk
from tests.ui.fresh import screen_kind

pytestmark = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")
WAIT = 10_000


def to_items(k: VoiceKiosk, qtbot) -> None:
    assert screen_kind(k.vm) is ScreenKind.CHECK
    k.vm.record_check(audio_ok=True, microphone_ok=True)
    qtbot.waitUntil(lambda: screen_kind(k.vm) is ScreenKind.INTRODUCTION and not k.vm.busy, timeout=WAIT)
    k.vm.begin_items()
    qtbot.waitUntil(lambda: screen_kind(k.vm) is ScreenKind.ITEM and not k.vm.busy, timeout=WAIT)


def item(k: VoiceKiosk) -> int | None:
    return k.vm.screen.item.number if screen_kind(k.vm) is ScreenKind.ITEM and k.vm.screen.item else None


def wait_item(k: VoiceKiosk, qtbot, number: int) -> None:
    qtbot.waitUntil(lambda: item(k) == number and not k.vm.busy, timeout=WAIT)


def wait_state(k: VoiceKiosk, qtbot, *states: VoiceState) -> None:
    qtbot.waitUntil(lambda: k.voice.state in states, timeout=WAIT)


def touch_answer(k: VoiceKiosk, qtbot, value: int) -> None:
    button = next(b for b in k.view.items.buttons if b.value == value)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def stored(k: VoiceKiosk) -> Submission:
    (queued,) = k.store.queued()
    assert queued.payload_json is not None
    return Submission.model_validate_json(queued.payload_json)


def test_thirty_items_by_voice(qtbot) -> None:
    k = make_voice_kiosk(
        [
            Say.text("un peu", 0.95),  # 1: auto-accepted -> 2
            Say.text("beaucoup", 0.41),
            Say.text("oui", 0.9),  # 2: low confidence -> confirmed by voice -> 4
            Say.text("asser", 0.8),
            Say.text("non, un peu", 0.9),  # 3: fuzzy 3 -> "non, un peu" -> confirm 2
            Say.text("oui c'est ça", 0.92),  #    -> yes -> 2
            Say.text("pouvez-vous répéter", 0.9),  # 4: repeat -> the prompt again
            Say.text("pas du tout", 0.93),  #    -> 1
            Say.text("retour", 0.9),  # 5: back to 4
            Say.text("beaucoup", 0.94),  # 4 again: now 4
            Say.text("je ne sais pas", 0.9),  # 5: don't know
            Fail("unavailable"),  # 6: recogniser down -> touch (3)
            Say.text("bonjour madame", 0.9),
            Say(()),  # 7: unclear twice -> touch (1)
            Say.text("assez", 0.3),  # 8: low confidence -> Oui touched -> 3
        ]
    )
    qtbot.addWidget(k.view)
    to_items(k, qtbot)
    wait_item(k, qtbot, 2)
    assert k.vm.session.records[1].current.value == 2
    wait_item(k, qtbot, 3)
    wait_item(k, qtbot, 4)
    wait_item(k, qtbot, 5)
    qtbot.waitUntil(lambda: k.recognizer.remaining <= 5, timeout=WAIT)  # "retour" was heard
    wait_item(k, qtbot, 6)
    assert k.vm.session.records[4].current.value == 4
    assert k.vm.session.records[5].current.status is ItemStatus.DONT_KNOW
    wait_state(k, qtbot, VoiceState.TOUCH)
    assert "Touchez" in k.panel.status.text() and "ne répond pas" in k.panel.notice.text()
    touch_answer(k, qtbot, 3)
    wait_item(k, qtbot, 7)
    wait_state(k, qtbot, VoiceState.TOUCH)
    played = [pid for pid, _ in k.audio.played]
    assert "reprompt-likert4" in played and "touch-fallback" in played and "recognizer-error" in played
    touch_answer(k, qtbot, 1)
    wait_item(k, qtbot, 8)
    qtbot.waitUntil(k.confirm.isVisible, timeout=WAIT)
    assert "Vous avez répondu : assez. Est-ce bien cela ?" in k.confirm.question.text()
    qtbot.mouseClick(k.confirm.yes, Qt.MouseButton.LeftButton)
    wait_item(k, qtbot, 9)
    # 9: a plain "non" to the confirmation, then a new answer in the next turn (the rejected one never stored)
    for say in (Say.text("beaucoup", 0.35), Say.text("non", 0.9), Say.text("un peu", 0.95)):
        k.recognizer.push(say)
    qtbot.waitUntil(lambda: k.confirm.isVisible() or item(k) == 10, timeout=WAIT)
    wait_item(k, qtbot, 10)
    assert k.vm.session.records[9].current.value == 2
    for number in range(10, 31):
        k.recognizer.push(Say.text("sept" if number >= 29 else "un peu", 0.95))
        wait_item(k, qtbot, number + 1) if number < 30 else None
    qtbot.waitUntil(lambda: screen_kind(k.vm) is ScreenKind.REVIEW and not k.vm.busy, timeout=WAIT)
    k.vm.decline_review()
    qtbot.waitUntil(lambda: screen_kind(k.vm) is ScreenKind.END and not k.vm.busy, timeout=WAIT)

    # never listened while a prompt played: every turn began after the prompt it waited for had finished
    assert all(c.starts == 1 for c in k.captures)
    # everything said (questions, confirmations, re-prompts, fallbacks) is a prompt of the one catalogue, with
    # its exact text: so each is played from the audio pack, and a stale clip never
    catalogue = prompt_catalogue(k.vm.session.instrument)
    assert all(catalogue.get(pid) == text for pid, text in k.audio.played), [
        pid for pid, text in k.audio.played if catalogue.get(pid) != text
    ]
    assert {"confirm-likert4-4", "confirm-likert4-2", "reprompt-likert4", "touch-fallback"} <= {
        pid for pid, _ in k.audio.played
    }
    sub = stored(k)
    assert sub.schema_version == "2.0"
    a = {x.item: x for x in sub.answers}
    one = a[1]
    assert (one.value, one.method, one.confirmed, one.transcript) == (2, Method.VOICE, False, "un peu")
    assert one.voice is not None and one.voice.confirmation == "none" and one.voice.attempts == 1
    assert [(x.transcript, x.confidence) for x in one.voice.alternatives] == [("un peu", 0.95)]
    assert (one.voice.recogniser.engine, one.voice.recogniser.model, one.voice.recogniser.language) == (
        "fake",
        "scripted",
        "fr-FR",
    )
    t = one.voice.times
    assert t.prompt_end_at is not None and t.speech_start_at is not None and t.speech_end_at is not None
    assert t.result_at is not None and t.prompt_end_at <= t.speech_start_at <= t.speech_end_at <= t.result_at
    two = a[2]
    assert (two.value, two.confirmed, two.voice.confirmation, two.voice.confirmation_transcript) == (
        4,
        True,
        "voice",
        "oui",
    )
    assert two.voice.attempts == 2 and two.confidence == pytest.approx(0.41)
    three = a[3]
    assert (three.value, three.confirmed, three.voice.confirmation) == (2, True, "voice")
    assert three.transcript == "non, un peu" and three.voice.attempts == 3
    four = a[4]
    assert four.value == 4 and [p.value for p in four.previous] == [1] and four.times_shown == 2
    assert a[5].status is ItemStatus.DONT_KNOW and a[5].method is Method.VOICE and a[5].value is None
    assert a[5].voice is not None and a[5].voice.alternatives[0].transcript == "je ne sais pas"
    six = a[6]
    assert (six.value, six.method) == (3, Method.TOUCH) and six.voice is not None
    assert six.voice.fallback == "recogniser_error"
    seven = a[7]
    assert (seven.value, seven.method, seven.voice.fallback, seven.voice.attempts) == (
        1,
        Method.TOUCH,
        "not_understood",
        2,
    )
    eight = a[8]
    assert (eight.value, eight.method, eight.confirmed, eight.voice.confirmation) == (3, Method.VOICE, True, "touch")
    nine = a[9]
    assert (nine.value, nine.confirmed, nine.voice.confirmation, nine.voice.attempts) == (2, False, "none", 3)
    assert nine.previous == () and [x.transcript for x in nine.voice.alternatives] == ["un peu"]
    assert a[29].value == 7 and a[30].value == 7 and a[29].voice.confirmation == "none"
    assert sub.session.mode_changes == ()
    # the phrase hints followed the item's scale
    assert "Pas du tout" in k.recognizer.requests[0].phrase_hints
    assert "sept" in k.recognizer.requests[-1].phrase_hints and "Beaucoup" not in k.recognizer.requests[-1].phrase_hints
    assert "Excellent" in k.recognizer.requests[-1].phrase_hints


def test_three_recogniser_errors_in_a_row_continue_in_touch(qtbot) -> None:
    k = make_voice_kiosk([Fail("timeout"), Fail("stream_cut"), Fail("unavailable")])
    qtbot.addWidget(k.view)
    to_items(k, qtbot)
    wait_state(k, qtbot, VoiceState.TOUCH)
    touch_answer(k, qtbot, 1)
    wait_item(k, qtbot, 2)
    wait_state(k, qtbot, VoiceState.TOUCH)
    touch_answer(k, qtbot, 2)
    wait_item(k, qtbot, 3)
    qtbot.waitUntil(lambda: k.vm.mode is Mode.TOUCH and not k.vm.busy, timeout=WAIT)
    assert k.voice.state is VoiceState.OFF and "toucher" in k.panel.notice.text()
    changes = k.vm.session.mode_changes
    assert len(changes) == 1 and changes[0].to_mode is Mode.TOUCH and "3 erreurs" in changes[0].reason
    assert [pid for pid, _ in k.audio.played].count("recognizer-error") == 2
    assert "voice-off" in [pid for pid, _ in k.audio.played]


def test_a_microphone_that_fails_switches_the_session_to_touch(qtbot) -> None:
    k = make_voice_kiosk([], capture_fail="Aucun microphone n'est branché sur la tablette.")
    qtbot.addWidget(k.view)
    to_items(k, qtbot)
    qtbot.waitUntil(lambda: k.vm.mode is Mode.TOUCH and not k.vm.busy, timeout=WAIT)
    assert "Aucun microphone" in k.panel.notice.text()
    assert "microphone indisponible" in k.vm.session.mode_changes[0].reason


def test_an_english_session_says_why_the_microphone_failed_in_english(qtbot) -> None:
    k = make_voice_kiosk([], capture_fail="Aucun microphone n'est branché sur la tablette.", language="en")
    qtbot.addWidget(k.view)
    to_items(k, qtbot)
    qtbot.waitUntil(lambda: k.vm.mode is Mode.TOUCH and not k.vm.busy, timeout=WAIT)
    assert k.panel.notice.text() == (
        "No microphone is connected to the tablet. The rest of the questionnaire is done by touch."
    )
    # the record keeps the French reason, whatever the session's language
    assert "Aucun microphone" in k.vm.session.mode_changes[0].reason


def test_without_a_recogniser_voice_shows_unavailable_with_the_reason(qtbot) -> None:
    k = make_voice_kiosk(
        [],
        with_recognizer=False,
        unavailable="La reconnaissance vocale n'est pas configurée (identifiants Google absents).",
    )
    qtbot.addWidget(k.view)
    to_items(k, qtbot)
    wait_state(k, qtbot, VoiceState.UNAVAILABLE)
    assert "identifiants Google absents" in k.panel.notice.text()
    touch_answer(k, qtbot, 2)
    wait_item(k, qtbot, 2)
    assert k.vm.session.records[1].current.method is Method.TOUCH


def test_no_speech_reprompts_once_then_touch(qtbot) -> None:
    k = make_voice_kiosk([], pcm=lambda: b"")
    qtbot.addWidget(k.view)
    to_items(k, qtbot)
    qtbot.waitUntil(lambda: "no-speech" in [p for p, _ in k.audio.played], timeout=WAIT)
    wait_state(k, qtbot, VoiceState.TOUCH)
    assert k.recognizer.requests == []  # silence is never sent to the recogniser
    touch_answer(k, qtbot, 4)
    wait_item(k, qtbot, 2)
    assert k.vm.session.records[1].current.voice.fallback == "no_speech"


def test_on_demand_listens_only_when_the_microphone_is_pressed(qtbot) -> None:
    k = make_voice_kiosk([Say.text("assez", 0.9)], mode=Mode.VOICE_ON_DEMAND)
    qtbot.addWidget(k.view)
    to_items(k, qtbot)
    wait_state(k, qtbot, VoiceState.IDLE)
    before = len(k.captures)  # item 0's level meter had its own capture
    qtbot.wait(300)
    assert len(k.captures) == before and k.panel.mic.isVisible()
    qtbot.mousePress(k.panel.mic, Qt.MouseButton.LeftButton)
    qtbot.mouseRelease(k.panel.mic, Qt.MouseButton.LeftButton)
    wait_item(k, qtbot, 2)
    assert k.vm.session.records[1].current.value == 3 and len(k.captures) == before + 1


def test_an_english_session_is_answered_by_voice(qtbot) -> None:
    k = make_voice_kiosk(
        [Say.text("quite a bit", 0.9), Say.text("a little", 0.5), Say.text("yes", 0.9), Fail("timeout")], language="en"
    )
    qtbot.addWidget(k.view)
    questions: list[str] = []
    statuses: set[str] = set()
    k.voice.confirmation_requested.connect(lambda _v, q: questions.append(q))
    k.voice.state_changed.connect(lambda _s: statuses.add(k.panel.status.text()))
    to_items(k, qtbot)
    wait_item(k, qtbot, 2)
    wait_item(k, qtbot, 3)
    assert k.vm.session.records[1].current.value == 3
    assert k.vm.session.records[2].current.value == 2 and k.vm.session.records[2].current.confirmed
    assert k.recognizer.requests[0].language == "en-GB"
    # what is said and shown is English: the confirmation (spoken from the English prompt catalogue, shown as
    # spoken), the panel's states, the Yes/No buttons, the recogniser's failure notice
    assert questions == ["You answered: a little. Is that right?"]
    wait_state(k, qtbot, VoiceState.TOUCH)
    spoken = dict(k.audio.played)
    assert spoken["confirm-likert4-2"] == questions[0]
    assert {"●  Listening…", "Thinking…", "I understood:"} <= statuses
    assert k.panel.status.text() == "Touch your answer on the screen"
    assert k.panel.notice.text() == "Speech recognition took too long to answer."
    assert (k.confirm.yes.text(), k.confirm.no.text()) == ("Yes", "No")
    assert "recognizer-error" in spoken and "touch" in spoken["recognizer-error"].lower()


def test_item_0_shows_the_real_microphone_level(qtbot) -> None:
    k = make_voice_kiosk([])
    qtbot.addWidget(k.view)
    assert screen_kind(k.vm) is ScreenKind.CHECK
    qtbot.waitUntil(lambda: k.view.check.meter.peak > 0.3, timeout=WAIT)  # espeak "un peu" on the fake mic
    monitor = k.captures[0]
    k.vm.record_check(audio_ok=True, microphone_ok=True)
    qtbot.waitUntil(lambda: screen_kind(k.vm) is ScreenKind.INTRODUCTION and not k.vm.busy, timeout=WAIT)
    assert monitor._stop.is_set()  # the check's capture stopped with the check


def test_a_failed_save_keeps_the_item_and_listens_again(qtbot) -> None:
    k = make_voice_kiosk([Say.text("beaucoup", 0.95), Say.text("beaucoup", 0.95)])
    qtbot.addWidget(k.view)
    to_items(k, qtbot)
    k.store.fail_next("save")
    qtbot.waitUntil(k.view.items.error.isVisible, timeout=WAIT)  # "La réponse n'a pas pu être enregistrée"
    assert item(k) == 1 and k.vm.session.records[1].current is None
    wait_item(k, qtbot, 2)  # heard again, saved this time
    # (the ignore: mypy keeps the ``current is None`` above across wait_item, which saved the answer)
    assert k.vm.session.records[1].current.value == 4 and k.recognizer.remaining == 0  # type: ignore[attr-defined]


def test_touch_chosen_at_the_microphone_check_leaves_no_voice_notice_on_the_items(qtbot) -> None:
    k = make_voice_kiosk([], capture_fail="Aucun microphone n'est branché sur la tablette.")
    qtbot.addWidget(k.view)
    assert screen_kind(k.vm) is ScreenKind.CHECK
    qtbot.waitUntil(lambda: "Aucun microphone" in k.panel.notice.text(), timeout=WAIT)  # item 0 says why
    k.vm.record_check(audio_ok=True, microphone_ok=False, switch_to_touch=True)  # "Continuer en tactile seulement"
    qtbot.waitUntil(lambda: screen_kind(k.vm) is ScreenKind.INTRODUCTION and not k.vm.busy, timeout=WAIT)
    k.vm.begin_items()
    wait_item(k, qtbot, 1)
    assert k.vm.mode is Mode.TOUCH and k.voice.state is VoiceState.OFF
    assert k.panel.notice.text() == "" and not k.panel.isVisible()
