"""A fake centre for unit tests: a :class:`~kiosk.sync.transport.Transport` that behaves like the server's
submission endpoints (idempotent by id and content, 409 on other content, per-item batch results, device
tokens), its enrollment endpoint (one-time codes), and injects the faults a test scripts: timeouts, lost replies
after storing, 5xx/503 with ``Retry-After``, refusals of the token. The end-to-end tests use the real server;
this is for the engine's logic.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kiosk.domain.clock import SYSTEM_CLOCK, Clock
from kiosk.sync.transport import Reply, TransportFailure


@dataclass
class Fault:
    """What the next request meets. ``store_first``: the server stores the submissions, then the reply is lost
    (``kind`` timeout/network) — the case that would double a session if the kiosk were not idempotent."""

    kind: str  # "timeout" | "network" | "tls" | "status"
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    code: str = "internal_error"
    store_first: bool = False


class FakeCentre:
    def __init__(
        self,
        *,
        tokens: set[str] | None = None,
        clock: Clock = SYSTEM_CLOCK,
        kiosk_clock: Clock | None = None,
        batch_max: int = 100,
        reject: Callable[[dict[str, Any]], tuple[int, str, str] | None] | None = None,
        enrollment_codes: dict[str, str] | None = None,
    ) -> None:
        self.tokens = tokens if tokens is not None else {"qlqd_test"}
        #: one-time enrollment codes -> the site they enroll into (``/v1/devices/enroll``); a code works once
        self.enrollment_codes = dict(enrollment_codes or {})
        self.enrolled: list[str] = []  # device names, in enrollment order
        self.stored: dict[str, str] = {}  # submission id -> content sha256
        self.received_order: list[str] = []
        self.requests: list[tuple[str, int]] = []  # (path, number of submissions)
        self.faults: list[Fault] = []
        self._clock = clock  # the server's clock (Date header)
        self._kiosk_clock = kiosk_clock or clock
        self.batch_max = batch_max
        self._reject = reject
        self.closed = False

    # ------------------------------------------------------------------ transport
    def post(self, path: str, content: bytes, *, token: str | None) -> Reply:
        sent_at = self._kiosk_clock.now()
        body = json.loads(content)
        self.requests.append((path, len(body) if isinstance(body, list) else 1))
        fault = self.faults.pop(0) if self.faults else None
        if fault is not None and fault.kind != "status":
            if fault.store_first and token in self.tokens:
                for item in body if isinstance(body, list) else [body]:
                    self._ingest(item)
            raise TransportFailure(fault.kind, f"injected {fault.kind}")  # type: ignore[arg-type]
        if fault is not None:
            return self._reply(
                fault.status, {"error": {"code": fault.code, "message": "injected"}}, sent_at, fault.headers
            )
        if path == "/v1/devices/enroll":
            return self._enroll(body, sent_at)
        if token not in self.tokens:
            return self._reply(401, {"error": {"code": "invalid_token", "message": "unknown token"}}, sent_at)
        if path == "/v1/submissions:batch":
            if len(body) > self.batch_max:
                return self._reply(413, {"error": {"code": "batch_too_large", "message": "too many"}}, sent_at)
            results = []
            for index, item in enumerate(body):
                status, result = self._ingest(item)
                results.append(
                    {"index": index, "submission_id": item.get("submission_id"), "http_status": status, **result}
                )
            return self._reply(200, {"results": results}, sent_at)
        status, result = self._ingest(body)
        if status >= 400:
            return self._reply(status, {"error": result["error"]}, sent_at)
        return self._reply(status, {"submission_id": body["submission_id"], "status": result["status"]}, sent_at)

    def close(self) -> None:
        self.closed = True

    # ------------------------------------------------------------------ the server's rules
    def _enroll(self, body: dict[str, Any], sent_at: datetime) -> Reply:
        site = self.enrollment_codes.pop(str(body.get("code", "")), None)
        if site is None:
            return self._reply(401, {"error": {"code": "invalid_enrollment_code", "message": "unknown code"}}, sent_at)
        self.enrolled.append(str(body.get("device_name", "")))
        token = f"qlqd_fake{len(self.enrolled)}"
        self.tokens.add(token)
        return self._reply(
            201, {"device_id": f"device-{len(self.enrolled)}", "device_token": token, "site": site}, sent_at
        )

    def _ingest(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        sid = str(payload["submission_id"])
        sha = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        if sid in self.stored:
            if self.stored[sid] != sha:
                return 409, {
                    "status": "rejected",
                    "error": {"code": "submission_conflict", "message": "other content", "field": None},
                }
            return 200, {"status": "already_received", "error": None}
        refusal = self._reject(payload) if self._reject else None
        if refusal is not None:
            status, code, message = refusal
            return status, {"status": "rejected", "error": {"code": code, "message": message, "field": None}}
        self.stored[sid] = sha
        self.received_order.append(sid)
        return 201, {"status": "received", "error": None}

    def _reply(self, status: int, body: Any, sent_at: datetime, headers: dict[str, str] | None = None) -> Reply:
        date = email.utils.format_datetime(self._clock.now(), usegmt=True)
        return Reply(
            status=status,
            body=body,
            headers={"date": date, **{k.lower(): v for k, v in (headers or {}).items()}},
            sent_at=sent_at,
            received_at=self._kiosk_clock.now(),
        )
