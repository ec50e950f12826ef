"""Tenant isolation inside the vector index of document chunks.

The test stack gives a tenant with more than 1000 chunks its own partial
HNSW index. A large tenant's chunks lie closer to the query than any of a
small tenant's. One shared HNSW walk followed by a tenant filter would fill
its candidate list with the large tenant's rows, so the small tenant would
get few chunks or none. Both tenants must get their full top-k.

The chunks are written straight into Postgres with synthetic embeddings
around the query's own embedding, which makes the nearest neighbours known
without embedding thousands of texts. The fixture deletes them again,
because no event in the history describes them.
"""

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import numpy as np
import psycopg
import pytest
from pgvector.psycopg import register_vector_async

from api.document_search import nearest_chunks
from streams.chunk_indexes import CHUNK_INDEXES
from tests.integration.catalog_helpers import wait_until
from tests.stack import Stack
from tidings.settings import Settings
from tidings.tenants import create_tenant

pytestmark = pytest.mark.integration

# No chunk contains a word of the query, so every hit comes from the vector
# part and the hits' order is the order of the distances.
QUERY = "lighthouse keeper storm warning"
LARGE_CHUNKS = 3000
SMALL_CHUNKS = 800
CHUNKS_PER_DOCUMENT = 20
TOP_K = 20
# Noise added to the query's embedding: the large tenant's chunks are nearer
# (cosine about 0.8) than the small tenant's (about 0.55), and all of them
# pass the 0.4 similarity cutoff.
LARGE_NOISE = 0.8
SMALL_NOISE = 1.5


@dataclass
class Tenant:
    tenant_id: str
    api: httpx.Client
    # Chunk key (document id, chunk index) -> unit embedding.
    embeddings: dict[tuple[str, int], np.ndarray]

    def exact_top(self, query: np.ndarray, k: int) -> list[tuple[str, int]]:
        """Return the k nearest chunk keys by a brute-force scan."""
        keys = list(self.embeddings)
        matrix = np.stack([self.embeddings[key] for key in keys]).astype(np.float64)
        distances = 1 - matrix @ query.astype(np.float64)
        order = np.argsort(distances, kind="stable")[:k]
        return [keys[i] for i in order]


@dataclass
class Tenants:
    large: Tenant
    small: Tenant
    query: np.ndarray


def query_embedding() -> np.ndarray:
    from connectors.embedder import shared_embedder

    settings = Settings()
    embedder = shared_embedder(settings.embedding_model, 8)
    vector: np.ndarray = embedder.encode([QUERY])[0]
    return vector / np.linalg.norm(vector)


def write_chunks(
    conn: psycopg.Connection,
    tenant_id: str,
    count: int,
    query: np.ndarray,
    noise: float,
    rng: np.random.Generator,
) -> dict[tuple[str, int], np.ndarray]:
    """Insert `count` chunks and their documents; return their embeddings."""
    now = datetime.now(UTC)
    embeddings = {}
    documents = set()
    with (
        conn.cursor() as cursor,
        cursor.copy(
            "COPY document_chunks (chunk_id, tenant_id, document_id, chunk_index, "
            "page, content, search_text, embedding) FROM STDIN"
        ) as copy,
    ):
        for number in range(count):
            document_id = f"doc_{tenant_id}_{number // CHUNKS_PER_DOCUMENT}"
            chunk_index = number % CHUNKS_PER_DOCUMENT
            direction = rng.normal(size=query.shape[0])
            vector = query + noise * direction / np.linalg.norm(direction)
            vector = (vector / np.linalg.norm(vector)).astype(np.float32)
            embeddings[(document_id, chunk_index)] = vector
            documents.add(document_id)
            content = f"filler paragraph {number}"
            copy.write_row(
                (
                    f"{document_id}:{chunk_index}",
                    tenant_id,
                    document_id,
                    chunk_index,
                    1,
                    content,
                    f"'filler':1 'paragraph':2 '{number}':3",
                    "[" + ",".join(f"{x:.7f}" for x in vector) + "]",
                )
            )
    for document_id in sorted(documents):
        conn.execute(
            "INSERT INTO documents (tenant_id, document_id, filename, status, "
            " attempt, created_at, status_time, status_rank) "
            "VALUES (%s, %s, %s, 'indexed', 1, %s, %s, 12)",
            (tenant_id, document_id, f"{document_id}.pdf", now, now),
        )
    return embeddings


def remove_tenant_rows(conn: psycopg.Connection, tenant_id: str) -> None:
    conn.execute("DELETE FROM document_chunks WHERE tenant_id = %s", (tenant_id,))
    conn.execute("DELETE FROM documents WHERE tenant_id = %s", (tenant_id,))
    conn.execute("DELETE FROM document_chunk_state WHERE tenant_id = %s", (tenant_id,))
    name = CHUNK_INDEXES.index_name(tenant_id)
    conn.execute(
        psycopg.sql.SQL("DROP INDEX IF EXISTS {}").format(psycopg.sql.Identifier(name))
    )


def analyze_chunks(conn: psycopg.Connection, attempts: int = 3) -> None:
    """Run ANALYZE, again if it deadlocks with the worker building a chunk
    index (CREATE INDEX CONCURRENTLY), which Postgres resolves by cancelling
    one of the two."""
    for attempt in range(attempts):
        try:
            conn.execute("ANALYZE document_chunks")
            return
        except psycopg.errors.DeadlockDetected:
            if attempt == attempts - 1:
                raise


