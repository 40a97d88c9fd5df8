"""Server URL rules, the QR text, and enrollment against the fake centre (token in the secret store)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from kiosk.domain.clock import FakeClock
from kiosk.secrets import MemorySecretStore, SecretName
from kiosk.storage.fake import InMemorySessionStore
from kiosk.sync import messages
from kiosk.sync.config import ServerUrlError, check_server_url, load_enrollment
from kiosk.sync.enroll import EnrollmentError, enroll, forget, parse_enrollment_text
from kiosk.sync.transport import Reply, TransportFailure


@pytest.mark.parametrize(
    "url,expected",
    [
        ("https://qlq.chu-lyon.fr", "https://qlq.chu-lyon.fr"),
        ("  https://qlq.chu-lyon.fr:8443/centre/ ", "https://qlq.chu-lyon.fr:8443/centre"),
    ],
)
def test_https_urls_are_accepted_and_normalised(url: str, expected: str) -> None:
    assert check_server_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "ftp://x",
        "qlq.chu-lyon.fr",
        "https://",
        "https://u:p@host",
        "https://h/?a=1",
        "https://h/#x",
        "https://h:99999",
        "",
    ],
)
def test_malformed_urls_are_refused_in_french(url: str) -> None:
    with pytest.raises(ServerUrlError) as caught:
        check_server_url(url)
    assert "n'est pas valable" in caught.value.nurse_message


def test_plain_http_only_with_the_development_flag() -> None:
    with pytest.raises(ServerUrlError) as caught:
        check_server_url("http://127.0.0.1:8000")
    assert caught.value.nurse_message == messages.HTTP_REFUSED
    assert check_server_url("http://127.0.0.1:8000", allow_http=True) == "http://127.0.0.1:8000"


def test_the_qr_text_gives_url_and_code() -> None:
    assert parse_enrollment_text("qlq-enroll:https://qlq.chu.fr#AB12-CD34") == parse_enrollment_text(
        "  qlq-enroll:https://qlq.chu.fr#AB12-CD34 ", "https://qlq.chu.fr/"
    )
    given = parse_enrollment_text("qlq-enroll:https://qlq.chu.fr#AB12-CD34")
    assert (given.server_url, given.code) == ("https://qlq.chu.fr", "AB12-CD34")
    assert parse_enrollment_text("AB12-CD34", "https://x").code == "AB12-CD34"
    with pytest.raises(EnrollmentError, match="another server"):
        parse_enrollment_text("qlq-enroll:https://qlq.chu.fr#AB12", "https://other.fr")
    with pytest.raises(EnrollmentError):
        parse_enrollment_text("qlq-enroll:https://qlq.chu.fr")
    with pytest.raises(EnrollmentError):
        parse_enrollment_text("   ")


class OneReply:
    def __init__(self, reply: Reply | TransportFailure) -> None:
        self.reply = reply
        self.sent: list[tuple[str, dict[str, str], str | None]] = []
        self.closed = False

    def post(self, path: str, content: bytes, *, token: str | None) -> Reply:
        self.sent.append((path, json.loads(content), token))
        if isinstance(self.reply, TransportFailure):
            raise self.reply
        return self.reply

    def close(self) -> None:
        self.closed = True


def _enroll(transport: OneReply, settings: InMemorySessionStore, secrets: MemorySecretStore, **kw):
    return enroll(
        server_url=kw.pop("server_url", "https://qlq.chu.fr"),
        code=" AB12-CD34 ",
        device_name=" tablette 3 ",
        settings=settings,
        secrets=secrets,
        transport_for=lambda url: transport,
        clock=FakeClock(datetime(2026, 12, 3, 9, tzinfo=UTC)),
        **kw,
    )


def test_enrollment_stores_the_token_in_the_secret_store_and_the_rest_in_settings() -> None:
    settings, secrets = InMemorySessionStore(), MemorySecretStore()
    transport = OneReply(Reply(201, {"device_id": "7d9c", "device_token": "qlqd_secret", "site": "LYON-01"}))
    enrollment = _enroll(transport, settings, secrets)
    assert transport.sent == [("/v1/devices/enroll", {"code": "AB12-CD34", "device_name": "tablette 3"}, None)]
    assert transport.closed
    assert secrets.get(SecretName.DEVICE_TOKEN) == "qlqd_secret"
    assert load_enrollment(settings) == enrollment
    assert (enrollment.site, enrollment.device_name, enrollment.server_device_id) == ("LYON-01", "tablette 3", "7d9c")
    assert "qlqd_secret" not in (settings.get_setting("sync.enrollment") or "")
    forget(settings=settings, secrets=secrets)
    assert load_enrollment(settings) is None and secrets.get(SecretName.DEVICE_TOKEN) is None


@pytest.mark.parametrize(
    "reply,wording",
    [
        (Reply(401, {"error": {"code": "invalid_enrollment_code"}}), "Demandez un nouveau code"),
        (Reply(429, {"error": {"code": "rate_limited"}}), "attendez une minute"),
        (TransportFailure("tls", "x"), "certificat"),
        (TransportFailure("network", "x"), "injoignable"),
        (Reply(200, "<html>portail captif</html>"), "inattendue"),
    ],
)
def test_a_failed_reenrollment_keeps_the_previous_one(reply, wording: str) -> None:
    settings, secrets = InMemorySessionStore(), MemorySecretStore()
    first = _enroll(
        OneReply(Reply(201, {"device_id": "1", "device_token": "qlqd_old", "site": "A"})), settings, secrets
    )
    with pytest.raises(EnrollmentError) as caught:
        _enroll(OneReply(reply), settings, secrets)
    assert wording in caught.value.nurse_message
    assert load_enrollment(settings) == first and secrets.get(SecretName.DEVICE_TOKEN) == "qlqd_old"


def test_http_is_refused_before_anything_is_sent() -> None:
    transport = OneReply(Reply(201, {}))
    with pytest.raises(EnrollmentError) as caught:
        _enroll(transport, InMemorySessionStore(), MemorySecretStore(), server_url="http://10.0.0.5")
    assert caught.value.nurse_message == messages.HTTP_REFUSED and transport.sent == []
