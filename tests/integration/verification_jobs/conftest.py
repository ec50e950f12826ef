"""Fixtures: the scripted provider on the port the test stack's worker calls."""

import time
import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from tests.integration.verification.provider_server import ProviderServer
from tests.integration.verification_jobs.helpers import (
    PROVIDER_CHECKS,
    submit,
    unique_name,
    wait_completed,
)
from tests.stack import PROVIDER_PORT, Stack
from tidings.tenants import create_tenant

HEALTHY_TIMEOUT = 60.0


@pytest.fixture(scope="session")
def provider(stack: Stack) -> Iterator[ProviderServer]:
    server = ProviderServer(PROVIDER_PORT)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def vapi(stack: Stack) -> Iterator[httpx.Client]:
    """Client of a fresh tenant for one test module."""
    with psycopg.connect(stack.database_url) as conn:
        _, key = create_tenant(conn, f"t-verify-{uuid.uuid4().hex[:8]}")
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=60) as client:
        yield client


@pytest.fixture()
def healthy(provider: ProviderServer, vapi: httpx.Client) -> ProviderServer:
    """Wait until both providers respond, so their circuit breakers are closed
    and an earlier test's failures do not count toward this test's."""
    deadline = time.monotonic() + HEALTHY_TIMEOUT
    while time.monotonic() < deadline:
        job_id = submit(vapi, unique_name("health"), PROVIDER_CHECKS)
        job = wait_completed(vapi, [job_id])[job_id]
        if job["verdict"] == "pass":
            return provider
        time.sleep(0.5)
    raise AssertionError(f"the providers did not recover: {job}")
