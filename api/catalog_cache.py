"""In-process caches of the catalog API: query embeddings and search results.

Both are LRU caches with a size bound. Each result is stored with the
tenant's catalog version, which the catalog stage bumps with every change, so
a search never returns a cached result of an older catalog. Seeing a newer
version also evicts the tenant's older entries at once.
"""

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

import numpy as np
from fastapi import Request

from api.vector_search import CatalogState
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

    def __contains__(self, key: K) -> bool:
        return key in self._items

    def items(self) -> list[tuple[K, V]]:
        return list(self._items.items())


class ResultCache:
    """Search results keyed by tenant id and request, each stored with the
    catalog version it was read at."""

    def __init__(self, max_size: int) -> None:
        self.entries: LruCache[tuple[str, Hashable], tuple[int, object]] = LruCache(
            max_size
        )
        self._versions: dict[str, int] = {}

    def _observe(self, tenant_id: str, version: int) -> None:
        known = self._versions.get(tenant_id)
        if known is not None and known >= version:
            return
        self._versions[tenant_id] = version
        if known is not None:
            stale = [
                key
                for key, (stored, _) in self.entries.items()
                if key[0] == tenant_id and stored < version
            ]
            self.entries.evict(stale)

    def contains(self, tenant_id: str, request: Hashable) -> bool:
        """Return whether a result of `request` is stored, of any version."""
        return (tenant_id, request) in self.entries

    def get(self, tenant_id: str, version: int, request: Hashable) -> object | None:
        self._observe(tenant_id, version)
        entry = self.entries.get((tenant_id, request))
        if entry is None or entry[0] != version:
            return None
        return entry[1]

    def put(
        self, tenant_id: str, version: int, request: Hashable, value: object
    ) -> None:
        self._observe(tenant_id, version)
        # A search that read an older snapshot than one already seen would
        # store a result that no later request can use.
        if version < self._versions[tenant_id]:
            return
        self.entries.put((tenant_id, request), (version, value))


class CatalogCaches:
    def __init__(self, settings: Settings) -> None:
        self.embeddings: LruCache[str, np.ndarray] = LruCache(
            settings.catalog_embedding_cache_size
        )
        self.results = ResultCache(settings.catalog_result_cache_size)
        # The catalog state that each tenant's last search read. Its vector
        # index decides how the next search finds the nearest products.
        self.states: dict[str, CatalogState] = {}


async def get_catalog_caches(request: Request) -> CatalogCaches:
    """Return the app's caches, created on first use."""
    state = request.app.state
    caches: CatalogCaches | None = getattr(state, "catalog_caches", None)
    if caches is None:
        caches = CatalogCaches(state.services.settings)
        state.catalog_caches = caches
    return caches
