"""Rate limits of the authentication endpoints, shared by every worker and replica through PostgreSQL.

Each key (``login-ip:203.0.113.9``, ``login-account:alice``, ``enroll-ip:…``) counts its attempts in fixed
windows of ``QLQ_AUTH_RATE_LIMIT_WINDOW_SECONDS`` in the ``rate_limit_counters`` table (migration 0003). An
attempt is refused while the sliding estimate — this window's attempts plus the previous window's, weighted by
how much of it still overlaps the last ``window`` seconds — has reached the key's limit (the approximation
Cloudflare and nginx use: no 2× burst at a window boundary, two rows per key at most).

Every attempt, refused ones included, is counted in its own short transaction (one upsert), so a failed login
that rolls back its request still counts, and concurrent workers cannot both take the last attempt (the upsert
locks the row). Rows older than two windows are deleted whenever a new window starts.
"""

from __future__ import annotations

import math

from sqlalchemy import text
from sqlalchemy.engine import Engine

_HIT_SQL = text("""
WITH bucket AS (
    SELECT to_timestamp(floor(extract(epoch FROM clock_timestamp()) / :window) * :window) AS start
), counted AS (
    INSERT INTO rate_limit_counters (key, window_start, hits)
    SELECT :key, bucket.start, 1 FROM bucket
    ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limit_counters.hits + 1
    RETURNING hits, window_start
)
SELECT counted.hits,
       extract(epoch FROM clock_timestamp() - counted.window_start) AS elapsed,
       coalesce((SELECT previous.hits FROM rate_limit_counters AS previous
                 WHERE previous.key = :key
                   AND previous.window_start = counted.window_start - make_interval(secs => :window)), 0)
FROM counted
""")
_FORGET_SQL = text("DELETE FROM rate_limit_counters WHERE window_start < clock_timestamp() - make_interval(secs => :w)")


def attempts_before(hits: int, previous: int, elapsed: float, window: float) -> int:
    """The sliding estimate of the attempts made before this one (``hits`` counts this one in this window).

    The previous window's attempts count for the share of it that still overlaps the last ``window`` seconds,
    rounded UP: just after a window boundary, five attempts made a moment ago must still count as five (rounded
    down, 3 + 2 × 0.999 would let a sixth through)."""
    return (hits - 1) + math.ceil(previous * (1 - elapsed / window) - 1e-9)


class RateLimiter:
    """At most ``limit`` attempts per key within any ``window`` seconds (sliding estimate, see the module)."""

    def __init__(self, engine: Engine, window: float) -> None:
        self.engine = engine
        self.window = float(window)

    def hit(self, key: str, limit: int) -> float | None:
        """Count an attempt for ``key``. ``None`` when it is allowed, else the seconds to wait."""
        with self.engine.begin() as connection:
            hits, elapsed, previous = connection.execute(_HIT_SQL, {"key": key[:200], "window": self.window}).one()
            if hits == 1:  # a new window for this key: drop the windows nobody can need any more
                connection.execute(_FORGET_SQL, {"w": 2 * self.window})
        elapsed = min(max(float(elapsed), 0.0), self.window)
        if attempts_before(hits, previous, elapsed, self.window) < limit:
            return None
        return max(self.window - elapsed, 0.001)

    def reset(self) -> None:
        """Forget every counter (tests, or an operator unblocking everyone: ``qlq-server`` has no such command)."""
        with self.engine.begin() as connection:
            connection.execute(text("DELETE FROM rate_limit_counters"))
