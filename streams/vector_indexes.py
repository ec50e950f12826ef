"""Per-tenant HNSW indexes on `products.embedding`.

A tenant with up to `catalog_exact_scan_max_rows` products is searched by an
exact scan of its own rows. A larger tenant gets a partial HNSW index of its
own, recorded in `catalog_state` (see streams/tenant_indexes.py for why no
index spans tenants).
"""

import psycopg

from streams.tenant_indexes import (
    TenantIndexes,
    build_tenant_index,
    ensure_tenant_indexes,
)
from tidings.settings import Settings

# Any constant works, as long as every worker uses the same one, so that
# only one worker builds indexes at a time.
INDEX_LOCK_ID = 0x71D1_4651
# Above pgvector's defaults (m 16, ef_construction 64), because catalogs
# hold many variations of one product with equal or nearly equal embeddings,
# and the default graph missed neighbours among them. On the 100,000-product
# benchmark, ef_construction 256 raised recall@10 at ef_search 100 from 0.92
# to 0.98 (one build each). It also raised the time per insert from 2.7 to
# 3.9 ms, while m 48 cost 10.8 ms. Figures are in docs/benchmarks.md.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 256

RECORD_INDEX_SQL = """
INSERT INTO catalog_state AS s (tenant_id, version, vector_index)
VALUES (%s, 1, %s)
ON CONFLICT (tenant_id) DO UPDATE SET vector_index = EXCLUDED.vector_index,
    version = s.version + 1, updated_at = now()
"""

PRODUCT_INDEXES = TenantIndexes(
    table="products",
    column="embedding",
    name_prefix="products_embedding_",
    state_table="catalog_state",
    record_sql=RECORD_INDEX_SQL,
    lock_id=INDEX_LOCK_ID,
    m=HNSW_M,
    ef_construction=HNSW_EF_CONSTRUCTION,
)


def vector_index_name(tenant_id: str) -> str:
    """Return the index name of a tenant: stable and safe for any tenant id."""
    return PRODUCT_INDEXES.index_name(tenant_id)


async def build_vector_index(conn: psycopg.AsyncConnection, tenant_id: str) -> str:
    """Create the tenant's partial HNSW index, unless a valid one exists, and
    record it in `catalog_state`. Needs an autocommit connection."""
    return await build_tenant_index(conn, PRODUCT_INDEXES, tenant_id)


async def ensure_vector_indexes(settings: Settings) -> list[str]:
    """Build the missing index of every tenant above the exact-scan limit.

    Returns the tenants indexed. Does nothing while another worker builds.
    """
    return await ensure_tenant_indexes(
        settings.resolved_database_url(),
        PRODUCT_INDEXES,
        settings.catalog_exact_scan_max_rows,
    )
