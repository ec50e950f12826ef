"""One product search from request to response: caches, vector candidates,
the hybrid statements, the typo fallback and highlighting."""

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
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
    without_excluded,
)
from api.typo import correct, typo_lookup
from api.unknown_tokens import mostly_unknown
from api.vector_search import CatalogState, read_catalog_state
from connectors.postgres import read_retrying_closed
from tidings.catalog_text import query_terms, query_text
from tidings.settings import Settings

# The typo fallback runs when full-text search matches fewer products.
TYPO_FALLBACK_BELOW = 3

# A search's page and its corrected query.
Found = tuple[SearchPage, str | None]

# Returns the embedding of a query, or None when it has none.
Embed = Callable[[str], Awaitable[np.ndarray | None]]

CachesDep = Annotated[CatalogCaches, Depends(get_catalog_caches)]


def embedding_input(query: str) -> str:
    """Return the text embedded for `query`: the folded, segmented text that
    full-text search reads, without the words and phrases it excludes, which
    would pull similar products in."""
    return without_excluded(query_text(query))


def cached_embedding(
    caches: CatalogCaches, query: str
) -> tuple[bool, np.ndarray | None]:
    """Return whether the query's embedding is known without the model, and
    that embedding (None where the query has none)."""
    text = embedding_input(query)
    if not text:
        return True, None
    cached = caches.embeddings.get(text)
    if cached is None:
        return False, None
    return True, (cached if cached.size else None)


async def embed_query(
    services: Services, caches: CatalogCaches, query: str
) -> np.ndarray | None:
    """Return the query's embedding, from the cache when it was seen before.

    Returns None when the query excludes every word it has, or when the model
    does not know most of its tokens, because such an embedding carries
    little meaning: all-MiniLM-L6-v2, the default model, turns most Chinese
    characters into [UNK].
    """
    known, cached = cached_embedding(caches, query)
    if known:
        return cached
    text = embedding_input(query)
    embedder = services.embedder
    if mostly_unknown(embedder, text):
        caches.embeddings.put(text, np.zeros(0, dtype=np.float32))
        return None
    vectors = await asyncio.to_thread(embedder.encode, [text])
    embedding: np.ndarray = vectors[0]
    caches.embeddings.put(text, embedding)
    return embedding


def remember_state(caches: CatalogCaches, tenant_id: str, page: SearchPage) -> None:
    """Keep the tenant's catalog state that the page was read at, unless a
    search has already seen a newer one."""
    known = caches.states.get(tenant_id)
    if known is None or page.catalog_version >= known.version:
        caches.states[tenant_id] = CatalogState(page.catalog_version, page.vector_index)


def _hit(row: dict[str, Any], terms: list[str]) -> ProductHit:
    description = row.pop("description")
    return ProductHit(
        **row,
        highlights=Highlights(
            title=highlight(row["title"], terms),
            snippet=snippet(description, terms),
        ),
    )


def _vector_list(
    settings: Settings, state: CatalogState, embedding: np.ndarray | None
) -> VectorList:
    if embedding is None:
        return []
    ef_search = settings.catalog_hnsw_ef_search
    return Nearest(
        embedding=embedding,
        k=vector_window(ef_search),
        candidates=ef_search,
        use_index=state.vector_index is not None,
    )


async def first_search(
    conn: AsyncConnection,
    settings: Settings,
    tenant_id: str,
    state: CatalogState,
    query: str,
    embedding: np.ndarray | None,
    shape: ProductQuery,
) -> tuple[SearchPage, str | None]:
    """Run the search statement, which finds the nearest products itself.
    Returns the page and, when the text matched too little and a typo
    correction exists, the corrected query to search next.

    `state` need not be current: its vector index only chooses how the
    nearest products are found, and either way finds them. `conn` must come
    from a pool opened with `settings.catalog_hnsw_ef_search`.
    """
    min_similarity = settings.catalog_vector_min_similarity
    max_matches = settings.catalog_max_text_matches
    vector = _vector_list(settings, state, embedding)
    typo = typo_lookup(query) if query else None
    below, variants = (TYPO_FALLBACK_BELOW, typo.variants) if typo else (0, None)
    page = await search_page(
        conn, tenant_id, shape, vector, min_similarity, max_matches, below, variants
    )
    if typo is None or page.text_matches >= TYPO_FALLBACK_BELOW:
        return page, None
    return page, correct(typo, page.typo_terms or [])


