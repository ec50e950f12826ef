"""Rate limit per provider (token bucket) and concurrency cap per tenant."""

import asyncio
import heapq
import itertools
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal

from connectors.verification.clock import Clock

Lane = Literal["realtime", "batch"]

# Lower rank is served first.
_LANE_RANK: dict[Lane, int] = {"realtime": 0, "batch": 1}


@dataclass(order=True)
class _Ticket:
    rank: int
    sequence: int
    turn: asyncio.Event = field(compare=False, default_factory=asyncio.Event)


class TokenBucket:
    """An async token bucket: `rate` calls per second, bursts of up to `burst`.

    Waiting callers are served in order, except that every `realtime` caller
    goes ahead of every `batch` caller, so a batch backlog cannot delay a
    user who is waiting. `defer` pauses the bucket, for example after a 429.

    NOTE: the bucket lives in one process, so N worker processes together
    send up to N times `rate`; divide the setting by the worker count.
    """

    def __init__(self, name: str, *, rate: float, burst: int, clock: Clock) -> None:
        if rate <= 0:
            raise ValueError(f"rate for {name} must be positive, got {rate}")
        if burst < 1:
            raise ValueError(f"burst for {name} must be at least 1, got {burst}")
        self.name = name
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock.monotonic()
        self._not_before = -math.inf
        self._queue: list[_Ticket] = []
        self._sequence = itertools.count()

    @property
    def waiting(self) -> int:
        """Number of callers waiting for a token."""
        return len(self._queue)

    async def acquire(self, lane: Lane = "batch") -> None:
        """Wait until a token is free and take it."""
        ticket = _Ticket(_LANE_RANK[lane], next(self._sequence))
        heapq.heappush(self._queue, ticket)
        try:
            while True:
                if self._queue[0] is not ticket:
                    await ticket.turn.wait()
                    ticket.turn.clear()
                    continue

                wait = self._wait_time()
                if wait <= 0:
                    heapq.heappop(self._queue)
                    self._tokens -= 1
                    return
                await self._clock.sleep(wait)
        finally:
            if ticket in self._queue:
                self._queue.remove(ticket)
                heapq.heapify(self._queue)
            if self._queue:
                self._queue[0].turn.set()

    def defer(self, seconds: float) -> None:
        """Give out no token for the next `seconds`."""
        until = self._clock.monotonic() + seconds
        self._not_before = max(self._not_before, until)

    def _wait_time(self) -> float:
        now = self._clock.monotonic()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self._burst, self._tokens + elapsed * self._rate)
        self._updated = now

        if now < self._not_before:
            return self._not_before - now
        if self._tokens >= 1:
            return 0.0
        return (1 - self._tokens) / self._rate


class TenantLimiter:
    """Caps the provider calls that one tenant has in progress at once.

    Each tenant gets its own semaphore, so a tenant with a large backlog
    waits for its own slots and never takes another tenant's.
    """

    def __init__(self, max_concurrent: int) -> None:
        if max_concurrent < 1:
            raise ValueError(f"max_concurrent must be at least 1, got {max_concurrent}")
        self._max = max_concurrent
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._holders: dict[str, int] = {}

    def in_use(self, tenant_id: str) -> int:
        """Return how many slots `tenant_id` uses or waits for."""
        return self._holders.get(tenant_id, 0)

    @asynccontextmanager
    async def slot(self, tenant_id: str) -> AsyncIterator[None]:
        """Hold one of the tenant's slots for the duration of the block."""
        semaphore = self._semaphores.setdefault(tenant_id, asyncio.Semaphore(self._max))
        self._holders[tenant_id] = self._holders.get(tenant_id, 0) + 1
        try:
            async with semaphore:
                yield
        finally:
            self._holders[tenant_id] -= 1
            if self._holders[tenant_id] == 0:
                # Forget idle tenants so the maps do not grow without bound.
                del self._holders[tenant_id]
                del self._semaphores[tenant_id]
