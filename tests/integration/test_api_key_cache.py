"""API keys found active are trusted for a while; revoked and unknown keys
are looked up again on every request."""

import uuid

import httpx
import psycopg
import pytest

from api.api_keys import Tenant, TenantLookup
from connectors.postgres import open_pool
from tests.integration.catalog_helpers import wait_until
from tests.stack import Stack
from tidings.tenants import create_tenant, hash_api_key

pytestmark = pytest.mark.integration


def _new_key(stack: Stack) -> tuple[str, str, str]:
    name = f"keys-{uuid.uuid4().hex[:10]}"
    with psycopg.connect(stack.database_url) as conn:
        tenant_id, key = create_tenant(conn, name)
    return tenant_id, name, key


def _revoke(stack: Stack, key: str) -> None:
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE api_keys SET revoked_at = now() WHERE key_hash = %s",
            (hash_api_key(key),),
        )


async def test_active_key_trusted_until_expiry(stack: Stack) -> None:
    tenant_id, name, key = _new_key(stack)
    now = [1000.0]
    pool = await open_pool(stack.database_url, max_size=1, autocommit=True)
    try:
        lookup = TenantLookup(pool, 5.0, clock=lambda: now[0])
        assert await lookup.find(key) == Tenant(tenant_id=tenant_id, name=name)

        _revoke(stack, key)
        now[0] += 4.9
        assert await lookup.find(key) == Tenant(tenant_id=tenant_id, name=name)
        now[0] += 0.2
        assert await lookup.find(key) is None
        now[0] -= 10
        assert await lookup.find(key) is None, "a revoked key was remembered"
    finally:
        await pool.close()


async def test_zero_ttl_sees_revocation_at_once(stack: Stack) -> None:
    _, _, key = _new_key(stack)
    pool = await open_pool(stack.database_url, max_size=1, autocommit=True)
    try:
        lookup = TenantLookup(pool, 0.0)
        assert await lookup.find(key) is not None
        _revoke(stack, key)
        assert await lookup.find(key) is None
    finally:
        await pool.close()


def test_api_rejects_revoked_key(stack: Stack) -> None:
    _, _, key = _new_key(stack)
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=30) as client:

        def status() -> int:
            return client.get("/v1/search/products", params={"q": "key"}).status_code

        assert status() == 200
        _revoke(stack, key)
        # The test stack keeps the default of 5 seconds. The longer wait
        # allows for a loaded machine.
        assert wait_until(lambda: status() == 401, timeout=60)