async def corrected_search(
    conn: AsyncConnection,
    settings: Settings,
    tenant_id: str,
    shape: ProductQuery,
    first: SearchPage,
    corrected: str,
    embedding: np.ndarray | None,
) -> tuple[SearchPage, str | None]:
    """Search the corrected query with its own nearest products, so that its
    page is the one a search for the corrected words returns. Returns that
    page when its text matches more than `first`, else `first` and None."""
    retry = dataclasses.replace(shape, text=query_text(corrected))
    state = CatalogState(first.catalog_version, first.vector_index)
    second = await search_page(
        conn,
        tenant_id,
        retry,
        _vector_list(settings, state, embedding),
        settings.catalog_vector_min_similarity,
        settings.catalog_max_text_matches,
    )
    if second.text_matches <= first.text_matches:
        return first, None
    # The choice rests on the first statement's snapshot, so the page counts
    # as read at the older of the two versions: a cache then never keeps it
    # for a newer catalog, where a search might not correct the query.
    version = min(first.catalog_version, second.catalog_version)
    return dataclasses.replace(second, catalog_version=version), corrected


async def run_search(
    conn: AsyncConnection,
    settings: Settings,
    tenant_id: str,
    state: CatalogState,
    query: str,
    embedding: np.ndarray | None,
    shape: ProductQuery,
    embed: Embed,
) -> tuple[SearchPage, str | None]:
    """Run `first_search` and, when it corrects the query, `corrected_search`
    on the same connection. Returns the page and the corrected query."""
    page, corrected = await first_search(
        conn, settings, tenant_id, state, query, embedding, shape
    )
    if corrected is None:
        return page, None
    return await corrected_search(
        conn, settings, tenant_id, shape, page, corrected, await embed(corrected)
    )


async def _search_corrected(
    services: Services,
    caches: CatalogCaches,
    tenant_id: str,
    shape: ProductQuery,
    first: SearchPage,
    corrected: str,
) -> Found:
    # The model runs with no connection held, because it takes a while.
    embedding = await embed_query(services, caches, corrected)

    async def retry(conn: AsyncConnection) -> Found:
        return await corrected_search(
            conn, services.settings, tenant_id, shape, first, corrected, embedding
        )

    return await read_retrying_closed(services.read_pool, retry)


async def search_products(
    services: Services,
    caches: CatalogCaches,
    tenant_id: str,
    query: str,
    shape: ProductQuery,
) -> ProductSearchResults:
    """Run one search, or return the cached result while the catalog is unchanged."""
    settings = services.settings
    embedding = await embed_query(services, caches, query) if query else None
    cache_key = (query, shape)

    # The page, the corrected query, and whether the corrected query was
    # searched: on the same connection when its embedding is cached.
    async def read(
        conn: AsyncConnection,
    ) -> ProductSearchResults | tuple[SearchPage, str | None, bool]:
        # The search statement reads the catalog state too, so a separate
        # read is needed only to check a cached result, or for the tenant's
        # first search, which learns its vector index.
        state = caches.states.get(tenant_id)
        if state is None or caches.results.contains(tenant_id, cache_key):
            state = await read_catalog_state(conn, tenant_id)
            cached = caches.results.get(tenant_id, state.version, cache_key)
            if isinstance(cached, ProductSearchResults):
                return cached
        page, corrected = await first_search(
            conn, settings, tenant_id, state, query, embedding, shape
        )
        if corrected is None:
            return page, None, True
        known, corrected_embedding = cached_embedding(caches, corrected)
        if not known:
            return page, corrected, False
        page, corrected = await corrected_search(
            conn, settings, tenant_id, shape, page, corrected, corrected_embedding
        )
        return page, corrected, True

    found = await read_retrying_closed(services.read_pool, read)
    if isinstance(found, ProductSearchResults):
        return found
    page, corrected, searched = found
    if corrected is not None and not searched:
        page, corrected = await _search_corrected(
            services, caches, tenant_id, shape, page, corrected
        )
    remember_state(caches, tenant_id, page)

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
