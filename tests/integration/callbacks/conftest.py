"""Fixtures: a fresh tenant per test and webhook receivers on 127.0.0.1."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import psycopg
import pytest

from tests.integration.verification.servers import Reply, ScriptedServer
from tests.stack import Stack
from tidings.tenants import create_tenant

StartReceiver = Callable[..., Awaitable[ScriptedServer]]


@dataclass
class TenantClient:
    tenant_id: str
    api_key: str
    http: httpx.Client


@contextmanager
def new_tenant(stack: Stack) -> Iterator[TenantClient]:
    with psycopg.connect(stack.database_url) as conn:
        tenant_id, key = create_tenant(conn, f"cb-{uuid.uuid4().hex[:10]}")
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=30) as client:
        yield TenantClient(tenant_id=tenant_id, api_key=key, http=client)


@pytest.fixture()
def tenant(stack: Stack) -> Iterator[TenantClient]:
    """A new tenant, so counts of rows and events are this test's own."""
    with new_tenant(stack) as client:
        yield client


@pytest.fixture()
def other_tenant(stack: Stack) -> Iterator[TenantClient]:
    """A second new tenant, for isolation checks."""
    with new_tenant(stack) as client:
        yield client


@pytest.fixture()
async def start_receiver() -> AsyncIterator[StartReceiver]:
    """Start scripted webhook receivers; all of them stop when the test ends."""
    receivers: list[ScriptedServer] = []

    async def start(default: Reply | None = None) -> ScriptedServer:
        receiver = ScriptedServer(default)
        await receiver.start()
        receivers.append(receiver)
        return receiver

    yield start
    for receiver in receivers:
        await receiver.stop()
