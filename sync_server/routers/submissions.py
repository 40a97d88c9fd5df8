"""Receiving finished sessions from kiosks: one at a time, or in batches with a result per item."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse

from kiosk.domain.submission import Submission
from sync_server.auth import DeviceCaller
from sync_server.db import DbSession
from sync_server.errors import PayloadTooLarge
from sync_server.routers.deps import AppSettings, Instruments
from sync_server.schemas.api import BatchResponse, ErrorResponse, SubmissionAccepted
from sync_server.services.ingest import IngestService

router = APIRouter(tags=["submissions"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 409, 413, 422)}


@router.post("/v1/submissions", status_code=201, response_model=SubmissionAccepted,
             responses={200: {"model": SubmissionAccepted, "description": "Already received (a retry)"},
                        **_ERRORS},
             summary="Submit one finished session (idempotent by submission_id)")
def submit(payload: Submission, device: DeviceCaller, db: DbSession, instruments: Instruments) -> JSONResponse:
    assert device.site_id is not None
    result = IngestService(db, instruments).ingest(payload, site_id=device.site_id, device_id=device.device_id)
    return JSONResponse({"submission_id": str(result.submission_id), "status": result.status},
                        status_code=result.http_status)


@router.post("/v1/submissions:batch", response_model=BatchResponse, responses=_ERRORS,
             summary="Submit up to QLQ_BATCH_MAX_ITEMS sessions; each item succeeds or fails on its own")
def submit_batch(items: Annotated[list[dict[str, Any]], Body(description="Submission payloads (v1)")],
                 device: DeviceCaller, db: DbSession, instruments: Instruments,
                 settings: AppSettings) -> BatchResponse:
    if len(items) > settings.batch_max_items:
        raise PayloadTooLarge(f"a batch holds at most {settings.batch_max_items} submissions, got {len(items)}",
                              code="batch_too_large")
    assert device.site_id is not None
    results = IngestService(db, instruments).ingest_batch(items, site_id=device.site_id,
                                                          device_id=device.device_id)
    return BatchResponse.model_validate({"results": results})
