"""Helpers for catalog tests: tenants of their own and waiting for the stage."""

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import psycopg

from tests.stack import Stack
from tidings.tenants import create_tenant, hash_api_key


@contextmanager
def new_tenant(stack: Stack, prefix: str) -> Iterator[httpx.Client]:
    """Yield an API client of a new tenant that owns nothing yet."""
    with psycopg.connect(stack.database_url) as conn:
        _, key = create_tenant(conn, f"{prefix}-{uuid.uuid4().hex[:8]}")
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=120) as client:
        yield client


def post_products(api: httpx.Client, products: list[dict[str, Any]]) -> None:
    """Upsert products in batches and fail unless each batch is accepted."""
    for start in range(0, len(products), 500):
        response = api.post("/v1/catalog/products", json=products[start : start + 500])
        assert response.status_code == 202, response.text


def stored_version(api: httpx.Client, product_id: str) -> int | None:
    response = api.get(f"/v1/catalog/products/{product_id}")
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return int(response.json()["version"])


def wait_until(check: Callable[[], bool], timeout: float = 120.0) -> bool:
    """Poll `check` until it is true or the timeout passes; return its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.3)
    return check()


def wait_for_versions(
    api: httpx.Client, versions: dict[str, int | None], timeout: float = 180.0
) -> bool:
    """Wait until each product has its expected version (None: absent)."""
    pending = dict(versions)

    def settled() -> bool:
        for product_id, version in list(pending.items()):
            if stored_version(api, product_id) == version:
                del pending[product_id]
        return not pending

    return wait_until(settled, timeout)


def wait_for_products(
    api: httpx.Client, product_ids: list[str], timeout: float = 180.0
) -> bool:
    """Wait until each product exists, whatever its version."""
    return wait_until(
        lambda: all(stored_version(api, pid) is not None for pid in product_ids),
        timeout,
    )


def search(api: httpx.Client, **params: Any) -> dict[str, Any]:
    response = api.get("/v1/search/products", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def hit_ids(body: dict[str, Any]) -> list[str]:
    return [hit["product_id"] for hit in body["hits"]]


def tenant_id_of(stack: Stack, api: httpx.Client) -> str:
    """Return the tenant id behind a client's API key."""
    key = api.headers["Authorization"].removeprefix("Bearer ")
    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute(
            "SELECT tenant_id FROM api_keys WHERE key_hash = %s", (hash_api_key(key),)
        ).fetchone()
    assert row is not None
    return str(row[0])


def count_rows(stack: Stack, table: str, tenant_id: str) -> int:
    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute(
            f"SELECT count(*) FROM {table} WHERE tenant_id = %s", (tenant_id,)
        ).fetchone()
    return int(row[0]) if row else 0
