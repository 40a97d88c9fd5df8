"""Liveness (``/health``), readiness (``/ready``: database reachable and schema at the latest migration) and
the Prometheus metrics (``/metrics``)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from sync_server import metrics
from sync_server.errors import ServiceUnavailable
from sync_server.migrate import current_revision
from sync_server.schemas.api import ErrorResponse, HealthResponse, ReadyResponse

router = APIRouter(tags=["operations"])


@router.get("/health", response_model=HealthResponse, summary="The process is alive")
async def health() -> HealthResponse:
    return HealthResponse(status="ok")


@router.get("/ready", response_model=ReadyResponse, responses={503: {"model": ErrorResponse}},
            summary="The database answers and its schema is at the latest migration")
def ready(request: Request) -> ReadyResponse:
    head = request.app.state.head_revision
    try:
        revision = current_revision(request.app.state.engine)
    except Exception as exc:
        raise ServiceUnavailable(f"database unreachable: {type(exc).__name__}", code="database_unreachable") from None
    if revision != head:
        raise ServiceUnavailable(f"database schema at revision {revision!r}, expected {head!r}: "
                                 "run `qlq-server migrate`", code="migration_pending")
    return ReadyResponse(status="ready", revision=revision or "")


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}}})
def prometheus_metrics() -> Response:
    return Response(metrics.render_metrics(), media_type=metrics.CONTENT_TYPE)
