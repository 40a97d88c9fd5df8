"""Screenshots of every voice state on the real item screen (docs/screenshots/voice-*.png), and what each shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.speech.fake import Fail, Say
from kiosk.viewmodels.voice_vm import VoiceState
from tests.fakes.voice_clips import compose, espeak_available
from tests.fakes.voice_kiosk import VoiceKiosk, make_voice_kiosk
from tests.ui.test_voice_session import WAIT, to_items

pytestmark = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def shot(k: VoiceKiosk, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"voice-{name}.png"
    assert k.view.grab().save(str(path))
    return path


def long_speech() -> bytes:
    from kiosk.speech.endpointing import float_to_pcm16

    samples, _, _ = compose([("euh", 0.4), ("alors, je dirais, un peu, oui, un petit peu", 0)], lead_s=0.3, tail_s=1.2)
    return float_to_pcm16(samples)


def test_listening_with_the_live_level(qtbot) -> None:
    k = make_voice_kiosk([Say.text("un peu", 0.95)], pcm=long_speech, realtime=True)
    qtbot.addWidget(k.view)
    to_items(k, qtbot)
    qtbot.waitUntil(lambda: k.voice.state is VoiceState.LISTENING and k.panel.meter.peak > 0.4, timeout=WAIT)
    assert k.panel.status.text() == "●  J'écoute…" and k.panel.meter.isVisible()
    shot(k, "1-listening")
    k.voice.shutdown()


def test_thinking_then_understood(qtbot) -> None:
    k = make_voice_kiosk([Say(((("un peu", 0.95),)), delay_s=1.5)], beat_ms=1500)
    qtbot.addWidget(k.view)
    to_items(k, qtbot)
    qtbot.waitUntil(lambda: k.voice.state is VoiceState.THINKING, timeout=WAIT)
    assert k.panel.status.text() == "Je réfléchis…"
    shot(k, "2-thinking")
    qtbot.waitUntil(lambda: k.voice.state is VoiceState.UNDERSTOOD, timeout=WAIT)
    assert k.panel.status.text() == "J'ai compris :" and k.panel.heard.text() == "« un peu »"
    assert [b.value for b in k.view.items.buttons if b.isChecked()] == [2]
    shot(k, "3-understood")


def test_confirmation(qtbot) -> None:
    k = make_voice_kiosk([Say.text("assez", 0.42)])
    qtbot.addWidget(k.view)
    to_items(k, qtbot)
    qtbot.waitUntil(k.confirm.isVisible, timeout=WAIT)
    assert k.confirm.question.text() == "Vous avez répondu : assez. Est-ce bien cela ?"
    assert k.confirm.yes.isVisible() and k.confirm.no.isVisible()
    shot(k, "4-confirmation")
    k.voice.shutdown()


def test_confirmation_in_an_english_session(qtbot) -> None:
    k = make_voice_kiosk([Say.text("quite a bit", 0.42)], language="en")
    qtbot.addWidget(k.view)
    to_items(k, qtbot)
    qtbot.waitUntil(k.confirm.isVisible, timeout=WAIT)
    assert k.confirm.question.text() == "You answered: quite a bit. Is that right?"
    assert (k.confirm.yes.text(), k.confirm.no.text()) == ("Yes", "No")
    qtbot.waitUntil(lambda: k.voice.state is VoiceState.CONFIRMING and k.panel.status.text() != "", timeout=WAIT)
    assert k.panel.status.text() in {"Is that right?", "●  Listening…"}
    shot(k, "8-confirmation-english")
    k.voice.shutdown()


def test_unavailable_and_touch_fallback(qtbot) -> None:
    k = make_voice_kiosk(
        [],
        with_recognizer=False,
        unavailable="La reconnaissance vocale n'est pas configurée (identifiants Google absents).",
    )
    qtbot.addWidget(k.view)
    to_items(k, qtbot)
    qtbot.waitUntil(lambda: k.voice.state is VoiceState.UNAVAILABLE, timeout=WAIT)
    assert k.panel.status.text() == "Voix indisponible" and "identifiants Google absents" in k.panel.notice.text()
    assert k.view.width() == 1280
    shot(k, "5-unavailable")
    k2 = make_voice_kiosk([Fail("unavailable")])
    qtbot.addWidget(k2.view)
    to_items(k2, qtbot)
    qtbot.waitUntil(lambda: k2.voice.state is VoiceState.TOUCH, timeout=WAIT)
    assert "Touchez votre réponse" in k2.panel.status.text() and "ne répond pas" in k2.panel.notice.text()
    shot(k2, "6-touch-fallback")


def test_on_demand_microphone_button(qtbot) -> None:
    from kiosk.domain.session import Mode

    k = make_voice_kiosk([], mode=Mode.VOICE_ON_DEMAND)
    qtbot.addWidget(k.view)
    to_items(k, qtbot)
    qtbot.waitUntil(lambda: k.voice.state is VoiceState.IDLE, timeout=WAIT)
    assert k.panel.mic.isVisible()
    shot(k, "7-on-demand")
