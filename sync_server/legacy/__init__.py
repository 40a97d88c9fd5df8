"""Import of the web prototype's SQLite database (the "legacy" data) as ordinary submissions.

:func:`read_legacy_db` streams the file session by session and yields, for each, a :class:`LegacySession`
(a ``Submission`` the server stores like any kiosk submission, with ``source="legacy-prototype"``) or a
:class:`LegacyProblem` naming the row at fault. A file that cannot be used at all raises
:class:`LegacyDatabaseError`. Legacy submissions name the instrument with the :data:`LEGACY_INSTRUMENT_SHA256`
marker; check them against :func:`legacy_instrument`. Pure stdlib ``sqlite3``; no server framework here.
"""

from __future__ import annotations

from .database import LegacyDatabaseError
from .reader import (
    LEGACY_INSTRUMENT_SHA256,
    LEGACY_NAMESPACE,
    LegacyProblem,
    LegacyResult,
    LegacySession,
    legacy_instrument,
    legacy_submission_id,
    read_legacy_db,
)

__all__ = [
    "LEGACY_INSTRUMENT_SHA256",
    "LEGACY_NAMESPACE",
    "LegacyDatabaseError",
    "LegacyProblem",
    "LegacyResult",
    "LegacySession",
    "legacy_instrument",
    "legacy_submission_id",
    "read_legacy_db",
]
