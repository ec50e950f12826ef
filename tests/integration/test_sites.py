"""Website crawls end to end: HTTP -> Kafka -> crawl process -> index stage
-> Postgres -> search, against sites served on loopback by the test."""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from schemas import topics
from schemas.envelope import CloudEvent
from schemas.sites import SiteCrawlRequestedV1
from streams.app import APP_ID
from tests.corpus import require_corpus, require_sites_corpus
from tests.integration.helpers import wait_final
from tests.integration.history_helpers import produce, wait_caught_up
from tests.integration.site_helpers import start_crawl, wait_settled
from tests.site_server import (
    ABOUT_PHRASE,
    GBK_TEXT,
    GUIDE_PHRASE,
    SITE_FAILURES,
    SITE_PAGES,
    SITES_DIR,
    SiteServer,
    build_site,
    corpus_routes,
    serve,
    write_about,
)
from tests.stack import REPO_ROOT, Stack

pytestmark = pytest.mark.integration

EDITED_PHRASE = "Tidings harbour pilots repaint the breakwater beacon each spring"


def page_rows(db: psycopg.Connection, site_id: str) -> dict[str, dict[str, Any]]:
    """Return each page of the site by path: document id, version, attempt."""
    rows = db.execute(
        "SELECT p.url, p.document_id, p.version, d.attempt, d.status, "
        " (SELECT count(*) FROM document_chunks c WHERE c.tenant_id = p.tenant_id "
        "  AND c.document_id = p.document_id) "
        "FROM site_pages p LEFT JOIN documents d "
        " ON d.tenant_id = p.tenant_id AND d.document_id = p.document_id "
        "WHERE p.site_id = %s",
        (site_id,),
    ).fetchall()
    return {
        "/" + url.split("/", 3)[3]: {
            "document_id": document_id,
            "version": version,
            "attempt": attempt,
            "status": status,
            "chunks": chunks,
        }
        for url, document_id, version, attempt, status, chunks in rows
    }


def parsed_events(db: psycopg.Connection, document_id: str) -> int:
    row = db.execute(
        "SELECT count(*) FROM document_events WHERE document_id = %s "
        "AND status = 'parsed'",
        (document_id,),
    ).fetchone()
    assert row is not None
    return int(row[0])


def search(api: httpx.Client, query: str) -> list[dict[str, Any]]:
    response = api.get("/v1/search/documents", params={"q": query, "limit": 5})
    assert response.status_code == 200, response.text
    hits: list[dict[str, Any]] = response.json()["hits"]
    return hits


@pytest.fixture(scope="module")
def site_db(stack: Stack) -> Iterator[psycopg.Connection]:
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, SiteServer]]:
    require_corpus()
    root = tmp_path_factory.mktemp("harbour")
    routes = build_site(root)
    with serve(root, routes) as server:
        yield root, server


@pytest.fixture(scope="module")
def first_crawl(
    api: httpx.Client, site: tuple[Path, SiteServer], stack: Stack
) -> dict[str, Any]:
    _, server = site
    accepted = start_crawl(api, f"{server.base_url}/index.html", max_pages=30)
    return wait_settled(api, accepted["crawl_id"])


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"url": "ftp://127.0.0.1/index.html"}, "scheme 'ftp' is not allowed"),
        ({"url": "http://169.254.169.254/latest/"}, "cloud metadata"),
        ({"url": "http://10.1.2.3/"}, "private address"),
        ({"url": "http://metadata.google.internal/"}, "cloud metadata host"),
        ({"url": "not a url"}, "is rejected"),
        ({"url": "http://127.0.0.1/", "max_pages": 0}, "greater than or equal to 1"),
        ({"url": "http://127.0.0.1/", "max_pages": 100000}, "TIDINGS_SITE_MAX_PAGES"),
        ({"url": "http://127.0.0.1/", "path_prefixes": ["docs"]}, 'start with "/"'),
        ({"url": "http://127.0.0.1/a/", "path_prefixes": ["/b/"]}, "lies outside"),
        ({"url": "http://127.0.0.1/", "allowed_domains": ["http://x"]}, "not a host"),
        ({"url": "http://127.0.0.1:99999/"}, "port 99999 is out of range"),
    ],
)
def test_bad_request_rejected(api: httpx.Client, body: dict, fragment: str) -> None:
    response = api.post("/v1/sites", json=body)

    assert response.status_code == 422
    assert fragment in str(response.json()["detail"])


