"""Clocks for backoff, rate limits and circuit breakers.

Code that waits or measures time takes a `Clock`, so tests drive it with a
`ManualClock` instead of sleeping.
"""

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    """Monotonic time for intervals, wall time for timestamps, and sleep."""

    def monotonic(self) -> float: ...

    def time(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock of the process."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock for tests that moves only when a test moves it.

    With `auto_advance` (the default), `sleep` moves the clock forward at
    once and records the delay, which suits one sleeper at a time. Without
    it, a sleeper waits until `advance` moves the clock past its wake-up
    time, which lets tests interleave several sleepers. `monotonic()` and
    `time()` always move together.
    """

    def __init__(
        self,
        start: float = 1_000.0,
        wall_start: float = 1_700_000_000.0,
        *,
        auto_advance: bool = True,
    ) -> None:
        self._now = start
        self._wall_offset = wall_start - start
        self._auto_advance = auto_advance
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self._now

    def time(self) -> float:
        return self._now + self._wall_offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward and wake the sleepers that are due."""
        self._now += seconds
        due = [entry for entry in self._sleepers if entry[0] <= self._now]
        self._sleepers = [entry for entry in self._sleepers if entry[0] > self._now]
        for _, future in due:
            if not future.done():
                future.set_result(None)

    async def sleep(self, seconds: float) -> None:
        delay = max(0.0, seconds)
        self.sleeps.append(delay)
        if self._auto_advance:
            self._now += delay
            # Let other tasks run, as a real sleep would.
            await asyncio.sleep(0)
            return

        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self._now + delay, future))
        await future
