"""One product search from request to response: caches, vector candidates,
the hybrid statements, the typo fallback and highlighting."""

import asyncio
import dataclasses
from typing import Annotated, Any

import numpy as np
from fastapi import Depends
from psycopg import AsyncConnection

from api.catalog_cache import CatalogCaches, get_catalog_caches
from api.catalog_models import (
    Facets,
    Highlights,
    ProductHit,
    ProductSearchResults,
)
from api.deps import Services
from api.highlight import highlight, snippet
from api.product_search import (
    Nearest,
    ProductQuery,
    SearchPage,
    VectorList,
    search_page,
    vector_window,
)
from api.typo import correct, typo_lookup
from api.unknown_tokens import mostly_unknown
from api.vector_search import CatalogState, read_catalog_state
from connectors.postgres import read_retrying_closed
from tidings.catalog_text import fold, query_terms, query_text
from tidings.settings import Settings

# The typo fallback runs when full-text search matches fewer products.
TYPO_FALLBACK_BELOW = 3

# A search's page and its corrected query.
Found = tuple[SearchPage, str | None]

CachesDep = Annotated[CatalogCaches, Depends(get_catalog_caches)]


async def embed_query(
    services: Services, caches: CatalogCaches, text: str
) -> np.ndarray | None:
    """Return the query's embedding, from the cache when it was seen before.

    Returns None when the model does not know most of the query's tokens,
    because such an embedding carries little meaning: all-MiniLM-L6-v2, the
    default model, turns most Chinese characters into [UNK].
    """
    folded = fold(text)
    cached = caches.embeddings.get(folded)
    if cached is not None:
        return cached if cached.size else None
    embedder = services.embedder
    if mostly_unknown(embedder, folded):
        caches.embeddings.put(folded, np.zeros(0, dtype=np.float32))
        return None
    vectors = await asyncio.to_thread(embedder.encode, [folded])
    embedding: np.ndarray = vectors[0]
    caches.embeddings.put(folded, embedding)
    return embedding


def _hit(row: dict[str, Any], terms: list[str]) -> ProductHit:
    description = row.pop("description")
    return ProductHit(
        **row,
        highlights=Highlights(
            title=highlight(row["title"], terms),
            snippet=snippet(description, terms),
        ),
    )


async def run_search(
    conn: AsyncConnection,
    settings: Settings,
    tenant_id: str,
    state: CatalogState,
    query: str,
    embedding: np.ndarray | None,
    shape: ProductQuery,
) -> tuple[SearchPage, str | None]:
    """Run the search statement, which finds the nearest products itself,
    and when the text matches too little, the typo fallback. Returns the page
    and the corrected query.

    `state` need not be current: its vector index only chooses how the
    nearest products are found, and either way finds them. `conn` must come
    from a pool opened with `settings.catalog_hnsw_ef_search`.
    """
    min_similarity = settings.catalog_vector_min_similarity
    max_matches = settings.catalog_max_text_matches
    vector: VectorList = []
    if embedding is not None:
        ef_search = settings.catalog_hnsw_ef_search
        vector = Nearest(
            embedding=embedding,
            k=vector_window(ef_search),
            candidates=ef_search,
            use_index=state.vector_index is not None,
        )
    typo = typo_lookup(query) if query else None
    below, variants = (TYPO_FALLBACK_BELOW, typo.variants) if typo else (0, None)
    page = await search_page(
        conn, tenant_id, shape, vector, min_similarity, max_matches, below, variants
    )
    if typo is None or page.text_matches >= TYPO_FALLBACK_BELOW:
        return page, None

    corrected = correct(typo, page.typo_terms or [])
    if corrected is None:
        return page, None
    retry = dataclasses.replace(shape, text=query_text(corrected))
    # The first statement returned the vector list, every product of which
    # reached the similarity, so the second one need not search again.
    found = [(pid, min_similarity) for pid in page.vector_ids or []]
    second = await search_page(
        conn, tenant_id, retry, found, min_similarity, max_matches
    )
    if second.text_matches > page.text_matches:
        return second, corrected
    return page, None


async def search_products(
    services: Services,
    caches: CatalogCaches,
    tenant_id: str,
    query: str,
    shape: ProductQuery,
) -> ProductSearchResults:
    """Run one search, or return the cached result while the catalog is unchanged."""
    embedding = await embed_query(services, caches, query) if query else None
    cache_key = (query, shape)

    async def read(conn: AsyncConnection) -> ProductSearchResults | Found:
        # The search statement reads the catalog state too, so a separate
        # read is needed only to check a cached result, or for the tenant's
        # first search, which learns its vector index.
        state = caches.states.get(tenant_id)
        if state is None or caches.results.contains(tenant_id, cache_key):
            state = await read_catalog_state(conn, tenant_id)
            cached = caches.results.get(tenant_id, state.version, cache_key)
            if isinstance(cached, ProductSearchResults):
                return cached
        return await run_search(
            conn, services.settings, tenant_id, state, query, embedding, shape
        )

    found = await read_retrying_closed(services.read_pool, read)
    if isinstance(found, ProductSearchResults):
        return found
    page, corrected = found
    caches.states[tenant_id] = CatalogState(page.catalog_version, page.vector_index)

    terms = query_terms(corrected or query) if query else []
    results = ProductSearchResults(
        query=query,
        corrected_query=corrected,
        total=page.total,
        exhaustive=page.exhaustive,
        limit=shape.limit,
        offset=shape.offset,
        sort=shape.sort,  # type: ignore[arg-type]
        hits=[_hit(row, terms) for row in page.rows],
        facets=Facets(**page.facets) if shape.facets else None,
    )
    caches.results.put(tenant_id, page.catalog_version, cache_key, results)
    return results
