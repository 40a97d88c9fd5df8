"""Getting credentials: users log in for a bearer token; kiosks trade a one-time code for a device token.
Both endpoints are rate limited per client IP (and username), per process."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from sync_server.db import DbSession
from sync_server.routers.deps import AppSettings, client_ip, enforce_rate_limit
from sync_server.schemas.api import EnrollRequest, EnrollResponse, ErrorResponse, TokenRequest, TokenResponse
from sync_server.services.accounts import AccountService

router = APIRouter(tags=["authentication"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorResponse} for code in (401, 422, 429)}


@router.post("/v1/auth/token", response_model=TokenResponse, responses=_ERRORS,
             summary="Log in (researcher or admin) and get an expiring bearer token")
def login(body: TokenRequest, request: Request, db: DbSession, settings: AppSettings) -> TokenResponse:
    enforce_rate_limit(request, f"login:{client_ip(request)}:{body.username.lower()}")
    issued = AccountService(db, settings).login(body.username, body.password)
    return TokenResponse(access_token=issued.token, expires_at=issued.expires_at, role=issued.role)


@router.post("/v1/devices/enroll", response_model=EnrollResponse, status_code=201, responses=_ERRORS,
             summary="Enroll a kiosk with a one-time code; returns its device token (shown once)")
def enroll(body: EnrollRequest, request: Request, db: DbSession, settings: AppSettings) -> EnrollResponse:
    enforce_rate_limit(request, f"enroll:{client_ip(request)}")
    issued = AccountService(db, settings).enroll(body.code, body.device_name)
    return EnrollResponse(device_id=issued.device_id, device_token=issued.token, site=issued.site_code)
