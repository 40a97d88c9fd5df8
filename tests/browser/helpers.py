"""Seeding the served database the way kiosks do: enrolled devices posting real submissions over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from tests.integration.server.factories import bearer, make_submission, payload


def post_session(base: str, device_token: str, **spec: Any) -> str:
    """Store one session through ``POST /v1/submissions``; returns its id."""
    sub = make_submission(**spec)
    response = httpx.post(f"{base}/v1/submissions", json=payload(sub), headers=bearer(device_token), timeout=10)
    assert response.status_code == 201, response.text
    return str(sub.submission_id)


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 9, 0, tzinfo=UTC)


ALL_BUT_7 = {n: (5 if n >= 29 else 2) for n in range(1, 31) if n != 7}
