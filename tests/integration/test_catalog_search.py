"""Product catalog and search end to end: HTTP -> Kafka -> catalog stage ->
Postgres -> GET /v1/search/products, on a small catalog whose correct results
are known in advance."""

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.catalog_helpers import (
    hit_ids,
    new_tenant,
    post_products,
    search,
    stored_version,
    wait_for_versions,
)
from tests.stack import Stack

pytestmark = pytest.mark.integration

LUMA = {"brand": "Luma", "currency": "USD"}
CATALOG: list[dict[str, Any]] = [
    {
        "product_id": "hoodie-1",
        "title": "Chaz Kangeroo Hoodie",
        "description": "Ideal for cold-weather training, the hoodie keeps you warm.",
        "category_path": ["Men", "Tops", "Hoodies"],
        "price": 52,
        "stock": 10,
        "attributes": {"color": ["Black", "Gray"], "material": "Wool"},
        **LUMA,
    },
    {
        "product_id": "hoodie-2",
        "title": "Teton Pullover Hoodie",
        "description": "A black pullover with a soft, brushed interior.",
        "category_path": ["Men", "Tops", "Hoodies"],
        "price": 70,
        "stock": 0,
        "attributes": {"color": ["Red"], "material": "Fleece"},
        **LUMA,
    },
    {
        "product_id": "jacket-1",
        "title": "Olivia Light Jacket",
        "description": "A light running jacket for spring.",
        "category_path": ["Women", "Tops", "Jackets"],
        "price": 77,
        "stock": 5,
        "attributes": {"color": "Blue"},
        **LUMA,
    },
    {
        "product_id": "pants-1",
        "title": "Zeppelin Yoga Pant",
        "description": "Stretchy pants for yoga and the gym.",
        "category_path": ["Men", "Bottoms", "Pants"],
        "price": 82,
        "stock": 3,
        **LUMA,
    },
    {
        "product_id": "mouse-1",
        "title": "Wireless Optical Mouse",
        "description": "A cordless mouse for any computer.",
        "brand": "Logitech",
        "category_path": ["Electronics", "Computers"],
        "price": 18.99,
        "currency": "USD",
        "stock": 100,
    },
    {
        "product_id": "glasses-1",
        "title": "Aviator Sunglasses",
        "description": "Polarized lenses with UV protection.",
        "brand": "Rayban",
        "category_path": ["Accessories"],
        "price": 150,
        "currency": "USD",
    },
    {
        "product_id": "quilt-1",
        "title": "秋冬保暖加厚澳洲羊毛被",
        "description": "臻品级澳洲进口羊毛",
        "brand": "严选",
        "category_path": ["居家", "被枕"],
        "price": 459,
        "currency": "CNY",
        "stock": 100,
        "attributes": {"材质": "羊毛"},
    },
    {
        "product_id": "quilt-2",
        "title": "色织华夫格夏凉被",
        "description": "透气舒适，夏季必备",
        "category_path": ["居家", "被枕"],
        "price": 199,
        "currency": "CNY",
        "stock": 20,
    },
    {
        "product_id": "bag-1",
        "title": "电脑包 防水",
        "description": "适合13寸笔记本",
        "category_path": ["配件"],
        "price": 99,
        "currency": "CNY",
    },
    {
        "product_id": "earphones-1",
        "title": "無線藍牙耳機",
        "description": "降噪，長續航",
        "category_path": ["數碼"],
        "price": 299,
        "currency": "CNY",
    },
    {
        "product_id": "charger-1",
        "title": "ＵＳＢ充电器　快充",
        "description": "支持ＰＤ协议",
        "category_path": ["数码"],
        "price": 59,
        "currency": "CNY",
    },
    {
        "product_id": "case-1",
        "title": "iPhone 手机壳 透明",
        "description": "防摔硅胶材质",
        "category_path": ["数码"],
        "price": 29,
        "currency": "CNY",
    },
]


