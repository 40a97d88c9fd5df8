"""Fixtures for the storage tests: a fake clock, the instrument, and both stores on equal terms."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kiosk.domain.clock import FakeClock
from kiosk.domain.instrument import Instrument, load_instrument
from kiosk.storage.fake import InMemorySessionStore
from kiosk.storage.interface import SessionStore
from kiosk.storage.sqlite_store import SqliteSessionStore
from tests.integration.storage.storage_helpers import STORAGE_T0


@pytest.fixture(scope="session")
def instrument() -> Instrument:
    return load_instrument("qlq-c30", "fr")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(STORAGE_T0)


TEST_KEY = "0123456789abcdef" * 4  # a fixed database key: the encrypted store on the same terms as the others


@pytest.fixture(params=["sqlite", "sqlcipher", "memory"])
def store_factory(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> Iterator[Callable[[], SessionStore]]:
    """Opens "the" store: each call on SQLite is a NEW store instance on the same file; the fake is itself."""
    opened: list[SqliteSessionStore] = []
    fake = InMemorySessionStore(clock=clock)

    def open_store() -> SessionStore:
        if request.param == "memory":
            return fake
        key = TEST_KEY if request.param == "sqlcipher" else None
        store = SqliteSessionStore(tmp_path / "kiosk.db", key=key, clock=clock)
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        store.close()


@pytest.fixture
def store(store_factory: Callable[[], SessionStore]) -> SessionStore:
    return store_factory()


@pytest.fixture
def sqlite_store(tmp_path: Path, clock: FakeClock) -> Iterator[SqliteSessionStore]:
    with SqliteSessionStore(tmp_path / "kiosk.db", clock=clock) as store:
        yield store
