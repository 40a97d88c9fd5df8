"""Run ONE listening turn through the real PyAudio capture (ALSA file device set up by the caller's HOME) and
the real Google client against the local gRPC fake; print the outcome as JSON. Run as a subprocess, because
ALSA reads ~/.asoundrc once per process.

    python -m tests.integration.speech.turn_script DEVICE_NAME REPLY_TRANSCRIPT REPLY_CONFIDENCE [ABORT_CODE]
"""

from __future__ import annotations

import json
import sys
import threading

import grpc

from kiosk.audio.capture import CaptureSettings, MicrophoneCapture, input_devices, probe_microphone
from kiosk.speech.endpointing import EndpointConfig
from kiosk.speech.google import GoogleSpeechSettings
from kiosk.speech.listener import ListeningTurn, TurnCallbacks
from kiosk.speech.recognizer import RecognitionRequest
from tests.fakes.google_speech import Abort, FakeSpeechServer, Reply


def main() -> int:
    device, transcript, confidence = sys.argv[1], sys.argv[2], float(sys.argv[3])
    abort = sys.argv[4] if len(sys.argv) > 4 else ""
    out: dict[str, object] = {"devices": input_devices(), "probe": probe_microphone(CaptureSettings(device))}
    done = threading.Event()
    levels: list[float] = []
    with FakeSpeechServer() as fake:
        if abort:
            fake.push(Abort(getattr(grpc.StatusCode, abort)), Abort(getattr(grpc.StatusCode, abort)))
        fake.push(Reply(((transcript, confidence), ("un peut", 0.3)), interim=("un",)))

        def result(r, t):
            out.update(
                kind="result",
                alternatives=[[a.transcript, a.confidence] for a in r.alternatives],
                speech_ms=[t.speech_start_ms, t.speech_end_ms],
                times_ordered=t.listen_started_at <= t.speech_start_at <= t.speech_end_at <= t.result_at,
            )
            done.set()

        def error(e, t):
            out.update(kind="error", error=type(e).__name__, detail=getattr(e, "kind", getattr(e, "reason", "")))
            done.set()

        def no_speech(t):
            out.update(kind="no_speech")
            done.set()

        interim: list[str] = []
        callbacks = TurnCallbacks(
            on_level=levels.append, on_interim=interim.append, on_result=result, on_error=error, on_no_speech=no_speech
        )
        turn = ListeningTurn(
            MicrophoneCapture(CaptureSettings(device)),
            fake.recognizer(GoogleSpeechSettings(timeout_s=5, retry_backoff_s=0.01)),
            RecognitionRequest(language="fr-FR", phrase_hints=("un peu",)),
            callbacks,
            config=EndpointConfig(start_timeout_ms=3000),
        )
        turn.start()
        done.wait(30)
        turn.join(5)
        out["interim"] = interim
        out["max_level"] = max(levels) if levels else 0.0
        out["calls"] = [{"config_first": c.started_with_config, "audio_bytes": c.audio_bytes} for c in fake.calls]
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
