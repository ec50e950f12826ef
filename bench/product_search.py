"""Benchmark: product search over 100,000 products.

Starts its own stack (like the tests, on other ports and its own data
folder), loads 100,000 products built from the corpus catalogs with
variations through `POST /v1/catalog/products`, and reports:

- latency p50/p95/p99 and requests/s of `GET /v1/search/products` at 1, 8
  and 32 concurrent clients, on the large tenant (real user queries), with
  the result cache off so that every request runs the search;
- the same through a second API process with the default result cache, where
  the query list repeats, so nearly every request is a cache hit: the two
  runs bound real traffic, whose share of repeated queries lies in between;
- the same search code run in this process straight against Postgres at one
  client, so the service's overhead shows as a ratio;
- how many load queries reach the full-text match cap, and how much of
  their first page an uncapped search shares;
- recall@10 of the vector part against an exact scan, for the large tenant
  (its own HNSW index), with a filter, and for a small tenant;
- nDCG@10 of hybrid, full-text only and vector only on a judged query set,
  Chinese and English apart, on a tenant that contains each corpus product once.

Usage: .venv/bin/python bench/product_search.py [--seconds N] [--naive-baseline]
"""

import argparse
import asyncio
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import aiohttp  # noqa: E402
import httpx  # noqa: E402
import numpy as np  # noqa: E402
import psycopg  # noqa: E402
from psycopg import AsyncConnection  # noqa: E402
from psycopg_pool import AsyncConnectionPool  # noqa: E402

from api.product_filters import ProductFilters  # noqa: E402
from api.product_search import ProductQuery, search_page, vector_window  # noqa: E402
from api.product_search_service import (  # noqa: E402
    Embed,
    embedding_input,
    run_search,
)
from api.unknown_tokens import mostly_unknown  # noqa: E402
from api.vector_search import (  # noqa: E402
    nearest_products,
    nearest_sql,
    read_catalog_state,
)
from bench.catalog_data import (  # noqa: E402
    JudgedQuery,
    corpus_base,
    judged_queries,
    real_queries,
    varied_catalog,
)
from connectors.embedder import Embedder  # noqa: E402
from connectors.postgres import open_pool  # noqa: E402
from tests import stack as test_stack  # noqa: E402
from tidings.catalog_text import fold, query_text  # noqa: E402
from tidings.settings import Settings  # noqa: E402
from tidings.tenants import (  # noqa: E402
    create_tenant,
    hash_api_key,
    new_api_key,
    tenant_id_for,
)

TOTAL_PRODUCTS = 100_000
SMALL_TENANTS = 3
SMALL_TENANT_PRODUCTS = 1_000
CONCURRENCY = (1, 8, 32)
BATCH = 2_000
RECALL_QUERIES = 200

CACHED_API_PORT = 38101

BENCH_ENV = {
    "TIDINGS_DATA_DIR": str(REPO_ROOT / "var" / "bench-catalog"),
    "TIDINGS_KAFKA_PORT": "39192",
    "TIDINGS_KAFKA_CONTROLLER_PORT": "39193",
    "TIDINGS_API_PORT": "38100",
    "TIDINGS_LOG_LEVEL": "WARNING",
    # Every request runs the search; query embeddings stay cached.
    "TIDINGS_CATALOG_RESULT_CACHE_SIZE": "0",
    "TIDINGS_CATALOG_INDEX_CHECK_SECONDS": "5",
    "TIDINGS_CATALOG_EXACT_SCAN_MAX_ROWS": "10000",
}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))
    return ordered[index]


def latency_row(label: str, latencies: list[float], seconds: float) -> str:
    ms = [value * 1000 for value in latencies]
    return (
        f"| {label} | {len(ms)} | {percentile(ms, 0.5):.1f} | "
        f"{percentile(ms, 0.95):.1f} | {percentile(ms, 0.99):.1f} | "
        f"{len(ms) / seconds:.1f} |"
    )


# Loading


async def post_catalog(api_url: str, key: str, products: list[dict]) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(
        base_url=api_url, headers=headers, timeout=300
    ) as client:
        semaphore = asyncio.Semaphore(2)

        async def post(batch: list[dict]) -> None:
            async with semaphore:
                response = await client.post("/v1/catalog/products", json=batch)
                response.raise_for_status()

        await asyncio.gather(
            *(post(products[i : i + BATCH]) for i in range(0, len(products), BATCH))
        )


