"""Token bucket per provider (with a realtime lane) and slots per tenant."""

import asyncio

import pytest

from connectors.verification.clock import ManualClock
from connectors.verification.limits import Lane, TenantLimiter, TokenBucket


async def settle() -> None:
    """Let every ready task run until all of them wait."""
    for _ in range(20):
        await asyncio.sleep(0)


async def test_burst_needs_no_wait() -> None:
    clock = ManualClock()
    bucket = TokenBucket("search", rate=2.0, burst=3, clock=clock)

    for _ in range(3):
        await bucket.acquire()

    assert clock.sleeps == []


async def test_empty_bucket_waits_one_interval() -> None:
    clock = ManualClock()
    bucket = TokenBucket("search", rate=2.0, burst=1, clock=clock)

    await bucket.acquire()
    await bucket.acquire()

    assert clock.sleeps == [pytest.approx(0.5)]


async def test_tokens_refill_over_time() -> None:
    clock = ManualClock()
    bucket = TokenBucket("search", rate=1.0, burst=2, clock=clock)
    await bucket.acquire()
    await bucket.acquire()

    clock.advance(2.0)
    await bucket.acquire()
    await bucket.acquire()

    assert clock.sleeps == []


async def test_defer_pauses_bucket() -> None:
    clock = ManualClock()
    bucket = TokenBucket("search", rate=10.0, burst=5, clock=clock)

    bucket.defer(5.0)
    await bucket.acquire()

    assert clock.sleeps == [pytest.approx(5.0)]


async def test_realtime_goes_before_batch() -> None:
    clock = ManualClock(auto_advance=False)
    bucket = TokenBucket("search", rate=1.0, burst=1, clock=clock)
    await bucket.acquire()
    served: list[str] = []

    async def take(label: str, lane: Lane) -> None:
        await bucket.acquire(lane)
        served.append(label)

    tasks = [asyncio.create_task(take(f"batch-{i}", "batch")) for i in range(5)]
    await settle()
    tasks.append(asyncio.create_task(take("realtime", "realtime")))
    await settle()
    while not all(task.done() for task in tasks):
        clock.advance(1.0)
        await settle()

    assert served[0] == "realtime"
    assert served[1:] == [f"batch-{i}" for i in range(5)]


async def test_cancelled_waiter_leaves_queue() -> None:
    clock = ManualClock(auto_advance=False)
    bucket = TokenBucket("search", rate=1.0, burst=1, clock=clock)
    await bucket.acquire()
    waiters = [asyncio.create_task(bucket.acquire()) for _ in range(2)]
    await settle()

    waiters[0].cancel()
    await settle()
    clock.advance(1.0)
    await settle()

    assert waiters[1].done()
    assert bucket.waiting == 0


def test_bucket_rejects_zero_rate() -> None:
    with pytest.raises(ValueError, match="rate for search must be positive"):
        TokenBucket("search", rate=0.0, burst=1, clock=ManualClock())


async def test_tenant_cap_blocks_only_that_tenant() -> None:
    limiter = TenantLimiter(max_concurrent=2)
    release = asyncio.Event()
    started: list[str] = []

    async def work(tenant: str, label: str) -> None:
        async with limiter.slot(tenant):
            started.append(label)
            await release.wait()

    tasks = [asyncio.create_task(work("tenant-a", f"a{i}")) for i in range(3)]
    tasks.append(asyncio.create_task(work("tenant-b", "b0")))
    await settle()

    assert started == ["a0", "a1", "b0"]
    assert limiter.in_use("tenant-a") == 3
    release.set()
    await asyncio.gather(*tasks)


async def test_tenant_slots_freed() -> None:
    limiter = TenantLimiter(max_concurrent=1)

    async with limiter.slot("tenant-a"):
        pass

    assert limiter.in_use("tenant-a") == 0
