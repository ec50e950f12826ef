"""Per-tenant HNSW indexes on `products.embedding`.

pgvector 0.6 applies a WHERE clause only after the HNSW walk, which stops at
`hnsw.ef_search` rows, so a tenant owning a small share of one shared index
would get fewer neighbours than it asked for. No index spans tenants here.
A tenant with up to `catalog_exact_scan_max_rows` products is searched by an
exact scan of its own rows. For a larger tenant, a worker builds a partial
HNSW index that holds only that tenant's rows and records its name in
`catalog_state`. The API uses that index once the name is recorded.
"""

import hashlib
import time

import psycopg
import structlog
from psycopg import sql

from tidings.settings import Settings

log = structlog.get_logger(__name__)

# Any constant works, as long as every worker uses the same one, so that
# only one worker builds indexes at a time.
INDEX_LOCK_ID = 0x71D1_4651
BUILD_MEMORY = "512MB"
# Twice pgvector's defaults (m 16, ef_construction 64), because the many
# products with equal embeddings made the default graph miss neighbours.
# Benchmark figures are in docs/benchmarks.md.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 128

LARGE_TENANTS_SQL = """
SELECT p.tenant_id, count(*) AS products
FROM products p
LEFT JOIN catalog_state s USING (tenant_id)
WHERE s.vector_index IS NULL
GROUP BY p.tenant_id
HAVING count(*) > %s
ORDER BY count(*) DESC
"""

INDEX_VALID_SQL = """
SELECT i.indisvalid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
WHERE c.relname = %s
"""

RECORD_INDEX_SQL = """
INSERT INTO catalog_state AS s (tenant_id, version, vector_index)
VALUES (%s, 1, %s)
ON CONFLICT (tenant_id) DO UPDATE SET vector_index = EXCLUDED.vector_index,
    version = s.version + 1, updated_at = now()
"""


def vector_index_name(tenant_id: str) -> str:
    """Return the index name of a tenant: stable and safe for any tenant id."""
    return "products_embedding_" + hashlib.sha256(tenant_id.encode()).hexdigest()[:16]


async def build_vector_index(conn: psycopg.AsyncConnection, tenant_id: str) -> str:
    """Create the tenant's partial HNSW index, unless a valid one exists, and
    record it in `catalog_state`. Needs an autocommit connection."""
    name = vector_index_name(tenant_id)
    cursor = await conn.execute(INDEX_VALID_SQL, (name,))
    row = await cursor.fetchone()
    if row is not None and not row[0]:
        # A concurrent build that failed leaves an invalid index behind.
        await conn.execute(
            sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.Identifier(name))
        )
        row = None
    if row is None:
        await conn.execute(
            sql.SQL("SET maintenance_work_mem = {}").format(sql.Literal(BUILD_MEMORY))
        )
        await conn.execute(
            sql.SQL(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON products "
                "USING hnsw (embedding vector_cosine_ops) "
                "WITH (m = {}, ef_construction = {}) WHERE tenant_id = {}"
            ).format(
                sql.Identifier(name),
                sql.Literal(HNSW_M),
                sql.Literal(HNSW_EF_CONSTRUCTION),
                sql.Literal(tenant_id),
            )
        )
    # Fresh statistics let the planner weigh the new index against a sort.
    await conn.execute("ANALYZE products")
    await conn.execute(RECORD_INDEX_SQL, (tenant_id, name))
    return name


async def ensure_vector_indexes(settings: Settings) -> list[str]:
    """Build the missing index of every tenant above the exact-scan limit.

    Returns the tenants indexed. Does nothing while another worker builds.
    """
    url = settings.resolved_database_url()
    built = []
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cursor = await conn.execute("SELECT pg_try_advisory_lock(%s)", (INDEX_LOCK_ID,))
        locked = await cursor.fetchone()
        if locked is None or not locked[0]:
            return []
        cursor = await conn.execute(
            LARGE_TENANTS_SQL, (settings.catalog_exact_scan_max_rows,)
        )
        for tenant_id, products in await cursor.fetchall():
            started = time.monotonic()
            name = await build_vector_index(conn, tenant_id)
            built.append(tenant_id)
            log.info(
                "vector_index_built",
                tenant_id=tenant_id,
                index=name,
                products=products,
                seconds=round(time.monotonic() - started, 1),
            )
        # Closing the connection releases the advisory lock.
    return built
