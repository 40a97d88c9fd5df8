"""Liveness (``/health``), readiness (``/ready``: the database answers on both connection pools and its schema
is at the latest migration) and the Prometheus metrics (``/metrics``: public in development; in production only
for the addresses of ``QLQ_METRICS_ALLOW_IPS`` or with the bearer token ``QLQ_METRICS_TOKEN``)."""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from sync_server import metrics
from sync_server.errors import Forbidden, ServiceUnavailable
from sync_server.migrate import current_revision
from sync_server.routers.deps import client_ip
from sync_server.schemas.api import ErrorResponse, HealthResponse, ReadyResponse
from sync_server.state import server_state

router = APIRouter(tags=["operations"])
READY_POOL_TIMEOUT_SECONDS = 2.0


@router.get("/health", response_model=HealthResponse, summary="The process is alive")
async def health() -> HealthResponse:
    return HealthResponse(status="ok")


@router.get(
    "/ready",
    response_model=ReadyResponse,
    responses={503: {"model": ErrorResponse}},
    summary="The database answers (both connection pools) and its schema is at the latest migration",
)
async def ready(request: Request) -> ReadyResponse:
    state = server_state(request)
    try:
        revision = await run_in_threadpool(current_revision, state.engine)
    except Exception as exc:
        raise ServiceUnavailable(f"database unreachable: {type(exc).__name__}", code="database_unreachable") from None
    if revision != state.head_revision:
        raise ServiceUnavailable(
            f"database schema at revision {revision!r}, expected {state.head_revision!r}: run `qlq-server migrate`",
            code="migration_pending",
        )
    pool = state.ingest_pool
    if pool is not None:  # the submissions' pool: a connection checked out (so checked) and used
        try:
            async with pool.connection(timeout=READY_POOL_TIMEOUT_SECONDS) as connection:
                await connection.execute("SELECT 1")
        except Exception as exc:
            raise ServiceUnavailable(
                f"ingest pool cannot reach the database: {type(exc).__name__}", code="database_unreachable"
            ) from None
    return ReadyResponse(status="ready", revision=revision or "")


def metrics_access(request: Request) -> None:
    """Who may read ``/metrics`` (see the module docstring); 403 ``metrics_forbidden`` for anyone else."""
    settings = server_state(request).settings
    if settings.metrics_token is not None:
        given = request.headers.get("authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {settings.metrics_token}".encode()):
            return
    if settings.metrics_allow_ips:
        try:
            address = ipaddress.ip_address(client_ip(request))
        except ValueError:
            address = None
        if address is not None and any(
            address in ipaddress.ip_network(n, strict=False) for n in settings.metrics_allow_ips
        ):
            return
    elif settings.metrics_token is None and not settings.is_production:
        return
    raise Forbidden(
        "metrics are readable from QLQ_METRICS_ALLOW_IPS or with QLQ_METRICS_TOKEN only", code="metrics_forbidden"
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    dependencies=[Depends(metrics_access)],
    responses={200: {"content": {"text/plain": {}}}, 403: {"model": ErrorResponse}},
)
def prometheus_metrics() -> Response:
    return Response(metrics.render_metrics(), media_type=metrics.CONTENT_TYPE)
