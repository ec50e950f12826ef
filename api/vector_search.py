"""Nearest products by embedding, isolated per tenant.

A tenant's vector search never walks an index that contains other tenants'
rows (see streams/vector_indexes.py). A tenant with a recorded partial HNSW
index is searched through it, with the tenant id as a literal so that the
planner can match the index predicate even in a cached generic plan.
Extra filters apply after the HNSW walk, so when they leave fewer than `k`
rows the search runs again as an exact scan of the filtered rows. Every
other tenant is small and always gets an exact scan.
"""

from dataclasses import dataclass

import numpy as np
from psycopg import AsyncConnection, sql

from api.product_filters import ProductFilters


@dataclass(frozen=True)
class CatalogState:
    version: int
    vector_index: str | None


async def read_catalog_state(conn: AsyncConnection, tenant_id: str) -> CatalogState:
    cursor = await conn.execute(
        "SELECT version, vector_index FROM catalog_state WHERE tenant_id = %s",
        (tenant_id,),
    )
    row = await cursor.fetchone()
    if row is None:
        return CatalogState(version=0, vector_index=None)
    return CatalogState(version=int(row[0]), vector_index=row[1])


# The HNSW walk returns `candidates` rows (its ef_search list), which are
# sorted again by distance and product id. So among products with equal
# embeddings the index path keeps the same ones as the exact scan.
# The filters apply to the walk's rows, not inside it. With a filter in its
# WHERE clause, a cached generic plan cannot see how many products the filter
# keeps, and it chose an exact scan of the filtered rows instead of the index.
# Either way the walk reads `candidates` rows and then filters them.
_RERANKED = sql.SQL(
    "SELECT product_id, similarity FROM ({walk}) walk WHERE kept "
    "ORDER BY similarity DESC, product_id LIMIT {k}"
)
_WALK = sql.SQL(
    "SELECT p.product_id, 1 - (p.embedding <=> %(embedding)s) AS similarity, "
    "{condition} AS kept FROM products p WHERE p.tenant_id = {tenant} "
    "ORDER BY p.embedding <=> %(embedding)s LIMIT {limit}"
)
# "+ 0" turns the ORDER BY into an expression no index provides, which
# forces an exact scan even where an HNSW index exists. The product id orders
# equal distances, which identical embeddings have.
_EXACT = sql.SQL(
    "SELECT p.product_id, 1 - (p.embedding <=> %(embedding)s) AS similarity "
    "FROM products p WHERE {condition} "
    "ORDER BY (p.embedding <=> %(embedding)s) + 0, p.product_id LIMIT {limit}"
)


def nearest_sql(
    tenant_id: str,
    filters: ProductFilters,
    *,
    use_index: bool,
    k: int | None = None,
    candidates: int | None = None,
) -> tuple[sql.Composed, dict[str, object]]:
    """Return the nearest-neighbour statement and its filter parameters.

    `k` and `candidates`, when given, are written into the statement instead
    of being parameters. A cached generic plan then contains the number of
    rows the index scan returns, so Postgres no longer prefers to plan the
    statement again for every execution.
    """
    k_sql = sql.Placeholder("k") if k is None else sql.Literal(k)
    condition, params = filters.where(tenant_id)
    if not use_index:
        return _EXACT.format(condition=condition, limit=k_sql), params

    walk = _WALK.format(
        condition=condition,
        tenant=sql.Literal(tenant_id),
        limit=sql.Placeholder("candidates")
        if candidates is None
        else sql.Literal(candidates),
    )
    return _RERANKED.format(walk=walk, k=k_sql), params


async def _run(
    conn: AsyncConnection,
    statement: sql.Composed,
    params: dict[str, object],
    embedding: np.ndarray,
    k: int,
    candidates: int,
) -> list[tuple[str, float]]:
    values = {**params, "embedding": embedding, "k": k, "candidates": candidates}
    cursor = await conn.execute(statement, values)
    return [(row[0], float(row[1])) for row in await cursor.fetchall()]


async def nearest_products(
    conn: AsyncConnection,
    tenant_id: str,
    state: CatalogState,
    embedding: np.ndarray,
    k: int,
    filters: ProductFilters,
    ef_search: int,
) -> list[tuple[str, float]]:
    """Return up to `k` (product id, cosine similarity) pairs, nearest first.

    `ef_search` must be the session's `hnsw.ef_search`, which `open_pool`
    sets for every connection. A `k` above it raises the setting for one
    transaction.
    """
    if state.vector_index is not None:
        candidates = max(ef_search, k)
        statement, params = nearest_sql(tenant_id, filters, use_index=True)
        if candidates == ef_search:
            rows = await _run(conn, statement, params, embedding, k, candidates)
        else:
            async with conn.transaction():
                await conn.execute(
                    sql.SQL("SET LOCAL hnsw.ef_search = {}").format(
                        sql.Literal(candidates)
                    )
                )
                rows = await _run(conn, statement, params, embedding, k, candidates)
        if len(rows) >= k or not filters.active:
            return rows
    statement, params = nearest_sql(tenant_id, filters, use_index=False)
    return await _run(conn, statement, params, embedding, k, k)
