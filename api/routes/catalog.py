"""Product catalog: upsert, delete and read products."""

from typing import Annotated

import structlog
from fastapi import APIRouter, Body, Header, HTTPException, Path, Query, status
from psycopg.rows import dict_row

from api.catalog_events import (
    catalog_key,
    default_version,
    new_event,
    product_event_id,
    publish_all,
)
from api.catalog_models import (
    PRODUCT_ID_PATTERN,
    CatalogAccepted,
    ProductAccepted,
    ProductCreate,
    ProductPublic,
)
from api.deps import ServicesDep, TenantDep
from schemas import topics
from schemas.events import ProductDeletedV1, ProductUpsertedV1

router = APIRouter(prefix="/v1/catalog", tags=["catalog"])
log = structlog.get_logger(__name__)

ProductIdPath = Annotated[str, Path(pattern=PRODUCT_ID_PATTERN)]


def _check_batch(products: list[ProductCreate], max_batch: int) -> None:
    if not products:
        raise HTTPException(422, detail="The request contains no products")
    if len(products) > max_batch:
        raise HTTPException(
            413,
            detail=f"The request contains {len(products)} products, more than the "
            f"limit of {max_batch} (setting TIDINGS_CATALOG_MAX_BATCH); split it",
        )
    seen: set[str] = set()
    for product in products:
        if product.product_id in seen:
            raise HTTPException(
                422,
                detail=f"Product {product.product_id} appears more than once in "
                "the request; send each product once",
            )
        seen.add(product.product_id)


@router.post(
    "/products", status_code=status.HTTP_202_ACCEPTED, response_model=CatalogAccepted
)
async def upsert_products(
    services: ServicesDep,
    tenant: TenantDep,
    body: Annotated[
        ProductCreate | list[ProductCreate],
        Body(description="One product, or a JSON array of products."),
    ],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    traceparent: Annotated[str | None, Header()] = None,
) -> CatalogAccepted:
    """Create or change products. Returns 202 once Kafka has acknowledged every
    product's event; the products become searchable a moment later.

    A product replaces the stored one only if its `version` is higher.
    Without a `version`, the API uses the time it accepts the request.
    """
    products = body if isinstance(body, list) else [body]
    _check_batch(products, services.settings.catalog_max_batch)

    accepted_version = default_version()
    events = []
    accepted = []
    for product in products:
        version = product.version if product.version is not None else accepted_version
        payload = ProductUpsertedV1(
            **product.model_dump(exclude={"version"}), version=version
        )
        event_id = product_event_id(
            tenant.tenant_id, product.product_id, version, "upserted"
        )
        event = new_event(
            topics.CATALOG_PRODUCT_UPSERTED,
            tenant.tenant_id,
            product.product_id,
            payload,
            event_id,
            idempotency_key,
            traceparent,
        )
        key = catalog_key(tenant.tenant_id, product.product_id)
        events.append((topics.CATALOG_PRODUCT_UPSERTED, key, event))
        accepted.append(
            ProductAccepted(
                product_id=product.product_id, version=version, event_id=event_id
            )
        )

    await publish_all(services.producer, tenant.tenant_id, events)
    log.info("products_accepted", tenant_id=tenant.tenant_id, products=len(accepted))
    return CatalogAccepted(accepted=len(accepted), products=accepted)


@router.delete(
    "/products/{product_id}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ProductAccepted,
)
async def delete_product(
    services: ServicesDep,
    tenant: TenantDep,
    product_id: ProductIdPath,
    version: Annotated[
        int | None,
        Query(
            ge=0,
            description="Deletes stored versions up to this one and ignores later "
            "upserts up to it; defaults to the time the API accepts the request.",
        ),
    ] = None,
    traceparent: Annotated[str | None, Header()] = None,
) -> ProductAccepted:
    """Delete a product. Returns 202 once Kafka has acknowledged the event."""
    version = version if version is not None else default_version()
    event_id = product_event_id(tenant.tenant_id, product_id, version, "deleted")
    payload = ProductDeletedV1(product_id=product_id, version=version)
    event = new_event(
        topics.CATALOG_PRODUCT_DELETED,
        tenant.tenant_id,
        product_id,
        payload,
        event_id,
        None,
        traceparent,
    )
    key = catalog_key(tenant.tenant_id, product_id)
    await publish_all(
        services.producer,
        tenant.tenant_id,
        [(topics.CATALOG_PRODUCT_DELETED, key, event)],
    )
    log.info(
        "product_delete_accepted",
        tenant_id=tenant.tenant_id,
        product_id=product_id,
        version=version,
    )
    return ProductAccepted(product_id=product_id, version=version, event_id=event_id)


@router.get("/products/{product_id}", response_model=ProductPublic)
async def read_product(
    services: ServicesDep, tenant: TenantDep, product_id: ProductIdPath
) -> ProductPublic:
    """Return a product as materialized from the catalog events."""
    async with services.pool.connection() as conn:
        async with conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(
                "SELECT product_id, version, title, description, brand, "
                "category_path, price::float8 AS price, currency, stock, "
                "attributes, image_url, updated_at FROM products "
                "WHERE tenant_id = %s AND product_id = %s",
                (tenant.tenant_id, product_id),
            )
            row = await cursor.fetchone()
    if row is None:
        raise HTTPException(404, detail=f"Product {product_id} not found")
    return ProductPublic(**row)
