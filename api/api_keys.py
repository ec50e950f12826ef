"""The tenant that owns an API key, looked up in Postgres and remembered
briefly.

Every request needs its tenant. Looking the key up each time took a pool
connection and a round trip. A key found active is trusted for
`auth_cache_seconds`. A key revoked in Postgres (api_keys.revoked_at) thus
keeps working in a running API process for at most that long. Unknown and
revoked keys are never remembered, so a new key works at once.
"""

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from tidings.tenants import hash_api_key

MAX_KEYS = 10_000


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    name: str


async def query_tenant(pool: AsyncConnectionPool, key_hash: str) -> Tenant | None:
    """Return the tenant that owns an active key with this hash, or None."""
    async with pool.connection() as conn:
        cursor = await conn.execute(
            "SELECT t.tenant_id, t.name FROM api_keys k "
            "JOIN tenants t USING (tenant_id) "
            "WHERE k.key_hash = %s AND k.revoked_at IS NULL",
            (key_hash,),
        )
        row = await cursor.fetchone()
    if row is None:
        return None
    return Tenant(tenant_id=row[0], name=row[1])


class TenantLookup:
    """Finds the tenant of an API key, remembering active keys for a while."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pool = pool
        self._ttl = ttl_seconds
        self._clock = clock
        # key hash -> (tenant, time after which it must be looked up again)
        self._known: OrderedDict[str, tuple[Tenant, float]] = OrderedDict()

    async def find(self, api_key: str) -> Tenant | None:
        key_hash = hash_api_key(api_key)
        known = self._known.get(key_hash)
        if known is not None and self._clock() < known[1]:
            return known[0]

        tenant = await query_tenant(self._pool, key_hash)
        if tenant is None or self._ttl <= 0:
            self._known.pop(key_hash, None)
            return tenant

        self._known[key_hash] = (tenant, self._clock() + self._ttl)
        self._known.move_to_end(key_hash)
        while len(self._known) > MAX_KEYS:
            self._known.popitem(last=False)
        return tenant
