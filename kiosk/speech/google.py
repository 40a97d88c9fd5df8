"""Google Cloud Speech-to-Text v1 ``StreamingRecognize``, with the traps measured on this platform avoided.

* Every call has an explicit ``timeout`` and ``retry=None``: the client's default retries UNAVAILABLE for up to
  5,000 s AND re-sends the half-consumed request iterator (a second call without its config message). We
  retry ourselves (:attr:`GoogleSpeechSettings.retries`) with a FRESH request stream that starts with the
  config and replays the turn's audio from its first chunk (:class:`~kiosk.speech.recognizer.ReplayableAudio`).
* The generated ``speech_v1.services.speech.SpeechClient.streaming_recognize(requests=...)`` is used (the
  helper's ``streaming_recognize(config, requests)`` drops ``metadata``); the config is our first request.
* Our own endpointing decides when the turn ends (``single_utterance`` does not work with ``latest_short``):
  the request stream then ends, the client half-closes, and we read the final result.
* Model (default ``latest_short``, Google's short-utterance model), language, endpoint (e.g. the EU one,
  ``eu-speech.googleapis.com``) are settings; phrase hints with boost come from the item's scale and the
  commands; several alternatives; interim results go to ``on_interim``. Confidence is kept only from finals.

Credentials: a service-account key (JSON text) from the secret store under
:attr:`~kiosk.secrets.interface.SecretName.GOOGLE_CREDENTIALS`, provisioned by IT; never a file in the app
folder. Without it :func:`recognizer_from_secrets` raises ``RecognitionError("no_credentials")`` and the voice
modes show as unavailable with that reason.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.secrets.interface import SecretName, SecretStore, SecretStoreError
from kiosk.speech.recognizer import (
    ErrorKind,
    InterimHandler,
    RecognitionError,
    RecognitionRequest,
    RecognitionResult,
    RecognizedAlternative,
    ReplayableAudio,
)

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "speech.googleapis.com"
EU_ENDPOINT = "eu-speech.googleapis.com"
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


@dataclass(frozen=True)
class GoogleSpeechSettings:
    model: str = "latest_short"
    endpoint: str = DEFAULT_ENDPOINT
    timeout_s: float = 12.0  # the whole stream of one attempt (a turn lasts at most ~8 s + 12 s of speech)
    retries: int = 1  # extra attempts after UNAVAILABLE or a cut stream, each a fresh request stream
    retry_backoff_s: float = 0.2
    use_enhanced: bool = False


_CODE_KIND: dict[str, ErrorKind] = {
    "UNAVAILABLE": "unavailable",
    "DEADLINE_EXCEEDED": "timeout",
    "ABORTED": "stream_cut",
    "INTERNAL": "stream_cut",
    "CANCELLED": "stream_cut",
    "UNKNOWN": "stream_cut",
    "DATA_LOSS": "stream_cut",
    "UNAUTHENTICATED": "refused",
    "PERMISSION_DENIED": "refused",
    "INVALID_ARGUMENT": "refused",
    "RESOURCE_EXHAUSTED": "refused",
    "FAILED_PRECONDITION": "refused",
    "NOT_FOUND": "refused",
    "OUT_OF_RANGE": "refused",
    "UNIMPLEMENTED": "refused",
}
RETRYABLE: frozenset[ErrorKind] = frozenset({"unavailable", "stream_cut"})


def _status_name(exc: BaseException) -> str:
    code: Any = getattr(exc, "grpc_status_code", None)  # google.api_core.exceptions.GoogleAPICallError
    if code is None and callable(getattr(exc, "code", None)):  # a raw grpc.RpcError
        try:
            code = exc.code()  # type: ignore[attr-defined]
        except Exception:
            code = None
    return str(getattr(code, "name", "UNKNOWN"))


class GoogleSpeechRecognizer:
    """One client (thread-safe, reused across turns); :meth:`recognize` blocks, off the GUI thread."""

    engine = "google-speech-v1"

    def __init__(
        self, settings: GoogleSpeechSettings | None = None, *, credentials: Any = None, transport: Any = None
    ) -> None:
        from google.cloud.speech_v1.services.speech import SpeechClient

        self.settings = settings or GoogleSpeechSettings()
        self.model = self.settings.model
        if transport is not None:  # tests: a SpeechGrpcTransport over an insecure channel to the local fake
            self._client = SpeechClient(transport=transport)
        else:
            self._client = SpeechClient(
                credentials=credentials, client_options={"api_endpoint": self.settings.endpoint}
            )

    def _requests(self, audio: Iterator[bytes], request: RecognitionRequest) -> Iterator[Any]:
        from google.cloud import speech_v1

        config = speech_v1.RecognitionConfig(
            encoding=speech_v1.RecognitionConfig.AudioEncoding.LINEAR16,
            sample_rate_hertz=16_000,
            audio_channel_count=1,
            language_code=request.language,
            model=self.settings.model,
            use_enhanced=self.settings.use_enhanced,
            max_alternatives=request.max_alternatives,
            profanity_filter=False,
            enable_automatic_punctuation=False,
            speech_contexts=[speech_v1.SpeechContext(phrases=list(request.phrase_hints), boost=request.boost)]
            if request.phrase_hints
            else [],
        )
        yield speech_v1.StreamingRecognizeRequest(
            streaming_config=speech_v1.StreamingRecognitionConfig(config=config, interim_results=True)
        )
        for chunk in audio:
            for i in range(0, len(chunk), 16_000):  # <= 25 KB per message
                yield speech_v1.StreamingRecognizeRequest(audio_content=chunk[i : i + 16_000])

    def _attempt(
        self, audio: Iterator[bytes], request: RecognitionRequest, on_interim: InterimHandler | None
    ) -> list[list[RecognizedAlternative]]:
        finals: list[list[RecognizedAlternative]] = []
        responses = 0
        try:
            stream = self._client.streaming_recognize(
                requests=self._requests(audio, request), retry=None, timeout=self.settings.timeout_s
            )
            for response in stream:
                responses += 1
                if response.error and response.error.code:
                    raise RecognitionError("refused", f"status {response.error.code}: {response.error.message}")
                interim: list[str] = []
                for result in response.results:
                    if not result.alternatives:
                        continue
                    if result.is_final:
                        finals.append(
                            [
                                RecognizedAlternative(
                                    a.transcript.strip(), float(a.confidence) if a.confidence else None
                                )
                                for a in result.alternatives
                            ]
                        )
                    else:
                        interim.append(result.alternatives[0].transcript.strip())
                if interim and on_interim is not None:
                    on_interim(" ".join(t for t in interim if t))
        except RecognitionError:
            raise
        except Exception as exc:  # grpc.RpcError / google.api_core.exceptions.GoogleAPICallError
            name = _status_name(exc)
            kind = _CODE_KIND.get(name, "stream_cut")
            if kind == "unavailable" and responses:
                kind = "stream_cut"
            raise RecognitionError(kind, f"{name} after {responses} responses") from exc
        return finals

    def recognize(
        self, audio: Iterable[bytes], request: RecognitionRequest, on_interim: InterimHandler | None = None
    ) -> RecognitionResult:
        replay = ReplayableAudio(iter(audio))
        attempt = 0
        while True:
            attempt += 1
            try:
                finals = self._attempt(replay.stream(), request, on_interim)
                break
            except RecognitionError as exc:
                if exc.kind not in RETRYABLE or attempt > self.settings.retries:
                    raise
                log.info("speech stream failed (%s), retrying with a fresh stream", exc.kind)
                time.sleep(self.settings.retry_backoff_s)
        return RecognitionResult(
            _merge(finals), engine=self.engine, model=self.settings.model, language=request.language, attempts=attempt
        )


def _merge(finals: list[list[RecognizedAlternative]]) -> tuple[RecognizedAlternative, ...]:
    """One n-best list for the turn: alternative k joins the k-th (else best) alternative of each final."""
    finals = [f for f in finals if f]
    if not finals:
        return ()
    if len(finals) == 1:
        return tuple(a for a in finals[0] if a.transcript)
    width = max(len(f) for f in finals)
    merged = []
    for k in range(width):
        parts = [f[k] if k < len(f) else f[0] for f in finals]
        confidences = [p.confidence for p in parts if p.confidence is not None]
        merged.append(
            RecognizedAlternative(
                " ".join(p.transcript for p in parts if p.transcript),
                min(confidences) if len(confidences) == len(parts) else None,
            )
        )
    return tuple(a for a in merged if a.transcript)


def recognizer_from_secrets(store: SecretStore, settings: GoogleSpeechSettings | None = None) -> GoogleSpeechRecognizer:
    """The Google recogniser with the service-account key from the secret store; RecognitionError
    ``no_credentials`` (French message) when there is none or it is not a valid key."""
    try:
        text = store.get(SecretName.GOOGLE_CREDENTIALS)
    except SecretStoreError as exc:
        raise RecognitionError("no_credentials", f"secret store: {exc}") from None
    if not text:
        raise RecognitionError("no_credentials", "no google-credentials secret")
    try:
        from google.oauth2 import service_account

        info = json.loads(text)
        credentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
            info, scopes=list(SCOPES)
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise RecognitionError("no_credentials", f"not a service-account key: {type(exc).__name__}") from None
    return GoogleSpeechRecognizer(settings, credentials=credentials)


def recognizer_from_environment(
    store: SecretStore | None, settings: GoogleSpeechSettings | None = None
) -> GoogleSpeechRecognizer:
    """The secret store's key first; else the standard Google environment (``GOOGLE_APPLICATION_CREDENTIALS``
    naming a service-account key file, e.g. provisioned by IT outside the app folder); else ``no_credentials``."""
    if store is not None:
        try:
            return recognizer_from_secrets(store, settings)
        except RecognitionError:
            pass
    path = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS", "")
    if not path:
        raise RecognitionError("no_credentials", "no secret and no GOOGLE_APPLICATION_CREDENTIALS")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RecognitionError("no_credentials", f"GOOGLE_APPLICATION_CREDENTIALS: {exc.strerror}") from None
    from kiosk.secrets.interface import SecretName
    from kiosk.secrets.memory import MemorySecretStore

    return recognizer_from_secrets(MemorySecretStore({SecretName.GOOGLE_CREDENTIALS: text}), settings)
