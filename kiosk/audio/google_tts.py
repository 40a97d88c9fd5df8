"""Google Cloud Text-to-Speech (v1 ``SynthesizeSpeech``) as a :class:`~kiosk.audio.synth.Synthesizer`.

Credentials: a service-account key (JSON text) from the secret store (``SecretName.GOOGLE_CREDENTIALS``,
provisioned by IT), else Google's standard environment (``GOOGLE_APPLICATION_CREDENTIALS``, gcloud's
application-default credentials). Never a key file in the app folder.

The endpoint is configurable (``eu-texttospeech.googleapis.com`` keeps the text in the EU). Every call has an
explicit timeout and the client's own retry is switched off (by default it retries UNAVAILABLE for up to
5,000 s, which would hang an offline machine, see platform notes): :class:`GoogleSynthesizer` retries
UNAVAILABLE / DEADLINE_EXCEEDED / INTERNAL itself a bounded number of times with a short back-off.

``plaintext=True`` talks to an insecure local gRPC server (tests' fake, ``tests/fakes/google_tts.py``); it is
refused for anything but a loopback address.
"""

from __future__ import annotations

import io
import json
import time
import wave
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kiosk.audio.pack import SAMPLE_RATE as PACK_SAMPLE_RATE
from kiosk.audio.synth import SynthesisError
from kiosk.secrets.interface import SecretName, SecretStore

if TYPE_CHECKING:
    from google.cloud.texttospeech_v1 import TextToSpeechClient

GOOGLE_LANGUAGES = {"fr": "fr-FR", "en": "en-GB"}
EU_ENDPOINT = "eu-texttospeech.googleapis.com"
MAX_INPUT_BYTES = 5000  # the service's limit per request
SAMPLE_RATE = PACK_SAMPLE_RATE  # asked of the service: the pack's own rate, no resampling
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def google_language(language: str) -> str:
    return GOOGLE_LANGUAGES.get(language, language)


def credentials_from_store(store: SecretStore | None) -> Any | None:
    """Service-account credentials from the secret store, or None (then the standard Google environment)."""
    if store is None:
        return None
    text = store.get(SecretName.GOOGLE_CREDENTIALS)
    if not text:
        return None
    from google.oauth2 import service_account

    try:
        info = json.loads(text)
        return service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
            info, scopes=["https://www.googleapis.com/auth/cloud-platform"]
        )
    except (ValueError, KeyError) as exc:
        raise SynthesisError(
            f"the Google credentials in the secret store are not a service-account key: {exc}"
        ) from None


def make_client(
    *, endpoint: str | None = None, plaintext: bool = False, store: SecretStore | None = None
) -> TextToSpeechClient:
    """A Text-to-Speech client on the given endpoint (default Google's global one)."""
    from google.cloud import texttospeech_v1 as tts

    if plaintext:
        if not endpoint or endpoint.rsplit(":", 1)[0] not in LOOPBACK_HOSTS:
            raise SynthesisError("a plaintext (insecure) endpoint is only for a local test server on 127.0.0.1")
        import grpc
        from google.cloud.texttospeech_v1.services.text_to_speech.transports import TextToSpeechGrpcTransport

        return tts.TextToSpeechClient(transport=TextToSpeechGrpcTransport(channel=grpc.insecure_channel(endpoint)))
    credentials = credentials_from_store(store)
    options = {"api_endpoint": endpoint} if endpoint else None
    try:
        return tts.TextToSpeechClient(credentials=credentials, client_options=options)
    except Exception as exc:  # google.auth.exceptions.DefaultCredentialsError and friends
        raise SynthesisError(f"no Google credentials: {exc}") from None


def _retryable() -> tuple[type[BaseException], ...]:
    from google.api_core import exceptions as gexc

    return (gexc.ServiceUnavailable, gexc.DeadlineExceeded, gexc.InternalServerError)


class GoogleSynthesizer:
    """Synthesises LINEAR16 WAV at 16 kHz (the pack's rate). ``attempts`` calls at most per text, each with
    ``timeout``."""

    engine = "google"

    def __init__(
        self,
        client: TextToSpeechClient,
        *,
        timeout: float = 20.0,
        attempts: int = 3,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self._sleep = sleep

    def voice_for(self, language: str, voice: str | None) -> str:
        return voice or f"{google_language(language)}-default"

    def synthesize(self, text: str, *, language: str, voice: str | None, rate: float) -> bytes:
        from google.api_core import exceptions as gexc
        from google.cloud import texttospeech_v1 as tts

        if len(text.encode("utf-8")) > MAX_INPUT_BYTES:
            raise SynthesisError(f"text longer than the service's {MAX_INPUT_BYTES} bytes")
        if not 0.25 <= rate <= 2.0:
            raise SynthesisError(f"speaking rate {rate} outside Google's 0.25..2.0")
        request = tts.SynthesizeSpeechRequest(
            input=tts.SynthesisInput(text=text),
            voice=tts.VoiceSelectionParams(language_code=google_language(language), name=voice or ""),
            audio_config=tts.AudioConfig(
                audio_encoding=tts.AudioEncoding.LINEAR16, speaking_rate=rate, sample_rate_hertz=SAMPLE_RATE
            ),
        )
        retryable = _retryable()
        last: BaseException | None = None
        for attempt in range(self.attempts):
            if attempt:
                self._sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self.client.synthesize_speech(request=request, retry=None, timeout=self.timeout)
            except retryable as exc:
                last = exc
                continue
            except gexc.GoogleAPICallError as exc:
                raise SynthesisError(f"Google Text-to-Speech refused the request: {_status(exc)}") from None
            return as_wav(bytes(response.audio_content), SAMPLE_RATE)
        assert last is not None
        raise SynthesisError(f"Google Text-to-Speech failed {self.attempts} times: {_status(last)}")


def _status(exc: BaseException) -> str:
    code = getattr(exc, "grpc_status_code", None)  # grpc.StatusCode: UNAVAILABLE, DEADLINE_EXCEEDED...
    name = getattr(code, "name", None) or type(exc).__name__
    message = getattr(exc, "message", "") or ""
    return f"{name} {message}".strip()


def as_wav(audio: bytes, sample_rate: int) -> bytes:
    """LINEAR16 replies carry a WAV header; raw PCM (some endpoints) is given one."""
    if audio[:4] == b"RIFF" and audio[8:12] == b"WAVE":
        return audio
    if not audio:
        raise SynthesisError("the service returned no audio")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(audio)
    return out.getvalue()
