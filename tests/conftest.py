"""Shared fixtures. Integration tests share one test stack per session."""

from collections.abc import Iterator

import httpx
import psycopg
import pytest

from tests.stack import Stack, fresh_tenant, start_stack, stop_stack


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    running = start_stack()
    try:
        yield running
    finally:
        stop_stack(running.process)


@pytest.fixture(scope="session")
def api(stack: Stack) -> Iterator[httpx.Client]:
    """Client of the demo tenant."""
    headers = {"Authorization": f"Bearer {stack.api_key}"}
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=60) as client:
        yield client


@pytest.fixture()
def other_tenant_api(stack: Stack) -> Iterator[httpx.Client]:
    """Client of a fresh tenant that owns nothing yet."""
    with fresh_tenant(stack) as client:
        yield client


@pytest.fixture()
def db(stack: Stack) -> Iterator[psycopg.Connection]:
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        yield conn
