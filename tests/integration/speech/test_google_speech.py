"""The Google recogniser, through the REAL google-cloud-speech client, against the local gRPC fake."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import grpc
import pytest

from kiosk.secrets.interface import SecretName
from kiosk.secrets.memory import MemorySecretStore
from kiosk.speech.google import GoogleSpeechSettings, recognizer_from_secrets
from kiosk.speech.recognizer import RecognitionError, RecognitionRequest, phrase_hints
from tests.fakes.google_speech import Abort, FakeSpeechServer, Hang, Reply

CHUNK = bytes(3200)
REQUEST = RecognitionRequest(
    language="fr-FR", phrase_hints=("pas du tout", "un peu", "assez", "beaucoup"), boost=12.0, max_alternatives=4
)
FAST = GoogleSpeechSettings(timeout_s=2.0, retries=1, retry_backoff_s=0.01)


@pytest.fixture
def fake() -> Iterator[FakeSpeechServer]:
    with FakeSpeechServer() as server:
        yield server


def audio(n: int = 10) -> Iterator[bytes]:
    for _ in range(n):
        yield CHUNK


def test_a_turn_round_trips_with_alternatives_interim_and_config(fake: FakeSpeechServer) -> None:
    fake.push(Reply((("un peu", 0.91), ("un peut", 0.4), ("impeu", 0.1)), interim=("un", "un pe")))
    interim: list[str] = []
    result = fake.recognizer(FAST).recognize(audio(), REQUEST, interim.append)
    assert [(a.transcript, round(a.confidence or 0, 2)) for a in result.alternatives] == [
        ("un peu", 0.91),
        ("un peut", 0.4),
        ("impeu", 0.1),
    ]
    assert (result.engine, result.model, result.language, result.attempts) == (
        "google-speech-v1",
        "latest_short",
        "fr-FR",
        1,
    )
    assert interim == ["un", "un pe"]
    (call,) = fake.calls
    assert call.started_with_config and call.half_closed and call.audio_bytes == 10 * 3200
    cfg = call.config.config
    assert (cfg.language_code, cfg.model, cfg.sample_rate_hertz, cfg.max_alternatives) == (
        "fr-FR",
        "latest_short",
        16000,
        4,
    )
    assert list(cfg.speech_contexts[0].phrases) == list(REQUEST.phrase_hints)
    assert cfg.speech_contexts[0].boost == pytest.approx(12.0)
    assert call.config.interim_results


def test_model_and_language_are_settings(fake: FakeSpeechServer) -> None:
    fake.push(Reply((("quite a bit", 0.8),)))
    rec = fake.recognizer(GoogleSpeechSettings(model="command_and_search", timeout_s=2))
    result = rec.recognize(audio(2), RecognitionRequest(language="en-GB"))
    assert fake.calls[0].config.config.model == "command_and_search"
    assert fake.calls[0].config.config.language_code == "en-GB"
    assert result.model == "command_and_search" and not fake.calls[0].config.config.speech_contexts


def test_unavailable_is_retried_with_a_fresh_stream_that_replays_the_audio(fake: FakeSpeechServer) -> None:
    fake.push(Abort(grpc.StatusCode.UNAVAILABLE, after_chunks=3), Reply((("assez", 0.88),)))
    result = fake.recognizer(FAST).recognize(audio(8), REQUEST)
    assert result.alternatives[0].transcript == "assez" and result.attempts == 2
    _first, second = fake.calls
    assert second.started_with_config, "the retry must open a new stream starting with the config"
    assert second.audio_bytes == 8 * 3200, "the retry must send the whole turn again, from its first chunk"


def test_a_stream_cut_halfway_is_retried_then_reported(fake: FakeSpeechServer) -> None:
    fake.push(Abort(grpc.StatusCode.ABORTED, after_chunks=4), Abort(grpc.StatusCode.INTERNAL, after_chunks=2))
    with pytest.raises(RecognitionError) as info:
        fake.recognizer(FAST).recognize(audio(8), REQUEST)
    assert info.value.kind == "stream_cut" and "coupée" in info.value.message
    assert len(fake.calls) == 2


def test_unavailable_twice_is_reported_after_one_retry(fake: FakeSpeechServer) -> None:
    fake.push(Abort(grpc.StatusCode.UNAVAILABLE), Abort(grpc.StatusCode.UNAVAILABLE), Reply((("non", 0.9),)))
    with pytest.raises(RecognitionError) as info:
        fake.recognizer(FAST).recognize(audio(3), REQUEST)
    assert info.value.kind == "unavailable" and len(fake.calls) == 2


def test_deadline_exceeded_from_the_server_and_from_the_clients_timeout(fake: FakeSpeechServer) -> None:
    fake.push(Abort(grpc.StatusCode.DEADLINE_EXCEEDED, after_chunks=1))
    with pytest.raises(RecognitionError) as info:
        fake.recognizer(FAST).recognize(audio(3), REQUEST)
    assert info.value.kind == "timeout" and len(fake.calls) == 1  # a timeout is not retried: the patient waited

    fake.push(Hang(5.0))
    t0 = time.monotonic()
    with pytest.raises(RecognitionError) as info:
        fake.recognizer(GoogleSpeechSettings(timeout_s=0.5)).recognize(audio(3), REQUEST)
    assert info.value.kind == "timeout" and time.monotonic() - t0 < 3


def test_a_slow_reply_within_the_timeout_is_fine(fake: FakeSpeechServer) -> None:
    fake.push(Reply((("beaucoup", 0.7),), delay_s=0.3))
    assert fake.recognizer(FAST).recognize(audio(2), REQUEST).alternatives[0].transcript == "beaucoup"


def test_refusals_are_not_retried(fake: FakeSpeechServer) -> None:
    fake.push(Abort(grpc.StatusCode.PERMISSION_DENIED), Reply((("oui", 0.9),)))
    with pytest.raises(RecognitionError) as info:
        fake.recognizer(FAST).recognize(audio(2), REQUEST)
    assert info.value.kind == "refused" and len(fake.calls) == 1


def test_nothing_recognised_is_an_empty_list(fake: FakeSpeechServer) -> None:
    fake.push(Reply(()))
    assert fake.recognizer(FAST).recognize(audio(2), REQUEST).alternatives == ()


def test_a_server_that_is_down_fails_fast(fake: FakeSpeechServer) -> None:
    address = fake.address
    fake.stop()
    from tests.fakes.google_speech import FakeSpeechServer as F

    down = F()
    down.address = address
    t0 = time.monotonic()
    with pytest.raises(RecognitionError) as info:
        down.recognizer(GoogleSpeechSettings(timeout_s=1.0, retries=1, retry_backoff_s=0.01)).recognize(
            audio(2), REQUEST
        )
    assert info.value.kind in ("unavailable", "timeout") and time.monotonic() - t0 < 5


def test_audio_produced_live_is_streamed_while_it_comes(fake: FakeSpeechServer) -> None:
    """The request stream follows a live source (a queue fed by the capture thread) until the turn ends."""
    fake.push(Reply((("pas du tout", 0.93),)))
    produced = threading.Event()

    def live() -> Iterator[bytes]:
        for _ in range(5):
            time.sleep(0.02)
            yield CHUNK
        produced.set()

    result = fake.recognizer(FAST).recognize(live(), REQUEST)
    assert produced.is_set() and result.alternatives[0].confidence == pytest.approx(0.93)


def test_credentials_come_from_the_secret_store() -> None:
    with pytest.raises(RecognitionError) as info:
        recognizer_from_secrets(MemorySecretStore())
    assert info.value.kind == "no_credentials" and "identifiants" in info.value.message
    with pytest.raises(RecognitionError):
        recognizer_from_secrets(MemorySecretStore({SecretName.GOOGLE_CREDENTIALS: "{not json"}))
    with pytest.raises(RecognitionError):
        recognizer_from_secrets(MemorySecretStore({SecretName.GOOGLE_CREDENTIALS: json.dumps({"type": "x"})}))


def test_phrase_hints_hold_the_scale_the_numbers_and_the_commands() -> None:
    hints = phrase_hints(("pas du tout", "un peu", "assez", "beaucoup"), "fr-FR", scale_max=4)
    assert {
        "pas du tout",
        "un peu",
        "assez",
        "beaucoup",
        "un",
        "deux",
        "trois",
        "quatre",
        "répéter",
        "retour",
        "oui",
        "non",
    } <= set(hints)
    assert "cinq" not in hints
    assert "sept" in phrase_hints(("tres mauvais", "excellent"), "fr", scale_max=7)
    assert {"a little", "repeat", "yes"} <= set(phrase_hints(("a little",), "en-GB", scale_max=4))
