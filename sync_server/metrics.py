"""Prometheus metrics: HTTP requests by route template and status, latency, submissions, the ingest pool's
waits and database outages, exports.

Metrics live in one module-level registry (an app factory called many times in tests must not register
them twice). With several uvicorn workers each process counts on its own; ``qlq-server serve --workers N``
sets ``PROMETHEUS_MULTIPROC_DIR`` before the workers start so ``/metrics`` aggregates all of them
(prometheus-client multiprocess mode). Without it, figures are per process.
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "qlq_http_requests_total",
    "HTTP requests by method, route template and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "qlq_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["method", "route"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5, 10),
)
SUBMISSIONS_RECEIVED = Counter(
    "qlq_submissions_received_total", "Submissions stored for the first time", ["source"], registry=REGISTRY
)
SUBMISSIONS_DUPLICATE = Counter(
    "qlq_submissions_duplicate_total", "Submissions received again with the same content (retries)", registry=REGISTRY
)
SUBMISSIONS_REJECTED = Counter(
    "qlq_submissions_rejected_total", "Submissions refused, by error code", ["code"], registry=REGISTRY
)
INGEST_POOL_WAIT = Histogram(
    "qlq_ingest_pool_wait_seconds",
    "Time a submission waited for a connection of the ingest pool (saturation signal)",
    registry=REGISTRY,
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
INGEST_GROUP_SIZE = Histogram(
    "qlq_ingest_group_size",
    "Submissions stored together in one transaction (group commit; 1 while a worker is not busy)",
    registry=REGISTRY,
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 500),
)
INGEST_GROUPS_SPLIT = Counter(
    "qlq_ingest_groups_split",
    "Groups PostgreSQL refused (a value it cannot hold, a lock conflict), stored again one submission at a time",
    registry=REGISTRY,
)
DATABASE_UNAVAILABLE = Counter(
    "qlq_database_unavailable_total",
    "Requests answered 503 database_unavailable (database unreachable, or no "
    "connection free within QLQ_DB_POOL_TIMEOUT_SECONDS)",
    registry=REGISTRY,
)
EXPORT_DURATION = Histogram(
    "qlq_export_duration_seconds",
    "Time to stream one export, by format",
    ["format"],
    registry=REGISTRY,
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
EXPORT_ROWS = Counter("qlq_export_rows_total", "Rows written by exports, by format", ["format"], registry=REGISTRY)
EXPORTS = Counter(
    "qlq_exports_total",
    "Exports by format and how they ended (completed, failed: an error before "
    "or during the stream, or the client went away)",
    ["format", "outcome"],
    registry=REGISTRY,
)

CONTENT_TYPE = CONTENT_TYPE_LATEST


def render_metrics() -> bytes:
    """The exposition text: this process's registry, or every worker's in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)
