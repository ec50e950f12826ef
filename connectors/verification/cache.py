"""An async cache of provider responses with a time to live."""

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from connectors.verification.clock import Clock

T = TypeVar("T")


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0


class TtlCache(Generic[T]):
    """Keeps loaded values for `ttl_seconds`, at most `max_entries` of them.

    Concurrent loads of one key share a single call of the loader. Errors
    are not cached, so the next caller tries again. When the cache is full,
    the least recently used entry goes first. Keys should be normalised
    queries (see `names.normalize_query`), so that equivalent spellings of
    a query share one entry.
    """

    def __init__(self, *, ttl_seconds: float, max_entries: int, clock: Clock) -> None:
        if ttl_seconds <= 0:
            raise ValueError(f"ttl_seconds must be positive, got {ttl_seconds}")
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, T]] = OrderedDict()
        self._loading: dict[str, asyncio.Future[T]] = {}
        self.stats = CacheStats()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> T | None:
        """Return the fresh value for `key`, or None."""
        entry = self._fresh_entry(key)
        return None if entry is None else entry[1]

    def put(self, key: str, value: T) -> None:
        self._entries[key] = (self._clock.monotonic() + self._ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def get_or_load(self, key: str, load: Callable[[], Awaitable[T]]) -> T:
        """Return the cached value for `key`, or load, store and return it."""
        while True:
            entry = self._fresh_entry(key)
            if entry is not None:
                self.stats.hits += 1
                return entry[1]

            pending = self._loading.get(key)
            if pending is None:
                break
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                # The loader's caller was cancelled, not this one: try again.
                if pending.cancelled():
                    continue
                raise

        self.stats.misses += 1
        return await self._load(key, load)

    def _fresh_entry(self, key: str) -> tuple[float, T] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._clock.monotonic() >= entry[0]:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry

    async def _load(self, key: str, load: Callable[[], Awaitable[T]]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        # Mark the outcome as retrieved, so an error with no waiter is not
        # reported as "never retrieved".
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._loading[key] = future
        try:
            value = await load()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            raise
        else:
            self.put(key, value)
            future.set_result(value)
            return value
        finally:
            del self._loading[key]
