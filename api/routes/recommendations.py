"""Recommendations for a product, a session or a user."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from psycopg import AsyncConnection

from api.catalog_models import PRODUCT_ID_PATTERN, Recommendation, Recommendations
from api.deps import ServicesDep, TenantDep
from api.query_params import reject_unknown_query_params
from api.recommendations import (
    product_embeddings,
    product_summaries,
    profile_embedding,
    recent_interactions,
    similar_products,
    together,
)
from api.vector_search import read_catalog_state
from connectors.postgres import read_retrying_closed

# The lists by kind ("similar", "bought", "viewed") and the summaries of
# their products by id.
ListsAndSummaries = tuple[dict[str, list[tuple[str, float]]], dict[str, dict[str, Any]]]

router = APIRouter(prefix="/v1", tags=["recommendations"])


def _subject(
    product_id: str | None, session_id: str | None, user_id: str | None
) -> tuple[str, str]:
    given = [
        (name, value)
        for name, value in (
            ("product_id", product_id),
            ("session_id", session_id),
            ("user_id", user_id),
        )
        if value
    ]
    if len(given) != 1:
        raise HTTPException(
            422, detail="Pass exactly one of product_id, session_id or user_id"
        )
    return given[0]


@router.get(
    "/recommendations",
    response_model=Recommendations,
    dependencies=[Depends(reject_unknown_query_params)],
)
async def read_recommendations(
    services: ServicesDep,
    tenant: TenantDep,
    product_id: Annotated[str | None, Query(pattern=PRODUCT_ID_PATTERN)] = None,
    session_id: Annotated[str | None, Query(max_length=128)] = None,
    user_id: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    include_out_of_stock: bool = False,
) -> Recommendations:
    """Recommend products. For a `product_id`: similar products by embedding
    (never the product itself) and the products most often viewed or bought
    in the same sessions. For a `session_id` or `user_id`: the same lists
    built from its recent interactions, without the products it already
    interacted with. Out-of-stock products are left out unless asked for."""
    column, value = _subject(product_id, session_id, user_id)
    tenant_id = tenant.tenant_id

    # Each statement reads on its own: a product deleted in between is left
    # out of the summaries and so of the lists.
    async def read(conn: AsyncConnection) -> ListsAndSummaries:
        state = await read_catalog_state(conn, tenant_id)
        if column == "product_id":
            embeddings = await product_embeddings(conn, tenant_id, [value])
            if value not in embeddings:
                raise HTTPException(404, detail=f"Product {value} not found")
            sources = [value]
            profile = embeddings[value]
        else:
            recent = await recent_interactions(conn, tenant_id, column, value)
            sources = list(dict.fromkeys(pid for pid, _, _ in recent))
            embeddings = await product_embeddings(conn, tenant_id, sources)
            profile = profile_embedding(recent, embeddings)

        lists: dict[str, list[tuple[str, float]]] = {"similar": []}
        if profile is not None:
            lists["similar"] = await similar_products(
                conn,
                tenant_id,
                state,
                profile,
                sources,
                limit,
                include_out_of_stock,
                services.settings.catalog_hnsw_ef_search,
            )
        for kind in ("bought", "viewed"):
            lists[kind] = await together(
                conn, tenant_id, kind, sources, sources, limit, include_out_of_stock
            )
        ids = sorted({pid for items in lists.values() for pid, _ in items})
        summaries = await product_summaries(conn, tenant_id, ids)
        return lists, summaries

    lists, summaries = await read_retrying_closed(services.read_pool, read)

    def recommended(items: list[tuple[str, float]]) -> list[Recommendation]:
        return [
            Recommendation(**summaries[pid], score=score)
            for pid, score in items
            if pid in summaries
        ]

    return Recommendations(
        product_id=product_id,
        session_id=session_id,
        user_id=user_id,
        similar=recommended(lists["similar"]),
        bought_together=recommended(lists["bought"]),
        viewed_together=recommended(lists["viewed"]),
    )
