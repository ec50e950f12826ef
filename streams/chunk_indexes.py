"""Per-tenant HNSW indexes on `document_chunks.embedding`.

A tenant with up to `search_exact_scan_max_chunks` chunks is searched by an
exact scan of its own chunks. A larger tenant gets a partial HNSW index of
its own, recorded in `document_chunk_state` (see streams/tenant_indexes.py
for why no index spans tenants).
"""

import faust
import psycopg
import structlog

from streams.runtime import Runtime
from streams.tenant_indexes import TenantIndexes, ensure_tenant_indexes
from tidings.settings import Settings

log = structlog.get_logger(__name__)

# Another constant than the products' lock, so the two tables are indexed
# independently; every worker uses the same one.
CHUNK_INDEX_LOCK_ID = 0x71D1_4652

RECORD_CHUNK_INDEX_SQL = """
INSERT INTO document_chunk_state (tenant_id, vector_index) VALUES (%s, %s)
ON CONFLICT (tenant_id) DO UPDATE SET vector_index = EXCLUDED.vector_index,
    updated_at = now()
"""

# pgvector's defaults: chunks of prose rarely share an embedding, unlike the
# products that made their index need a denser graph.
CHUNK_INDEXES = TenantIndexes(
    table="document_chunks",
    column="embedding",
    name_prefix="document_chunks_embedding_",
    state_table="document_chunk_state",
    record_sql=RECORD_CHUNK_INDEX_SQL,
    lock_id=CHUNK_INDEX_LOCK_ID,
    m=16,
    ef_construction=64,
)


async def ensure_chunk_indexes(settings: Settings) -> list[str]:
    """Build the missing index of every tenant above the exact-scan limit.

    Returns the tenants indexed. Does nothing while another worker builds.
    """
    return await ensure_tenant_indexes(
        settings.resolved_database_url(),
        CHUNK_INDEXES,
        settings.search_exact_scan_max_chunks,
    )


def add_chunk_index_timer(app: faust.App, runtime: Runtime) -> None:
    """Register the timer that builds per-tenant indexes of document chunks."""
    settings = runtime.settings

    @app.timer(settings.catalog_index_check_seconds)
    async def chunk_indexes() -> None:
        try:
            await ensure_chunk_indexes(settings)
        except (psycopg.Error, RuntimeError) as exc:
            log.warning("chunk_index_check_failed", error=str(exc))
