"""PostgreSQL access: connection pools and versioned schema migrations."""

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import psycopg
import structlog
from pgvector.psycopg import register_vector_async
from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from connectors.errors import ConnectorError

log = structlog.get_logger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Any constant works, as long as every Tidings process uses the same one, so
# two processes that start at once never apply a migration twice.
MIGRATION_LOCK_ID = 0x71D1_4650


class DatabaseError(ConnectorError):
    """Postgres could not be reached or a migration failed."""


def apply_migrations(url: str) -> list[str]:
    """Apply every migration file not yet recorded, in file-name order.

    Each file runs in its own transaction. Returns the applied versions.
    """
    applied = []
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_ID,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {
                row[0] for row in conn.execute("SELECT version FROM schema_migrations")
            }

            for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
                version = path.stem
                if version in done:
                    continue
                with conn.transaction():
                    conn.execute(path.read_text())
                    conn.execute(
                        "INSERT INTO schema_migrations (version) VALUES (%s)",
                        (version,),
                    )
                applied.append(version)
                log.info("migration_applied", version=version)
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot migrate the database: {exc}") from exc
    return applied


def _configure(hnsw_ef_search: int | None):
    async def configure(conn: psycopg.AsyncConnection) -> None:
        await register_vector_async(conn)
        if hnsw_ef_search is None:
            return
        # A session setting, so that a nearest-neighbour query needs no
        # transaction of its own just to set it (SET LOCAL).
        await conn.execute(
            sql.SQL("SET hnsw.ef_search = {}").format(sql.Literal(hnsw_ef_search))
        )
        if not conn.autocommit:
            await conn.commit()

    return configure


async def open_pool(
    url: str,
    *,
    min_size: int = 1,
    max_size: int = 8,
    autocommit: bool = False,
    hnsw_ef_search: int | None = None,
    application_name: str = "tidings",
    check: bool = True,
) -> AsyncConnectionPool:
    """Open a pool of connections.

    `autocommit` pools suit reads of one statement each: a statement in a
    transaction of its own costs two more round trips (BEGIN and COMMIT).
    `hnsw_ef_search` sets pgvector's HNSW candidate list for every session.
    `check` tests each connection with an empty query before lending it, so
    that one that Postgres closed (restart, pg_terminate_backend) fails no
    request. Without it, run reads through `read_retrying_closed`.
    """
    pool = AsyncConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        # The name shows in pg_stat_activity.
        kwargs={"autocommit": autocommit, "application_name": application_name},
        configure=_configure(hnsw_ef_search),
        check=AsyncConnectionPool.check_connection if check else None,
        open=False,
    )
    await pool.open(wait=True, timeout=30)
    return pool


T = TypeVar("T")


async def read_retrying_closed(
    pool: AsyncConnectionPool, read: Callable[[AsyncConnection], Awaitable[T]]
) -> T:
    """Run `read` on a connection of a pool opened with `check=False`, again
    on another connection while the one it got turns out closed by Postgres.

    The check would cost a round trip on every checkout, while this costs one
    only after a restart. `read` may run more than once, so it must only read.
    The pool drops each closed connection when it comes back, so at most
    `max_size` of them fail in a row.
    """
    for _ in range(pool.max_size):
        async with pool.connection() as conn:
            try:
                return await read(conn)
            except psycopg.OperationalError as exc:
                if not conn.broken:
                    raise
                error = str(exc)
        log.info("postgres_connection_replaced", pool=pool.name, error=error)
    async with pool.connection() as conn:
        return await read(conn)
