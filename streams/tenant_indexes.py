"""Partial HNSW indexes that each contain one tenant's rows of a table.

pgvector 0.6 applies a WHERE clause only after the HNSW walk, which stops at
`hnsw.ef_search` rows, so a tenant owning a small share of one shared index
would get fewer neighbours than it asked for. So no HNSW index spans tenants.
A tenant with up to a set number of rows is searched by an exact scan of its
own rows. For a larger tenant, a worker builds a partial HNSW index that
contains only that tenant's rows and records its name in a state table. The
API uses that index once the name is recorded.

`products` (streams/vector_indexes.py) and `document_chunks`
(streams/chunk_indexes.py) use this module.
"""

import hashlib
import time
from dataclasses import dataclass

import psycopg
import structlog
from psycopg import sql

log = structlog.get_logger(__name__)

BUILD_MEMORY = "512MB"

INDEX_VALID_SQL = """
SELECT i.indisvalid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
WHERE c.relname = %s
"""

_LARGE_TENANTS_SQL = """
SELECT t.tenant_id, count(*) AS rows
FROM {table} t
LEFT JOIN {state} s USING (tenant_id)
WHERE s.vector_index IS NULL
GROUP BY t.tenant_id
HAVING count(*) > %s
ORDER BY count(*) DESC
"""


@dataclass(frozen=True)
class TenantIndexes:
    """The table, state table, lock and HNSW parameters of one table's
    per-tenant indexes."""

    table: str
    column: str  # the vector column
    name_prefix: str
    state_table: str  # has tenant_id (primary key) and vector_index
    # Records the index name: parameters (tenant_id, index name).
    record_sql: str
    # An advisory lock, so that only one worker builds indexes of the table
    # at a time, and a rebuild of the table can keep the builder out.
    lock_id: int
    m: int
    ef_construction: int

    def index_name(self, tenant_id: str) -> str:
        """Return the index name of a tenant: stable and safe for any tenant id."""
        digest = hashlib.sha256(tenant_id.encode()).hexdigest()[:16]
        return self.name_prefix + digest


async def build_tenant_index(
    conn: psycopg.AsyncConnection, indexes: TenantIndexes, tenant_id: str
) -> str:
    """Create the tenant's partial HNSW index, unless a valid one exists, and
    record it in the state table. Needs an autocommit connection."""
    name = indexes.index_name(tenant_id)
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
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {} "
                "USING hnsw ({} vector_cosine_ops) "
                "WITH (m = {}, ef_construction = {}) WHERE tenant_id = {}"
            ).format(
                sql.Identifier(name),
                sql.Identifier(indexes.table),
                sql.Identifier(indexes.column),
                sql.Literal(indexes.m),
                sql.Literal(indexes.ef_construction),
                sql.Literal(tenant_id),
            )
        )
    # Fresh statistics let the planner weigh the new index against a sort.
    await conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(indexes.table)))
    await conn.execute(indexes.record_sql, (tenant_id, name))
    return name


async def ensure_tenant_indexes(
    database_url: str, indexes: TenantIndexes, max_exact_rows: int
) -> list[str]:
    """Build the missing index of every tenant with more than `max_exact_rows`
    rows. Returns the tenants indexed. Does nothing while another worker builds.
    """
    built = []
    async with await psycopg.AsyncConnection.connect(
        database_url, autocommit=True
    ) as conn:
        cursor = await conn.execute(
            "SELECT pg_try_advisory_lock(%s)", (indexes.lock_id,)
        )
        locked = await cursor.fetchone()
        if locked is None or not locked[0]:
            return []
        # NOTE: counts every row of the table on each check, which grows with
        # the table; a per-tenant row count kept by the writers would not.
        large = sql.SQL(_LARGE_TENANTS_SQL).format(
            table=sql.Identifier(indexes.table),
            state=sql.Identifier(indexes.state_table),
        )
        cursor = await conn.execute(large, (max_exact_rows,))
        for tenant_id, rows in await cursor.fetchall():
            started = time.monotonic()
            name = await build_tenant_index(conn, indexes, tenant_id)
            built.append(tenant_id)
            log.info(
                "vector_index_built",
                tenant_id=tenant_id,
                table=indexes.table,
                index=name,
                rows=rows,
                seconds=round(time.monotonic() - started, 1),
            )
        # Closing the connection releases the advisory lock.
    return built
