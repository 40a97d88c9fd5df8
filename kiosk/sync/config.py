"""Where the centre is and how to reach it: the server URL rules, the CA bundle (:func:`check_ca_bundle`), and the
enrollment record.

The enrollment (server URL, site, device name, ids, date) is kept in the kiosk's settings table: none of it is
secret. The device token lives in the secret store only (:data:`kiosk.secrets.SecretName.DEVICE_TOKEN`).
"""

from __future__ import annotations

import json
import os
import ssl
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from kiosk.sync import messages

ENROLLMENT_SETTING = "sync.enrollment"
CA_BUNDLE_ENV = "QLQ_KIOSK_CA_BUNDLE"  # a PEM file of the hospital's certificate authorities
ALLOW_HTTP_ENV = "QLQ_KIOSK_ALLOW_HTTP"  # "1": development only, plain http accepted


class SettingsStore(Protocol):
    def get_setting(self, key: str) -> str | None: ...

    def set_setting(self, key: str, value: str) -> None: ...


class ServerUrlError(ValueError):
    """The server URL is not acceptable. ``nurse_message`` says why, in French."""

    def __init__(self, message: str, *, nurse_message: str) -> None:
        super().__init__(message)
        self.nurse_message = nurse_message


def check_server_url(url: str, *, allow_http: bool = False) -> str:
    """The URL normalised (no trailing slash), or :class:`ServerUrlError`: https (http only with ``allow_http``),
    a host, no credentials, query or fragment."""
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ServerUrlError(f"{text!r}: not a URL ({exc})", nurse_message=_bad_url(text)) from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ServerUrlError(f"{text!r}: expected https://host[:port][/path]", nurse_message=_bad_url(text))
    if parts.scheme == "http" and not allow_http:
        raise ServerUrlError(
            f"{text!r}: plain http is refused outside development", nurse_message=messages.HTTP_REFUSED
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ServerUrlError(f"{text!r}: no user, password, query or fragment allowed", nurse_message=_bad_url(text))
    del port
    return text.rstrip("/")


def _bad_url(text: str) -> str:
    return (
        f"L'adresse du serveur « {text} » n'est pas valable : elle doit être de la forme "
        "https://serveur.hopital.fr (donnée par le service informatique)."
    )


def allow_http_from_env(environ: Mapping[str, str] | None = None) -> bool:
    return (os.environ if environ is None else environ).get(ALLOW_HTTP_ENV, "").strip() == "1"


def ca_bundle_from_env(environ: Mapping[str, str] | None = None) -> Path | None:
    value = (os.environ if environ is None else environ).get(CA_BUNDLE_ENV, "").strip()
    return Path(value).expanduser() if value else None


class CaBundleError(ValueError):
    """The CA bundle file cannot be used. ``nurse_message`` says why, in French."""

    def __init__(self, message: str, *, nurse_message: str) -> None:
        super().__init__(message)
        self.nurse_message = nurse_message


def check_ca_bundle(path: str | Path) -> Path:
    """The absolute path of a readable PEM file of certificate authorities, or :class:`CaBundleError`.

    Checked before anything is saved, so that a typo cannot leave a kiosk that can never reach its centre.
    """
    given = Path(str(path).strip()).expanduser()
    if not given.is_file():
        raise CaBundleError(
            f"CA bundle {given}: no such file",
            nurse_message=(
                f"Le fichier de l'autorité de certification « {given} » est introuvable. Indiquez le chemin complet "
                "du fichier .pem donné par le service informatique."
            ),
        )
    try:
        data = given.read_bytes()
    except OSError as exc:
        raise CaBundleError(
            f"CA bundle {given}: {type(exc).__name__}",
            nurse_message=(
                f"Le fichier de l'autorité de certification « {given} » ne peut pas être lu (droits d'accès ?). "
                "Prévenez le service informatique."
            ),
        ) from None
    not_pem = CaBundleError(
        f"CA bundle {given}: not a PEM file of certificates",
        nurse_message=(
            f"Le fichier « {given} » n'est pas un certificat d'autorité au format PEM (il doit contenir "
            "« -----BEGIN CERTIFICATE----- »). Demandez le bon fichier au service informatique."
        ),
    )
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise not_pem
    try:
        ssl.create_default_context().load_verify_locations(cadata=data.decode("ascii"))
    except (ssl.SSLError, ValueError, UnicodeDecodeError):
        raise not_pem from None
    return given.resolve()


@dataclass(frozen=True)
class Enrollment:
    """This kiosk's link to a centre (no secret here)."""

    server_url: str
    site: str
    device_name: str
    server_device_id: str  # the id the centre gave the device (revocation, "qlq-server devices")
    enrolled_at: datetime
    allow_http: bool = False  # enrolled with the development flag
    ca_bundle: str | None = None  # the hospital CA bundle chosen at enrollment (else QLQ_KIOSK_CA_BUNDLE)

    def to_json(self) -> str:
        data = asdict(self) | {"enrolled_at": self.enrolled_at.isoformat()}
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Enrollment:
        data = json.loads(text)
        return cls(
            server_url=data["server_url"],
            site=data["site"],
            device_name=data["device_name"],
            server_device_id=data["server_device_id"],
            enrolled_at=datetime.fromisoformat(data["enrolled_at"]),
            allow_http=bool(data.get("allow_http", False)),
            ca_bundle=data.get("ca_bundle"),
        )

    def ca_bundle_path(self, environ: Mapping[str, str] | None = None) -> Path | None:
        return Path(self.ca_bundle) if self.ca_bundle else ca_bundle_from_env(environ)


def load_enrollment(store: SettingsStore) -> Enrollment | None:
    text = store.get_setting(ENROLLMENT_SETTING)
    if not text:
        return None
    return Enrollment.from_json(text)


def save_enrollment(store: SettingsStore, enrollment: Enrollment) -> None:
    store.set_setting(ENROLLMENT_SETTING, enrollment.to_json())


def forget_enrollment(store: SettingsStore) -> None:
    store.set_setting(ENROLLMENT_SETTING, "")