@pytest.fixture(scope="module")
def shop(stack: Stack) -> Iterator[httpx.Client]:
    """A tenant owning CATALOG, fully materialized."""
    with new_tenant(stack, "shop") as api:
        products = [{**product, "version": 1} for product in CATALOG]
        post_products(api, products)
        versions: dict[str, int | None] = {p["product_id"]: 1 for p in CATALOG}
        assert wait_for_versions(api, versions), "catalog was not materialized"
        yield api


# Languages and scripts


def test_chinese_query_finds_product(shop: httpx.Client) -> None:
    body = search(shop, q="羊毛被")

    assert hit_ids(body)[0] == "quilt-1"
    assert "text" in body["hits"][0]["matched_by"]


def test_traditional_query_finds_simplified(shop: httpx.Client) -> None:
    body = search(shop, q="電腦包")

    assert hit_ids(body)[0] == "bag-1"


def test_simplified_query_finds_traditional(shop: httpx.Client) -> None:
    body = search(shop, q="蓝牙耳机")

    assert hit_ids(body)[0] == "earphones-1"


def test_halfwidth_query_finds_fullwidth(shop: httpx.Client) -> None:
    body = search(shop, q="usb 充电器")

    assert hit_ids(body)[0] == "charger-1"


def test_fullwidth_query_finds_product(shop: httpx.Client) -> None:
    body = search(shop, q="ｈｏｏｄｉｅ")

    assert set(hit_ids(body)[:2]) == {"hoodie-1", "hoodie-2"}


def test_mixed_language_query(shop: httpx.Client) -> None:
    body = search(shop, q="iphone 手机壳")

    assert hit_ids(body)[0] == "case-1"


def test_typo_is_corrected(shop: httpx.Client) -> None:
    body = search(shop, q="sunglases")

    assert body["corrected_query"] == "sunglasses"
    assert hit_ids(body)[0] == "glasses-1"


def test_swapped_letters_corrected(shop: httpx.Client) -> None:
    body = search(shop, q="wirelses mouse")

    assert body["corrected_query"] == "wireless mouse"
    assert hit_ids(body)[0] == "mouse-1"


@pytest.mark.parametrize("typo", ["hodie", "sunglases", "wirelses mouse"])
def test_corrected_page_equals_direct_search(shop: httpx.Client, typo: str) -> None:
    # The second search of the typo finds the corrected query's embedding
    # cached and searches it on the same connection; the first may not.
    for limit in (20, 19):
        corrected = search(shop, q=typo, limit=limit)
        direct = search(shop, q=corrected["corrected_query"], limit=limit)

        assert corrected["total"] == direct["total"]
        assert corrected["hits"] == direct["hits"]
        assert corrected["facets"] == direct["facets"]


def test_correct_query_is_not_rewritten(shop: httpx.Client) -> None:
    body = search(shop, q="hoodie")

    assert body["corrected_query"] is None


def test_vector_match_without_shared_words(shop: httpx.Client) -> None:
    body = search(shop, q="sweatshirt")
    vector_hits = [h for h in body["hits"] if h["matched_by"] == ["vector"]]

    assert vector_hits
    assert vector_hits[0]["product_id"] in {"hoodie-1", "hoodie-2"}


def test_excluded_word_drops_vector_hits(shop: httpx.Client) -> None:
    body = search(shop, q="hoodie -wool", limit=20)
    found = {hit["product_id"] for hit in body["hits"]}

    assert "hoodie-1" not in found
    assert "hoodie-2" in found


def test_excluded_word_adds_no_vector_hits(shop: httpx.Client) -> None:
    # The excluded word is left out of the embedding, so the vector hits are
    # those of the query without it, less the products containing it.
    plain = search(shop, q="hoodie", limit=50)
    excluding = search(shop, q="hoodie -yoga", limit=50)
    plain_vector = {
        h["product_id"] for h in plain["hits"] if h["matched_by"] == ["vector"]
    }
    excluding_vector = {
        h["product_id"] for h in excluding["hits"] if h["matched_by"] == ["vector"]
    }

    assert excluding_vector == plain_vector - {"pants-1"}


