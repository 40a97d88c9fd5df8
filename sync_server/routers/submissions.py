"""Receiving finished sessions from kiosks: one at a time, or in batches with a result per item.

``POST /v1/submissions`` is the hot path (every kiosk, every session). It is served entirely on the event loop,
with the async psycopg pool the lifespan opens (``db.make_ingest_pool``; every client of the app runs the
lifespan, uvicorn and the tests alike). The device is usually known to the worker already (``device_cache.py``:
no lookup), the payload is validated, then ONE INSERT statement stores the submission with its answers and
scores — provided the device is still active — no worker thread, no ORM. The statement goes to the worker's
group commit (``group_commit.py``): alone when the worker is not busy, otherwise in one transaction with the
submissions other requests brought meanwhile. The response is sent once it is committed.

FastAPI declares and reads the body (``payload: Submission``), so the order of refusals is its own: a body that
is not JSON is refused first (422), then the caller is authenticated (401) and must be a device (403), then the
payload is validated (422) and stored, committed before the response is sent (or refused with 401 if the
device was revoked since the worker last looked it up).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from kiosk.domain.submission import Submission
from sync_server.auth import Principal, SubmittingDevice
from sync_server.errors import DeviceRevoked, PayloadTooLarge
from sync_server.schemas.api import BatchResponse, ErrorResponse, SubmissionAccepted
from sync_server.services.ingest import IngestService
from sync_server.state import ServerState, server_state

router = APIRouter(tags=["submissions"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorResponse} for code in (401, 403, 409, 413, 422, 503)}


@router.post(
    "/v1/submissions",
    status_code=201,
    response_model=SubmissionAccepted,
    responses={200: {"model": SubmissionAccepted, "description": "Already received (a retry)"}, **_ERRORS},
    summary="Submit one finished session (idempotent by submission_id)",
)
async def submit(request: Request, payload: Submission, device: SubmittingDevice) -> Response:
    # the registry straight from the app's state: a (sync) dependency would cost a worker-thread hop here
    state = server_state(request)
    assert device.site_id is not None and device.device_id is not None
    with _forgetting_revoked(state, device):
        service = IngestService(state.submission_store(), state.instruments, clock_skew=state.settings.clock_skew)
        result = await service.ingest(payload, site_id=device.site_id, device_id=device.device_id)
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
    request: Request,
    items: Annotated[list[dict[str, Any]], Body(description="Submission payloads (1.0 or 2.0)")],
    device: SubmittingDevice,
) -> BatchResponse:
    state = server_state(request)  # as in submit(): no sync dependency, no worker-thread hop
    settings = state.settings
    if len(items) > settings.batch_max_items:
        raise PayloadTooLarge(
            f"a batch holds at most {settings.batch_max_items} submissions, got {len(items)}", code="batch_too_large"
        )
    assert device.site_id is not None
    with _forgetting_revoked(state, device):
        service = IngestService(state.submission_store(), state.instruments, clock_skew=settings.clock_skew)
        results = await service.ingest_batch(items, site_id=device.site_id, device_id=device.device_id)
    return BatchResponse.model_validate({"results": results})


@contextmanager
def _forgetting_revoked(state: ServerState, device: Principal) -> Iterator[None]:
    """A device found revoked while storing is dropped from the worker's cache: its next request is refused at
    authentication."""
    try:
        yield
    except DeviceRevoked:
        assert device.device_id is not None
        state.device_cache.forget(device.device_id)
        raise