@pytest.fixture(scope="module")
def tenants(stack: Stack) -> Iterator[Tenants]:
    query = query_embedding()
    rng = np.random.default_rng(7)
    clients = []
    built = []
    # The rows go away even when the setup fails half-way, because a later
    # rebuild test compares all documents with the event history.
    try:
        with psycopg.connect(stack.database_url, autocommit=True) as conn:
            for role, count, noise in (
                ("large", LARGE_CHUNKS, LARGE_NOISE),
                ("small", SMALL_CHUNKS, SMALL_NOISE),
            ):
                tenant_id, key = create_tenant(conn, f"{role}-{uuid.uuid4().hex[:8]}")
                client = httpx.Client(
                    base_url=stack.api_url,
                    headers={"Authorization": f"Bearer {key}"},
                    timeout=60,
                )
                clients.append(client)
                built.append(Tenant(tenant_id, client, {}))
                embeddings = write_chunks(conn, tenant_id, count, query, noise, rng)
                built[-1].embeddings.update(embeddings)
            analyze_chunks(conn)
        yield Tenants(large=built[0], small=built[1], query=query)
    finally:
        for client in clients:
            client.close()
        with psycopg.connect(stack.database_url, autocommit=True) as conn:
            for tenant in built:
                remove_tenant_rows(conn, tenant.tenant_id)


def index_recorded(stack: Stack, tenant_id: str) -> bool:
    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute(
            "SELECT vector_index FROM document_chunk_state WHERE tenant_id = %s",
            (tenant_id,),
        ).fetchone()
    return row is not None and row[0] is not None


def hit_keys(api: httpx.Client, limit: int) -> list[tuple[str, int]]:
    response = api.get("/v1/search/documents", params={"q": QUERY, "limit": limit})
    assert response.status_code == 200, response.text
    hits = response.json()["hits"]
    assert all(hit["matched_by"] == ["vector"] for hit in hits)
    return [(hit["document_id"], hit["chunk_index"]) for hit in hits]


def test_small_tenant_gets_exact_top_k(tenants: Tenants) -> None:
    small = tenants.small
    keys = hit_keys(small.api, TOP_K)

    assert len(keys) == TOP_K
    assert all(key in small.embeddings for key in keys)
    assert keys == small.exact_top(tenants.query, TOP_K)


def test_large_tenant_index_is_partial(
    stack: Stack, tenants: Tenants, db: psycopg.Connection
) -> None:
    large_id = tenants.large.tenant_id
    assert wait_until(lambda: index_recorded(stack, large_id)), (
        "the large tenant's chunk index was not built"
    )
    row = db.execute(
        "SELECT indexdef FROM pg_indexes WHERE indexname = %s",
        (CHUNK_INDEXES.index_name(large_id),),
    ).fetchone()

    assert row is not None
    assert f"WHERE (tenant_id = '{large_id}'::text)" in row[0]
    assert not index_recorded(stack, tenants.small.tenant_id)


def test_no_chunk_index_spans_tenants(tenants: Tenants, db: psycopg.Connection) -> None:
    rows = db.execute(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'document_chunks' "
        "AND indexdef LIKE '%%hnsw%%'"
    ).fetchall()

    assert rows
    assert all("WHERE (tenant_id = " in row[0] for row in rows)


def test_large_tenant_gets_full_top_k(stack: Stack, tenants: Tenants) -> None:
    large = tenants.large
    assert wait_until(lambda: index_recorded(stack, large.tenant_id))
    keys = hit_keys(large.api, TOP_K)

    assert len(keys) == TOP_K
    assert all(key in large.embeddings for key in keys)


async def nearest_chunk_ids(
    database_url: str, tenant_id: str, query: np.ndarray, k: int
) -> list[str]:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        await register_vector_async(conn)
        async with conn.transaction():
            rows = await nearest_chunks(conn, tenant_id, query, k)
    return [chunk_id for chunk_id, _ in rows]


def test_large_tenant_index_recall(stack: Stack, tenants: Tenants) -> None:
    """Through its own index the large tenant gets 50 of its own chunks, nearly
    all of them among the exact 50 nearest (HNSW is approximate)."""
    large = tenants.large
    assert wait_until(lambda: index_recorded(stack, large.tenant_id))
    nearest = asyncio.run(
        nearest_chunk_ids(stack.database_url, large.tenant_id, tenants.query, 50)
    )
    exact = {f"{doc}:{index}" for doc, index in large.exact_top(tenants.query, 50)}

    assert len(nearest) == 50
    assert all(chunk_id.startswith(f"doc_{large.tenant_id}_") for chunk_id in nearest)
    assert len(exact & set(nearest)) >= 45


def test_small_tenant_exact_scan_equals_brute_force(
    stack: Stack, tenants: Tenants
) -> None:
    small = tenants.small
    nearest = asyncio.run(
        nearest_chunk_ids(stack.database_url, small.tenant_id, tenants.query, 50)
    )
    exact = [f"{doc}:{index}" for doc, index in small.exact_top(tenants.query, 50)]

    assert nearest == exact
