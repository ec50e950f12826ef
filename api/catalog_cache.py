"""In-process caches of the catalog API: query embeddings and search results.

Both are LRU caches with a size bound. Result keys start with the tenant and
its catalog version, which the catalog stage bumps with every change, so a
search never returns a cached result of an older catalog. Seeing a newer version
also evicts the tenant's older entries at once.
"""

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

import numpy as np
from fastapi import Request

from tidings.settings import Settings

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """Least-recently-used cache; a max size of 0 stores nothing."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._items: OrderedDict[K, V] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is None:
            self.misses += 1
            return None
        self.hits += 1
        self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        if self.max_size == 0:
            return
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.max_size:
            self._items.popitem(last=False)

    def evict(self, keys: list[K]) -> None:
        for key in keys:
            self._items.pop(key, None)

    def keys(self) -> list[K]:
        return list(self._items)


ResultKey = tuple[str, int, Hashable]


class ResultCache:
    """Search results keyed by (tenant id, catalog version, request...)."""

    def __init__(self, max_size: int) -> None:
        self.entries: LruCache[ResultKey, object] = LruCache(max_size)
        self._versions: dict[str, int] = {}

    def _observe(self, tenant_id: str, version: int) -> None:
        known = self._versions.get(tenant_id)
        if known is not None and known >= version:
            return
        self._versions[tenant_id] = version
        if known is not None:
            stale = [
                key
                for key in self.entries.keys()
                if key[0] == tenant_id and key[1] < version
            ]
            self.entries.evict(stale)

    def get(self, tenant_id: str, version: int, request: Hashable) -> object | None:
        self._observe(tenant_id, version)
        return self.entries.get((tenant_id, version, request))

    def put(
        self, tenant_id: str, version: int, request: Hashable, value: object
    ) -> None:
        self._observe(tenant_id, version)
        self.entries.put((tenant_id, version, request), value)


class CatalogCaches:
    def __init__(self, settings: Settings) -> None:
        self.embeddings: LruCache[str, np.ndarray] = LruCache(
            settings.catalog_embedding_cache_size
        )
        self.results = ResultCache(settings.catalog_result_cache_size)


async def get_catalog_caches(request: Request) -> CatalogCaches:
    """Return the app's caches, created on first use."""
    state = request.app.state
    caches: CatalogCaches | None = getattr(state, "catalog_caches", None)
    if caches is None:
        caches = CatalogCaches(state.services.settings)
        state.catalog_caches = caches
    return caches
