"""The audit trail of every access to patient data: who, what, when, which sessions, how many rows.

Rows are only ever appended (PostgreSQL rejects UPDATE/DELETE/TRUNCATE on the table). ``detail`` holds the
request's filters and options, never patient data: a deleted session leaves its UUID and nothing else.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from sync_server.logging import request_id_var
from sync_server.repositories.submissions import AuditRepository, SubmissionFilter

# "export-completed" / "export-failed": how an export ended (detail.export_audit_id names its "export" row)
ACTIONS = ("export", "export-completed", "export-failed", "show", "delete", "anonymize", "purge", "import-legacy")


@dataclass(frozen=True)
class Actor:
    """Who acts: ``user:alice`` (HTTP) or ``cli:root`` (an operator at the server's console)."""

    name: str
    role: str


def _event(actor: Actor, action: str, detail: dict[str, Any] | None, include_birth_date: bool) -> dict[str, Any]:
    """The columns every audit event has (the action checked against :data:`ACTIONS`)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    return {
        "actor": actor.name,
        "actor_role": actor.role,
        "action": action,
        "include_birth_date": include_birth_date,
        "detail": detail or {},
        "request_id": request_id_var.get(),
    }


def record_access(
    session: Session,
    actor: Actor,
    action: str,
    submission_ids: Sequence[uuid.UUID],
    *,
    row_count: int,
    detail: dict[str, Any] | None = None,
    include_birth_date: bool = False,
) -> int:
    """Append an audit event; returns its id."""
    return AuditRepository(session).append(
        **_event(actor, action, detail, include_birth_date), row_count=row_count, submission_ids=list(submission_ids)
    )


def record_selection_access(
    session: Session,
    actor: Actor,
    action: str,
    where: SubmissionFilter,
    *,
    detail: dict[str, Any] | None = None,
    include_birth_date: bool = False,
) -> tuple[int, int, int]:
    """Append an audit event for every submission ``where`` selects, listed by PostgreSQL itself; returns (its
    id, how many it lists, the highest primary key listed or 0)."""
    return AuditRepository(session).append_for_selection(where, **_event(actor, action, detail, include_birth_date))