def test_excluded_chinese_words(shop: httpx.Client) -> None:
    # Segmented, the excluded run is two words: both stay excluded together.
    found = hit_ids(search(shop, q="数码 -充电器快充"))

    assert "case-1" in found
    assert "charger-1" not in found


@pytest.mark.parametrize("query", ["-wool", "hoodie", "sweatshirt"])
def test_matched_by_same_in_every_sort(shop: httpx.Client, query: str) -> None:
    by_relevance = search(shop, q=query, limit=20)
    by_price = search(shop, q=query, limit=20, sort="price_asc")
    relevance_labels = {h["product_id"]: h["matched_by"] for h in by_relevance["hits"]}
    price_labels = {h["product_id"]: h["matched_by"] for h in by_price["hits"]}

    assert relevance_labels == price_labels


def test_highlight_marks_query_terms(shop: httpx.Client) -> None:
    hit = search(shop, q="hoodie warm")["hits"][0]

    assert hit["product_id"] == "hoodie-1"
    assert hit["highlights"]["title"] == "Chaz Kangeroo <mark>Hoodie</mark>"
    assert "<mark>warm</mark>" in hit["highlights"]["snippet"]


def test_highlight_marks_chinese_terms(shop: httpx.Client) -> None:
    hit = search(shop, q="羊毛被")["hits"][0]

    assert "<mark>" in hit["highlights"]["title"]
    assert "羊毛" in hit["highlights"]["title"].split("<mark>")[1]


# Filters


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category": "Men"}, {"hoodie-1", "hoodie-2", "pants-1"}),
        ({"category": "Men/Tops"}, {"hoodie-1", "hoodie-2"}),
        ({"category": ["Men/Bottoms", "Women"]}, {"pants-1", "jacket-1"}),
        ({"brand": "Logitech"}, {"mouse-1"}),
        ({"brand": ["Logitech", "Rayban"]}, {"mouse-1", "glasses-1"}),
        ({"price_min": 60, "price_max": 80}, {"hoodie-2", "jacket-1"}),
        ({"category": "Men", "in_stock": True}, {"hoodie-1", "pants-1"}),
        ({"attribute": "color:Black"}, {"hoodie-1"}),
        ({"attribute": ["color:Black", "color:Red"]}, {"hoodie-1", "hoodie-2"}),
        ({"attribute": ["color:Gray", "material:Fleece"]}, set()),
        ({"attribute": "材质:羊毛"}, {"quilt-1"}),
        ({"q": "hoodie", "in_stock": True}, {"hoodie-1"}),
    ],
)
def test_filter(shop: httpx.Client, params: dict, expected: set[str]) -> None:
    body = search(shop, limit=100, facets=False, **params)
    text_or_browse = {
        h["product_id"] for h in body["hits"] if h["matched_by"] != ["vector"]
    }

    assert text_or_browse == expected


def test_in_stock_counts_untracked_stock(shop: httpx.Client) -> None:
    body = search(shop, brand="Rayban", in_stock=True)

    assert hit_ids(body) == ["glasses-1"]


def test_malformed_attribute_filter(shop: httpx.Client) -> None:
    response = shop.get("/v1/search/products", params={"attribute": "color"})

    assert response.status_code == 422
    assert response.json()["detail"] == (
        "Attribute filter 'color' must have the form name:value, "
        "for example attribute=color:Black"
    )


def test_price_range_reversed(shop: httpx.Client) -> None:
    response = shop.get("/v1/search/products", params={"price_min": 10, "price_max": 5})

    assert response.status_code == 422
    assert "swap them" in response.json()["detail"]


# Sorting and pagination


def test_sort_price_ascending(shop: httpx.Client) -> None:
    prices = [
        h["price"] for h in search(shop, category="Men", sort="price_asc")["hits"]
    ]

    assert prices == [52, 70, 82]


