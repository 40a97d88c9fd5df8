"""A local fake of ``google.cloud.texttospeech.v1.TextToSpeech`` served over real gRPC to the REAL client.

The packages ship no servicer classes, so the fake is a ``grpc.method_handlers_generic_handler`` using the
proto-plus types' ``serialize``/``deserialize`` (platform notes). ``SynthesizeSpeech`` answers with a LINEAR16
WAV (header included, as the real service does): a short tone whose length grows with the text, so tests can
tell clips apart. Every request is recorded. Failures are scripted per text substring:
``fake.fail_when("item 7 text", grpc.StatusCode.UNAVAILABLE)`` (always) or ``times=1`` (then succeeds).
"""

from __future__ import annotations

import io
import math
import struct
import threading
import time
import wave
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field

import grpc
from google.cloud import texttospeech_v1 as tts

SERVICE = "google.cloud.texttospeech.v1.TextToSpeech"


@dataclass
class _Failure:
    needle: str
    code: grpc.StatusCode
    times: int | None  # None: always


@dataclass
class FakeTextToSpeech:
    requests: list[tts.SynthesizeSpeechRequest] = field(default_factory=list)
    failures: list[_Failure] = field(default_factory=list)
    delay: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_when(self, needle: str, code: grpc.StatusCode, *, times: int | None = None) -> None:
        self.failures.append(_Failure(needle, code, times))

    @property
    def texts(self) -> list[str]:
        return [r.input.text for r in self.requests]

    def synthesize(
        self, request: tts.SynthesizeSpeechRequest, context: grpc.ServicerContext
    ) -> tts.SynthesizeSpeechResponse:
        with self._lock:
            self.requests.append(request)
            for failure in self.failures:
                if failure.needle in request.input.text and (failure.times is None or failure.times > 0):
                    if failure.times is not None:
                        failure.times -= 1
                    context.abort(failure.code, f"scripted {failure.code.name}")
        if self.delay:
            time.sleep(self.delay)
        rate = request.audio_config.sample_rate_hertz or 24000
        return tts.SynthesizeSpeechResponse(audio_content=tone_wav(len(request.input.text), rate))


def tone_wav(length: int, rate: int = 24000) -> bytes:
    """A 400 Hz tone (at 24 kHz) of 20 ms per character (at least 100 ms), 16-bit mono WAV."""
    frames = max(rate // 10, rate * length // 50)
    period = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * i / 60))) for i in range(60))
    data = (period * (frames // 60 + 1))[: frames * 2]
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data)
    return out.getvalue()


@contextmanager
def serve_fake_tts(fake: FakeTextToSpeech | None = None) -> Iterator[tuple[FakeTextToSpeech, str]]:
    """Start the fake on a free loopback port; yields ``(fake, "127.0.0.1:PORT")``."""
    fake = fake or FakeTextToSpeech()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    handler = grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "SynthesizeSpeech": grpc.unary_unary_rpc_method_handler(
                fake.synthesize,
                request_deserializer=tts.SynthesizeSpeechRequest.deserialize,
                response_serializer=tts.SynthesizeSpeechResponse.serialize,
            ),
        },
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield fake, f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None)
