"""The API's Postgres pools survive closed connections, and searches that
wait on a lock leave every other request its own connections."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pytest

from tests.integration.catalog_helpers import wait_until
from tests.stack import Stack
from tidings.settings import Settings
from tidings.tenants import create_tenant

pytestmark = pytest.mark.integration

HUNG_SEARCHES = 10
# The test stack keeps the default TIDINGS_API_READ_CONNECTIONS.
READ_CONNECTIONS = Settings.model_fields["api_read_connections"].default

WAITING_SEARCHES_SQL = """
SELECT count(*) FROM pg_stat_activity
WHERE application_name = 'tidings-api-search' AND wait_event_type = 'Lock'
"""


def _client(stack: Stack) -> httpx.Client:
    with psycopg.connect(stack.database_url) as conn:
        _, key = create_tenant(conn, f"pools-{uuid.uuid4().hex[:10]}")
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.Client(base_url=stack.api_url, headers=headers, timeout=60)


def test_closed_connections_replaced(stack: Stack, db: psycopg.Connection) -> None:
    with _client(stack) as client:
        assert client.get("/v1/search/products", params={"q": "pool"}).is_success
        assert client.get("/v1/documents").is_success

        (closed,) = db.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name LIKE 'tidings-api%'"
        ).fetchone()
        assert closed > 0

        for _ in range(5):
            search = client.get("/v1/search/products", params={"q": "pool"})
            assert search.status_code == 200, search.text
        documents = client.get("/v1/documents")
        assert documents.status_code == 200, documents.text


def _concurrent_gets(client: httpx.Client, paths: list[tuple[str, dict]]) -> list[int]:
    with ThreadPoolExecutor(len(paths)) as executor:
        replies = executor.map(lambda item: client.get(item[0], params=item[1]), paths)
        return [reply.status_code for reply in replies]


def test_every_closed_read_connection_replaced(
    stack: Stack, db: psycopg.Connection
) -> None:
    # The read pool lends connections untested and retries a search or a
    # recommendation on another connection when Postgres had closed its own.
    searches = [("/v1/search/products", {"q": f"pool {i}"}) for i in range(16)]
    recommendation = ("/v1/recommendations", {"session_id": "pool-session"})
    with _client(stack) as client:
        assert _concurrent_gets(client, searches) == [200] * len(searches)
        (open_before,) = db.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE application_name = 'tidings-api-search'"
        ).fetchone()
        assert open_before > 1, "the searches never used more than one connection"

        (closed,) = db.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'tidings-api-search'"
        ).fetchone()
        assert closed == open_before

        statuses = _concurrent_gets(client, [*searches, recommendation])
    assert statuses == [200] * (len(searches) + 1)


def test_hung_searches_leave_other_routes(stack: Stack, db: psycopg.Connection) -> None:
    statuses: list[int] = []

    def search(client: httpx.Client) -> None:
        statuses.append(
            client.get("/v1/search/products", params={"q": "lock"}).status_code
        )

    with _client(stack) as searcher, psycopg.connect(stack.database_url) as locker:
        locker.execute("LOCK TABLE products IN ACCESS EXCLUSIVE MODE")
        threads = [
            threading.Thread(target=search, args=(searcher,))
            for _ in range(HUNG_SEARCHES)
        ]
        for thread in threads:
            thread.start()
        try:

            def all_waiting() -> bool:
                (waiting,) = db.execute(WAITING_SEARCHES_SQL).fetchone()
                return waiting >= READ_CONNECTIONS

            assert wait_until(all_waiting, timeout=30), "the searches never waited"

            # A new tenant's key is not cached, so its lookup needs Postgres.
            with _client(stack) as other:
                documents = other.get("/v1/documents")
            assert documents.status_code == 200, documents.text
            assert not statuses, "a search finished while the lock was held"
        finally:
            locker.rollback()
            for thread in threads:
                thread.join()

    assert statuses == [200] * HUNG_SEARCHES
