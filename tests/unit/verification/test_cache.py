"""TTL cache: hits, expiry, eviction, shared loads and uncached errors."""

import asyncio

import pytest

from connectors.verification.cache import TtlCache
from connectors.verification.clock import ManualClock


class Loader:
    def __init__(self, value: str = "answer") -> None:
        self.calls = 0
        self.value = value
        self.gate: asyncio.Event | None = None

    async def __call__(self) -> str:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        return f"{self.value}-{self.calls}"


def make_cache(clock: ManualClock, max_entries: int = 10) -> TtlCache[str]:
    return TtlCache(ttl_seconds=60.0, max_entries=max_entries, clock=clock)


async def test_second_get_is_hit() -> None:
    cache = make_cache(ManualClock())
    load = Loader()

    first = await cache.get_or_load("q", load)
    second = await cache.get_or_load("q", load)

    assert second == first
    assert load.calls == 1
    assert cache.stats.hits == 1


async def test_entry_expires_after_ttl() -> None:
    clock = ManualClock()
    cache = make_cache(clock)
    load = Loader()
    await cache.get_or_load("q", load)

    clock.advance(60.0)
    value = await cache.get_or_load("q", load)

    assert value == "answer-2"


async def test_errors_not_cached() -> None:
    cache = make_cache(ManualClock())
    calls = 0

    async def failing() -> str:
        nonlocal calls
        calls += 1
        raise RuntimeError("provider down")

    for _ in range(2):
        with pytest.raises(RuntimeError):
            await cache.get_or_load("q", failing)

    assert calls == 2
    assert len(cache) == 0


async def test_concurrent_loads_shared() -> None:
    cache = make_cache(ManualClock())
    load = Loader()
    load.gate = asyncio.Event()

    tasks = [asyncio.create_task(cache.get_or_load("q", load)) for _ in range(5)]
    await asyncio.sleep(0)
    load.gate.set()
    values = await asyncio.gather(*tasks)

    assert load.calls == 1
    assert set(values) == {"answer-1"}


async def test_least_recent_evicted() -> None:
    cache = make_cache(ManualClock(), max_entries=2)
    await cache.get_or_load("a", Loader("a"))
    await cache.get_or_load("b", Loader("b"))
    cache.get("a")

    await cache.get_or_load("c", Loader("c"))

    assert cache.get("b") is None
    assert cache.get("a") == "a-1"


async def test_cancelled_leader_lets_waiter_load() -> None:
    cache = make_cache(ManualClock())
    load = Loader()
    load.gate = asyncio.Event()
    leader = asyncio.create_task(cache.get_or_load("q", load))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(cache.get_or_load("q", load))
    await asyncio.sleep(0)

    leader.cancel()
    await asyncio.sleep(0)
    load.gate.set()
    value = await waiter

    assert value == "answer-2"
