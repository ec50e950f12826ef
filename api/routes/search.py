"""Search endpoints."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query

from api.deps import ServicesDep, TenantDep
from api.document_search import search_documents
from api.models import DocumentHit, DocumentSearchResults
from api.query_params import reject_unknown_query_params
from api.unknown_tokens import mostly_unknown

router = APIRouter(prefix="/v1/search", tags=["search"])


@router.get(
    "/documents",
    response_model=DocumentSearchResults,
    dependencies=[Depends(reject_unknown_query_params)],
)
async def search_documents_route(
    services: ServicesDep,
    tenant: TenantDep,
    q: Annotated[
        str, Query(max_length=1000, description="Words or a phrase, any language.")
    ],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> DocumentSearchResults:
    """Hybrid search over the caller's indexed documents: full-text and vector
    similarity fused by reciprocal rank fusion. Each hit names its page.
    A query whose tokens the embedding model does not know well enough (see
    api/unknown_tokens.py), such as most Chinese text, is matched by full text
    only."""
    query = q.replace("\x00", " ").strip()
    if not query:
        raise HTTPException(
            422, detail="Query parameter q is empty; pass words to search for"
        )

    # The embedding of a query whose tokens the model lacks (most Chinese
    # characters, for all-MiniLM-L6-v2) would find arbitrary chunks.
    embedding = None
    if not mostly_unknown(services.embedder, query):
        embedding = (await asyncio.to_thread(services.embedder.encode, [query]))[0]
    async with services.pool.connection() as conn:
        async with conn.transaction():
            rows = await search_documents(
                conn,
                tenant.tenant_id,
                query,
                embedding,
                limit,
                services.settings.search_vector_min_similarity,
            )
    return DocumentSearchResults(query=query, hits=[DocumentHit(**row) for row in rows])