def test_first_crawl_counts(first_crawl: dict[str, Any]) -> None:
    assert first_crawl["status"] == "completed"
    assert first_crawl["fetched"] == len(SITE_PAGES)
    assert first_crawl["changed"] == len(SITE_PAGES)
    assert first_crawl["unchanged"] == 0
    assert first_crawl["removed"] == 0
    assert first_crawl["pdfs"] == 1
    assert first_crawl["failed"] == SITE_FAILURES
    assert first_crawl["indexed"] == len(SITE_PAGES)


def test_pages_indexed_as_documents(
    first_crawl: dict[str, Any], db: psycopg.Connection
) -> None:
    pages = page_rows(db, first_crawl["site_id"])

    assert sorted(pages) == sorted(SITE_PAGES)
    for path, page in pages.items():
        assert page["status"] == "indexed", path
        assert page["chunks"] >= 1, path


def test_search_hit_shows_url_and_title(
    api: httpx.Client, first_crawl: dict[str, Any], site: tuple[Path, SiteServer]
) -> None:
    hits = search(api, "lighthouse keepers polish brass lanterns")

    assert hits[0]["url"] == f"{site[1].base_url}/about.html"
    assert hits[0]["title"] == "About the harbour"
    assert "lighthouse keepers" in hits[0]["snippet"]


def test_search_finds_gbk_page(
    api: httpx.Client, first_crawl: dict[str, Any], site: tuple[Path, SiteServer]
) -> None:
    hits = search(api, "港口灯塔的历史")
    by_url = {hit["url"]: hit for hit in hits}
    gbk = by_url[f"{site[1].base_url}/gbk.html"]

    assert gbk["title"] == "港口灯塔"
    assert GBK_TEXT[:6] in gbk["snippet"] or "港口" in gbk["snippet"]
    # The Big5 page contains the same text in traditional characters, which
    # search folds into simplified ones.
    assert f"{site[1].base_url}/big5.html" in by_url


def test_linked_pdf_indexed(api: httpx.Client, first_crawl: dict[str, Any]) -> None:
    documents = api.get("/v1/documents", params={"limit": 500}).json()["documents"]
    reports = [d for d in documents if d["filename"] == "report.pdf"]

    assert len(reports) == 1
    final = wait_final(api, [reports[0]["document_id"]])
    assert final[reports[0]["document_id"]]["status"] == "indexed"


def test_repeated_request_not_crawled_again(
    stack: Stack, site_db: psycopg.Connection, first_crawl: dict[str, Any]
) -> None:
    crawl_id = first_crawl["crawl_id"]
    before = site_db.execute(
        "SELECT tenant_id, site_id, start_url, limits, finished_at "
        "FROM site_crawls WHERE crawl_id = %s",
        (crawl_id,),
    ).fetchone()
    tenant_id, site_id, start_url, limits, finished_at = before
    copy = CloudEvent(
        id=f"repeat-{crawl_id}",
        type=topics.SITE_CRAWL_REQUESTED.event_type,
        source="tests/sites",
        subject=crawl_id,
        tenantid=tenant_id,
        data=SiteCrawlRequestedV1(
            crawl_id=crawl_id, site_id=site_id, start_url=start_url, **limits
        ).model_dump(mode="json"),
    )

    produce(stack, topics.SITE_CRAWL_REQUESTED.name, [(copy, int(time.time() * 1000))])
    wait_caught_up(stack, APP_ID, [topics.SITE_CRAWL_REQUESTED.name], timeout=120)
    after = site_db.execute(
        "SELECT finished_at FROM site_crawls WHERE crawl_id = %s", (crawl_id,)
    ).fetchone()

    assert after[0] == finished_at


