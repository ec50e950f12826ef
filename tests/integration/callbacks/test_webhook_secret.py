"""The tenant's webhook secret over HTTP: created once, per tenant, rotatable."""

import httpx
import psycopg
import pytest

from tests.integration.callbacks.conftest import TenantClient
from tests.stack import Stack

pytestmark = pytest.mark.integration


def test_secret_created_once(tenant: TenantClient) -> None:
    first = tenant.http.get("/v1/webhooks/secret")
    second = tenant.http.get("/v1/webhooks/secret")

    assert first.status_code == 200
    assert first.json()["secret"].startswith("whsec_")
    assert second.json() == first.json()
    assert first.json()["rotated_at"] is None


def test_secret_per_tenant(tenant: TenantClient, api: httpx.Client) -> None:
    mine = tenant.http.get("/v1/webhooks/secret").json()["secret"]
    theirs = api.get("/v1/webhooks/secret").json()["secret"]

    assert mine != theirs


def test_secret_stored_encrypted(tenant: TenantClient, db: psycopg.Connection) -> None:
    secret = tenant.http.get("/v1/webhooks/secret").json()["secret"]
    stored = db.execute(
        "SELECT secret_token FROM webhook_secrets WHERE tenant_id = %s",
        (tenant.tenant_id,),
    ).fetchone()

    assert stored is not None
    assert secret not in stored[0]
    assert secret.removeprefix("whsec_") not in stored[0]


def test_rotation_replaces_secret(tenant: TenantClient) -> None:
    before = tenant.http.get("/v1/webhooks/secret").json()
    rotated = tenant.http.post("/v1/webhooks/secret/rotate")
    after = tenant.http.get("/v1/webhooks/secret").json()

    assert rotated.status_code == 200
    assert rotated.json()["secret"] != before["secret"]
    assert after["secret"] == rotated.json()["secret"]
    assert after["rotated_at"] is not None


def test_secret_needs_api_key(stack: Stack) -> None:
    response = httpx.get(f"{stack.api_url}/v1/webhooks/secret")

    assert response.status_code == 401