def test_sort_price_descending(shop: httpx.Client) -> None:
    prices = [
        h["price"] for h in search(shop, category="Men", sort="price_desc")["hits"]
    ]

    assert prices == [82, 70, 52]


def test_pages_do_not_overlap(shop: httpx.Client) -> None:
    whole = hit_ids(search(shop, sort="price_asc", limit=6))
    first = hit_ids(search(shop, sort="price_asc", limit=3, offset=0))
    second = hit_ids(search(shop, sort="price_asc", limit=3, offset=3))

    assert first + second == whole


def test_total_counts_all_pages(shop: httpx.Client) -> None:
    body = search(shop, limit=2)

    assert body["total"] == len(CATALOG)
    assert len(body["hits"]) == 2


def test_paging_past_window(shop: httpx.Client) -> None:
    response = shop.get("/v1/search/products", params={"offset": 990, "limit": 20})

    assert response.status_code == 422


# Facets


def test_brand_facet(shop: httpx.Client) -> None:
    facets = search(shop, category="Men")["facets"]

    assert facets["brands"] == [{"value": "Luma", "count": 3}]


def test_category_facet_counts_prefixes(shop: httpx.Client) -> None:
    counts = {c["value"]: c["count"] for c in search(shop)["facets"]["categories"]}

    assert counts["Men"] == 3
    assert counts["Men/Tops"] == 2
    assert counts["Men/Tops/Hoodies"] == 2
    assert counts["居家/被枕"] == 2


def test_price_histogram(shop: httpx.Client) -> None:
    buckets = search(shop, category="Men")["facets"]["price"]

    assert buckets == [
        {"min": 50.0, "max": 55.0, "count": 1},
        {"min": 70.0, "max": 75.0, "count": 1},
        {"min": 80.0, "max": 85.0, "count": 1},
    ]


def test_histogram_covers_all_prices(shop: httpx.Client) -> None:
    body = search(shop, limit=1)

    assert sum(b["count"] for b in body["facets"]["price"]) == body["total"]


def test_facets_can_be_skipped(shop: httpx.Client) -> None:
    assert search(shop, facets=False)["facets"] is None


# Tenants


def test_other_tenant_sees_nothing(
    shop: httpx.Client, other_tenant_api: httpx.Client
) -> None:
    body = search(other_tenant_api, q="hoodie")

    assert body["total"] == 0
    assert other_tenant_api.get("/v1/catalog/products/hoodie-1").status_code == 404


# Versions and deletes


def test_older_version_never_overwrites(stack: Stack) -> None:
    with new_tenant(stack, "versions") as api:
        post_products(api, [{"product_id": "p1", "title": "Newer title", "version": 5}])
        post_products(api, [{"product_id": "p1", "title": "Older title", "version": 3}])
        post_products(api, [{"product_id": "p2", "title": "Marker", "version": 1}])
        assert wait_for_versions(api, {"p2": 1})

        product = api.get("/v1/catalog/products/p1").json()

    assert product["version"] == 5
    assert product["title"] == "Newer title"


def test_delete_removes_product(stack: Stack) -> None:
    with new_tenant(stack, "delete") as api:
        post_products(api, [{"product_id": "lamp", "title": "Desk lamp", "version": 1}])
        assert wait_for_versions(api, {"lamp": 1})
        response = api.delete("/v1/catalog/products/lamp", params={"version": 2})
        assert response.status_code == 202
        assert wait_for_versions(api, {"lamp": None})

        body = search(api, q="lamp")

    assert "lamp" not in hit_ids(body)


def test_upsert_older_than_delete_ignored(stack: Stack) -> None:
    with new_tenant(stack, "tombstone") as api:
        api.delete("/v1/catalog/products/lamp", params={"version": 4})
        post_products(api, [{"product_id": "lamp", "title": "Desk lamp", "version": 3}])
        post_products(api, [{"product_id": "marker", "title": "Marker", "version": 1}])
        assert wait_for_versions(api, {"marker": 1})

        version = stored_version(api, "lamp")

    assert version is None


