"""Getting and giving back credentials: users log in for a bearer token and log out to revoke it; kiosks trade
a one-time code for a device token.

Rate limits (shared by every worker and replica, ``sync_server/ratelimit.py``): logins per client address (all
accounts together: spraying one password over many accounts is limited) and, separately, per account (all
addresses together: a client rotating addresses is limited); enrollments per client address."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from sync_server.auth import BearerCredentials, UserCaller, user_token_hash
from sync_server.db import DbSession
from sync_server.routers.deps import AppSettings, client_ip, enforce_rate_limit
from sync_server.schemas.api import EnrollRequest, EnrollResponse, ErrorResponse, TokenRequest, TokenResponse
from sync_server.services.accounts import AccountService

router = APIRouter(tags=["authentication"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorResponse} for code in (401, 422, 429)}


@router.post(
    "/v1/auth/token",
    response_model=TokenResponse,
    responses=_ERRORS,
    summary="Log in (researcher or admin) and get an expiring bearer token",
)
def login(body: TokenRequest, request: Request, db: DbSession, settings: AppSettings) -> TokenResponse:
    enforce_rate_limit(request, f"login-ip:{client_ip(request)}", settings.auth_rate_limit_attempts)
    enforce_rate_limit(request, f"login-account:{body.username.lower()}", settings.auth_rate_limit_account_attempts)
    issued = AccountService(db, settings).login(body.username, body.password)
    return TokenResponse(access_token=issued.token, expires_at=issued.expires_at, role=issued.role)


@router.post(
    "/v1/auth/logout",
    status_code=204,
    responses={401: {"model": ErrorResponse}},
    summary="Log out: revoke the bearer token of this request (effective at once)",
)
def logout(caller: UserCaller, credentials: BearerCredentials, db: DbSession, settings: AppSettings) -> Response:
    token_hash = user_token_hash(settings.token_secret, credentials)
    assert token_hash is not None  # UserCaller admits only user tokens
    AccountService(db, settings).logout(token_hash)
    return Response(status_code=204)


@router.post(
    "/v1/devices/enroll",
    response_model=EnrollResponse,
    status_code=201,
    responses=_ERRORS,
    summary="Enroll a kiosk with a one-time code; returns its device token (shown once)",
)
def enroll(body: EnrollRequest, request: Request, db: DbSession, settings: AppSettings) -> EnrollResponse:
    enforce_rate_limit(request, f"enroll-ip:{client_ip(request)}", settings.auth_rate_limit_attempts)
    issued = AccountService(db, settings).enroll(body.code, body.device_name)
    return EnrollResponse(device_id=issued.device_id, device_token=issued.token, site=issued.site_code)
