"""Hybrid document search: full-text and vector results fused by reciprocal
rank fusion (RRF), always filtered on the caller's tenant.

No HNSW index spans tenants (see streams/tenant_indexes.py). A tenant whose
chunks have a partial HNSW index of their own, recorded in
`document_chunk_state`, is searched through it, with the tenant id as a
literal so that the planner can match the index predicate. Every other
tenant has at most `search_exact_scan_max_chunks` chunks and gets an exact
scan of them, so it always gets its full list of vector candidates.
"""

from typing import Any

import numpy as np
from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row

from tidings.fulltext import make_snippet, query_terms, segment_query

# RRF constant from Cormack, Clarke and Buettcher (SIGIR 2009).
RRF_K = 60
CANDIDATES = 50
# hnsw.ef_search: how many rows the HNSW walk of a tenant's own index
# returns, before they are sorted again and cut to the candidates.
HNSW_EF_SEARCH = 200

# "+ 0" turns the ORDER BY into an expression no index provides, which forces
# an exact scan. The chunk id orders equal distances.
_EXACT_NEAREST = """
SELECT chunk_id, embedding <=> %(embedding)s AS distance
FROM document_chunks
WHERE tenant_id = %(tenant)s
ORDER BY (embedding <=> %(embedding)s) + 0, chunk_id
LIMIT %(candidates)s
"""

# The walk's rows are sorted again by distance and chunk id, so that the
# index path orders ties as the exact scan does.
_INDEX_NEAREST = """
SELECT chunk_id, distance FROM (
    SELECT chunk_id, embedding <=> %(embedding)s AS distance
    FROM document_chunks
    WHERE tenant_id = {tenant}
    ORDER BY embedding <=> %(embedding)s
    LIMIT %(walk)s
) walk
ORDER BY distance, chunk_id
LIMIT %(candidates)s
"""

_SEMANTIC = """
SELECT chunk_id, row_number() OVER (ORDER BY distance, chunk_id) AS rank
FROM ({nearest}) nearest
WHERE 1 - distance >= %(min_similarity)s
"""

# A query without a usable embedding is searched by full text only.
_NO_SEMANTIC = "SELECT NULL::text AS chunk_id, NULL::bigint AS rank WHERE false"

_SEARCH = """
WITH query AS (
    SELECT websearch_to_tsquery('english', %(text)s) AS tsq
),
lexical AS (
    SELECT c.chunk_id,
           row_number() OVER (ORDER BY ts_rank_cd(c.search_text, q.tsq) DESC,
                              c.chunk_id) AS rank
    FROM document_chunks c, query q
    WHERE c.tenant_id = %(tenant)s AND c.search_text @@ q.tsq
    ORDER BY ts_rank_cd(c.search_text, q.tsq) DESC, c.chunk_id
    LIMIT %(candidates)s
),
semantic AS ({semantic}),
fused AS (
    SELECT chunk_id,
           sum(1.0 / (%(rrf_k)s + rank)) AS score,
           array_agg(source ORDER BY source) AS matched_by
    FROM (
        SELECT chunk_id, rank, 'text' AS source FROM lexical
        UNION ALL
        SELECT chunk_id, rank, 'vector' AS source FROM semantic
    ) ranked
    GROUP BY chunk_id
)
SELECT c.document_id, d.filename, c.page, c.chunk_index, c.content,
       f.score, f.matched_by, p.url, p.title
FROM fused f
JOIN document_chunks c USING (chunk_id)
JOIN documents d ON d.tenant_id = c.tenant_id AND d.document_id = c.document_id
LEFT JOIN site_pages p
    ON p.tenant_id = c.tenant_id AND p.document_id = c.document_id
ORDER BY f.score DESC, c.chunk_id
LIMIT %(limit)s
"""


async def read_chunk_index(conn: AsyncConnection, tenant_id: str) -> str | None:
    """Return the name of the tenant's own HNSW index, if a worker built one."""
    cursor = await conn.execute(
        "SELECT vector_index FROM document_chunk_state WHERE tenant_id = %s",
        (tenant_id,),
    )
    row = await cursor.fetchone()
    return None if row is None else row[0]


def nearest_chunks_sql(tenant_id: str, vector_index: str | None) -> sql.Composed:
    """Return the statement that selects the `candidates` chunks nearest to
    `embedding`, as (chunk_id, distance) rows, nearest first."""
    if vector_index is None:
        return sql.SQL(_EXACT_NEAREST).format()
    return sql.SQL(_INDEX_NEAREST).format(tenant=sql.Literal(tenant_id))


def search_sql(tenant_id: str, vector_index: str | None, vector: bool) -> sql.Composed:
    """Return the hybrid statement; without `vector` it matches by text only."""
    semantic: sql.Composable = sql.SQL(_NO_SEMANTIC)
    if vector:
        semantic = sql.SQL(_SEMANTIC).format(
            nearest=nearest_chunks_sql(tenant_id, vector_index)
        )
    return sql.SQL(_SEARCH).format(semantic=semantic)


async def use_chunk_index(
    conn: AsyncConnection, vector_index: str | None, walk: int
) -> None:
    """Set the HNSW walk's length for this transaction, when it walks an index."""
    if vector_index is not None:
        await conn.execute(
            sql.SQL("SET LOCAL hnsw.ef_search = {}").format(sql.Literal(walk))
        )


async def nearest_chunks(
    conn: AsyncConnection, tenant_id: str, embedding: np.ndarray, k: int
) -> list[tuple[str, float]]:
    """Return the `k` (chunk id, cosine distance) pairs nearest to `embedding`.

    Must run inside a transaction, which scopes the `hnsw.ef_search` setting.
    """
    vector_index = await read_chunk_index(conn, tenant_id)
    walk = max(HNSW_EF_SEARCH, k)
    await use_chunk_index(conn, vector_index, walk)
    cursor = await conn.execute(
        nearest_chunks_sql(tenant_id, vector_index),
        {
            "tenant": tenant_id,
            "embedding": embedding,
            "candidates": k,
            "walk": walk,
        },
    )
    return [(row[0], float(row[1])) for row in await cursor.fetchall()]


async def search_documents(
    conn: AsyncConnection,
    tenant_id: str,
    query: str,
    embedding: np.ndarray | None,
    limit: int,
    min_similarity: float,
) -> list[dict[str, Any]]:
    """Return up to `limit` hits. A chunk found only by its embedding must
    reach `min_similarity`, so a query about nothing in the documents finds
    nothing. Without an embedding the search matches by text only.

    Must run inside a transaction, which scopes the `hnsw.ef_search` setting.
    """
    vector_index = None
    if embedding is not None:
        vector_index = await read_chunk_index(conn, tenant_id)
        await use_chunk_index(conn, vector_index, HNSW_EF_SEARCH)
    statement = search_sql(tenant_id, vector_index, vector=embedding is not None)
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(
            statement,
            {
                "text": segment_query(query),
                "tenant": tenant_id,
                "embedding": embedding,
                "candidates": CANDIDATES,
                "walk": HNSW_EF_SEARCH,
                "min_similarity": min_similarity,
                "rrf_k": RRF_K,
                "limit": limit,
            },
        )
        rows = await cursor.fetchall()

    terms = query_terms(query)
    for row in rows:
        row["snippet"] = make_snippet(row.pop("content"), terms)
        row["score"] = float(row["score"])
    return rows
