"""Receiving finished sessions from kiosks: one at a time, or in batches with a result per item.

``POST /v1/submissions`` is the hot path (every kiosk, every session). It is served entirely on the event loop,
with the async psycopg pool the lifespan opens (``db.make_ingest_pool``; every client of the app runs the
lifespan, uvicorn and the tests alike): one connection per request, one statement looks the device up, the
payload is validated, and ONE INSERT statement (autocommit: its own transaction) stores the submission with its
answers and scores — two round-trips, no worker thread, no ORM. The connection goes back to the pool before the
response is sent.

FastAPI declares and reads the body (``payload: Submission``), so the order of refusals is its own: a body that
is not JSON is refused first (422), then the caller is authenticated (401) and must be a device (403), then the
payload is validated (422) and stored, committed before the response is sent.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from kiosk.domain.submission import Submission
from sync_server.auth import DeviceCaller
from sync_server.db import IngestConnection
from sync_server.errors import PayloadTooLarge
from sync_server.routers.deps import AppSettings, Instruments
from sync_server.schemas.api import BatchResponse, ErrorResponse, SubmissionAccepted
from sync_server.services.ingest import IngestService
from sync_server.state import server_state

router = APIRouter(tags=["submissions"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorResponse} for code in (401, 403, 409, 413, 422, 503)}


@router.post(
    "/v1/submissions",
    status_code=201,
    response_model=SubmissionAccepted,
    responses={200: {"model": SubmissionAccepted, "description": "Already received (a retry)"}, **_ERRORS},
    summary="Submit one finished session (idempotent by submission_id)",
)
async def submit(request: Request, payload: Submission, device: DeviceCaller, connection: IngestConnection) -> Response:
    # the registry straight from the app's state: a (sync) dependency would cost a worker-thread hop here
    state = server_state(request)
    assert device.site_id is not None and device.device_id is not None
    result = await IngestService(connection, state.instruments, clock_skew=state.settings.clock_skew).ingest(
        payload, site_id=device.site_id, device_id=device.device_id
    )
    return Response(
        orjson.dumps({"submission_id": str(result.submission_id), "status": result.status}),
        status_code=result.http_status,
        media_type="application/json",
    )


@router.post(
    "/v1/submissions:batch",
    response_model=BatchResponse,
    responses=_ERRORS,
    summary="Submit up to QLQ_BATCH_MAX_ITEMS sessions; each item succeeds or fails on its own",
)
async def submit_batch(
    items: Annotated[list[dict[str, Any]], Body(description="Submission payloads (1.0 or 2.0)")],
    device: DeviceCaller,
    connection: IngestConnection,
    instruments: Instruments,
    settings: AppSettings,
) -> BatchResponse:
    if len(items) > settings.batch_max_items:
        raise PayloadTooLarge(
            f"a batch holds at most {settings.batch_max_items} submissions, got {len(items)}", code="batch_too_large"
        )
    assert device.site_id is not None
    results = await IngestService(connection, instruments, clock_skew=settings.clock_skew).ingest_batch(
        items, site_id=device.site_id, device_id=device.device_id
    )
    return BatchResponse.model_validate({"results": results})
