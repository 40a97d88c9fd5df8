"""GDPR actions on stored sessions: show everything held, hard delete, anonymize, purge by age.

Each is audited in the same transaction as the action itself, so an action without its audit row (or the
reverse) cannot be committed. Anonymizing drops the initials, the birth date and the exact age from the
columns and from the stored payload, keeping a ten-year age band; the content hash is kept so a kiosk
resending the original is still recognised as "already received" instead of re-creating the data.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from sync_server.errors import NotFound
from sync_server.models import StoredSubmission
from sync_server.repositories.accounts import DeviceRepository
from sync_server.repositories.submissions import SubmissionRepository
from sync_server.services.audit import Actor, record_access
from sync_server.services.ingest import utc_today


class GdprService:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.repo = SubmissionRepository(session)

    def _get(self, submission_id: uuid.UUID) -> tuple[StoredSubmission, str]:
        found = self.repo.get(submission_id)
        if found is None:
            raise NotFound(f"no session {submission_id}", field="submission_id", code="unknown_session")
        return found

    def show(self, submission_id: uuid.UUID, actor: Actor) -> dict[str, Any]:
        """Everything the server holds about one session."""
        row, site_code = self._get(submission_id)
        device = DeviceRepository(self.session).get(row.device_id) if row.device_id else None
        record_access(self.session, actor, "show", [submission_id], row_count=1)
        return {
            "submission_id": str(row.submission_id),
            "site": site_code,
            "device": None if device is None else {"id": str(device.id), "name": device.name},
            "source": row.source,
            "legacy_id": row.legacy_id,
            "received_at": row.received_at.isoformat(),
            "anonymized": row.anonymized,
            "content_sha256": row.content_sha256,
            "patient": {
                "initials": row.patient_initials,
                "birth_date": row.patient_birth_date.isoformat() if row.patient_birth_date else None,
                "age_at_session": row.age_at_session,
                "age_band": row.age_band,
            },
            "outcome": row.outcome,
            "session_date": row.session_date.isoformat(),
            "payload": row.payload,
            "answers": [
                {
                    "item": a.item,
                    "value": a.value,
                    "status": a.status,
                    "method": a.method,
                    "confidence": a.confidence,
                    "confirmed": a.confirmed,
                    "first_shown_at": a.first_shown_at.isoformat(),
                    "answered_at": a.answered_at.isoformat(),
                    "times_shown": a.times_shown,
                    "previous": a.previous,
                }
                for a in self.repo.answers_of(row.id)
            ],
            "scores": {s.code: s.score for s in self.repo.scores_of(row.id)},
        }

    def delete(self, submission_id: uuid.UUID, actor: Actor) -> None:
        row, _ = self._get(submission_id)
        self.repo.delete(row.id)
        record_access(self.session, actor, "delete", [submission_id], row_count=1)

    def anonymize(self, submission_id: uuid.UUID, actor: Actor) -> bool:
        """Returns False when the session was already anonymized (still audited: it was looked up)."""
        row, _ = self._get(submission_id)
        changed = not row.anonymized
        if changed:
            payload = dict(row.payload)
            payload["patient"] = anonymized_patient(row.age_band)
            self.repo.anonymize(row.id, payload)
        record_access(self.session, actor, "anonymize", [submission_id], row_count=1 if changed else 0)
        return changed

    def purge(
        self, older_than_days: int, actor: Actor, *, today: date | None = None, dry_run: bool = False
    ) -> list[uuid.UUID]:
        """Delete every session whose session date is more than ``older_than_days`` days ago."""
        cutoff = (today or utc_today()) - timedelta(days=older_than_days)
        rows = self.repo.older_than(cutoff)
        ids = [sid for _, sid in rows]
        if not dry_run:
            self.repo.delete_many([pk for pk, _ in rows])
            record_access(
                self.session,
                actor,
                "purge",
                ids,
                row_count=len(ids),
                detail={"older_than_days": older_than_days, "cutoff": cutoff.isoformat()},
            )
        return ids


def anonymized_patient(age_band: str) -> dict[str, Any]:
    """What the payload's ``patient`` block becomes: no initials, no birth date, no exact age."""
    return {"initials": "", "birth_date": None, "age_at_session": None, "age_band": age_band}
