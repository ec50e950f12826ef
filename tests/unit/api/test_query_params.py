"""Rejection of query parameters a route does not declare."""

from typing import Annotated

import pytest
from fastapi import Depends, FastAPI, Query
from fastapi.testclient import TestClient

from api.query_params import reject_unknown_query_params


def _paging(offset: int = 0) -> int:
    return offset


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()

    @app.get("/items", dependencies=[Depends(reject_unknown_query_params)])
    def read_items(
        q: str = "",
        category: Annotated[list[str], Query()] = [],  # noqa: B006
        in_stock: Annotated[bool, Query(alias="in-stock")] = False,
        offset: Annotated[int, Depends(_paging)] = 0,
    ) -> dict[str, int]:
        return {"offset": offset}

    return TestClient(app)


def test_declared_parameters_accepted(client: TestClient) -> None:
    url = "/items?q=shirt&category=Men&category=Women&in-stock=true&offset=2"
    response = client.get(url)

    assert response.status_code == 200
    assert response.json() == {"offset": 2}


def test_unknown_parameter_named(client: TestClient) -> None:
    response = client.get("/items?q=shirt&categry=Men")

    assert response.status_code == 422
    assert response.json()["detail"] == (
        "Unknown query parameter 'categry'; /items accepts q, category, "
        "in-stock, offset. Check the spelling"
    )


def test_several_unknown_parameters_named(client: TestClient) -> None:
    response = client.get("/items?limt=3&in_stock=true&limt=4")

    assert response.status_code == 422
    assert response.json()["detail"].startswith(
        "Unknown query parameters 'limt', 'in_stock';"
    )
