"""FastAPI dependencies: services opened at start-up and the caller's tenant."""

from dataclasses import dataclass
from typing import Annotated

from cryptography.fernet import Fernet
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg_pool import AsyncConnectionPool

from api.api_keys import Tenant, TenantLookup
from connectors.embedder import Embedder
from connectors.kafka_producer import EventProducer
from connectors.objectstore import ObjectStore
from tidings.settings import Settings


@dataclass
class Services:
    settings: Settings
    pool: AsyncConnectionPool
    # Autocommit connections for searches and recommendations, so that slow
    # searches cannot take the connections that every other request needs.
    read_pool: AsyncConnectionPool
    tenants: TenantLookup
    producer: EventProducer
    store: ObjectStore
    fernet: Fernet
    embedder: Embedder


# The dependencies are coroutines although they do not wait: FastAPI would
# run a plain function on a worker thread, a hand-over that costs more than
# the function.
async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]

_bearer = HTTPBearer(auto_error=False)


async def get_tenant(
    request: Request,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Tenant:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="Missing API key: send the header Authorization: Bearer <key>",
            headers={"WWW-Authenticate": "Bearer"},
        )

    tenant = await services.tenants.find(credentials.credentials)
    if tenant is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="Invalid API key",
            headers={"WWW-Authenticate": "Bearer"},
        )

    # The access log reads it from the request's state.
    request.state.tenant_id = tenant.tenant_id
    return tenant


TenantDep = Annotated[Tenant, Depends(get_tenant)]
