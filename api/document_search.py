"""Hybrid document search: full-text and vector results fused by reciprocal
rank fusion (RRF), always filtered on the caller's tenant."""

from typing import Any

import numpy as np
from psycopg import AsyncConnection
from psycopg.rows import dict_row

from tidings.fulltext import make_snippet, query_terms, segment_query

# RRF constant from Cormack, Clarke and Buettcher (SIGIR 2009).
RRF_K = 60
CANDIDATES = 50

# NOTE: pgvector 0.6 filters on tenant_id after the HNSW index walk. A tenant
# with a small share of all chunks may therefore get fewer than CANDIDATES
# vector candidates, which the raised hnsw.ef_search only softens.
SEARCH_SQL = """
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
semantic AS (
    SELECT chunk_id, row_number() OVER (ORDER BY distance, chunk_id) AS rank
    FROM (
        SELECT chunk_id, embedding <=> %(embedding)s AS distance
        FROM document_chunks
        WHERE tenant_id = %(tenant)s
        ORDER BY embedding <=> %(embedding)s
        LIMIT %(candidates)s
    ) nearest
    WHERE 1 - distance >= %(min_similarity)s
),
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


async def search_documents(
    conn: AsyncConnection,
    tenant_id: str,
    query: str,
    embedding: np.ndarray,
    limit: int,
    min_similarity: float,
) -> list[dict[str, Any]]:
    """Return up to `limit` hits. A chunk found only by its embedding must
    reach `min_similarity`, so a query about nothing in the documents finds
    nothing."""
    await conn.execute("SET LOCAL hnsw.ef_search = 200")
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(
            SEARCH_SQL,
            {
                "text": segment_query(query),
                "tenant": tenant_id,
                "embedding": embedding,
                "candidates": CANDIDATES,
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
