"""Injectable time: the real clock for the kiosk, a fake one for tests of the pause and abandon timers.

The view models never call ``datetime.now`` themselves; the inactivity check is a plain method (``tick``) that
the window calls from a one-second QTimer and a test calls after moving a :class:`FakeClock` forward.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""

    def today(self) -> date:
        """The kiosk's local calendar date (what the nurse calls "today")."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return datetime.now().astimezone().date()


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def today(self) -> date:
        return self._now.date()

    def advance(self, seconds: float = 0, *, minutes: float = 0) -> datetime:
        self._now += timedelta(seconds=seconds, minutes=minutes)
        return self._now
