"""Paging through a search with more close products than its vector list
of 100 holds: `total` stays the same on every page and no product appears
twice."""

from collections.abc import Iterator

import httpx
import pytest

from tests.integration.catalog_helpers import new_tenant, post_products, wait_until
from tests.stack import Stack

pytestmark = pytest.mark.integration

COLORS = ["black", "grey", "red", "blue", "green", "white", "navy", "olive"]
PAGE = 50


def _products() -> list[dict]:
    products = []
    # Text matches of "hoodie".
    for number in range(20):
        products.append({"product_id": f"hoodie-{number}", "title": f"Hoodie {number}"})
    # No shared word ("hooded" stems to "hood"), but close in meaning.
    for number in range(160):
        color = COLORS[number % len(COLORS)]
        products.append(
            {
                "product_id": f"hooded-{number}",
                "title": f"{color} hooded sweatshirt {number}",
            }
        )
    for product in products:
        product.update(price=10.0, currency="USD", category_path=["Tops"])
    return products


def _load(api: httpx.Client, products: list[dict]) -> None:
    post_products(api, products)

    def loaded() -> bool:
        reply = api.get("/v1/search/products", params={"q": "", "limit": 1})
        return reply.json()["total"] == len(products)

    assert wait_until(loaded)


@pytest.fixture(scope="module")
def paged(stack: Stack) -> Iterator[httpx.Client]:
    products = _products()
    with new_tenant(stack, "paging") as api:
        _load(api, products)
        yield api


@pytest.mark.parametrize("sort", ["relevance", "price_asc"])
def test_pages_share_one_result_set(paged: httpx.Client, sort: str) -> None:
    totals, ids = [], []
    for offset in range(0, 200, PAGE):
        params = {"q": "hoodie", "sort": sort, "limit": PAGE, "offset": offset}
        reply = paged.get("/v1/search/products", params=params)
        assert reply.status_code == 200, reply.text
        totals.append(reply.json()["total"])
        ids.extend(hit["product_id"] for hit in reply.json()["hits"])

    vector_hits = totals[0] - 20
    assert vector_hits > 0, "the query found no vector-only hits"
    assert len(set(totals)) == 1, f"total changed between pages: {totals}"
    assert len(ids) == len(set(ids)), "a product appeared on two pages"
    assert len(ids) == min(totals[0], 200)


@pytest.fixture(scope="module")
def many_matches(stack: Stack) -> Iterator[httpx.Client]:
    """A tenant whose 260 products all match "hoodie" by text, so that text
    ranks past 100 meet products of the vector list."""
    products = [
        {
            "product_id": f"hoodie-{number:03d}",
            "title": f"{COLORS[number % len(COLORS)]} hoodie {number}",
            "price": 10.0 + number,
            "currency": "USD",
            "category_path": ["Tops"],
        }
        for number in range(260)
    ]
    with new_tenant(stack, "paging-many") as api:
        _load(api, products)
        yield api


def test_deep_text_matches_page_once(many_matches: httpx.Client) -> None:
    ids, labels = [], {}
    for offset in range(0, 300, PAGE):
        params = {"q": "hoodie", "limit": PAGE, "offset": offset}
        reply = many_matches.get("/v1/search/products", params=params)
        assert reply.status_code == 200, reply.text
        assert reply.json()["total"] == 260
        for hit in reply.json()["hits"]:
            ids.append(hit["product_id"])
            labels[hit["product_id"]] = hit["matched_by"]

    assert len(ids) == len(set(ids)), "a product appeared on two pages"
    assert len(ids) == 260
    assert all("text" in label for label in labels.values())
    assert any("vector" in label for label in labels.values())
