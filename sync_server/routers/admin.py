"""Administration (admins only): sites, enrollment codes, devices, users, the audit log, and the GDPR actions
on one session (show everything held, delete, anonymize)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from sync_server.auth import AdminCaller, require_admin
from sync_server.db import DbSession
from sync_server.models import User
from sync_server.repositories.submissions import AuditRepository
from sync_server.routers.deps import AppSettings
from sync_server.schemas.api import (
    AnonymizeResponse,
    AuditOut,
    DeviceOut,
    EnrollmentCodeOut,
    ErrorResponse,
    RoleIn,
    SiteIn,
    SiteOut,
    TokensRevoked,
    UserIn,
    UserOut,
)
from sync_server.services.accounts import AccountService
from sync_server.services.audit import Actor
from sync_server.services.gdpr import GdprService

# Every route is for admins: the check is the router's; endpoints that need the caller (audit actor, "not
# yourself") also ask for ``AdminCaller`` (the same dependency, resolved once per request).
router = APIRouter(prefix="/v1/admin", tags=["administration"], dependencies=[Depends(require_admin)])
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorResponse} for code in (401, 403, 404, 409, 422)}


def _actor(caller: AdminCaller) -> Actor:
    return Actor(caller.actor, caller.role)


# -------------------------------------------------------------------- sites and devices
@router.get("/sites", response_model=list[SiteOut], responses=_ERRORS, summary="List sites")
def list_sites(db: DbSession, settings: AppSettings) -> list[SiteOut]:
    return [
        SiteOut(code=s.code, name=s.name, created_at=s.created_at) for s in AccountService(db, settings).sites.list()
    ]


@router.post("/sites", response_model=SiteOut, status_code=201, responses=_ERRORS, summary="Create a site")
def create_site(body: SiteIn, db: DbSession, settings: AppSettings) -> SiteOut:
    site = AccountService(db, settings).create_site(body.code, body.name)
    db.refresh(site)
    return SiteOut(code=site.code, name=site.name, created_at=site.created_at)


@router.post(
    "/sites/{site_code}/enrollment-codes",
    response_model=EnrollmentCodeOut,
    status_code=201,
    responses=_ERRORS,
    summary="Create a one-time device enrollment code for a site",
)
def create_enrollment_code(
    site_code: str, caller: AdminCaller, db: DbSession, settings: AppSettings
) -> EnrollmentCodeOut:
    issued = AccountService(db, settings).create_enrollment_code(site_code, caller.actor)
    return EnrollmentCodeOut(code=issued.code, site=issued.site_code, expires_at=issued.expires_at)


@router.get("/devices", response_model=list[DeviceOut], responses=_ERRORS, summary="List devices")
def list_devices(
    db: DbSession, settings: AppSettings, site: Annotated[str | None, Query(max_length=32)] = None
) -> list[DeviceOut]:
    return [
        DeviceOut(
            id=d.id,
            name=d.name,
            site=code,
            created_at=d.created_at,
            last_seen_at=d.last_seen_at,
            revoked_at=d.revoked_at,
        )
        for d, code in AccountService(db, settings).list_devices(site)
    ]


@router.post(
    "/devices/{device_id}:revoke",
    status_code=204,
    responses=_ERRORS,
    summary="Revoke a device token (effective on its next request)",
)
def revoke_device(device_id: uuid.UUID, db: DbSession, settings: AppSettings) -> Response:
    AccountService(db, settings).revoke_device(device_id)
    return Response(status_code=204)


# -------------------------------------------------------------------- users
@router.get("/users", response_model=list[UserOut], responses=_ERRORS, summary="List users")
def list_users(db: DbSession, settings: AppSettings) -> list[UserOut]:
    return [
        UserOut(username=u.username, role=u.role, created_at=u.created_at, disabled_at=u.disabled_at)
        for u in AccountService(db, settings).users.list()
    ]


@router.post("/users", response_model=UserOut, status_code=201, responses=_ERRORS, summary="Create a user")
def create_user(body: UserIn, db: DbSession, settings: AppSettings) -> UserOut:
    user = AccountService(db, settings).create_user(body.username, body.password, body.role)
    db.refresh(user)
    return UserOut(username=user.username, role=user.role, created_at=user.created_at, disabled_at=None)


@router.post(
    "/users/{username}:disable",
    response_model=UserOut,
    responses=_ERRORS,
    summary="Disable a user and revoke their tokens",
)
def disable_user(username: str, caller: AdminCaller, db: DbSession, settings: AppSettings) -> UserOut:
    return _user_out(AccountService(db, settings).disable_user(username, acting_user_id=caller.user_id))


@router.post(
    "/users/{username}:enable",
    response_model=UserOut,
    responses=_ERRORS,
    summary="Re-enable a disabled user (they log in again)",
)
def enable_user(username: str, db: DbSession, settings: AppSettings) -> UserOut:
    return _user_out(AccountService(db, settings).enable_user(username))


@router.post(
    "/users/{username}:set-role",
    response_model=UserOut,
    responses=_ERRORS,
    summary="Change a user's role (never demoting yourself or the last admin); revokes their tokens",
)
def set_role(username: str, body: RoleIn, caller: AdminCaller, db: DbSession, settings: AppSettings) -> UserOut:
    return _user_out(AccountService(db, settings).set_role(username, body.role, acting_user_id=caller.user_id))


@router.post(
    "/users/{username}:revoke-tokens",
    response_model=TokensRevoked,
    responses=_ERRORS,
    summary="Revoke every active token of a user (the account stays enabled)",
)
def revoke_tokens(username: str, db: DbSession, settings: AppSettings) -> TokensRevoked:
    return TokensRevoked(username=username, revoked=AccountService(db, settings).revoke_user_tokens(username))


def _user_out(user: User) -> UserOut:
    return UserOut(username=user.username, role=user.role, created_at=user.created_at, disabled_at=user.disabled_at)


# -------------------------------------------------------------------- audit and GDPR
@router.get("/audit", response_model=list[AuditOut], responses=_ERRORS, summary="Latest audit events")
def audit_log(
    db: DbSession,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    action: Annotated[str | None, Query(max_length=32)] = None,
) -> list[AuditOut]:
    return [AuditOut.model_validate(e, from_attributes=True) for e in AuditRepository(db).list(limit, action)]


@router.get(
    "/sessions/{submission_id}", responses=_ERRORS, summary="GDPR access: everything held about one session (audited)"
)
def show_session(submission_id: uuid.UUID, caller: AdminCaller, db: DbSession) -> dict[str, Any]:
    return GdprService(db).show(submission_id, _actor(caller))


@router.delete(
    "/sessions/{submission_id}",
    status_code=204,
    responses=_ERRORS,
    summary="GDPR erasure: delete one session and its answers (audited)",
)
def delete_session(submission_id: uuid.UUID, caller: AdminCaller, db: DbSession) -> Response:
    GdprService(db).delete(submission_id, _actor(caller))
    return Response(status_code=204)


@router.post(
    "/sessions/{submission_id}:anonymize",
    response_model=AnonymizeResponse,
    responses=_ERRORS,
    summary="Drop initials, birth date and exact age of one session, keeping an age band (audited)",
)
def anonymize_session(submission_id: uuid.UUID, caller: AdminCaller, db: DbSession) -> AnonymizeResponse:
    changed = GdprService(db).anonymize(submission_id, _actor(caller))
    return AnonymizeResponse(submission_id=submission_id, anonymized=True, changed=changed)
