"""Tenants and their API keys."""

import hashlib
import re
import secrets
import uuid

import psycopg

KEY_PREFIX = "tdk_"
TENANT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{1,62}$")


class TenantError(ValueError):
    """A tenant name is invalid or already taken."""


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def tenant_id_for(name: str) -> str:
    # Stable ids let the local stack and tests recreate a tenant by name.
    return "tnt_" + uuid.uuid5(uuid.NAMESPACE_URL, f"tidings:tenant:{name}").hex[:16]


def create_tenant(conn: psycopg.Connection, name: str) -> tuple[str, str]:
    """Create a tenant and its first API key. Returns (tenant_id, api_key)."""
    if not TENANT_NAME.match(name):
        raise TenantError(
            f"invalid tenant name {name!r}: use 2-63 lowercase letters, digits, "
            "'-' or '_', starting with a letter or digit"
        )

    tenant_id = tenant_id_for(name)
    key = new_api_key()
    with conn.transaction():
        inserted = conn.execute(
            "INSERT INTO tenants (tenant_id, name) VALUES (%s, %s) "
            "ON CONFLICT DO NOTHING RETURNING tenant_id",
            (tenant_id, name),
        ).fetchone()
        if inserted is None:
            raise TenantError(f"tenant {name!r} already exists; choose another name")
        conn.execute(
            "INSERT INTO api_keys (key_hash, tenant_id, label) VALUES (%s, %s, %s)",
            (hash_api_key(key), tenant_id, "initial"),
        )
    return tenant_id, key


def ensure_local_tenant(conn: psycopg.Connection, name: str, key_file) -> str:
    """Create the local stack's tenant on first start and keep its key in a file.

    Returns the API key. Later starts reuse the stored key.
    """
    if key_file.exists():
        key = key_file.read_text().strip()
        row = conn.execute(
            "SELECT 1 FROM api_keys WHERE key_hash = %s", (hash_api_key(key),)
        ).fetchone()
        if row is not None:
            return key

    tenant_id = tenant_id_for(name)
    key = new_api_key()
    with conn.transaction():
        conn.execute(
            "INSERT INTO tenants (tenant_id, name) VALUES (%s, %s) "
            "ON CONFLICT DO NOTHING",
            (tenant_id, name),
        )
        conn.execute(
            "INSERT INTO api_keys (key_hash, tenant_id, label) VALUES (%s, %s, %s)",
            (hash_api_key(key), tenant_id, "local"),
        )
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    return key
