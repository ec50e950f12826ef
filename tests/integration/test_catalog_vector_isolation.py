"""Tenant isolation inside the vector index.

The test stack gives a tenant with more than 300 products its own partial
HNSW index. A large tenant and a small one sell near-identical products, so
one shared HNSW walk followed by a tenant filter would fill its candidate
list mostly with the large tenant's rows. Both tenants must still get their
full top-k, also under a filter that the HNSW walk cannot apply.
"""

import functools
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import numpy as np
import psycopg
import pytest
from pgvector.psycopg import register_vector

from api.product_filters import ProductFilters
from api.product_search import (
    Nearest,
    ProductQuery,
    SearchPage,
    search_page,
    vector_window,
)
from api.vector_search import (
    CatalogState,
    nearest_products,
    nearest_sql,
    read_catalog_state,
)
from connectors.embedder import Embedder
from connectors.postgres import open_pool
from streams.vector_indexes import vector_index_name
from tests.integration.catalog_helpers import (
    new_tenant,
    post_products,
    tenant_id_of,
    wait_for_versions,
    wait_until,
)
from tests.stack import Stack
from tidings.catalog_text import query_text
from tidings.settings import Settings

pytestmark = pytest.mark.integration

COLORS = ["black", "grey", "red", "blue", "green", "white"]
FABRICS = ["wool", "fleece", "cotton", "linen", "nylon", "silk"]
ITEMS = [
    "hoodie",
    "jacket",
    "sweater",
    "scarf",
    "beanie",
    "vest",
    "shirt",
    "coat",
    "gloves",
    "cap",
]
LARGE_PRODUCTS = 360
SMALL_PRODUCTS = 30
TOP_K = 20
# One large-tenant product in this many is in stock.
IN_STOCK_EVERY = 12


def catalog(prefix: str, count: int) -> list[dict[str, object]]:
    combos = list(itertools.islice(itertools.product(ITEMS, FABRICS, COLORS), count))
    assert len(combos) == count, f"only {len(combos)} distinct titles"
    return [
        {
            "product_id": f"{prefix}-{number}",
            "title": f"{color} {fabric} {item}",
            "stock": 5 if number % IN_STOCK_EVERY == 0 else 0,
            "version": 1,
        }
        for number, (item, fabric, color) in enumerate(combos)
    ]


@dataclass
class Tenants:
    large: httpx.Client
    small: httpx.Client
    large_id: str


@pytest.fixture(scope="module")
def tenants(stack: Stack) -> Iterator[Tenants]:
    with new_tenant(stack, "large") as large, new_tenant(stack, "small") as small:
        large_products = catalog("big", LARGE_PRODUCTS)
        small_products = [{**p, "stock": 5} for p in catalog("small", SMALL_PRODUCTS)]
        post_products(large, large_products)
        post_products(small, small_products)
        assert wait_for_versions(large, {p["product_id"]: 1 for p in large_products})
        assert wait_for_versions(small, {p["product_id"]: 1 for p in small_products})

        large_id = tenant_id_of(stack, large)
        assert wait_until(lambda: index_recorded(stack, large_id)), (
            "the large tenant's vector index was not built"
        )
        yield Tenants(large=large, small=small, large_id=large_id)


def index_recorded(stack: Stack, tenant_id: str) -> bool:
    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute(
            "SELECT vector_index FROM catalog_state WHERE tenant_id = %s",
            (tenant_id,),
        ).fetchone()
    return row is not None and row[0] is not None


def similar_ids(api: httpx.Client, product_id: str, **params: object) -> list[str]:
    response = api.get(
        "/v1/recommendations",
        params={"product_id": product_id, "limit": TOP_K, **params},
    )
    assert response.status_code == 200, response.text
    return [item["product_id"] for item in response.json()["similar"]]


def test_large_tenant_index_is_partial(
    tenants: Tenants, db: psycopg.Connection
) -> None:
    row = db.execute(
        "SELECT indexdef FROM pg_indexes WHERE indexname = %s",
        (vector_index_name(tenants.large_id),),
    ).fetchone()

    assert row is not None
    assert f"WHERE (tenant_id = '{tenants.large_id}'::text)" in row[0]


def test_no_index_spans_tenants(db: psycopg.Connection) -> None:
    rows = db.execute(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'products' "
        "AND indexdef LIKE '%%hnsw%%'"
    ).fetchall()

    assert rows
    assert all("WHERE (tenant_id = " in row[0] for row in rows)