def test_upsert_newer_than_delete_restores(stack: Stack) -> None:
    with new_tenant(stack, "restore") as api:
        api.delete("/v1/catalog/products/lamp", params={"version": 4})
        post_products(api, [{"product_id": "lamp", "title": "Desk lamp", "version": 6}])

        assert wait_for_versions(api, {"lamp": 6})


def test_default_version_grows(stack: Stack) -> None:
    with new_tenant(stack, "clock") as api:
        first = api.post(
            "/v1/catalog/products", json={"product_id": "p", "title": "One"}
        ).json()
        second = api.post(
            "/v1/catalog/products", json={"product_id": "p", "title": "Two"}
        ).json()
        assert wait_for_versions(api, {"p": second["products"][0]["version"]})

        product = api.get("/v1/catalog/products/p").json()

    assert second["products"][0]["version"] > first["products"][0]["version"]
    assert product["title"] == "Two"


def test_search_sees_update(stack: Stack) -> None:
    """A cached result must not survive a catalog change."""
    with new_tenant(stack, "cache") as api:
        post_products(api, [{"product_id": "p", "title": "Red kettle", "version": 1}])
        assert wait_for_versions(api, {"p": 1})
        before = search(api, q="kettle")
        post_products(api, [{"product_id": "p", "title": "Blue kettle", "version": 2}])
        assert wait_for_versions(api, {"p": 2})

        after = search(api, q="kettle")

    assert before["hits"][0]["title"] == "Red kettle"
    assert after["hits"][0]["title"] == "Blue kettle"


# Request validation


def test_duplicate_product_in_batch(shop: httpx.Client) -> None:
    product = {"product_id": "dup", "title": "Twice"}
    response = shop.post("/v1/catalog/products", json=[product, product])

    assert response.status_code == 422
    assert response.json()["detail"] == (
        "Product dup appears more than once in the request; send each product once"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": "Kettle\u0000"}, "title contains a NUL character"),
        ({"attributes": {"colour": "red\u0000"}}, "attributes contains a NUL"),
        ({"stock": 2**31}, "less than or equal to 2147483647"),
        ({"version": 2**63}, "less than or equal to 9223372036854775807"),
        ({"price": float("inf")}, "finite number"),
    ],
)
def test_unstorable_product_rejected(
    shop: httpx.Client, change: dict, message: str
) -> None:
    product = {"product_id": "unstorable", "title": "Kettle", **change}
    # json.dumps writes infinity as the token Infinity, which the API parses.
    response = shop.post(
        "/v1/catalog/products",
        content=json.dumps(product),
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert message in response.text


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"title": "   "}, "title", "title '   ' is blank"),
        (
            {"category_path": ["Men/Tops"]},
            "category_path",
            "category_path[0] 'Men/Tops' contains '/'",
        ),
        (
            {"category_path": ["", "Tops"]},
            "category_path",
            "category_path[0] '' is empty",
        ),
    ],
)
def test_malformed_product_rejected(
    shop: httpx.Client, change: dict, field: str, message: str
) -> None:
    product = {"product_id": "malformed", "title": "Kettle", **change}
    response = shop.post("/v1/catalog/products", json=product)

    assert response.status_code == 422
    errors = response.json()["detail"]
    named = [error for error in errors if error["loc"][-1] == field]
    assert named, errors
    assert message in named[0]["msg"]


def test_query_with_nul_searches(shop: httpx.Client) -> None:
    response = shop.get("/v1/search/products", params={"q": "red\x00kettle"})

    assert response.status_code == 200


def test_empty_batch(shop: httpx.Client) -> None:
    response = shop.post("/v1/catalog/products", json=[])

    assert response.status_code == 422


def test_invalid_currency(shop: httpx.Client) -> None:
    response = shop.post(
        "/v1/catalog/products",
        json={"product_id": "x", "title": "X", "currency": "dollars"},
    )

    assert response.status_code == 422