def test_crawl_hidden_from_other_tenant(
    other_tenant_api: httpx.Client, first_crawl: dict[str, Any]
) -> None:
    response = other_tenant_api.get(f"/v1/sites/{first_crawl['crawl_id']}")

    assert response.status_code == 404


def test_other_tenant_search_has_no_pages(
    other_tenant_api: httpx.Client, first_crawl: dict[str, Any]
) -> None:
    hits = search(other_tenant_api, "lighthouse keepers polish brass lanterns")

    assert hits == []


@pytest.fixture(scope="module")
def edited_crawl(
    api: httpx.Client,
    site_db: psycopg.Connection,
    site: tuple[Path, SiteServer],
    first_crawl: dict[str, Any],
) -> dict[str, Any]:
    root, server = site
    before = page_rows(site_db, first_crawl["site_id"])
    events_before = {
        path: parsed_events(site_db, page["document_id"])
        for path, page in before.items()
    }
    write_about(root, EDITED_PHRASE)
    accepted = start_crawl(api, f"{server.base_url}/index.html", max_pages=30)
    state = wait_settled(api, accepted["crawl_id"])
    after = page_rows(site_db, first_crawl["site_id"])
    events_after = {
        path: parsed_events(site_db, page["document_id"])
        for path, page in after.items()
    }
    return {
        "state": state,
        "before": before,
        "after": after,
        "events_before": events_before,
        "events_after": events_after,
    }


def test_recrawl_counts_one_change(edited_crawl: dict[str, Any]) -> None:
    state = edited_crawl["state"]

    assert state["status"] == "completed"
    assert state["site_id"] == edited_crawl["state"]["site_id"]
    assert state["changed"] == 1
    assert state["unchanged"] == len(SITE_PAGES) - 1
    assert state["removed"] == 0


def test_recrawl_reindexes_only_edited_page(edited_crawl: dict[str, Any]) -> None:
    before, after = edited_crawl["events_before"], edited_crawl["events_after"]

    assert after["/about.html"] == before["/about.html"] + 1
    assert edited_crawl["after"]["/about.html"]["attempt"] == 2
    for path in SITE_PAGES:
        if path != "/about.html":
            assert after[path] == before[path], path
            assert edited_crawl["after"][path]["attempt"] == 1, path


def test_recrawl_search_finds_new_text(
    api: httpx.Client, edited_crawl: dict[str, Any], site: tuple[Path, SiteServer]
) -> None:
    new_hits = search(api, "harbour pilots repaint the breakwater beacon")
    old_hits = search(api, ABOUT_PHRASE)

    assert new_hits[0]["url"] == f"{site[1].base_url}/about.html"
    assert all("lighthouse keepers" not in hit["snippet"] for hit in old_hits)


@pytest.fixture(scope="module")
def deleted_crawl(
    api: httpx.Client,
    site_db: psycopg.Connection,
    site: tuple[Path, SiteServer],
    edited_crawl: dict[str, Any],
) -> dict[str, Any]:
    root, server = site
    guide = edited_crawl["after"]["/docs/guide.html"]
    (root / "docs" / "guide.html").unlink()
    accepted = start_crawl(api, f"{server.base_url}/index.html", max_pages=30)
    state = wait_settled(api, accepted["crawl_id"])
    # The site page stage deletes chunks after the crawl stage counts them.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        row = site_db.execute(
            "SELECT count(*) FROM document_chunks WHERE document_id = %s",
            (guide["document_id"],),
        ).fetchone()
        if row is not None and row[0] == 0:
            break
        time.sleep(0.5)
    return {"state": state, "guide": guide}


def test_deleted_page_counted_removed(deleted_crawl: dict[str, Any]) -> None:
    state = deleted_crawl["state"]

    assert state["removed"] == 1
    assert state["changed"] == 0
    assert state["unchanged"] == len(SITE_PAGES) - 1
    assert state["failed"]["http_404"] == SITE_FAILURES["http_404"] + 1