def test_small_tenant_gets_full_top_k(tenants: Tenants) -> None:
    similar = similar_ids(tenants.small, "small-0")

    assert len(similar) == TOP_K
    assert all(pid.startswith("small-") for pid in similar)


def test_large_tenant_gets_full_top_k(tenants: Tenants) -> None:
    similar = similar_ids(tenants.large, "big-0", include_out_of_stock=True)

    assert len(similar) == TOP_K
    assert all(pid.startswith("big-") for pid in similar)


def test_selective_filter_keeps_top_k(tenants: Tenants) -> None:
    """Only 1 in 12 of the large tenant's products is in stock, so the HNSW
    walk alone finds too few. The exact scan of the filtered rows must fill
    the list."""
    similar = similar_ids(tenants.large, "big-0")
    numbers = [int(pid.split("-")[1]) for pid in similar]

    assert len(similar) == TOP_K
    assert all(number % IN_STOCK_EVERY == 0 for number in numbers)


def test_large_tenant_plan_uses_its_index(
    tenants: Tenants, db: psycopg.Connection
) -> None:
    """With sorting disabled the planner must pick an ordered index scan, which
    shows that the query matches the partial index's predicate. At this size it
    would otherwise prefer an exact sort, which is just as correct."""
    register_vector(db)
    db.execute("SET enable_sort = off")
    statement, params = nearest_sql(tenants.large_id, ProductFilters(), use_index=True)
    query = np.ones(384, dtype=np.float32) / np.sqrt(384)
    plan = db.execute(
        psycopg.sql.SQL("EXPLAIN {}").format(statement),
        {**params, "embedding": query, "k": TOP_K, "candidates": TOP_K},
    ).fetchall()

    assert vector_index_name(tenants.large_id) in "\n".join(row[0] for row in plan)


@functools.cache
def _embedder(model: str) -> Embedder:
    return Embedder(model)


async def _pages(
    stack: Stack, tenant_id: str, text: str, filters: ProductFilters
) -> tuple[SearchPage, SearchPage, CatalogState]:
    """One search with the vector list found by a query of its own, and one
    that finds it inside the search statement."""
    settings = Settings(database_url=stack.database_url)
    ef_search = settings.catalog_hnsw_ef_search
    similarity = settings.catalog_vector_min_similarity
    k = vector_window(ef_search)
    embedding = _embedder(settings.embedding_model).encode([text])[0]
    shape = ProductQuery(
        text=query_text(text),
        filters=filters,
        sort="relevance",
        limit=10,
        offset=0,
        facets=True,
    )
    pool = await open_pool(
        stack.database_url, max_size=1, autocommit=True, hnsw_ef_search=ef_search
    )
    try:
        async with pool.connection() as conn:
            state = await read_catalog_state(conn, tenant_id)
            found = await nearest_products(
                conn, tenant_id, state, embedding, k, filters, ef_search
            )
            separate = await search_page(
                conn, tenant_id, shape, found, similarity, 1000
            )
            nearest = Nearest(
                embedding=embedding,
                k=k,
                candidates=ef_search,
                use_index=state.vector_index is not None,
            )
            inside = await search_page(
                conn, tenant_id, shape, nearest, similarity, 1000
            )
    finally:
        await pool.close()
    return separate, inside, state


def _summary(page: SearchPage) -> tuple[object, ...]:
    ids = [(row["product_id"], row["matched_by"]) for row in page.rows]
    return ids, page.total, page.text_matches, page.facets


@pytest.mark.parametrize("in_stock", [False, True])
@pytest.mark.parametrize("size", ["large", "small"])
async def test_statement_nearest_matches_query(
    stack: Stack, tenants: Tenants, size: str, in_stock: bool
) -> None:
    """The search statement's own vector list gives the page that the
    separate nearest-neighbour query gives. In stock leaves the large
    tenant's HNSW walk short, so its exact scan runs instead."""
    client = tenants.large if size == "large" else tenants.small
    tenant_id = tenant_id_of(stack, client)
    filters = ProductFilters(in_stock=in_stock)

    separate, inside, state = await _pages(stack, tenant_id, "grey wool coat", filters)

    assert any("vector" in row["matched_by"] for row in inside.rows)
    assert _summary(inside) == _summary(separate)
    assert (inside.catalog_version, inside.vector_index) == (
        state.version,
        state.vector_index,
    )
    assert (state.vector_index is not None) == (size == "large")
