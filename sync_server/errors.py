"""Typed errors with stable codes, and the handlers that turn them into ``{"error": {...}}`` bodies.

Every expected failure is an :class:`AppError` subclass carrying its HTTP status and a stable ``code`` the
kiosk and scripts can switch on; the message is for humans and may change. Every code, with its status and
meaning, is listed once in :mod:`sync_server.error_codes` (a code given at raise time takes its status
there). Pydantic validation failures become ``invalid_payload`` naming the field path, so no expected case
ever reaches a 500.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from sync_server import metrics
from sync_server.error_codes import status_of

log = logging.getLogger("sync_server.errors")


class AppError(Exception):
    """An expected failure. Subclasses fix ``status`` and ``code``, and may give a default message and the
    headers their responses always carry."""

    status: int = 400
    code: str = "bad_request"
    default_message: str = "the request was refused"
    default_headers: dict[str, str] | None = None

    def __init__(
        self,
        message: str | None = None,
        *,
        field: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = self.default_message if message is None else message
        super().__init__(self.message)
        self.field = field
        if code is not None:
            self.code = code
            self.status = status_of(code)
        self.headers = self.default_headers if headers is None else headers

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.field)


class NotAuthenticated(AppError):
    status, code = 401, "not_authenticated"
    default_message = "a valid bearer token is required"
    default_headers = {"WWW-Authenticate": "Bearer"}  # noqa: RUF012 - read-only class default


class DeviceRevoked(NotAuthenticated):
    """The device's token was valid when the worker last looked it up, but the device has been revoked since."""

    code = "invalid_token"
    default_message = "unknown or revoked device token"


class Forbidden(AppError):
    status, code = 403, "forbidden"


class NotFound(AppError):
    status, code = 404, "not_found"


class Conflict(AppError):
    status, code = 409, "conflict"


class SubmissionConflict(Conflict):
    code = "submission_conflict"


class Unprocessable(AppError):
    status, code = 422, "invalid_payload"


class PayloadTooLarge(AppError):
    status, code = 413, "payload_too_large"


class RateLimited(AppError):
    status, code = 429, "rate_limited"


class ServiceUnavailable(AppError):
    status, code = 503, "not_ready"


class DatabaseUnavailable(ServiceUnavailable):
    """The database cannot be reached, or no connection came free in time: nothing was stored, retry later."""

    code = "database_unavailable"
    default_message = "the database is unavailable; nothing was stored, retry later"
    default_headers = {"Retry-After": "5"}  # noqa: RUF012 - read-only class default


class NoRelease(NotFound):
    code = "no_release"
    default_message = "no release is published for this operating system and architecture"


class ReleaseFileNotFound(NotFound):
    code = "release_file_not_found"


class InvalidRelease(Unprocessable):
    """``publish-release`` refused an archive; the message starts with the verifier's code (wrong_key, …)."""

    code = "invalid_release"


class ReleaseExists(Conflict):
    code = "release_exists"


# Starlette's own refusals (an unknown path, a wrong method, a body cut at the limit) get these codes.
HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
OTHER_HTTP_CODE = "http_error"


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "answers", 3, "value")`` → ``"answers[3].value"`` (the leading "body" is dropped)."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def first_validation_error(errors: list[Any]) -> tuple[str, str]:
    """The field path and message of the first pydantic error (the one the client should fix first)."""
    if not errors:
        return "", "invalid request"
    err = errors[0]
    return field_path(tuple(err.get("loc", ()))), str(err.get("msg", "invalid value"))


def database_refusal(exc: DataError | psycopg.DataError) -> str:
    """A short reason for a value the database refused, without echoing the value (it may be patient data)."""
    reason = str(getattr(exc, "orig", exc)).splitlines()[0] if str(getattr(exc, "orig", exc)) else "invalid"
    return f"a value cannot be stored: {reason[:200]}"


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers mapping every expected failure to the error body."""

    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        field, message = first_validation_error(list(exc.errors()))
        return JSONResponse(error_body("invalid_payload", message, field), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, OTHER_HTTP_CODE)
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(DataError)
    async def _data(_: Request, exc: DataError) -> JSONResponse:
        # A value PostgreSQL refuses (a NUL character in text, a number beyond its column): the client's input.
        return JSONResponse(error_body("invalid_value", database_refusal(exc)), status_code=422)

    @app.exception_handler(OperationalError)
    @app.exception_handler(SQLAlchemyTimeoutError)
    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _database_down(request: Request, exc: Exception) -> JSONResponse:
        # Database unreachable, connection lost, or no pool connection within QLQ_DB_POOL_TIMEOUT_SECONDS.
        log.warning("database unavailable on %s: %s", request.url.path, type(exc).__name__)
        metrics.DATABASE_UNAVAILABLE.inc()
        error = DatabaseUnavailable()
        return JSONResponse(error.body(), status_code=error.status, headers=error.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:  # pragma: no cover - a bug
        log.exception("unhandled error on %s", request.url.path)
        return JSONResponse(error_body("internal_error", "unexpected server error"), status_code=500)
