"""Queued submissions on the in-memory store, for the sync engine tests."""

from __future__ import annotations

from kiosk.domain.instrument import Instrument, load_instrument
from kiosk.storage.fake import InMemorySessionStore
from tests.integration.storage.storage_helpers import FakeClock, complete, start_session

INSTRUMENT: Instrument = load_instrument("qlq-c30", "fr")


def queue(store: InMemorySessionStore, clock: FakeClock, n: int, *, initials: str = "J D") -> list[str]:
    ids = []
    for _ in range(n):
        session = start_session(INSTRUMENT, clock, initials=initials)
        session = session.begin_items(now=clock.tick())
        complete(session, clock, store)
        ids.append(session.id)
    return ids
