"""Enrolling the kiosk with a centre: the one-time code for a device token, kept in the secret store.

The code is typed, or pasted from the text of the QR code ``qlq-server enroll --server-url URL`` prints
(``qlq-enroll:https://server#CODE``), which also gives the server URL.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.domain.clock import SYSTEM_CLOCK, Clock
from kiosk.secrets.interface import SecretName, SecretStore
from kiosk.sync import messages
from kiosk.sync.config import (
    Enrollment,
    ServerUrlError,
    SettingsStore,
    check_server_url,
    forget_enrollment,
    save_enrollment,
)
from kiosk.sync.transport import Transport, TransportFailure

log = logging.getLogger(__name__)

QR_PREFIX = "qlq-enroll:"
ENROLL_PATH = "/v1/devices/enroll"


class EnrollmentError(Exception):
    """Enrollment failed; ``nurse_message`` says why and what to do, in French. Nothing was changed."""

    def __init__(self, message: str, *, nurse_message: str) -> None:
        super().__init__(message)
        self.nurse_message = nurse_message


@dataclass(frozen=True)
class EnrollInput:
    server_url: str | None
    code: str


def parse_enrollment_text(text: str, server_url: str | None = None) -> EnrollInput:
    """A typed code, or the QR text ``qlq-enroll:URL#CODE`` (its URL wins over none typed; both must agree)."""
    value = (text or "").strip()
    if value.lower().startswith(QR_PREFIX):
        url, sep, code = value[len(QR_PREFIX) :].rpartition("#")
        if not sep or not url or not code:
            raise EnrollmentError(
                f"malformed enrollment QR text {value!r}",
                nurse_message=(
                    "Le texte du QR code n'est pas reconnu : il doit être de la forme "
                    "« qlq-enroll:https://serveur#CODE ». Saisissez l'adresse et le code séparément."
                ),
            )
        if server_url and server_url.strip().rstrip("/") != url.rstrip("/"):
            raise EnrollmentError(
                "the QR code names another server than the one typed",
                nurse_message=(
                    f"Le QR code désigne le serveur « {url} », différent de l'adresse saisie. Vérifiez l'adresse."
                ),
            )
        return EnrollInput(server_url=url, code=code.strip())
    if not value:
        raise EnrollmentError("no enrollment code", nurse_message="Saisissez le code d'enregistrement.")
    return EnrollInput(server_url=server_url, code=value)


_ENROLL_ERRORS = {
    401: (
        "Le code d'enregistrement est refusé (inconnu, déjà utilisé ou expiré). Demandez un nouveau code au "
        "service informatique (qlq-server enroll)."
    ),
    422: "Le code d'enregistrement ou le nom de la tablette n'est pas valable. Vérifiez-les.",
    429: "Trop de tentatives d'enregistrement : attendez une minute avant de réessayer.",
}


def enroll(
    *,
    server_url: str,
    code: str,
    device_name: str,
    settings: SettingsStore,
    secrets: SecretStore,
    transport_for: Callable[[str], Transport],
    allow_http: bool = False,
    ca_bundle: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> Enrollment:
    """Trade ``code`` for a device token; store the token in ``secrets`` and the enrollment in ``settings``.

    On any failure nothing is stored and a previous enrollment (re-enroll) stays as it was.
    """
    try:
        url = check_server_url(server_url, allow_http=allow_http)
    except ServerUrlError as exc:
        raise EnrollmentError(str(exc), nurse_message=exc.nurse_message) from None
    name = device_name.strip()
    body = json.dumps({"code": code.strip(), "device_name": name}).encode("utf-8")
    transport = transport_for(url)
    try:
        reply = transport.post(ENROLL_PATH, body, token=None)
    except TransportFailure as exc:
        raise EnrollmentError(f"enroll at {url}: {exc}", nurse_message=messages.enroll_failed(exc.kind)) from exc
    finally:
        transport.close()
    data = reply.body if isinstance(reply.body, dict) else {}
    if reply.status != 201 or not data.get("device_token"):
        code_text = (data.get("error") or {}).get("code") if isinstance(data.get("error"), dict) else None
        nurse = _ENROLL_ERRORS.get(reply.status, messages.UNEXPECTED_REPLY)
        raise EnrollmentError(f"enroll at {url}: HTTP {reply.status} {code_text or ''}".strip(), nurse_message=nurse)
    enrollment = Enrollment(
        server_url=url,
        site=str(data.get("site", "")),
        device_name=name,
        server_device_id=str(data.get("device_id", "")),
        enrolled_at=clock.now(),
        allow_http=allow_http,
        ca_bundle=ca_bundle,
    )
    secrets.set(SecretName.DEVICE_TOKEN, str(data["device_token"]))
    save_enrollment(settings, enrollment)
    log.info("enrolled with %s as site %s, device %s", url, enrollment.site, enrollment.server_device_id)
    return enrollment


def forget(*, settings: SettingsStore, secrets: SecretStore) -> None:
    """ "Oublier ce serveur": drop the token and the enrollment. Queued sessions stay queued (and are sent after
    the next enrollment)."""
    secrets.delete(SecretName.DEVICE_TOKEN)
    forget_enrollment(settings)
    log.info("enrollment forgotten")
