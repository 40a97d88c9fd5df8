"""Pydantic models of the API's requests and responses, which also document the OpenAPI schema."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. submission_conflict")
    message: str
    field: str | None = Field(description="The request field at fault, when there is one")


class ErrorResponse(BaseModel):
    error: ErrorDetail


class HealthResponse(BaseModel):
    status: Literal["ok"]


class ReadyResponse(BaseModel):
    status: Literal["ready"]
    revision: str


# -------------------------------------------------------------------- auth and devices
class TokenRequest(_In):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=1024)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme name
    expires_at: datetime
    role: str


class EnrollRequest(_In):
    code: str = Field(min_length=4, max_length=32, description="The one-time enrollment code")
    device_name: str = Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f]+$")


class EnrollResponse(BaseModel):
    device_id: uuid.UUID
    device_token: str = Field(description="Shown once; store it in the kiosk's secret store")
    site: str


# -------------------------------------------------------------------- submissions
class SubmissionAccepted(BaseModel):
    submission_id: uuid.UUID
    status: Literal["received", "already_received"]


class BatchItemResult(BaseModel):
    index: int
    submission_id: str | None
    status: Literal["received", "already_received", "rejected"]
    http_status: int
    error: ErrorDetail | None


class BatchResponse(BaseModel):
    results: list[BatchItemResult]


# -------------------------------------------------------------------- stats
class StatsRow(BaseModel):
    site: str
    month: str = Field(description="YYYY-MM of the session date")
    sessions_started: int
    sessions_completed: int
    sessions_abandoned: int
    median_duration_seconds: float | None
    answers: int
    voice_answer_share: float | None
    voice_confirmation_share: float | None


class StatsResponse(BaseModel):
    rows: list[StatsRow]


# -------------------------------------------------------------------- admin
class SiteIn(_In):
    code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
    name: str = Field(min_length=1, max_length=200)


class SiteOut(BaseModel):
    code: str
    name: str
    created_at: datetime


class EnrollmentCodeOut(BaseModel):
    code: str = Field(description="Shown once; valid for a single enrollment")
    site: str
    expires_at: datetime


class DeviceOut(BaseModel):
    id: uuid.UUID
    name: str
    site: str
    created_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None


class UserIn(_In):
    username: str = Field(min_length=2, max_length=150)
    password: str = Field(min_length=12, max_length=1024)
    role: Literal["admin", "researcher"]


class UserOut(BaseModel):
    username: str
    role: str
    created_at: datetime
    disabled_at: datetime | None


class RoleIn(_In):
    role: Literal["admin", "researcher"]


class TokensRevoked(BaseModel):
    username: str
    revoked: int = Field(description="how many active tokens were revoked")


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    actor_role: str
    action: str
    include_birth_date: bool
    row_count: int
    submission_ids: list[uuid.UUID]
    detail: dict[str, Any]
    request_id: str | None


class AnonymizeResponse(BaseModel):
    submission_id: uuid.UUID
    anonymized: bool
    changed: bool
