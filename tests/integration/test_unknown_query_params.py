"""Search and recommendation routes reject query parameters they do not declare."""

import httpx
import pytest

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("path", "params", "unknown", "accepted"),
    [
        (
            "/v1/search/products",
            {"q": "shirt", "categry": "Men"},
            "categry",
            "category",
        ),
        ("/v1/search/documents", {"q": "tracing", "limt": "3"}, "limt", "limit"),
        ("/v1/recommendations", {"product_id": "p1", "limt": "3"}, "limt", "limit"),
    ],
)
def test_unknown_query_parameter_rejected(
    api: httpx.Client, path: str, params: dict[str, str], unknown: str, accepted: str
) -> None:
    response = api.get(path, params=params)
    detail = response.json()["detail"]

    assert response.status_code == 422
    assert detail.startswith(f"Unknown query parameter {unknown!r}; {path} accepts ")
    assert accepted in detail.split(" accepts ")[1]


def test_known_query_parameters_accepted(api: httpx.Client) -> None:
    params = {"q": "shirt", "category": "Men", "in_stock": "true", "limit": "5"}

    response = api.get("/v1/search/products", params=params)

    assert response.status_code == 200
