"""A local fake of ``google.cloud.speech.v1.Speech`` (StreamingRecognize), served over real gRPC so that the
REAL ``google-cloud-speech`` client talks to it (recipe in the platform notes).

Each call plays the next script entry:

* :class:`Reply`: reads the config, drains the audio until the client half-closes (sending ``interim``
  results after the first audio chunks), waits ``delay_s``, sends the final result (n-best with confidences).
* :class:`Abort`: aborts with a status code (UNAVAILABLE, DEADLINE_EXCEEDED...) after ``after_chunks`` audio
  messages — 0 is "refused at once", more is "the stream is cut halfway".
* :class:`Hang`: never answers for ``seconds`` (the client's deadline fires first).

Like the real service, a stream whose first message is not the ``streaming_config`` is refused with
INVALID_ARGUMENT (this is what the client's own retry does when it replays a half-consumed iterator).
``calls`` records each stream: its config, the audio bytes received, and whether it started right.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.cloud import speech_v1
from google.cloud.speech_v1.services.speech.transports import SpeechGrpcTransport

from kiosk.speech.google import GoogleSpeechRecognizer, GoogleSpeechSettings


@dataclass(frozen=True)
class Reply:
    alternatives: tuple[tuple[str, float], ...]
    interim: tuple[str, ...] = ()
    delay_s: float = 0.0


@dataclass(frozen=True)
class Abort:
    code: grpc.StatusCode
    after_chunks: int = 0
    details: str = "scripted failure"


@dataclass(frozen=True)
class Hang:
    seconds: float


@dataclass
class Call:
    config: Any = None
    started_with_config: bool = False
    audio_bytes: int = 0
    chunks: int = 0
    half_closed: bool = False


@dataclass
class FakeSpeechServer:
    script: deque[Reply | Abort | Hang] = field(default_factory=deque)
    calls: list[Call] = field(default_factory=list)
    address: str = ""

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: grpc.Server | None = None

    def push(self, *entries: Reply | Abort | Hang) -> None:
        with self._lock:
            self.script.extend(entries)

    # -- the service
    def _streaming_recognize(self, requests: Iterator[Any], context: grpc.ServicerContext) -> Iterator[Any]:
        call = Call()
        with self._lock:
            self.calls.append(call)
            entry = self.script.popleft() if self.script else Reply(())
        first = next(requests, None)
        if first is None or "streaming_config" not in first:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "the first request must hold streaming_config")
        call.started_with_config = True
        call.config = first.streaming_config
        if isinstance(entry, Hang):
            deadline = time.monotonic() + entry.seconds
            while time.monotonic() < deadline and context.is_active():
                time.sleep(0.01)
            return
        interim_sent = False
        for request in requests:
            call.chunks += 1
            call.audio_bytes += len(request.audio_content)
            if isinstance(entry, Abort) and call.chunks >= entry.after_chunks:
                context.abort(entry.code, entry.details)
            if isinstance(entry, Reply) and entry.interim and not interim_sent and call.chunks >= 2:
                interim_sent = True
                for text in entry.interim:
                    yield speech_v1.StreamingRecognizeResponse(
                        results=[
                            speech_v1.StreamingRecognitionResult(
                                alternatives=[speech_v1.SpeechRecognitionAlternative(transcript=text)],
                                is_final=False,
                                stability=0.5,
                            )
                        ]
                    )
        call.half_closed = True
        if isinstance(entry, Abort):  # fewer chunks came than scripted: fail at the end
            context.abort(entry.code, entry.details)
        assert isinstance(entry, Reply)
        if entry.delay_s:
            time.sleep(entry.delay_s)
        if entry.alternatives:
            yield speech_v1.StreamingRecognizeResponse(
                results=[
                    speech_v1.StreamingRecognitionResult(
                        alternatives=[
                            speech_v1.SpeechRecognitionAlternative(transcript=t, confidence=c)
                            for t, c in entry.alternatives
                        ],
                        is_final=True,
                    )
                ]
            )

    # -- lifecycle
    def start(self) -> FakeSpeechServer:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        handler = grpc.method_handlers_generic_handler(
            "google.cloud.speech.v1.Speech",
            {
                "StreamingRecognize": grpc.stream_stream_rpc_method_handler(
                    self._streaming_recognize,
                    request_deserializer=speech_v1.StreamingRecognizeRequest.deserialize,
                    response_serializer=speech_v1.StreamingRecognizeResponse.serialize,
                ),
            },
        )
        server.add_generic_rpc_handlers((handler,))
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        self._server = server
        self.address = f"127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=None)
            self._server = None

    def __enter__(self) -> FakeSpeechServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def recognizer(self, settings: GoogleSpeechSettings | None = None) -> GoogleSpeechRecognizer:
        """The REAL Google recogniser, its client on an insecure channel to this fake."""
        transport = SpeechGrpcTransport(channel=grpc.insecure_channel(self.address))
        return GoogleSpeechRecognizer(settings, transport=transport)
