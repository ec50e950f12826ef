"""A relevance search reads at most `max_matches` full-text matches and flags
a result cut there. Other sort orders read every match."""

import dataclasses
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from api.product_filters import ProductFilters
from api.product_search import ProductQuery, SearchPage, search_page
from tests.integration.catalog_helpers import (
    new_tenant,
    post_products,
    search,
    tenant_id_of,
    wait_for_versions,
)
from tests.stack import Stack
from tidings.catalog_text import query_text

pytestmark = pytest.mark.integration

LAMPS = [
    {
        "product_id": f"lamp-{number}",
        "title": f"Brass desk lamp {number}",
        "description": "A reading light with a linen shade.",
        "brand": "Lumen" if number % 2 else "Halo",
        "category_path": ["Home", "Lighting"],
        "price": 20 + number,
        "currency": "USD",
        "stock": 5,
        "version": 1,
    }
    for number in range(6)
]


@pytest.fixture(scope="module")
def lamps(stack: Stack) -> Iterator[tuple[httpx.Client, str]]:
    """A tenant owning six lamps, fully materialized, and its tenant id."""
    with new_tenant(stack, "lamps") as api:
        post_products(api, LAMPS)
        versions: dict[str, int | None] = {p["product_id"]: 1 for p in LAMPS}
        assert wait_for_versions(api, versions), "lamps were not materialized"
        yield api, tenant_id_of(stack, api)


def _shape(sort: str = "relevance") -> ProductQuery:
    return ProductQuery(
        text=query_text("lamp"),
        filters=ProductFilters(),
        sort=sort,
        limit=10,
        offset=0,
        facets=True,
    )


async def _search(
    stack: Stack, tenant_id: str, shape: ProductQuery, max_matches: int
) -> SearchPage:
    async with await psycopg.AsyncConnection.connect(stack.database_url) as conn:
        return await search_page(conn, tenant_id, shape, [], 1.0, max_matches)


async def test_cap_above_matches_is_exhaustive(
    stack: Stack, lamps: tuple[httpx.Client, str]
) -> None:
    page = await _search(stack, lamps[1], _shape(), max_matches=100)

    assert page.exhaustive
    assert page.total == 6
    assert len(page.rows) == 6


async def test_cap_equal_to_matches_is_exhaustive(
    stack: Stack, lamps: tuple[httpx.Client, str]
) -> None:
    page = await _search(stack, lamps[1], _shape(), max_matches=6)

    assert page.exhaustive
    assert page.total == 6


async def test_cap_below_matches_stops_there(
    stack: Stack, lamps: tuple[httpx.Client, str]
) -> None:
    page = await _search(stack, lamps[1], _shape(), max_matches=3)

    # One row past the cap is read to know that more match.
    assert not page.exhaustive
    assert page.text_matches == 4
    assert page.total == 4
    assert len(page.rows) == 4
    assert sum(brand["count"] for brand in page.facets["brands"]) == 4
    assert sum(bucket["count"] for bucket in page.facets["price"]) == 4
    assert {"value": "Home", "count": 4} in page.facets["categories"]


async def test_price_order_reads_every_match(
    stack: Stack, lamps: tuple[httpx.Client, str]
) -> None:
    shape = dataclasses.replace(_shape("price_asc"), limit=2)

    page = await _search(stack, lamps[1], shape, max_matches=4)

    assert page.exhaustive
    assert page.total == 6
    assert [row["product_id"] for row in page.rows] == ["lamp-0", "lamp-1"]


def test_api_reports_exhaustive(lamps: tuple[httpx.Client, str]) -> None:
    body = search(lamps[0], q="lamp")

    assert body["exhaustive"] is True
    assert body["total"] == 6
