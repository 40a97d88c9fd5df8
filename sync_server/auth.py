"""Who is calling: bearer-token authentication and the role checks the routers declare.

Two kinds of bearer tokens, told apart by their prefix: device tokens (``qlqd_…``, issued at enrollment,
valid until revoked, bound to one site) and user tokens (``qlqu_…``, issued by ``POST /v1/auth/token``,
expiring after ``QLQ_RESEARCHER_TOKEN_TTL_MINUTES``). Both are opaque random strings stored as keyed hashes,
so revocation and expiry take effect on the next request. Roles: ``device`` may only submit for its own
site; ``researcher`` may export and read statistics; ``admin`` manages accounts and runs GDPR actions.

The submission endpoints, which every kiosk calls for every session, keep the devices a worker has looked up
in a :class:`~sync_server.device_cache.DeviceCache` for ``QLQ_DEVICE_CACHE_SECONDS`` (60 s by default): no
lookup round-trip per submission. Revocation still takes effect on the next submission, because the statement
that stores one stores it only for a device that is still active (``repositories/submissions.py``) and answers
whether it was: a revoked device gets 401 ``invalid_token`` and its cache entry is dropped. Only the order of
refusals can differ meanwhile: a device revoked less than that long ago that sends an invalid payload gets its
422 instead of the 401. Every other endpoint looks the token up on every request.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal, TypeGuard

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg import AsyncConnection
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from sync_server.db import pooled_connection, unit_of_work
from sync_server.errors import Forbidden, NotAuthenticated
from sync_server.repositories.accounts import DeviceIdentity, DeviceTokenRepository, UserTokenRepository
from sync_server.security import DEVICE_TOKEN_PREFIX, USER_TOKEN_PREFIX, keyed_hash
from sync_server.state import server_state

Role = Literal["device", "researcher", "admin"]
LAST_SEEN_RESOLUTION = timedelta(minutes=5)

_bearer = HTTPBearer(auto_error=False, description="A device token (qlqd_…) or a user token (qlqu_…)")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    role: Role
    name: str
    device_id: uuid.UUID | None = None
    site_id: int | None = None
    site_code: str | None = None
    user_id: int | None = None

    @property
    def actor(self) -> str:
        """How the audit table names this caller."""
        return f"device:{self.device_id}" if self.role == "device" else f"user:{self.name}"


BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated()
    return credentials.credentials


def user_principal(db: Session, secret: str, token: str) -> Principal:
    """Resolve a user token (``qlqu_…``) to a principal, or raise 401 (unknown, revoked or expired)."""
    user = UserTokenRepository(db).identity_by_token_hash(keyed_hash(secret, token))
    if user is None:
        raise NotAuthenticated("unknown, expired or revoked token", code="invalid_token")
    role: Role = "admin" if user.role == "admin" else "researcher"
    return Principal(role=role, name=user.username, user_id=user.user_id)


async def device_identity(connection: AsyncConnection, token_hash: str) -> DeviceIdentity | None:
    """The active device holding a token (by its keyed hash) on an ingest-pool connection; its ``last_seen_at``
    is brought up to date (to within :data:`LAST_SEEN_RESOLUTION`). None: unknown or revoked."""
    devices = DeviceTokenRepository(connection)
    device = await devices.identity_by_token_hash(token_hash)
    if _needs_touch(device):
        await devices.touch(device.device_id)
    return device


async def _looked_up_device(request: Request, token_hash: str) -> DeviceIdentity | None:
    """:func:`device_identity` on a connection of the ingest pool taken for the lookup."""
    async with pooled_connection(server_state(request).ingest_pool) as connection:
        return await device_identity(connection, token_hash)


async def _principal(request: Request, token: str) -> Principal:
    """The caller behind a bearer token: a device looked up on the ingest pool, a user with the ORM in one
    worker-thread hop. Raises 401."""
    state = server_state(request)
    if token.startswith(DEVICE_TOKEN_PREFIX):
        device = await _looked_up_device(request, keyed_hash(state.settings.token_secret, token))
        principal = _device_principal(device)
    elif token.startswith(USER_TOKEN_PREFIX):
        factory: sessionmaker[Session] = state.sessionmaker

        def lookup() -> Principal:
            with unit_of_work(factory) as db:
                return user_principal(db, state.settings.token_secret, token)

        principal = await run_in_threadpool(lookup)
    else:
        raise NotAuthenticated("unrecognised token", code="invalid_token")
    request.state.principal = principal
    return principal


def _needs_touch(device: DeviceIdentity | None) -> TypeGuard[DeviceIdentity]:
    """Whether ``last_seen_at`` is worth updating (at most every ``LAST_SEEN_RESOLUTION``, not every request)."""
    return device is not None and (
        device.last_seen_at is None or datetime.now(UTC) - device.last_seen_at > LAST_SEEN_RESOLUTION
    )


def _device_principal(device: DeviceIdentity | None) -> Principal:
    if device is None:
        raise NotAuthenticated("unknown or revoked device token", code="invalid_token")
    return Principal(
        role="device",
        name=device.device_name,
        device_id=device.device_id,
        site_id=device.site_id,
        site_code=device.site_code,
    )


async def authenticate(request: Request, credentials: BearerCredentials) -> Principal:
    """The caller, or 401 (missing, unknown, revoked or expired token)."""
    return await _principal(request, _bearer_token(credentials))


async def authenticate_device(request: Request, credentials: BearerCredentials) -> Principal:
    """The device calling; 401 as :func:`authenticate`, 403 for a user token."""
    return ensure_role(await _principal(request, _bearer_token(credentials)), ("device",))


async def authenticate_submitting_device(request: Request, credentials: BearerCredentials) -> Principal:
    """:func:`authenticate_device` for the submission endpoints: a device token is first looked for in the
    worker's :class:`~sync_server.device_cache.DeviceCache` (the statement storing a submission checks that the
    device is still active)."""
    token = _bearer_token(credentials)
    if not token.startswith(DEVICE_TOKEN_PREFIX):
        return await authenticate_device(request, credentials)
    state = server_state(request)
    token_hash = keyed_hash(state.settings.token_secret, token)
    device = state.device_cache.get(token_hash)
    if device is None:
        device = await _looked_up_device(request, token_hash)
        if device is not None:
            state.device_cache.put(token_hash, device)
    principal = _device_principal(device)
    request.state.principal = principal
    return principal


def ensure_role(principal: Principal, roles: tuple[Role, ...]) -> Principal:
    """403 for an authenticated caller whose role is not one of ``roles``."""
    if principal.role not in roles:
        raise Forbidden(f"this action needs the role {' or '.join(roles)}; you are {principal.role}")
    return principal


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting only the given roles (403 for any other authenticated caller).

    ``async`` on purpose: it is a pure check, and a sync dependency would cost a threadpool round-trip."""

    async def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        return ensure_role(principal, roles)

    check.__name__ = f"require_{'_or_'.join(roles)}"
    return check


# One function object per check, so a router declaring it in its ``dependencies`` and an endpoint asking for the
# caller share FastAPI's per-request cache: the token is looked up once.
require_admin = require_roles("admin")
require_user = require_roles("researcher", "admin")

DeviceCaller = Annotated[Principal, Depends(authenticate_device)]
SubmittingDevice = Annotated[Principal, Depends(authenticate_submitting_device)]
ResearcherCaller = Annotated[Principal, Depends(require_roles("researcher"))]
StatsCaller = Annotated[Principal, Depends(require_user)]
UserCaller = Annotated[Principal, Depends(require_user)]
AdminCaller = Annotated[Principal, Depends(require_admin)]


def user_token_hash(secret: str, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    """The keyed hash of the caller's user token (``qlqu_…``), as stored; None for any other credentials."""
    if credentials is None or not credentials.credentials.startswith(USER_TOKEN_PREFIX):
        return None
    return keyed_hash(secret, credentials.credentials)
