"""The routers of the catalog, product search and recommendation API."""

from fastapi import APIRouter

from api.routes import catalog, interactions, product_search, recommendations

CATALOG_ROUTERS: tuple[APIRouter, ...] = (
    catalog.router,
    product_search.router,
    interactions.router,
    recommendations.router,
)
