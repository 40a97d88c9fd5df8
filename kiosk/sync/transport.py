"""HTTP between the kiosk and the centre: one small interface, on httpx, with a fake next to it (``fake.py``).

A transport posts JSON bytes and returns the reply (status, decoded JSON, headers, when it was sent and received
by the kiosk's clock), or raises :class:`TransportFailure` saying what kind of failure it was: the sync tells a
certificate problem from a network one from a timeout.
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import httpx

from kiosk.domain.clock import SYSTEM_CLOCK, Clock

log = logging.getLogger(__name__)

FailureKind = Literal["timeout", "network", "tls"]


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any  # the decoded JSON, None when the body is empty or not JSON
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    sent_at: datetime | None = None  # kiosk clock, for the clock-skew check
    received_at: datetime | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class TransportFailure(Exception):
    """No HTTP reply: ``kind`` is ``timeout``, ``network`` or ``tls`` (a certificate problem)."""

    def __init__(self, kind: FailureKind, message: str) -> None:
        super().__init__(message)
        self.kind: FailureKind = kind


class Transport(Protocol):
    def post(self, path: str, content: bytes, *, token: str | None) -> Reply:
        """POST ``content`` (JSON bytes) to ``path`` (e.g. ``/v1/submissions``) with a bearer ``token``."""
        ...

    def close(self) -> None: ...


def _is_certificate_problem(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError | ssl.SSLError):
            return True
        if "CERTIFICATE_VERIFY_FAILED" in str(current) or "certificate verify failed" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


class HttpxTransport:
    """:class:`Transport` on an ``httpx.Client`` (connection reuse; TLS verified against ``ca_bundle`` when given,
    else the bundled public roots)."""

    def __init__(
        self,
        base_url: str,
        *,
        ca_bundle: Path | None = None,
        timeout: float = 15.0,
        connect_timeout: float = 5.0,
        clock: Clock = SYSTEM_CLOCK,
        user_agent: str = "qlq-kiosk",
    ) -> None:
        verify: ssl.SSLContext | bool = True
        if ca_bundle is not None:
            if not ca_bundle.is_file():
                raise FileNotFoundError(f"CA bundle {ca_bundle} not found")
            verify = ssl.create_default_context(cafile=str(ca_bundle))
        self._clock = clock
        self._client = httpx.Client(
            base_url=base_url,
            verify=verify,
            follow_redirects=False,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            headers={"user-agent": user_agent, "accept": "application/json"},
        )

    def post(self, path: str, content: bytes, *, token: str | None) -> Reply:
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        sent_at = self._clock.now()
        try:
            response = self._client.post(path, content=content, headers=headers)
        except httpx.TimeoutException as exc:
            raise TransportFailure("timeout", f"{type(exc).__name__}: {exc}") from exc
        except httpx.TransportError as exc:  # connect errors, resets, protocol errors
            kind: FailureKind = "tls" if _is_certificate_problem(exc) else "network"
            raise TransportFailure(kind, f"{type(exc).__name__}: {exc}") from exc
        received_at = self._clock.now()
        try:
            body = response.json() if response.content else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        return Reply(
            status=response.status_code,
            body=body,
            headers={k.lower(): v for k, v in response.headers.items()},
            sent_at=sent_at,
            received_at=received_at,
        )

    def close(self) -> None:
        self._client.close()
