"""`tidings rebuild` after crawls: the rebuilt crawl, document and chunk
tables equal the live ones after a first crawl, an edit and a page deletion.

A deleted page loses its chunks and its document row live, so a rebuild
must replay the page's removal instead of bringing its chunks back.
"""

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from schemas.topics import TOPICS
from streams.app import APP_ID
from streams.chunk_indexes import CHUNK_INDEXES
from streams.tenant_indexes import build_tenant_index
from tests.corpus import require_corpus
from tests.integration.history_helpers import wait_caught_up
from tests.integration.site_helpers import start_crawl, wait_settled
from tests.site_server import build_site, serve, write_about
from tests.stack import Stack
from tidings.history.rebuild import RebuildReport, rebuild_view
from tidings.history.views import load_views
from tidings.settings import Settings
from tidings.tenants import create_tenant

pytestmark = pytest.mark.integration

EDITED_PHRASE = "Tidings ferry crews chart the sandbanks after every storm"


@pytest.fixture(scope="module")
def settings(stack: Stack) -> Settings:
    return Settings(
        data_dir=stack.data_dir,
        kafka_bootstrap=stack.kafka_bootstrap,
        database_url=stack.database_url,
        topic_partitions=2,
    )


def chunk_count(db: psycopg.Connection, tenant_id: str, document_id: str) -> int:
    row = db.execute(
        "SELECT count(*) FROM document_chunks WHERE tenant_id = %s "
        "AND document_id = %s",
        (tenant_id, document_id),
    ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture(scope="module")
def site(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Crawl a local site as a fresh tenant three times: first, after an edit
    and after deleting a page. Then wait until the workers are idle."""
    require_corpus()
    root = tmp_path_factory.mktemp("rebuilt-site")
    routes = build_site(root)
    with psycopg.connect(stack.database_url, autocommit=True) as db:
        tenant_id, key = create_tenant(db, f"t-sites-{uuid.uuid4().hex[:8]}")
        headers = {"Authorization": f"Bearer {key}"}
        with (
            serve(root, routes) as server,
            httpx.Client(base_url=stack.api_url, headers=headers, timeout=60) as api,
        ):
            start = f"{server.base_url}/index.html"
            crawls = [wait_settled(api, start_crawl(api, start)["crawl_id"])]
            guide = db.execute(
                "SELECT document_id FROM site_pages WHERE tenant_id = %s "
                "AND url LIKE '%%/docs/guide.html'",
                (tenant_id,),
            ).fetchone()
            assert guide is not None

            write_about(root, EDITED_PHRASE)
            crawls.append(wait_settled(api, start_crawl(api, start)["crawl_id"]))
            (root / "docs" / "guide.html").unlink()
            crawls.append(wait_settled(api, start_crawl(api, start)["crawl_id"]))

        topics = [spec.name for spec in TOPICS if spec.consumed_by]
        wait_caught_up(stack, APP_ID, topics, timeout=120)
        yield {
            "tenant_id": tenant_id,
            "api_key": key,
            "guide_id": guide[0],
            "crawls": crawls,
        }


def rebuild(settings: Settings, view: str, check: bool) -> RebuildReport:
    return asyncio.run(rebuild_view(load_views()[view], settings, check=check))


def test_crawls_edited_and_removed(site: dict[str, Any]) -> None:
    first, edited, deleted = site["crawls"]

    assert first["changed"] >= 5
    assert edited["changed"] == 1
    assert deleted["removed"] == 1


def test_sites_check_equal(
    settings: Settings, site: dict[str, Any], db: psycopg.Connection
) -> None:
    report = rebuild(settings, "sites", check=True)
    pages = db.execute(
        "SELECT count(*) FROM site_pages WHERE document_id = %s", (site["guide_id"],)
    ).fetchone()

    assert report.equal, report.tables
    assert {table.table for table in report.tables} == {"site_crawls", "site_pages"}
    assert pages == (0,)


def test_documents_check_equal_after_removal(
    settings: Settings, site: dict[str, Any]
) -> None:
    report = rebuild(settings, "documents", check=True)

    assert report.equal, report.tables


def chunk_snapshot(db: psycopg.Connection, tenant_id: str) -> dict[str, tuple]:
    rows = db.execute(
        "SELECT chunk_id, document_id, chunk_index, page, content, search_text::text "
        "FROM document_chunks WHERE tenant_id = %s",
        (tenant_id,),
    ).fetchall()
    return {row[0]: row[1:] for row in rows}


async def build_chunk_index(database_url: str, tenant_id: str) -> str:
    async with await psycopg.AsyncConnection.connect(
        database_url, autocommit=True
    ) as conn:
        return await build_tenant_index(conn, CHUNK_INDEXES, tenant_id)


def test_chunks_rebuild_keeps_removed_page_out(
    settings: Settings,
    stack: Stack,
    site: dict[str, Any],
    db: psycopg.Connection,
) -> None:
    """The swap also carries the tenant's own chunk index over by name."""
    tenant_id = site["tenant_id"]
    index = asyncio.run(build_chunk_index(stack.database_url, tenant_id))
    live = chunk_snapshot(db, tenant_id)
    report = rebuild(settings, "document_chunks", check=False)
    rebuilt = chunk_snapshot(db, tenant_id)
    recorded = db.execute(
        "SELECT vector_index FROM document_chunk_state WHERE tenant_id = %s",
        (tenant_id,),
    ).fetchone()
    indexdef = db.execute(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'document_chunks' "
        "AND indexname = %s",
        (index,),
    ).fetchone()

    assert report.swapped
    assert chunk_count(db, tenant_id, site["guide_id"]) == 0
    assert rebuilt == live
    assert recorded == (index,)
    assert indexdef is not None
    assert f"WHERE (tenant_id = '{tenant_id}'::text)" in indexdef[0]


def test_search_after_rebuild_uses_edited_text(
    stack: Stack, site: dict[str, Any]
) -> None:
    headers = {"Authorization": f"Bearer {site['api_key']}"}
    response = httpx.get(
        f"{stack.api_url}/v1/search/documents",
        params={"q": "ferry crews chart the sandbanks"},
        headers=headers,
        timeout=60,
    )
    hits = response.json()["hits"]

    assert response.status_code == 200
    assert hits[0]["url"].endswith("/about.html")
    assert all(not (hit["url"] or "").endswith("/docs/guide.html") for hit in hits)