def wait_for(database_url: str, sql: str, done: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psycopg.connect(database_url) as conn:
            value = conn.execute(sql).fetchone()
        if done(value):
            return
        time.sleep(2)
    raise RuntimeError(f"timed out after {timeout}s waiting for: {sql}")


# Latency


async def http_latencies(
    api_url: str, key: str, queries: list[str], clients: int, seconds: float
) -> tuple[list[float], float]:
    """Send the queries in turn from `clients` concurrent clients.

    aiohttp, not httpx: the load generator shares the 2 cores with the
    service, and httpx took 1.0 ms of CPU per request against aiohttp's 0.3.
    """
    latencies: list[float] = []
    counter = iter(range(10**9))
    headers = {"Authorization": f"Bearer {key}"}
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(
        base_url=api_url, headers=headers, connector=connector, timeout=timeout
    ) as session:
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                query = queries[next(counter) % len(queries)]
                begin = time.perf_counter()
                params = {"q": query, "limit": "10"}
                async with session.get("/v1/search/products", params=params) as reply:
                    reply.raise_for_status()
                    await reply.read()
                latencies.append(time.perf_counter() - begin)

        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return latencies, elapsed


def embed_queries(embedder: Embedder, queries: list[str]) -> list[np.ndarray | None]:
    """Embed as the API does: None for queries the model mostly cannot read."""
    texts = [embedding_input(query) for query in queries]
    vectors = embedder.encode(texts)
    return [
        None if not text or mostly_unknown(embedder, text) else v
        for text, v in zip(texts, vectors, strict=True)
    ]


def query_embedder(embedder: Embedder) -> Embed:
    """Return an `Embed` function that embeds as the API does, with a cache."""
    cache: dict[str, np.ndarray | None] = {}

    async def embed(query: str) -> np.ndarray | None:
        if query not in cache:
            cache[query] = embed_queries(embedder, [query])[0]
        return cache[query]

    return embed


def search_shape(query: str, limit: int = 10) -> ProductQuery:
    return ProductQuery(
        text=query_text(query),
        filters=ProductFilters(),
        sort="relevance",
        limit=limit,
        offset=0,
        facets=True,
    )


async def direct_latencies(
    pool: AsyncConnectionPool,
    settings: Settings,
    tenant_id: str,
    queries: list[str],
    embeddings: list[np.ndarray | None],
    embed: Embed,
    seconds: float,
) -> tuple[list[float], float]:
    """Run the service's search code against Postgres, without HTTP. Like
    the service without a result cache, it reads the catalog state once."""
    async with pool.connection() as conn:
        state = await read_catalog_state(conn, tenant_id)
    latencies = []
    started = time.perf_counter()
    number = 0
    while time.perf_counter() - started < seconds:
        query = queries[number % len(queries)]
        embedding = embeddings[number % len(queries)]
        number += 1
        begin = time.perf_counter()
        async with pool.connection() as conn:
            shape = search_shape(query)
            await run_search(
                conn, settings, tenant_id, state, query, embedding, shape, embed
            )
        latencies.append(time.perf_counter() - begin)
    return latencies, time.perf_counter() - started


# Recall


async def exact_neighbours(
    pool: AsyncConnectionPool,
    tenant_id: str,
    embedding: np.ndarray,
    filters: ProductFilters,
) -> list[tuple[str, float]]:
    statement, params = nearest_sql(tenant_id, filters, use_index=False)
    async with pool.connection() as conn:
        cursor = await conn.execute(
            statement, {**params, "embedding": embedding, "k": 10}
        )
        return [(row[0], float(row[1])) for row in await cursor.fetchall()]


def recall(found: list[tuple[str, float]], exact: list[tuple[str, float]]) -> float:
    return len({pid for pid, _ in found} & {pid for pid, _ in exact}) / len(exact)


def tie_aware_recall(
    found: list[tuple[str, float]], exact: list[tuple[str, float]]
) -> float:
    """Count a returned product as correct when it is at least as similar as
    the exact 10th, since products with equal embeddings tie."""
    tenth = min(similarity for _, similarity in exact)
    hits = sum(1 for _, similarity in found if similarity >= tenth - 1e-6)
    return min(hits, len(exact)) / len(exact)


async def recall_at_10(
    pool: AsyncConnectionPool,
    settings: Settings,
    tenant_id: str,
    embeddings: list[np.ndarray],
    filters: list[ProductFilters],
) -> tuple[float, float, float]:
    """Return mean recall@10, tie-aware recall@10 and rows returned."""
    strict, tied, returned = [], [], []
    async with pool.connection() as conn:
        state = await read_catalog_state(conn, tenant_id)
    for embedding, condition in zip(embeddings, filters, strict=True):
        async with pool.connection() as conn, conn.transaction():
            found = await nearest_products(
                conn,
                tenant_id,
                state,
                embedding,
                10,
                condition,
                settings.catalog_hnsw_ef_search,
            )
        exact = await exact_neighbours(pool, tenant_id, embedding, condition)
        if exact:
            strict.append(recall(found, exact))
            tied.append(tie_aware_recall(found, exact))
            returned.append(len(found))
    return statistics.mean(strict), statistics.mean(tied), statistics.mean(returned)


async def naive_shared_index(
    pool: AsyncConnectionPool,
    settings: Settings,
    tenant_id: str,
    embeddings: list[np.ndarray],
) -> tuple[float, float, float]:
    """Build one HNSW index over all tenants, as the naive design would, and
    measure a small tenant's recall@10 through it; then drop it."""
    async with pool.connection() as conn:
        await conn.execute("SET maintenance_work_mem = '512MB'")
        await conn.execute(
            "CREATE INDEX products_embedding_shared ON products "
            "USING hnsw (embedding vector_cosine_ops)"
        )
        await conn.execute("ANALYZE products")
        await conn.execute("RESET maintenance_work_mem")
    strict, tied, returned = [], [], []
    try:
        for embedding in embeddings:
            async with pool.connection() as conn, conn.transaction():
                await conn.execute(
                    f"SET LOCAL hnsw.ef_search = {settings.catalog_hnsw_ef_search}"
                )
                cursor = await conn.execute(
                    "SELECT product_id, 1 - (embedding <=> %s) FROM products "
                    "WHERE tenant_id = %s ORDER BY embedding <=> %s LIMIT 10",
                    (embedding, tenant_id, embedding),
                )
                found = [(row[0], float(row[1])) for row in await cursor.fetchall()]
            exact = await exact_neighbours(pool, tenant_id, embedding, ProductFilters())
            strict.append(recall(found, exact))
            tied.append(tie_aware_recall(found, exact))
            returned.append(len(found))
    finally:
        async with pool.connection() as conn:
            await conn.execute("DROP INDEX products_embedding_shared")
    return statistics.mean(strict), statistics.mean(tied), statistics.mean(returned)


# Relevance


def ndcg_at_10(ranked: list[str], grades: dict[str, int]) -> float:
    gains = [(2 ** grades.get(pid, 0) - 1) for pid in ranked[:10]]
    dcg = sum(gain / math.log2(i + 2) for i, gain in enumerate(gains))
    ideal = sorted((2**g - 1 for g in grades.values()), reverse=True)[:10]
    idcg = sum(gain / math.log2(i + 2) for i, gain in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


async def relevance(
    api_url: str,
    key: str,
    pool: AsyncConnectionPool,
    settings: Settings,
    tenant_id: str,
    judged: list[JudgedQuery],
    embedder: Embedder,
) -> dict[tuple[str, str], float]:
    """Return mean nDCG@10 per (language, mode)."""
    scores: dict[tuple[str, str], list[float]] = {}
    headers = {"Authorization": f"Bearer {key}"}
    raw = embedder.encode([embedding_input(j.query) for j in judged])
    async with httpx.AsyncClient(base_url=api_url, headers=headers) as client:
        for item, embedding in zip(judged, raw, strict=True):
            response = await client.get(
                "/v1/search/products",
                params={"q": item.query, "limit": 10, "facets": "false"},
            )
            hybrid = [hit["product_id"] for hit in response.json()["hits"]]
            async with pool.connection() as conn, conn.transaction():
                page = await search_page(
                    conn,
                    tenant_id,
                    search_shape(item.query),
                    [],
                    1.0,
                    settings.catalog_max_text_matches,
                )
                state = await read_catalog_state(conn, tenant_id)
                nearest = await nearest_products(
                    conn,
                    tenant_id,
                    state,
                    embedding,
                    10,
                    ProductFilters(),
                    settings.catalog_hnsw_ef_search,
                )
            runs = {
                "hybrid": hybrid,
                "full-text": [row["product_id"] for row in page.rows],
                "vector": [pid for pid, _ in nearest],
            }
            for mode, ranked in runs.items():
                key_ = (item.language, mode)
                scores.setdefault(key_, []).append(ndcg_at_10(ranked, item.grades))
    return {key_: statistics.mean(values) for key_, values in scores.items()}


# Main


def tenant_catalogs() -> dict[str, list[dict]]:
    base = corpus_base()
    large = TOTAL_PRODUCTS - len(base) - SMALL_TENANTS * SMALL_TENANT_PRODUCTS
    catalogs = {
        "judged": [{**p, "version": 1} for p in base],
        "large": varied_catalog(base, large),
    }
    for number in range(SMALL_TENANTS):
        rng = random.Random(number)
        shuffled = rng.sample(base, len(base))
        catalogs[f"small-{number}"] = varied_catalog(shuffled, SMALL_TENANT_PRODUCTS)
    return catalogs


def new_key(database_url: str, name: str) -> tuple[str, str]:
    """Return (tenant id, a new API key) of an existing benchmark tenant."""
    tenant_id = tenant_id_for(f"bench-{name}")
    key = new_api_key()
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO api_keys (key_hash, tenant_id, label) VALUES (%s, %s, %s)",
            (hash_api_key(key), tenant_id, "bench"),
        )
    return tenant_id, key


async def load(
    stack: test_stack.Stack, catalogs: dict[str, list[dict]]
) -> dict[str, tuple[str, str]]:
    """Create the tenants, post their catalogs and wait until all is indexed."""
    keys: dict[str, tuple[str, str]] = {}
    with psycopg.connect(stack.database_url) as conn:
        for name in catalogs:
            keys[name] = create_tenant(conn, f"bench-{name}")

    started = time.perf_counter()
    for name, products in catalogs.items():
        await post_catalog(stack.api_url, keys[name][1], products)
    accepted = time.perf_counter() - started
    wait_for(
        stack.database_url,
        "SELECT count(*) FROM products",
        lambda row: row[0] >= TOTAL_PRODUCTS,
        7200,
    )
    materialized = time.perf_counter() - started
    wait_for(
        stack.database_url,
        "SELECT vector_index FROM catalog_state "
        f"WHERE tenant_id = '{keys['large'][0]}'",
        lambda row: row is not None and row[0] is not None,
        3600,
    )
    indexed = time.perf_counter() - started
    print(
        f"accepted by the API in {accepted:.0f} s, materialized after "
        f"{materialized:.0f} s ({TOTAL_PRODUCTS / materialized:.0f} "
        f"products/s), large tenant's HNSW index ready after {indexed:.0f} s"
    )
    return keys


async def measure(stack: test_stack.Stack, args: argparse.Namespace) -> None:
    catalogs = tenant_catalogs()
    if args.reuse:
        keys = {name: new_key(stack.database_url, name) for name in catalogs}
    else:
        keys = await load(stack, catalogs)
    large_id, large_key = keys["large"]

    settings = Settings(database_url=stack.database_url)
    embedder = Embedder(settings.embedding_model)
    base = catalogs["judged"]
    judged = judged_queries(base)
    load_queries = [j.query for j in judged] + real_queries(100)
    pool = await open_pool(
        stack.database_url,
        max_size=4,
        autocommit=True,
        hnsw_ef_search=settings.catalog_hnsw_ef_search,
    )
    try:
        print(
            f"products: {TOTAL_PRODUCTS} in {len(catalogs)} tenants; large "
            f"tenant {len(catalogs['large'])}"
        )
        print(
            f"load queries: {len(load_queries)} ({len(judged)} judged, "
            "200 real Wayfair and Taobao queries)\n"
        )

        await http_latencies(stack.api_url, large_key, load_queries, 4, 10)
        print("| clients | requests | p50 ms | p95 ms | p99 ms | req/s |")
        print("| --- | --- | --- | --- | --- | --- |")
        for clients in CONCURRENCY:
            latencies, elapsed = await http_latencies(
                stack.api_url, large_key, load_queries, clients, args.seconds
            )
            print(latency_row(f"HTTP, {clients}", latencies, elapsed))
            if clients == 1:
                service_p50 = percentile(latencies, 0.5)
        await cached_rows(stack, large_key, load_queries, args.seconds)
        embeddings = embed_queries(embedder, load_queries)
        embed = query_embedder(embedder)
        latencies, elapsed = await direct_latencies(
            pool, settings, large_id, load_queries, embeddings, embed, args.seconds
        )
        print(latency_row("same code on Postgres, 1", latencies, elapsed))
        print(
            f"\nservice / direct p50 at 1 client: "
            f"{service_p50 / percentile(latencies, 0.5):.2f}\n"
        )
        await report_cap(pool, settings, large_id, load_queries, embeddings)

        await report_recall(pool, settings, catalogs, keys, embedder, args)
        scores = await relevance(
            stack.api_url,
            keys["judged"][1],
            pool,
            settings,
            keys["judged"][0],
            judged,
            embedder,
        )
        counts = {
            lang: sum(j.language == lang for j in judged) for lang in ("zh", "en")
        }
        print("\n| queries | hybrid | full-text | vector |")
        print("| --- | --- | --- | --- |")
        for lang, label in (("zh", "Chinese"), ("en", "English")):
            print(
                f"| {label} ({counts[lang]}) | {scores[(lang, 'hybrid')]:.3f} | "
                f"{scores[(lang, 'full-text')]:.3f} | {scores[(lang, 'vector')]:.3f} |"
            )
    finally:
        await pool.close()


async def cached_rows(
    stack: test_stack.Stack, key: str, queries: list[str], seconds: float
) -> None:
    process, api_url = start_cached_api(stack)
    try:
        # One pass fills the cache, as the warm-up does for the rows above.
        await http_latencies(api_url, key, queries, 4, 10)
        for clients in CONCURRENCY:
            latencies, elapsed = await http_latencies(
                api_url, key, queries, clients, seconds
            )
            label = f"HTTP, {clients}, default result cache"
            print(latency_row(label, latencies, elapsed))
    finally:
        process.terminate()
        process.wait(timeout=30)


async def report_cap(
    pool: AsyncConnectionPool,
    settings: Settings,
    tenant_id: str,
    queries: list[str],
    embeddings: list[np.ndarray | None],
) -> None:
    """Print how many queries reach the full-text match cap, and how much of
    their first page an uncapped search shares."""
    max_matches = settings.catalog_max_text_matches
    capped = identical = 0
    overlaps: list[float] = []
    ranks: tuple[list[float], list[float]] = ([], [])
    async with pool.connection() as conn:
        state = await read_catalog_state(conn, tenant_id)
        for query, embedding in zip(queries, embeddings, strict=True):
            shape = search_shape(query)
            vector = []
            if embedding is not None:
                vector = await nearest_products(
                    conn,
                    tenant_id,
                    state,
                    embedding,
                    vector_window(settings.catalog_hnsw_ef_search),
                    shape.filters,
                    settings.catalog_hnsw_ef_search,
                )
            similarity = settings.catalog_vector_min_similarity
            page = await search_page(
                conn, tenant_id, shape, vector, similarity, max_matches
            )
            if page.exhaustive:
                continue
            full = await search_page(conn, tenant_id, shape, vector, similarity, 10**9)
            first = [row["product_id"] for row in page.rows]
            exact = [row["product_id"] for row in full.rows]
            capped += 1
            identical += first == exact
            overlaps.append(len(set(first) & set(exact)) / max(1, len(exact)))
            ranks[0].append(await mean_text_rank(conn, tenant_id, shape.text, first))
            ranks[1].append(await mean_text_rank(conn, tenant_id, shape.text, exact))
    print(
        f"queries that reach the cap of {max_matches} full-text matches: "
        f"{capped} of {len(queries)}"
    )
    if overlaps:
        print(
            f"their first 10 hits against an uncapped search: mean overlap "
            f"{statistics.mean(overlaps):.2f}, identical in {identical}; mean "
            f"ts_rank on title, brand, category and attributes "
            f"{statistics.mean(ranks[0]):.4f} capped, "
            f"{statistics.mean(ranks[1]):.4f} uncapped\n"
        )


async def mean_text_rank(
    conn: AsyncConnection, tenant_id: str, text: str, product_ids: list[str]
) -> float:
    """Return the mean ts_rank that search ranks by, over the given products."""
    cursor = await conn.execute(
        "SELECT coalesce(avg(ts_rank(rank_text, "
        "websearch_to_tsquery('english', %s))), 0) FROM products "
        "WHERE tenant_id = %s AND product_id = ANY(%s)",
        (text, tenant_id, product_ids),
    )
    row = await cursor.fetchone()
    return float(row[0]) if row else 0.0


async def report_recall(
    pool: AsyncConnectionPool,
    settings: Settings,
    catalogs: dict[str, list[dict]],
    keys: dict[str, tuple[str, str]],
    embedder: Embedder,
    args: argparse.Namespace,
) -> None:
    rng = random.Random(7)
    sample = rng.sample(catalogs["large"], RECALL_QUERIES)
    vectors = list(embedder.encode([fold(p["title"]) for p in sample]))
    unfiltered = [ProductFilters()] * len(sample)
    by_category = [
        ProductFilters(categories=tuple(p["category_path"][:1]), in_stock=True)
        for p in sample
    ]
    small_id = keys["small-0"][0]
    rows = [
        ("large tenant (own HNSW index)", keys["large"][0], unfiltered),
        ("large tenant, category + in-stock filter", keys["large"][0], by_category),
        ("small tenant (exact scan)", small_id, unfiltered),
    ]
    print(
        f"| {RECALL_QUERIES} queries, ef_search {settings.catalog_hnsw_ef_search} "
        "| recall@10 | tie-aware recall@10 | rows returned |"
    )
    print("| --- | --- | --- | --- |")
    for label, tenant_id, filters in rows:
        strict, tied, returned = await recall_at_10(
            pool, settings, tenant_id, vectors, filters
        )
        print(f"| {label} | {strict:.3f} | {tied:.3f} | {returned:.1f} |")
    if args.naive_baseline:
        strict, tied, returned = await naive_shared_index(
            pool, settings, small_id, vectors
        )
        print(
            f"| small tenant through one shared HNSW index | {strict:.3f} | "
            f"{tied:.3f} | {returned:.1f} |"
        )


def wait_until_ready(
    process: subprocess.Popen, api_url: str, log: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the process for {api_url} exited early; see {log}")
        try:
            if httpx.get(f"{api_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise SystemExit(f"{api_url} was not ready within {timeout}s")


def _terminate(process: subprocess.Popen) -> None:
    process.terminate()


def start_ready(
    command: str,
    env: dict[str, str],
    log: Path,
    api_url: str,
    timeout: float,
    stop: Callable[[subprocess.Popen], None],
) -> subprocess.Popen:
    """Run `python -m tidings <command>` with its output in `log`, and wait
    until `api_url` is ready. A process that is not ready in time is stopped."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tidings", command],
        cwd=REPO_ROOT,
        env=env,
        stdout=open(log, "ab"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_ready(process, api_url, log, timeout)
    except SystemExit:
        stop(process)
        raise
    return process


def start_cached_api(stack: test_stack.Stack) -> tuple[subprocess.Popen, str]:
    """Start a second API process on the stack, with the default result cache."""
    env = {**os.environ, **test_stack.TEST_ENV}
    env.pop("TIDINGS_CATALOG_RESULT_CACHE_SIZE")
    env |= {
        "TIDINGS_API_PORT": str(CACHED_API_PORT),
        "TIDINGS_KAFKA_BOOTSTRAP": stack.kafka_bootstrap,
        "TIDINGS_DATABASE_URL": stack.database_url,
    }
    api_url = f"http://127.0.0.1:{CACHED_API_PORT}"
    process = start_ready(
        "api", env, stack.data_dir / "cached-api.log", api_url, 300, _terminate
    )
    return process, api_url


def start_existing_stack(timeout: float = 900.0) -> test_stack.Stack:
    """Start the stack on the data folder as it is (start_stack empties it)."""
    env = {**os.environ, **test_stack.TEST_ENV}
    data_dir = Path(env["TIDINGS_DATA_DIR"])
    if not (data_dir / "postgres").is_dir():
        raise SystemExit(
            f"--reuse: {data_dir} contains no earlier run; run without --reuse"
        )
    api_url = f"http://127.0.0.1:{env['TIDINGS_API_PORT']}"
    process = start_ready(
        "run", env, data_dir / "supervisor.log", api_url, timeout, test_stack.stop_stack
    )
    return test_stack.Stack(
        process=process,
        data_dir=data_dir,
        api_url=api_url,
        api_key=(data_dir / "keys" / "demo.key").read_text().strip(),
        database_url=(data_dir / "postgres.url").read_text().strip(),
        kafka_bootstrap=f"127.0.0.1:{env['TIDINGS_KAFKA_PORT']}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=20, help="Seconds per latency run."
    )
    parser.add_argument(
        "--naive-baseline",
        action="store_true",
        help="Also build one HNSW index over all tenants to show its recall.",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="Measure the products that an earlier run left in the data folder.",
    )
    args = parser.parse_args()

    test_stack.TEST_ENV.update(BENCH_ENV)
    stack = start_existing_stack() if args.reuse else test_stack.start_stack()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    try:
        asyncio.run(measure(stack, args))
    finally:
        test_stack.stop_stack(stack.process)


if __name__ == "__main__":
    main()
