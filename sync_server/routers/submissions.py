"""Receiving finished sessions from kiosks: one at a time, or in batches with a result per item.

``POST /v1/submissions`` is the hot path (every kiosk, every session). A device token is served entirely on the
event loop, with the async psycopg pool the lifespan opens (``db.make_ingest_pool``): one statement looks the
device up, the payload is validated, and ONE INSERT statement (autocommit: its own transaction) stores the
submission with its answers and scores — two round-trips, no worker thread, no ORM. Worker-thread hand-offs
fighting for the GIL, ORM result processing and BEGIN/COMMIT round-trips were most of the CPU of the earlier
thread-based path; pool connections are handed out in arrival order, so within a worker no kiosk is starved.
Any other caller (no token, a user token: 401/403), and an app whose lifespan did not run (an in-process test
client), goes through the ORM unit of work in one worker-thread hop — same rules, same INSERT statement.
The behaviour is the dependency-based one, in the same order on both paths: a body that is not JSON is refused
first (422), then the caller is authenticated (401) and must be a device (403), then the payload is validated
(422) and stored, committed before the response is sent.
"""

from __future__ import annotations

import email.message
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import orjson
import psycopg
from fastapi import APIRouter, Body, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from kiosk.domain.submission import Submission
from sync_server import metrics
from sync_server.auth import BearerCredentials, DeviceCaller, device_principal, ensure_role, principal_for
from sync_server.db import DbSession, unit_of_work
from sync_server.errors import DatabaseUnavailable, PayloadTooLarge
from sync_server.routers.deps import AppSettings, Instruments
from sync_server.schemas.api import BatchResponse, ErrorResponse, SubmissionAccepted
from sync_server.security import DEVICE_TOKEN_PREFIX
from sync_server.services.ingest import AsyncIngestService, IngestResult, IngestService

router = APIRouter(tags=["submissions"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 409, 413, 422, 503)}
# The body is read and validated by the endpoint itself (see the module docstring); this documents it exactly as
# a ``payload: Submission`` parameter would (the schema is registered in the components by ``app.py``).
SUBMISSION_BODY_DOC: dict[str, Any] = {"requestBody": {
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Submission"}}}, "required": True}}
_NOT_JSON = object()


def _is_json(content_type: str | None) -> bool:
    """FastAPI's rule: ``application/json`` or ``application/*+json``; a missing content type is not JSON."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


async def _read_json(request: Request) -> Any:
    """The decoded JSON body, ``_NOT_JSON`` when it is not declared JSON, None when empty. Malformed JSON is a
    422 ``invalid_payload`` raised here, before authentication (as FastAPI's own body reading does)."""
    body = await request.body()
    if not body:
        return None
    if not _is_json(request.headers.get("content-type")):
        return _NOT_JSON
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error",
                                       "input": {}, "ctx": {"error": exc.msg}}]) from None


def _validate_submission(data: Any) -> Submission:
    """The payload model, or the 422 a ``payload: Submission`` body parameter would give."""
    if data is None:
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}])
    try:
        return Submission.model_validate(b"" if data is _NOT_JSON else data)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])}
                                      for e in exc.errors(include_url=False)]) from None


@asynccontextmanager
async def _connection(pool: AsyncConnectionPool[AsyncConnection]) -> AsyncIterator[AsyncConnection]:
    """A connection of the ingest pool; no connection within the pool timeout, or a database that cannot be
    reached, is a 503 ``database_unavailable`` (the kiosk keeps the session queued and retries)."""
    asked = time.perf_counter()
    try:
        async with pool.connection() as connection:
            metrics.INGEST_POOL_WAIT.observe(time.perf_counter() - asked)
            yield connection
    except (PoolTimeout, psycopg.OperationalError) as exc:
        metrics.DATABASE_UNAVAILABLE.inc()
        raise DatabaseUnavailable() from exc


@router.post("/v1/submissions", status_code=201, response_model=SubmissionAccepted,
             responses={200: {"model": SubmissionAccepted, "description": "Already received (a retry)"},
                        **_ERRORS},
             openapi_extra=SUBMISSION_BODY_DOC,
             summary="Submit one finished session (idempotent by submission_id)")
async def submit(request: Request, credentials: BearerCredentials) -> Response:
    data = await _read_json(request)
    state = request.app.state
    pool: AsyncConnectionPool[AsyncConnection] | None = state.ingest_pool
    if (pool is not None and credentials is not None and credentials.scheme.lower() == "bearer"
            and credentials.credentials.startswith(DEVICE_TOKEN_PREFIX)):
        async with _connection(pool) as connection:
            device = await device_principal(connection, state.settings.token_secret, credentials.credentials)
            request.state.principal = device
            payload = _validate_submission(data)
            assert device.site_id is not None and device.device_id is not None
            result = await AsyncIngestService(connection, state.instruments,
                                              clock_skew=state.settings.clock_skew).ingest(
                payload, site_id=device.site_id, device_id=device.device_id)
    else:
        def work() -> IngestResult:  # runs in a worker thread: the request's one hop
            with unit_of_work(state.sessionmaker) as db:
                caller = ensure_role(principal_for(db, state.settings.token_secret, credentials), ("device",))
                request.state.principal = caller
                payload = _validate_submission(data)
                assert caller.site_id is not None
                return IngestService(db, state.instruments, clock_skew=state.settings.clock_skew).ingest(
                    payload, site_id=caller.site_id, device_id=caller.device_id)

        result = await run_in_threadpool(work)
    return Response(orjson.dumps({"submission_id": str(result.submission_id), "status": result.status}),
                    status_code=result.http_status, media_type="application/json")


@router.post("/v1/submissions:batch", response_model=BatchResponse, responses=_ERRORS,
             summary="Submit up to QLQ_BATCH_MAX_ITEMS sessions; each item succeeds or fails on its own")
def submit_batch(items: Annotated[list[dict[str, Any]], Body(description="Submission payloads (v1)")],
                 device: DeviceCaller, db: DbSession, instruments: Instruments,
                 settings: AppSettings) -> BatchResponse:
    if len(items) > settings.batch_max_items:
        raise PayloadTooLarge(f"a batch holds at most {settings.batch_max_items} submissions, got {len(items)}",
                              code="batch_too_large")
    assert device.site_id is not None
    results = IngestService(db, instruments, clock_skew=settings.clock_skew).ingest_batch(
        items, site_id=device.site_id, device_id=device.device_id)
    return BatchResponse.model_validate({"results": results})
