"""Boundary cases of search: prices on a histogram bucket's lower bound, and
a typo whose one correction shares no more trigrams than many other words."""

import itertools
import string
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.catalog_helpers import (
    new_tenant,
    post_products,
    search,
    wait_for_versions,
)
from tests.stack import Stack

pytestmark = pytest.mark.integration

CANDY_PRICES = [1.0, 1.2, 1.4, 1.6, 2.2, 3.0]
# Words that share "  s", " st" and "sto" with the typos "stoxm" and "stomr",
# are two edits from both, and sort before "storm".
DECOYS = [
    f"sto{first}{second}"
    for first, second in itertools.product("abc", string.ascii_lowercase)
    if second not in "mr"
][:60]


@pytest.fixture(scope="module")
def shop(stack: Stack) -> Iterator[httpx.Client]:
    candy = [
        {
            "product_id": f"candy-{number}",
            "title": f"Candy bar {number}",
            "category_path": ["Food", "Sweets"],
            "price": price,
            "currency": "USD",
        }
        for number, price in enumerate(CANDY_PRICES)
    ]
    words = [{"product_id": f"word-{word}", "title": f"{word} item"} for word in DECOYS]
    storm = [{"product_id": "storm-1", "title": "storm jacket"}]
    products = [{**product, "version": 1} for product in candy + words + storm]
    with new_tenant(stack, "boundaries") as api:
        post_products(api, products)
        versions: dict[str, int | None] = {p["product_id"]: 1 for p in products}
        assert wait_for_versions(api, versions), "catalog was not materialized"
        yield api


def test_price_on_bucket_bound(shop: httpx.Client) -> None:
    buckets = search(shop, q="candy", category="Food")["facets"]["price"]

    assert buckets == [
        {"min": 1.0, "max": 1.2, "count": 1},
        {"min": 1.2, "max": 1.4, "count": 1},
        {"min": 1.4, "max": 1.6, "count": 1},
        {"min": 1.6, "max": 1.8, "count": 1},
        {"min": 2.2, "max": 2.4, "count": 1},
        {"min": 3.0, "max": 3.2, "count": 1},
    ]


@pytest.mark.parametrize("typo", ["stoxm", "stomr"])
def test_typo_among_many_similar_words(shop: httpx.Client, typo: str) -> None:
    body = search(shop, q=typo)

    assert body["corrected_query"] == "storm"
    assert [hit["product_id"] for hit in body["hits"]][:1] == ["storm-1"]
