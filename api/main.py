"""The FastAPI application: opens shared services once and mounts the routes."""

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import jieba
import structlog
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from psycopg_pool import PoolTimeout
from starlette.types import Scope

from api.access_log import AccessLog
from api.api_keys import TenantLookup
from api.body_guard import BodyGuard, BodyLimit, KeyCheck
from api.deps import Services
from api.event_hub import EventHub
from api.pool_errors import pool_timeout_response
from api.routes import (
    asyncapi,
    documents,
    events,
    health,
    search,
    sites,
    verifications,
    webhooks,
)
from api.routes.catalog_routers import CATALOG_ROUTERS
from api.routes.documents import MULTIPART_OVERHEAD
from api.validation_errors import validation_error_response
from connectors.embedder import Embedder
from connectors.kafka_producer import EventProducer
from connectors.objectstore import open_object_store
from connectors.postgres import open_pool
from connectors.secrets import load_fernet
from connectors.verification.settings import VerificationSettings
from tidings import __version__
from tidings.settings import Settings, get_settings

log = structlog.get_logger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database_url = settings.resolved_database_url()
        ef_search = settings.catalog_hnsw_ef_search
        pool = await open_pool(
            database_url,
            max_size=10,
            hnsw_ef_search=ef_search,
            application_name="tidings-api",
        )
        read_pool = await open_pool(
            database_url,
            max_size=settings.api_read_connections,
            autocommit=True,
            hnsw_ef_search=ef_search,
            application_name="tidings-api-search",
            # Searches and recommendations run through read_retrying_closed.
            check=False,
        )
        producer = EventProducer(
            settings.resolved_kafka_bootstrap(),
            delivery_timeout_ms=settings.kafka_delivery_timeout_ms,
        )
        embedder = await asyncio.to_thread(
            Embedder, settings.embedding_model, settings.embedding_batch_size
        )
        app.state.services = Services(
            settings=settings,
            pool=pool,
            read_pool=read_pool,
            tenants=TenantLookup(pool, settings.auth_cache_seconds),
            producer=producer,
            store=open_object_store(settings),
            fernet=load_fernet(settings),
            embedder=embedder,
        )
        event_hub = EventHub(
            settings.resolved_kafka_bootstrap(),
            replay_per_tenant=VerificationSettings().events_replay_per_tenant,
        )
        event_hub.start()
        app.state.event_hub = event_hub

        # jieba loads its dictionary on first use, which would stall the first
        # Chinese query. Everything loaded by now (the model, the dictionary)
        # lives as long as the process, so gc.freeze takes it out of the
        # collector's scans. Without it a full collection walked about 550,000
        # such objects and stopped the event loop for about 200 ms (measured
        # once after start-up on the 2-core development machine).
        await asyncio.to_thread(jieba.initialize)
        # Collect first, or garbage of the start-up would be frozen for good.
        gc.collect()
        gc.freeze()
        log.info("api_started", host=settings.api_host, port=settings.api_port)
        yield
        await event_hub.stop()
        producer.close()
        await read_pool.close()
        await pool.close()
        log.info("api_stopped")

    app = FastAPI(
        title="Tidings",
        version=__version__,
        description="Ingestion, verification and search over Kafka event streams.",
        lifespan=lifespan,
    )
    app.add_exception_handler(RequestValidationError, validation_error_response)
    app.add_exception_handler(PoolTimeout, pool_timeout_response)
    app.include_router(health.router)
    app.include_router(asyncapi.router)
    app.include_router(documents.router)
    app.include_router(search.router)
    app.include_router(webhooks.router)
    app.include_router(events.router)
    app.include_router(sites.router)
    app.include_router(verifications.router)
    for catalog_router in CATALOG_ROUTERS:
        app.include_router(catalog_router)

    def key_check(scope: Scope) -> KeyCheck | None:
        services: Services | None = getattr(app.state, "services", None)
        if services is None:
            return None

        async def check(api_key: str) -> bool:
            return await services.tenants.find(api_key) is not None

        return check

    upload_limit = BodyLimit(
        max_bytes=settings.max_upload_bytes,
        margin=MULTIPART_OVERHEAD,
        detail=f"File is larger than the limit of {settings.max_upload_bytes} "
        "bytes (setting TIDINGS_MAX_UPLOAD_BYTES); split it or raise the limit",
    )
    request_limit = BodyLimit(
        max_bytes=settings.max_request_bytes,
        margin=0,
        detail=f"Request body is larger than the limit of "
        f"{settings.max_request_bytes} bytes (setting TIDINGS_MAX_REQUEST_BYTES); "
        "send smaller batches or raise the limit",
    )

    def body_limit(path: str) -> BodyLimit:
        return upload_limit if path.startswith("/v1/documents") else request_limit

    app.add_middleware(
        BodyGuard, prefix="/v1/", body_limit=body_limit, key_is_valid=key_check
    )
    # Added last, so it runs first and times the whole request.
    app.add_middleware(AccessLog)
    return app
