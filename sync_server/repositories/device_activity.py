"""When each device last delivered a session (for the devices page): one grouped query."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sync_server.models import StoredSubmission


class DeviceActivityRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def last_submission_at(self) -> dict[uuid.UUID, datetime]:
        s = StoredSubmission
        query = select(s.device_id, func.max(s.received_at)).where(s.device_id.is_not(None)).group_by(s.device_id)
        return {device_id: at for device_id, at in self.session.execute(query).tuples() if device_id is not None}
