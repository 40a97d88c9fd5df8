"""Small dependencies shared by the routers: settings, instruments, the rate limits, the caller's address."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from sync_server.errors import RateLimited
from sync_server.services.instruments import InstrumentRegistry
from sync_server.settings import Settings
from sync_server.state import server_state


def get_settings(request: Request) -> Settings:
    return server_state(request).settings


def get_instruments(request: Request) -> InstrumentRegistry:
    return server_state(request).instruments


AppSettings = Annotated[Settings, Depends(get_settings)]
Instruments = Annotated[InstrumentRegistry, Depends(get_instruments)]


def client_ip(request: Request) -> str:
    """The client's address. Behind a proxy listed in ``QLQ_FORWARDED_ALLOW_IPS`` uvicorn has already put the
    ``X-Forwarded-For`` address here; a header from anyone else is ignored (``qlq-server serve``)."""
    return request.client.host if request.client else "unknown"


def enforce_rate_limit(request: Request, key: str, limit: int) -> None:
    """Count an attempt for ``key``; 429 ``rate_limited`` with Retry-After once it used up ``limit`` attempts
    in the window (shared by all workers and replicas: see ``sync_server/ratelimit.py``)."""
    wait = server_state(request).auth_limiter.hit(key, limit)
    if wait is not None:
        seconds = max(1, round(wait))
        raise RateLimited(f"too many attempts; retry in {seconds} s", headers={"Retry-After": str(seconds)})
