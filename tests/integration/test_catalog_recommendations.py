"""Recommendations end to end on a small catalog whose correct results are known:
similar items by embedding, and co-occurrence lists built by the interaction
stage from sessions posted to /v1/interactions."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.catalog_helpers import (
    count_rows,
    new_tenant,
    post_products,
    tenant_id_of,
    wait_for_versions,
    wait_until,
)
from tests.stack import Stack

pytestmark = pytest.mark.integration

PRODUCTS = [
    {"product_id": "hoodie-a", "title": "Wool pullover hoodie, black", "stock": 5},
    {"product_id": "hoodie-b", "title": "Fleece zip hoodie, grey", "stock": 5},
    {"product_id": "hoodie-c", "title": "Cotton hoodie with pockets", "stock": 0},
    {"product_id": "mug-a", "title": "Ceramic coffee mug", "stock": 5},
    {"product_id": "mug-b", "title": "Enamel camping mug", "stock": 5},
    {"product_id": "laptop", "title": "13 inch laptop computer", "stock": 5},
]

# (session, user, kind, product, interaction id)
INTERACTIONS = [
    ("s1", "u1", "purchase", "hoodie-a", "i1"),
    ("s1", "u1", "purchase", "mug-a", "i2"),
    ("s2", "u2", "purchase", "hoodie-a", "i3"),
    ("s2", "u2", "purchase", "mug-a", "i4"),
    ("s3", "u3", "purchase", "hoodie-a", "i5"),
    ("s3", "u3", "purchase", "mug-b", "i6"),
    ("s4", "u4", "view", "hoodie-a", "i7"),
    ("s4", "u4", "view", "laptop", "i8"),
    ("s4", "u4", "click", "hoodie-a", "i9"),
    ("s5", "u5", "view", "hoodie-a", "i10"),
    ("s5", "u5", "add_to_cart", "laptop", "i11"),
]


def interaction(row: tuple[str, str, str, str, str]) -> dict[str, str]:
    session, user, kind, product, interaction_id = row
    return {
        "session_id": session,
        "user_id": user,
        "kind": kind,
        "product_id": product,
        "interaction_id": interaction_id,
    }


def recommend(api: httpx.Client, **params: Any) -> dict[str, Any]:
    response = api.get("/v1/recommendations", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["product_id"] for item in items]


@pytest.fixture(scope="module")
def store(stack: Stack) -> Iterator[httpx.Client]:
    """A tenant with PRODUCTS and INTERACTIONS, both fully processed."""
    with new_tenant(stack, "recs") as api:
        post_products(api, [{**p, "version": 1} for p in PRODUCTS])
        assert wait_for_versions(api, {p["product_id"]: 1 for p in PRODUCTS})

        rows = [interaction(row) for row in INTERACTIONS]
        # The repeated purchase must not count twice.
        rows.append(interaction(("s3", "u3", "purchase", "mug-b", "i6")))
        # Same session, so same partition: once the marker is stored, the
        # repeated purchase before it has been processed too.
        rows.append(interaction(("s3", "u3", "view", "laptop", "marker")))
        response = api.post("/v1/interactions", json=rows)
        assert response.status_code == 202, response.text

        tenant_id = tenant_id_of(stack, api)
        assert wait_until(
            lambda: (
                count_rows(stack, "interactions", tenant_id) == len(INTERACTIONS) + 1
            )
        ), "interactions were not processed"
        yield api


def test_similar_excludes_product_itself(store: httpx.Client) -> None:
    similar = ids(recommend(store, product_id="hoodie-a")["similar"])

    assert "hoodie-a" not in similar


def test_similar_ranks_same_kind_first(store: httpx.Client) -> None:
    similar = ids(recommend(store, product_id="hoodie-a")["similar"])

    assert similar[0] == "hoodie-b"


def test_similar_excludes_out_of_stock(store: httpx.Client) -> None:
    similar = ids(recommend(store, product_id="hoodie-a")["similar"])

    assert "hoodie-c" not in similar


def test_similar_includes_out_of_stock_on_request(store: httpx.Client) -> None:
    body = recommend(store, product_id="hoodie-a", include_out_of_stock=True)

    assert set(ids(body["similar"])[:2]) == {"hoodie-b", "hoodie-c"}


def test_bought_together_order(store: httpx.Client) -> None:
    bought = recommend(store, product_id="hoodie-a")["bought_together"]

    assert ids(bought) == ["mug-a", "mug-b"]
    assert [item["score"] for item in bought] == [2.0, 1.0]


def test_bought_together_is_symmetric(store: httpx.Client) -> None:
    bought = recommend(store, product_id="mug-a")["bought_together"]

    assert ids(bought) == ["hoodie-a"]


def test_viewed_together_counts_sessions(store: httpx.Client) -> None:
    viewed = recommend(store, product_id="hoodie-a")["viewed_together"]

    assert ids(viewed) == ["laptop"]
    assert viewed[0]["score"] == 2.0


def test_session_recommendations(store: httpx.Client) -> None:
    body = recommend(store, session_id="s4")

    assert "hoodie-a" not in ids(body["similar"])
    assert "laptop" not in ids(body["similar"])
    assert ids(body["bought_together"]) == ["mug-a", "mug-b"]


def test_user_recommendations(store: httpx.Client) -> None:
    body = recommend(store, user_id="u1")

    assert ids(body["similar"])[0] in {"hoodie-b", "mug-b"}
    assert ids(body["bought_together"]) == ["mug-b"]


def test_unknown_session_is_empty(store: httpx.Client) -> None:
    body = recommend(store, session_id="nobody")

    assert body["similar"] == []
    assert body["bought_together"] == []


def test_unknown_product(store: httpx.Client) -> None:
    response = store.get("/v1/recommendations", params={"product_id": "nope"})

    assert response.status_code == 404
    assert response.json()["detail"] == "Product nope not found"


def test_subject_required(store: httpx.Client) -> None:
    response = store.get("/v1/recommendations")

    assert response.status_code == 422
    assert response.json()["detail"] == (
        "Pass exactly one of product_id, session_id or user_id"
    )


def test_invalid_interaction_kind(store: httpx.Client) -> None:
    response = store.post(
        "/v1/interactions",
        json={"session_id": "s", "kind": "like", "product_id": "mug-a"},
    )

    assert response.status_code == 422
