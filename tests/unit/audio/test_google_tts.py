"""Google Text-to-Speech set-up: credentials from the secret store, endpoint choice, own bounded retry."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, cast

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.api_core import exceptions as gexc

from kiosk.audio.google_tts import EU_ENDPOINT, GoogleSynthesizer, as_wav, credentials_from_store, make_client
from kiosk.audio.synth import SynthesisError
from kiosk.secrets import MemorySecretStore, SecretName

if TYPE_CHECKING:
    from google.cloud.texttospeech_v1 import TextToSpeechClient


def _service_account_json() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "clinic-test",
            "private_key_id": "k1",
            "private_key": pem,
            "client_email": "kiosk-tts@clinic-test.iam.gserviceaccount.com",
            "client_id": "1",
            "token_uri": "https://oauth2.googleapis.com/token",
        }
    )


def test_credentials_come_from_the_secret_store() -> None:
    assert credentials_from_store(None) is None
    assert credentials_from_store(MemorySecretStore()) is None  # then Google's standard environment
    store = MemorySecretStore({SecretName.GOOGLE_CREDENTIALS: _service_account_json()})
    credentials = credentials_from_store(store)
    assert credentials.service_account_email == "kiosk-tts@clinic-test.iam.gserviceaccount.com"
    client = make_client(endpoint=EU_ENDPOINT, store=store)  # no network at construction
    assert EU_ENDPOINT in client._transport._host


def test_damaged_credentials_are_a_clear_error() -> None:
    store = MemorySecretStore({SecretName.GOOGLE_CREDENTIALS: '{"type": "service_account"}'})
    with pytest.raises(SynthesisError, match="not a service-account key"):
        credentials_from_store(store)
    with pytest.raises(SynthesisError, match="not a service-account key"):
        credentials_from_store(MemorySecretStore({SecretName.GOOGLE_CREDENTIALS: "not json"}))


class FlakyClient:
    """The client's neighbour for the retry rule: fails with the given errors, then answers."""

    def __init__(self, errors: list[Exception]) -> None:
        self.errors = errors
        self.calls: list[dict] = []

    def synthesize_speech(self, *, request, retry, timeout):
        self.calls.append({"retry": retry, "timeout": timeout})
        if self.errors:
            raise self.errors.pop(0)

        class Reply:
            audio_content = b"\x00\x00" * 100

        return Reply()


def as_client(fake: FlakyClient) -> TextToSpeechClient:
    """The fake where the synthesizer takes a client: it has the one method the synthesizer calls."""
    return cast("TextToSpeechClient", fake)


def test_own_bounded_retry_with_explicit_timeout() -> None:
    sleeps: list[float] = []
    client = FlakyClient([gexc.ServiceUnavailable("down"), gexc.DeadlineExceeded("slow")])
    synth = GoogleSynthesizer(as_client(client), timeout=7.5, attempts=3, backoff=0.5, sleep=sleeps.append)
    audio = synth.synthesize("Bonjour", language="fr", voice=None, rate=0.9)
    assert audio[:4] == b"RIFF"  # raw PCM got a WAV header
    assert [c["retry"] for c in client.calls] == [None, None, None]  # the client's own retry is off
    assert {c["timeout"] for c in client.calls} == {7.5} and sleeps == [0.5, 1.0]
    refused = FlakyClient([gexc.InvalidArgument("bad voice")])
    with pytest.raises(SynthesisError, match="refused the request: INVALID_ARGUMENT bad voice"):
        refusing = GoogleSynthesizer(as_client(refused), sleep=sleeps.append)
        refusing.synthesize("x", language="fr", voice="nope", rate=1.0)
    assert len(refused.calls) == 1


def test_limits_checked_before_sending() -> None:
    client = FlakyClient([])
    synth = GoogleSynthesizer(as_client(client))
    with pytest.raises(SynthesisError, match="longer than the service's 5000 bytes"):
        synth.synthesize("é" * 2501, language="fr", voice=None, rate=1.0)
    with pytest.raises(SynthesisError, match="outside Google's 0.25..2.0"):
        synth.synthesize("x", language="fr", voice=None, rate=3.0)
    assert client.calls == []
    with pytest.raises(SynthesisError, match="no audio"):
        as_wav(b"", 24000)
