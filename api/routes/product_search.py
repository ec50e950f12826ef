"""Product search endpoint."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query

from api.catalog_models import ProductSearchResults, ProductSort
from api.deps import ServicesDep, TenantDep
from api.product_filters import FilterError, ProductFilters, parse_attribute_filters
from api.product_search import MAX_WINDOW, ProductQuery
from api.product_search_service import CachesDep, search_products
from api.query_params import reject_unknown_query_params
from tidings.catalog_text import query_text

router = APIRouter(prefix="/v1/search", tags=["search"])


def _filters(
    category: list[str],
    brand: list[str],
    price_min: float | None,
    price_max: float | None,
    in_stock: bool,
    attribute: list[str],
) -> ProductFilters:
    if price_min is not None and price_max is not None and price_min > price_max:
        raise HTTPException(
            422,
            detail=f"price_min {price_min} is greater than price_max {price_max}; "
            "swap them",
        )
    try:
        attributes = parse_attribute_filters(attribute)
    except FilterError as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    return ProductFilters(
        categories=tuple(dict.fromkeys(category)),
        brands=tuple(dict.fromkeys(brand)),
        price_min=price_min,
        price_max=price_max,
        in_stock=in_stock,
        attributes=attributes,
    )


@router.get(
    "/products",
    response_model=ProductSearchResults,
    dependencies=[Depends(reject_unknown_query_params)],
)
async def search_products_route(
    services: ServicesDep,
    tenant: TenantDep,
    caches: CachesDep,
    q: Annotated[
        str,
        Query(
            max_length=500,
            description="Words in any language; empty lists the filtered catalog.",
        ),
    ] = "",
    category: Annotated[
        list[str],
        Query(description='Category path prefix, levels joined by "/".'),
    ] = [],  # noqa: B006 (FastAPI copies defaults)
    brand: Annotated[list[str], Query()] = [],  # noqa: B006
    price_min: Annotated[float | None, Query(ge=0)] = None,
    price_max: Annotated[float | None, Query(ge=0)] = None,
    in_stock: Annotated[
        bool, Query(description="Only products with stock > 0 or untracked stock.")
    ] = False,
    attribute: Annotated[
        list[str], Query(description="name:value, e.g. color:Black.")
    ] = [],  # noqa: B006
    sort: ProductSort = "relevance",
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    offset: Annotated[int, Query(ge=0)] = 0,
    facets: Annotated[
        bool, Query(description="Count categories, brands and prices.")
    ] = True,
) -> ProductSearchResults:
    """Search the caller's products. Full-text and vector similarity are fused
    by reciprocal rank fusion; Chinese (simplified or traditional), full-width
    and mixed-language queries work, and a one-letter typo in a longer word is
    corrected when full-text search finds too little. Filters of one name are
    alternatives; different filters must all hold."""
    if offset + limit > MAX_WINDOW:
        raise HTTPException(
            422,
            detail=f"offset + limit is {offset + limit}, more than {MAX_WINDOW}; "
            "narrow the query with filters instead of paging further",
        )
    filters = _filters(category, brand, price_min, price_max, in_stock, attribute)
    # Postgres text cannot hold NUL, and a NUL separates words no more than a
    # space does.
    query = q.replace("\x00", " ").strip()
    shape = ProductQuery(
        text=query_text(query) if query else "",
        filters=filters,
        sort=sort,
        limit=limit,
        offset=offset,
        facets=facets,
    )
    return await search_products(services, caches, tenant.tenant_id, query, shape)
