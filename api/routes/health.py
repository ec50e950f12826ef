"""Liveness and readiness probes."""

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import ServicesDep
from connectors.kafka_admin import broker_reachable

router = APIRouter(tags=["health"])

# A worker counts as ready if it reported within this many seconds.
WORKER_FRESH_SECONDS = 30


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Report that the API process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(services: ServicesDep) -> JSONResponse:
    """Kafka, Postgres and at least one worker are ready; 503 lists what is not."""
    checks: dict[str, str] = {}

    bootstrap = services.settings.resolved_kafka_bootstrap()
    kafka_up = await asyncio.to_thread(broker_reachable, bootstrap, 2.0)
    checks["kafka"] = "ok" if kafka_up else f"unreachable at {bootstrap}"

    try:
        async with services.pool.connection(timeout=2.0) as conn:
            row = await (
                await conn.execute(
                    "SELECT count(*) FROM worker_heartbeats "
                    "WHERE seen_at > now() - make_interval(secs => %s)",
                    (WORKER_FRESH_SECONDS,),
                )
            ).fetchone()
        checks["postgres"] = "ok"
        workers = row[0] if row else 0
        checks["workers"] = "ok" if workers else "no worker reported in the last 30 s"
    except Exception as exc:  # any failure here means "not ready", never a 500
        checks["postgres"] = f"unavailable: {type(exc).__name__}"
        checks["workers"] = "unknown"

    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ready" if ready else "not_ready", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)