def test_deleted_page_chunks_gone(
    api: httpx.Client, db: psycopg.Connection, deleted_crawl: dict[str, Any]
) -> None:
    document_id = deleted_crawl["guide"]["document_id"]
    chunks = db.execute(
        "SELECT count(*) FROM document_chunks WHERE document_id = %s", (document_id,)
    ).fetchone()
    hits = search(api, GUIDE_PHRASE)

    assert chunks == (0,)
    assert api.get(f"/v1/documents/{document_id}").status_code == 404
    assert all(not (hit["url"] or "").endswith("/docs/guide.html") for hit in hits)


@pytest.fixture(scope="module")
def corpus_server() -> Iterator[SiteServer]:
    require_sites_corpus()
    with serve(SITES_DIR, corpus_routes()) as server:
        yield server


def test_chinese_site_searchable(api: httpx.Client, corpus_server: SiteServer) -> None:
    base = f"{corpus_server.base_url}/diveintopython3-zh"
    accepted = start_crawl(
        api,
        f"{base}/index.html",
        max_pages=5,
        path_prefixes=["/diveintopython3-zh/"],
    )
    state = wait_settled(api, accepted["crawl_id"])
    hits = search(api, "深入 Python 3")

    assert state["fetched"] >= 3
    assert state["indexed"] == state["changed"]
    zh_hits = [hit for hit in hits if (hit["url"] or "").startswith(base)]
    assert zh_hits
    assert any("深入" in hit["title"] for hit in zh_hits)


def test_cli_crawl_prints_progress(stack: Stack, corpus_server: SiteServer) -> None:
    env = {
        **os.environ,
        "TIDINGS_API_URL": stack.api_url,
        "TIDINGS_API_KEY": stack.api_key,
        "TIDINGS_DATA_DIR": str(stack.data_dir),
    }
    url = f"{corpus_server.base_url}/scrapy-test-site/index.html"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tidings",
            "crawl",
            url,
            "--max-pages",
            "5",
            "--delay",
            "0",
            "--timeout",
            "240",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = result.stdout.splitlines()

    assert result.returncode == 0, result.stdout + result.stderr
    assert lines[0].startswith("crawl crawl_")
    assert any(line.startswith("completed: fetched 3") for line in lines), lines


def test_idempotency_key_returns_same_crawl(
    api: httpx.Client, corpus_server: SiteServer
) -> None:
    url = f"{corpus_server.base_url}/scrapy-test-site/item1.html"
    headers = {"Idempotency-Key": "site-crawl-key-1"}
    body = {"url": url, "max_pages": 1, "delay_seconds": 0}

    first = api.post("/v1/sites", json=body, headers=headers)
    second = api.post("/v1/sites", json=body, headers=headers)

    assert first.status_code == 202
    assert second.status_code == 202
    assert second.json()["crawl_id"] == first.json()["crawl_id"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url", "item2.html"),
        ("max_pages", 2),
        ("path_prefixes", ["/scrapy-test-site/"]),
    ],
)
def test_idempotency_key_other_request_rejected(
    api: httpx.Client, corpus_server: SiteServer, field: str, value: Any
) -> None:
    site = f"{corpus_server.base_url}/scrapy-test-site/"
    key = f"site-crawl-{uuid.uuid4().hex}"
    headers = {"Idempotency-Key": key}
    body = {"url": f"{site}item1.html", "max_pages": 1, "delay_seconds": 0}
    other_body = {**body, field: site + value if field == "url" else value}

    first = api.post("/v1/sites", json=body, headers=headers)
    other = api.post("/v1/sites", json=other_body, headers=headers)
    crawl_id = first.json()["crawl_id"]

    assert first.status_code == 202
    assert other.status_code == 422
    assert (
        f"Idempotency-Key {key!r} was already used for crawl {crawl_id}"
        in other.json()["detail"]
    )
    assert "use a new key" in other.json()["detail"]
