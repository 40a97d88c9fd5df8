"""The devices one worker has recently authenticated, so that a kiosk's submission costs no token lookup.

Used only by the submission endpoints, whose storing statement re-checks that the device is still active (see
``sync_server/auth.py``): an entry lets a request skip a round-trip, never store for a revoked device.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from kiosk.domain.clock import SYSTEM_CLOCK, Clock
from sync_server.repositories.accounts import DeviceIdentity


class DeviceCache:
    """The devices one worker looked up recently, by token hash, each kept for ``seconds`` after its lookup.

    Only found devices are kept (an unknown token is looked up every time), at most ``max_entries`` of them
    (the oldest go first). Entries are never trusted to store anything: see the module docstring."""

    def __init__(self, seconds: float, *, max_entries: int = 10_000, clock: Clock = SYSTEM_CLOCK) -> None:
        self.ttl = timedelta(seconds=seconds)
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[str, tuple[datetime, DeviceIdentity]] = {}

    def get(self, token_hash: str) -> DeviceIdentity | None:
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        stored, device = entry
        if stored <= self.clock.now() < stored + self.ttl:  # a clock set back expires the entry too
            return device
        del self._entries[token_hash]
        return None

    def put(self, token_hash: str, device: DeviceIdentity) -> None:
        if not self.ttl:
            return
        self._entries.pop(token_hash, None)
        while len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]
        self._entries[token_hash] = (self.clock.now(), device)

    def forget(self, device_id: uuid.UUID) -> None:
        """Drop the device's entries (it was found revoked)."""
        for token_hash in [h for h, (_at, d) in self._entries.items() if d.device_id == device_id]:
            del self._entries[token_hash]

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
