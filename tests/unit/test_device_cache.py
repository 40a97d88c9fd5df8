"""The per-worker cache of device identities the submission endpoints authenticate from."""

from __future__ import annotations

import uuid

from kiosk.domain.clock import FakeClock
from sync_server.device_cache import DeviceCache
from sync_server.repositories.accounts import DeviceIdentity


def identity(name: str = "tablette-1", device_id: uuid.UUID | None = None) -> DeviceIdentity:
    return DeviceIdentity(device_id or uuid.uuid4(), name, 1, "SITE-A", None)


def test_an_entry_lasts_its_seconds_from_the_lookup() -> None:
    clock = FakeClock()
    cache = DeviceCache(60, clock=clock)
    device = identity()
    assert cache.get("h") is None
    cache.put("h", device)
    clock.tick(59.9)
    assert cache.get("h") == device
    clock.tick(0.1)
    assert cache.get("h") is None
    assert len(cache) == 0  # an expired entry is dropped when met


def test_a_clock_set_back_expires_the_entry() -> None:
    clock = FakeClock()
    cache = DeviceCache(60, clock=clock)
    clock.tick(10)
    cache.put("h", identity())
    clock.tick(-11)
    assert cache.get("h") is None


def test_zero_seconds_keeps_nothing() -> None:
    cache = DeviceCache(0, clock=FakeClock())
    cache.put("h", identity())
    assert (cache.get("h"), len(cache)) == (None, 0)


def test_the_oldest_entries_go_first_beyond_the_bound() -> None:
    cache = DeviceCache(60, max_entries=3, clock=FakeClock())
    for name in "abcd":
        cache.put(name, identity(name))
    assert len(cache) == 3
    assert cache.get("a") is None
    assert [cache.get(name).device_name for name in "bcd"] == ["b", "c", "d"]
    cache.put("b", identity("b2"))  # a new lookup of a kept token replaces its entry, without evicting another
    assert len(cache) == 3 and cache.get("b").device_name == "b2"


def test_forget_drops_every_token_of_a_device() -> None:
    cache = DeviceCache(60, clock=FakeClock())
    revoked, kept = uuid.uuid4(), uuid.uuid4()
    cache.put("old", identity(device_id=revoked))
    cache.put("new", identity(device_id=revoked))
    cache.put("other", identity(device_id=kept))
    cache.forget(revoked)
    assert (cache.get("old"), cache.get("new")) == (None, None)
    assert cache.get("other") is not None
    cache.clear()
    assert len(cache) == 0
