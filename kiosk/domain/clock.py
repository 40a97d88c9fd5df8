"""Injectable time: the system clock for the kiosk, one fake clock for every test.

Nothing below the UI calls ``datetime.now`` itself. The domain takes ``now`` as an argument; the view models and
the store are given a :class:`Clock` (the store takes its ``now`` method); the inactivity check is a plain
method that the window calls from a one-second timer and a test calls after moving a :class:`FakeClock` forward.
Pure Python, so that every layer (domain tests, storage, view models) may use the same fake.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol

FAKE_START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


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
    """Aware UTC time that moves only when told to, by ``step`` seconds per :meth:`tick` unless told otherwise."""

    def __init__(self, start: datetime = FAKE_START, *, step: float = 1.0) -> None:
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("a fake clock starts at a timezone-aware time")
        self._now = start
        self.step = step

    def now(self) -> datetime:
        return self._now

    def today(self) -> date:
        return self._now.date()

    def tick(self, seconds: float | None = None, *, minutes: float = 0) -> datetime:
        """Move forward (``step`` seconds when neither ``seconds`` nor ``minutes`` is given) and return the new now."""
        if seconds is None:
            seconds = 0 if minutes else self.step
        self._now += timedelta(seconds=seconds, minutes=minutes)
        return self._now


SYSTEM_CLOCK = SystemClock()
