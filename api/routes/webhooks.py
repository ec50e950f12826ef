"""The tenant's webhook signing secret: read and rotate."""

from datetime import datetime

import structlog
from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import ServicesDep, TenantDep
from connectors.verification.settings import VerificationSettings
from connectors.webhook_secrets import (
    WebhookSecret,
    get_or_create_secret,
    rotate_secret,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
log = structlog.get_logger(__name__)


class WebhookSecretPublic(BaseModel):
    secret: str = Field(
        description="Standard Webhooks secret (whsec_ and base64) that signs "
        "every callback to this tenant."
    )
    created_at: datetime
    rotated_at: datetime | None = Field(
        description="Time of the last rotation, or null if never rotated."
    )
    previous_secret_valid_until: datetime | None = Field(
        description="Until this time, callbacks also carry a signature under the "
        "secret from before the last rotation."
    )


def _public(secret: WebhookSecret) -> WebhookSecretPublic:
    return WebhookSecretPublic(
        secret=secret.secret,
        created_at=secret.created_at,
        rotated_at=secret.rotated_at,
        previous_secret_valid_until=secret.previous_valid_until
        if secret.previous_secrets
        else None,
    )


@router.get("/secret", response_model=WebhookSecretPublic)
async def read_webhook_secret(
    services: ServicesDep, tenant: TenantDep
) -> WebhookSecretPublic:
    """Return the secret that signs your callbacks, creating it on first call.

    Verify each callback with it, for example with the `standardwebhooks`
    package: `Webhook(secret).verify(body, headers)`.
    """
    async with services.pool.connection() as conn:
        secret = await get_or_create_secret(conn, services.fernet, tenant.tenant_id)
    return _public(secret)


@router.post("/secret/rotate", response_model=WebhookSecretPublic)
async def rotate_webhook_secret(
    services: ServicesDep, tenant: TenantDep
) -> WebhookSecretPublic:
    """Replace the signing secret and return the new one.

    For a grace period (TIDINGS_VERIFY_WEBHOOK_SECRET_GRACE_SECONDS, one day
    by default) each callback carries two signatures, one under each
    secret, so receivers can switch to the new secret without rejecting a
    callback.
    """
    grace = VerificationSettings().webhook_secret_grace_seconds
    async with services.pool.connection() as conn:
        secret = await rotate_secret(conn, services.fernet, tenant.tenant_id, grace)
    log.info("webhook_secret_rotated", tenant_id=tenant.tenant_id)
    return _public(secret)
