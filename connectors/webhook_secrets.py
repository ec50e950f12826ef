"""Per-tenant webhook signing secrets, stored as Fernet tokens in Postgres.

A tenant's secret is created the first time it is needed: when the tenant
reads it, or when a callback is about to be signed. Rotation keeps the old
secret for a grace period, during which deliveries carry a signature under
each secret, so receivers can switch without rejecting a delivery.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.fernet import Fernet
from psycopg import AsyncConnection

from connectors.secrets import decrypt_secret, encrypt_secret
from connectors.verification.webhooks import generate_secret


@dataclass(frozen=True)
class WebhookSecret:
    """A tenant's current secret, and the previous one while it is still valid."""

    tenant_id: str
    secret: str
    created_at: datetime
    rotated_at: datetime | None
    previous_secret: str | None
    previous_valid_until: datetime | None

    @property
    def previous_secrets(self) -> tuple[str, ...]:
        """Return the old secret while its grace period lasts, else nothing."""
        if self.previous_secret is None or self.previous_valid_until is None:
            return ()
        now = datetime.now(self.previous_valid_until.tzinfo)
        if now >= self.previous_valid_until:
            return ()
        return (self.previous_secret,)


_SELECT = (
    "SELECT tenant_id, secret_token, created_at, rotated_at, "
    "previous_secret_token, previous_valid_until FROM webhook_secrets "
    "WHERE tenant_id = %s"
)


def _decode(fernet: Fernet, row: tuple) -> WebhookSecret:
    previous = decrypt_secret(fernet, row[4]) if row[4] is not None else None
    return WebhookSecret(
        tenant_id=row[0],
        secret=decrypt_secret(fernet, row[1]),
        created_at=row[2],
        rotated_at=row[3],
        previous_secret=previous,
        previous_valid_until=row[5],
    )


async def get_or_create_secret(
    conn: AsyncConnection, fernet: Fernet, tenant_id: str
) -> WebhookSecret:
    """Return the tenant's secret, creating it on first use.

    Two callers that create it at once both get the one that was stored,
    because the insert does nothing when a row exists.
    """
    row = await (await conn.execute(_SELECT, (tenant_id,))).fetchone()
    if row is None:
        token = encrypt_secret(fernet, generate_secret())
        await conn.execute(
            "INSERT INTO webhook_secrets (tenant_id, secret_token) VALUES (%s, %s) "
            "ON CONFLICT (tenant_id) DO NOTHING",
            (tenant_id, token),
        )
        row = await (await conn.execute(_SELECT, (tenant_id,))).fetchone()
    assert row is not None
    return _decode(fernet, row)


async def rotate_secret(
    conn: AsyncConnection, fernet: Fernet, tenant_id: str, grace_seconds: float
) -> WebhookSecret:
    """Replace the tenant's secret; the old one signs too for `grace_seconds`."""
    await get_or_create_secret(conn, fernet, tenant_id)
    token = encrypt_secret(fernet, generate_secret())
    await conn.execute(
        "UPDATE webhook_secrets SET previous_secret_token = secret_token, "
        "previous_valid_until = now() + %s, secret_token = %s, rotated_at = now() "
        "WHERE tenant_id = %s",
        (timedelta(seconds=grace_seconds), token, tenant_id),
    )
    row = await (await conn.execute(_SELECT, (tenant_id,))).fetchone()
    assert row is not None
    return _decode(fernet, row)
