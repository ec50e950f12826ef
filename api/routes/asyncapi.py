"""The AsyncAPI document of Tidings' topics, served next to the OpenAPI one."""

from functools import lru_cache
from typing import Any

from fastapi import APIRouter

from api.deps import ServicesDep
from tidings.history.asyncapi import build_document

router = APIRouter(tags=["docs"])


@lru_cache(maxsize=4)
def _cached_document(bootstrap: str, partitions: int, replicas: int) -> dict[str, Any]:
    return build_document(bootstrap, partitions=partitions, replicas=replicas)


@router.get("/asyncapi.json", include_in_schema=False)
async def read_asyncapi(services: ServicesDep) -> dict[str, Any]:
    """AsyncAPI 3.0 document: every topic, its key, headers and payload schema.

    Like /openapi.json it needs no API key, because it describes the contract
    and contains no tenant data.
    """
    settings = services.settings
    return _cached_document(
        settings.resolved_kafka_bootstrap(),
        settings.topic_partitions,
        settings.topic_replication,
    )
