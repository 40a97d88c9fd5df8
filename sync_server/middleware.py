"""Pure-ASGI middleware (cheaper than ``BaseHTTPMiddleware``, and safe for streamed responses):

- request id: ``X-Request-ID`` read (when well-formed) or minted, set in the logging context, echoed back;
- metrics and one access-log line per request, labelled by route template (``/v1/admin/sessions/{id}``), not
  by raw path, so cardinality stays bounded and no identifier lands in a label;
- security headers on every response (HSTS only when TLS is on; the CSP is relaxed on the API docs pages);
- request body size limit: 413 ``payload_too_large`` from the Content-Length, or while reading a chunked body;
- admission control: at most ``db_pool_size + db_max_overflow`` requests are inside the app at once; the others
  wait in the event loop. Without it, under load every threadpool thread can end up blocked waiting for a pool
  connection while the requests holding the connections wait for a thread to finish (a deadlock until the
  pool timeout). ``/health`` and ``/metrics`` never touch the database and are never held back.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync_server import metrics
from sync_server.errors import error_body
from sync_server.logging import request_id_var
from sync_server.settings import Settings

log = logging.getLogger("sync_server.access")
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_DOCS_PATHS = ("/docs", "/redoc")
_NO_DATABASE = ("/health", "/metrics")
_API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_body = settings.max_body_bytes
        self.hsts = settings.tls_enabled
        self.slots = asyncio.Semaphore(settings.db_pool_size + settings.db_max_overflow)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: PLR0915 - one request's pass through the middleware, in order
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        given = headers.get("x-request-id", "")
        request_id = given if _REQUEST_ID_RE.match(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        path = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                out = MutableHeaders(scope=message)
                out["X-Request-ID"] = request_id
                out["X-Content-Type-Options"] = "nosniff"
                out["X-Frame-Options"] = "DENY"
                out["Referrer-Policy"] = "no-referrer"
                out["Cross-Origin-Opener-Policy"] = "same-origin"
                if not path.startswith(_DOCS_PATHS) and not path.startswith("/console"):  # console: its own CSP
                    out["Content-Security-Policy"] = _API_CSP
                if path.startswith("/v1/"):
                    out["Cache-Control"] = "no-store"
                if self.hsts:
                    out["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
            await send(message)

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise HTTPException(413, f"request body larger than {self.max_body} bytes")
            return message

        try:
            length = headers.get("content-length")
            if length is not None and length.isdigit() and int(length) > self.max_body:
                response = JSONResponse(
                    error_body("payload_too_large", f"request body larger than {self.max_body} bytes"), status_code=413
                )
                await response(scope, receive, send_with_headers)
            elif path in _NO_DATABASE:
                await self.app(scope, limited_receive, send_with_headers)
            else:
                async with self.slots:
                    await self.app(scope, limited_receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            method = scope.get("method", "")
            metrics.HTTP_REQUESTS.labels(method, template, str(status)).inc()
            metrics.HTTP_LATENCY.labels(method, template).observe(elapsed)
            if log.isEnabledFor(logging.INFO):  # skip building the record when access logging is off
                log.info(
                    "%s %s %s",
                    method,
                    template,
                    status,
                    extra={
                        "request_id": request_id,
                        "method": method,
                        "route": template,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
            request_id_var.reset(token)
