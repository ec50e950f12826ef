"""Recommendation queries: similar products by embedding, co-occurrence lists
and a session's or user's profile built from recent interactions."""

from datetime import datetime
from typing import Any

import numpy as np
from psycopg import AsyncConnection
from psycopg.rows import dict_row

from api.product_filters import ProductFilters
from api.vector_search import CatalogState, nearest_products

RECENT_INTERACTIONS = 50
# Weight of each kind of interaction as a sign of the shopper's interest.
KIND_WEIGHTS = {"view": 1.0, "click": 2.0, "add_to_cart": 3.0, "purchase": 4.0}
# Each older interaction counts this much less than the one after it.
RECENCY_DECAY = 0.9

SUMMARY_SQL = """
SELECT product_id, title, brand, category_path, price::float8 AS price,
       currency, stock, image_url
FROM products WHERE tenant_id = %s AND product_id = ANY(%s)
"""

TOGETHER_SQL = """
SELECT pp.other_id AS product_id, sum(pp.sessions)::float8 AS score
FROM product_pairs pp
JOIN products p ON p.tenant_id = pp.tenant_id AND p.product_id = pp.other_id
WHERE pp.tenant_id = %(tenant)s AND pp.kind = %(kind)s
  AND pp.product_id = ANY(%(sources)s) AND pp.other_id <> ALL(%(exclude)s)
  AND (%(include_out_of_stock)s OR p.stock IS NULL OR p.stock > 0)
GROUP BY pp.other_id
ORDER BY score DESC, pp.other_id
LIMIT %(limit)s
"""

RECENT_SQL = """
SELECT product_id, kind, occurred_at FROM interactions
WHERE tenant_id = %(tenant)s AND {column} = %(value)s
ORDER BY occurred_at DESC, event_id
LIMIT %(limit)s
"""


async def product_summaries(
    conn: AsyncConnection, tenant_id: str, product_ids: list[str]
) -> dict[str, dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(SUMMARY_SQL, (tenant_id, product_ids))
        return {row["product_id"]: row for row in await cursor.fetchall()}


async def product_embeddings(
    conn: AsyncConnection, tenant_id: str, product_ids: list[str]
) -> dict[str, np.ndarray]:
    cursor = await conn.execute(
        "SELECT product_id, embedding::real[] FROM products "
        "WHERE tenant_id = %s AND product_id = ANY(%s)",
        (tenant_id, product_ids),
    )
    rows = await cursor.fetchall()
    return {row[0]: np.asarray(row[1], dtype=np.float32) for row in rows}


async def similar_products(
    conn: AsyncConnection,
    tenant_id: str,
    state: CatalogState,
    embedding: np.ndarray,
    exclude: list[str],
    limit: int,
    include_out_of_stock: bool,
    ef_search: int,
) -> list[tuple[str, float]]:
    filters = ProductFilters(
        in_stock=not include_out_of_stock, exclude_ids=tuple(exclude)
    )
    return await nearest_products(
        conn, tenant_id, state, embedding, limit, filters, ef_search
    )


async def together(
    conn: AsyncConnection,
    tenant_id: str,
    kind: str,
    sources: list[str],
    exclude: list[str],
    limit: int,
    include_out_of_stock: bool,
) -> list[tuple[str, float]]:
    """Return products that shared the most sessions with the sources."""
    cursor = await conn.execute(
        TOGETHER_SQL,
        {
            "tenant": tenant_id,
            "kind": kind,
            "sources": sources,
            "exclude": exclude,
            "include_out_of_stock": include_out_of_stock,
            "limit": limit,
        },
    )
    return [(row[0], float(row[1])) for row in await cursor.fetchall()]


async def recent_interactions(
    conn: AsyncConnection, tenant_id: str, column: str, value: str
) -> list[tuple[str, str, datetime]]:
    """Return the latest (product id, kind, time) of a session or user."""
    if column not in ("session_id", "user_id"):
        raise ValueError(f"cannot select interactions by {column!r}")
    cursor = await conn.execute(
        RECENT_SQL.format(column=column),
        {"tenant": tenant_id, "value": value, "limit": RECENT_INTERACTIONS},
    )
    return [(row[0], row[1], row[2]) for row in await cursor.fetchall()]


def profile_embedding(
    interactions: list[tuple[str, str, datetime]],
    embeddings: dict[str, np.ndarray],
) -> np.ndarray | None:
    """Return the weighted mean embedding of recent interactions, newest first,
    normalised to unit length; None when no product has an embedding."""
    total = np.zeros(0)
    for position, (product_id, kind, _) in enumerate(interactions):
        vector = embeddings.get(product_id)
        if vector is None:
            continue
        weight = KIND_WEIGHTS.get(kind, 1.0) * RECENCY_DECAY**position
        total = weight * vector if total.size == 0 else total + weight * vector
    norm = float(np.linalg.norm(total)) if total.size else 0.0
    if norm == 0.0:
        return None
    return (total / norm).astype(np.float32)
