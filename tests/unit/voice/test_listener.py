"""One listening turn without Qt: the outcome callbacks, pre-roll, cancel, force end, a dead microphone."""

from __future__ import annotations

import threading
from typing import Any

from kiosk.audio.capture import ChunkHandler, PcmCapture
from kiosk.speech.endpointing import EndpointConfig, float_to_pcm16
from kiosk.speech.fake import Fail, FakeRecognizer, Say
from kiosk.speech.listener import ListeningTurn, TurnCallbacks
from kiosk.speech.recognizer import RecognitionRequest
from tests.fakes.voice_clips import compose

REQUEST = RecognitionRequest(language="fr-FR")


class Outcome:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.kind = ""
        self.value: Any = None  # what the callback was given first: a result, an error, or None
        self.timing: Any = None  # ... and last: the turn's timing
        self.speech_end = 0

    def callbacks(self) -> TurnCallbacks:
        def set_(kind: str):
            def f(*args: object) -> None:
                self.kind, self.value, self.timing = kind, args[0] if args else None, args[-1] if args else None
                self.done.set()

            return f

        def end() -> None:
            self.speech_end += 1

        return TurnCallbacks(
            on_result=set_("result"), on_no_speech=set_("no_speech"), on_error=set_("error"), on_speech_end=end
        )


def speech(lead_s: float = 1.0) -> bytes:
    samples, _, _ = compose([("beaucoup", 0)], lead_s=lead_s, tail_s=1.5)
    return float_to_pcm16(samples)


def test_a_turn_streams_from_just_before_the_speech_and_reports_once() -> None:
    rec = FakeRecognizer([Say.text("beaucoup", 0.9)])
    out = Outcome()
    turn = ListeningTurn(PcmCapture(speech(lead_s=2.0)), rec, REQUEST, out.callbacks())
    turn.start()
    assert out.done.wait(10) and out.kind == "result"
    turn.join(2)
    timing = out.timing
    assert timing.speech_start_ms is not None and 1800 <= timing.speech_start_ms <= 2250
    sent_ms = rec.audio_bytes[0] / 32
    # from ~300 ms before the start to the end of the trailing silence, not the 2 s of silence before
    assert sent_ms < (timing.speech_end_ms - timing.speech_start_ms) + 300 + 1100 + 100 + 200
    assert sent_ms > (timing.speech_end_ms - timing.speech_start_ms) + 250
    assert out.speech_end == 1 and timing.decision_perf is not None


def test_errors_and_no_speech() -> None:
    out = Outcome()
    ListeningTurn(PcmCapture(speech()), FakeRecognizer([Fail("timeout")]), REQUEST, out.callbacks()).start()
    assert out.done.wait(10) and out.kind == "error" and out.value.kind == "timeout"
    out = Outcome()
    ListeningTurn(
        PcmCapture(b""), FakeRecognizer([]), REQUEST, out.callbacks(), config=EndpointConfig(start_timeout_ms=1000)
    ).start()
    assert out.done.wait(10) and out.kind == "no_speech"


def test_a_cancelled_turn_reports_nothing() -> None:
    out = Outcome()
    rec = FakeRecognizer([Say(((("assez", 0.9),)), delay_s=0.5)])
    turn = ListeningTurn(PcmCapture(speech(), realtime=True), rec, REQUEST, out.callbacks())
    turn.start()
    turn.cancel()
    turn.join(5)
    assert not out.done.wait(1.0)


def test_force_end_closes_the_turn_where_the_speech_stopped() -> None:
    out = Outcome()
    samples, _, _ = compose([("pas du tout", 0)], lead_s=0.3, tail_s=0.0)
    rec = FakeRecognizer([Say.text("pas du tout", 0.9)])
    capture = PcmCapture(float_to_pcm16(samples), realtime=True)
    turn = ListeningTurn(capture, rec, REQUEST, out.callbacks())
    turn.start()
    threading.Timer(1.6, turn.force_end).start()  # the patient releases the button before the silence ran out
    assert out.done.wait(10) and out.kind == "result"


class DeadCapture:
    """Opens, then never delivers a sample."""

    def __init__(self) -> None:
        self.stopped = False

    def start(self, on_chunk: ChunkHandler) -> None:
        del on_chunk

    def stop(self) -> None:
        self.stopped = True


def test_a_microphone_that_delivers_nothing_is_reported() -> None:
    out = Outcome()
    dead = DeadCapture()
    ListeningTurn(
        dead, FakeRecognizer([]), REQUEST, out.callbacks(), config=EndpointConfig(start_timeout_ms=1000)
    ).start()
    assert out.done.wait(10) and out.kind == "error"
    assert out.value.reason == "Le microphone ne transmet aucun son." and dead.stopped
