"""503 for a request that waited too long for a Postgres connection."""

import structlog
from fastapi import Request
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout

log = structlog.get_logger(__name__)

RETRY_AFTER_SECONDS = 5
POOL_BUSY_DETAIL = (
    "All database connections of this API process are busy; "
    f"retry in {RETRY_AFTER_SECONDS} seconds"
)


async def pool_timeout_response(request: Request, exc: PoolTimeout) -> JSONResponse:
    """Return 503 with Retry-After, because every pooled connection stayed
    busy (for example with searches that wait on a lock) and a retry can work."""
    log.warning(
        "database_pool_timeout",
        path=request.url.path,
        tenant_id=getattr(request.state, "tenant_id", None),
        error=str(exc),
    )
    return JSONResponse(
        status_code=503,
        content={"detail": POOL_BUSY_DETAIL},
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
