"""Size-bounded caches and their invalidation by catalog version."""

from api.catalog_cache import LruCache, ResultCache


def test_lru_evicts_least_recent() -> None:
    cache: LruCache[str, int] = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.get("a")
    cache.put("c", 3)

    assert cache.get("b") is None
    assert cache.get("a") == 1
    assert len(cache) == 2


def test_lru_of_size_zero_stores_nothing() -> None:
    cache: LruCache[str, int] = LruCache(0)
    cache.put("a", 1)

    assert cache.get("a") is None


def test_result_cache_hit_same_version() -> None:
    cache = ResultCache(10)
    cache.put("t1", 3, "q", "answer")

    assert cache.get("t1", 3, "q") == "answer"


def test_result_cache_misses_after_change() -> None:
    cache = ResultCache(10)
    cache.put("t1", 3, "q", "answer")

    assert cache.get("t1", 4, "q") is None


def test_newer_version_evicts_old_entries() -> None:
    cache = ResultCache(10)
    cache.put("t1", 3, "q", "old")
    cache.put("t2", 1, "q", "other tenant")
    cache.get("t1", 4, "q")

    assert len(cache.entries) == 1
    assert cache.get("t2", 1, "q") == "other tenant"


def test_contains_any_version() -> None:
    cache = ResultCache(10)
    cache.put("t1", 3, "q", "answer")

    assert cache.contains("t1", "q")
    assert not cache.contains("t1", "other")
    assert not cache.contains("t2", "q")


def test_result_of_an_older_snapshot_is_not_stored() -> None:
    cache = ResultCache(10)
    cache.put("t1", 4, "q", "new")
    cache.put("t1", 3, "q", "old")

    assert cache.get("t1", 4, "q") == "new"
    assert cache.get("t1", 3, "q") is None


def test_disabled_cache_stores_nothing() -> None:
    cache = ResultCache(0)
    cache.put("t1", 3, "q", "answer")

    assert not cache.contains("t1", "q")
