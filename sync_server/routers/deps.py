"""Small dependencies shared by the routers: settings, instruments, the rate limiter, the caller's IP."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from sync_server.errors import RateLimited
from sync_server.ratelimit import SlidingWindowLimiter
from sync_server.services.instruments import InstrumentRegistry
from sync_server.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_instruments(request: Request) -> InstrumentRegistry:
    return request.app.state.instruments  # type: ignore[no-any-return]


AppSettings = Annotated[Settings, Depends(get_settings)]
Instruments = Annotated[InstrumentRegistry, Depends(get_instruments)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def enforce_rate_limit(request: Request, key: str) -> None:
    """429 ``rate_limited`` with Retry-After once the key used up its attempts in the window."""
    limiter: SlidingWindowLimiter = request.app.state.auth_limiter
    wait = limiter.hit(key)
    if wait is not None:
        seconds = max(1, round(wait))
        raise RateLimited(f"too many attempts; retry in {seconds} s", headers={"Retry-After": str(seconds)})
