"""How long the tablet keeps a patient's details after the centre acknowledged the session.

The policy is a kiosk setting (``sync.retention``):

- ``next-session`` (the default): the details of an acknowledged session are purged once a LATER session has
  been started on the tablet — so the clinician summary of the last patient stays until the next patient, and no
  longer. The purge runs after every sync pass (and a pass runs after each finished session and every few
  minutes), so details go at most one pass after the next session started.
- ``after:MINUTES``: purged that many minutes after the acknowledgement (``after:0``: at once).

A purged session keeps its status ("envoyé"), its receipt and content hash, never its patient data.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from kiosk.storage.interface import SessionStore

log = logging.getLogger(__name__)

RETENTION_SETTING = "sync.retention"
NEXT_SESSION = "next-session"


@dataclass(frozen=True)
class RetentionPolicy:
    delay: timedelta | None = None  # None: until the next session

    @classmethod
    def parse(cls, text: str | None) -> RetentionPolicy:
        value = (text or "").strip()
        if not value or value == NEXT_SESSION:
            return cls()
        if value.startswith("after:"):
            minutes = value[len("after:") :]
            if minutes.isdigit():
                return cls(delay=timedelta(minutes=int(minutes)))
        raise ValueError(f"retention setting {value!r}: expected {NEXT_SESSION!r} or 'after:MINUTES'")

    def __str__(self) -> str:
        return NEXT_SESSION if self.delay is None else f"after:{int(self.delay.total_seconds() // 60)}"


def load_policy(store: SessionStore) -> RetentionPolicy:
    try:
        return RetentionPolicy.parse(store.get_setting(RETENTION_SETTING))
    except ValueError as exc:  # a bad setting must not keep data longer: fall back to the strictest default
        log.error("%s; using %s", exc, NEXT_SESSION)
        return RetentionPolicy()


def apply(store: SessionStore, policy: RetentionPolicy, now: datetime) -> int:
    """Purge what the policy says is due at ``now``; how many sessions were purged."""
    if policy.delay is None:
        return store.purge_acknowledged(sent_before=now, superseded_only=True)
    return store.purge_acknowledged(sent_before=now - policy.delay)
