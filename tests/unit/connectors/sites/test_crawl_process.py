"""The crawl process against sites served on loopback: robots.txt, links,
redirects, meta refresh, encodings, size cap, PDFs and limits."""

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from connectors.sites.config import CrawlConfig
from connectors.sites.runner import run_crawl
from tests.corpus import require_corpus, require_sites_corpus
from tests.site_server import (
    BIG5_TEXT,
    GBK_TEXT,
    SITE_FAILURES,
    SITE_PAGES,
    SITES_DIR,
    SIZE_CAP_BYTES,
    WRONG_HEADER_TEXT,
    SiteRoutes,
    build_site,
    corpus_routes,
    serve,
)

LOOPBACK = ("127.0.0.0/8",)


async def crawl(config: CrawlConfig) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    records: list[dict[str, Any]] = []

    async def collect(record: dict[str, Any]) -> None:
        records.append(record)

    done = await run_crawl(config, collect)
    return records, done


def config_for(url: str, output: Path, **limits: Any) -> CrawlConfig:
    return CrawlConfig(
        start_url=url,
        allowed_domains=("127.0.0.1",),
        output_dir=str(output),
        allow_networks=LOOPBACK,
        **limits,
    )


def pages_by_path(records: list[dict[str, Any]], base: str) -> dict[str, dict]:
    return {
        record["url"].removeprefix(base): record
        for record in records
        if record["type"] == "page"
    }


@pytest.fixture(scope="module")
def built_site_crawl(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    require_corpus()
    root = tmp_path_factory.mktemp("site")
    output = tmp_path_factory.mktemp("pdfs")
    routes = build_site(root)
    with serve(root, routes) as server:
        import asyncio

        config = config_for(
            f"{server.base_url}/index.html",
            output,
            max_pages=30,
            max_page_bytes=SIZE_CAP_BYTES,
        )
        records, done = asyncio.run(crawl(config))
    return {"records": records, "done": done, "base": server.base_url}


def test_site_pages_fetched(built_site_crawl: dict[str, Any]) -> None:
    pages = pages_by_path(built_site_crawl["records"], built_site_crawl["base"])

    assert sorted(pages) == sorted(SITE_PAGES)
    assert built_site_crawl["done"]["reason"] == "finished"


def test_site_failures_by_reason(built_site_crawl: dict[str, Any]) -> None:
    failed = Counter(
        record["reason"]
        for record in built_site_crawl["records"]
        if record["type"] == "failed"
    )

    assert dict(failed) == SITE_FAILURES


def test_tracking_and_fragment_deduplicated(built_site_crawl: dict) -> None:
    about = [
        record
        for record in built_site_crawl["records"]
        if record["type"] == "page" and record["url"].endswith("/about.html")
    ]

    assert len(about) == 1


def test_relative_link_in_subfolder(built_site_crawl: dict[str, Any]) -> None:
    pages = pages_by_path(built_site_crawl["records"], built_site_crawl["base"])

    assert pages["/docs/guide.html"]["depth"] == 1
    assert "tide tables" in pages["/docs/guide.html"]["text"]


def test_gbk_page_decoded(built_site_crawl: dict[str, Any]) -> None:
    page = pages_by_path(built_site_crawl["records"], built_site_crawl["base"])[
        "/gbk.html"
    ]

    assert page["encoding"] == "gb18030"
    assert page["encoding_source"] == "header"
    assert GBK_TEXT in page["text"]
    assert page["title"] == "港口灯塔"


def test_big5_page_decoded(built_site_crawl: dict[str, Any]) -> None:
    page = pages_by_path(built_site_crawl["records"], built_site_crawl["base"])[
        "/big5.html"
    ]

    assert page["encoding"] == "big5hkscs"
    assert page["encoding_source"] == "meta"
    assert BIG5_TEXT in page["text"]


def test_wrong_header_charset_read_as_utf8(built_site_crawl: dict) -> None:
    page = pages_by_path(built_site_crawl["records"], built_site_crawl["base"])[
        "/wrong-header.html"
    ]

    assert page["declared_encoding"] == "cp1252"
    assert page["encoding"] == "utf-8"
    assert WRONG_HEADER_TEXT in page["text"]


def test_boilerplate_removed(built_site_crawl: dict[str, Any]) -> None:
    page = pages_by_path(built_site_crawl["records"], built_site_crawl["base"])[
        "/about.html"
    ]

    assert "lighthouse keepers" in page["text"]
    assert "Cookie settings" not in page["text"]
    assert "All rights reserved" not in page["text"]


def test_linked_pdf_saved(built_site_crawl: dict[str, Any]) -> None:
    pdfs = [r for r in built_site_crawl["records"] if r["type"] == "pdf"]

    assert len(pdfs) == 1
    assert pdfs[0]["filename"] == "report.pdf"
    assert Path(pdfs[0]["path"]).read_bytes()[:5] == b"%PDF-"


def test_robots_txt_blocks_before_request(built_site_crawl: dict) -> None:
    failed = [
        record
        for record in built_site_crawl["records"]
        if record.get("reason") == "robots_txt"
    ]

    assert failed[0]["url"].endswith("/private/secret.html")


async def test_page_limit_truncates(tmp_path: Path) -> None:
    require_corpus()
    root = tmp_path / "site"
    routes = build_site(root)
    with serve(root, routes) as server:
        config = config_for(f"{server.base_url}/index.html", tmp_path, max_pages=3)
        records, done = await crawl(config)
    fetched = [r for r in records if r["type"] in ("page", "pdf", "failed")]

    assert done["truncated"] is True
    assert len(fetched) <= 3


async def test_loopback_rejected_without_allow_list(tmp_path: Path) -> None:
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text("<html><body><p>hello</p></body></html>")
    with serve(root) as server:
        config = CrawlConfig(
            start_url=f"{server.base_url}/index.html",
            allowed_domains=("127.0.0.1",),
            output_dir=str(tmp_path),
        )
        records, _ = await crawl(config)
        requests = list(server.routes.requests)

    assert [r["reason"] for r in records] == ["blocked_loopback"]
    assert requests == []


async def test_meta_refresh_index_followed(tmp_path: Path) -> None:
    require_sites_corpus()
    with serve(SITES_DIR, corpus_routes()) as server:
        base = f"{server.base_url}/nisar-jupyter-book"
        config = config_for(
            f"{base}/index.html",
            tmp_path,
            max_pages=3,
            path_prefixes=("/nisar-jupyter-book/",),
        )
        records, _ = await crawl(config)
    pages = pages_by_path(records, base)

    assert "/intro.html" in pages
    assert pages["/intro.html"]["requested_url"].endswith("/index.html")
    assert "NISAR" in pages["/intro.html"]["title"]


async def test_chinese_site_decoded(tmp_path: Path) -> None:
    require_sites_corpus()
    with serve(SITES_DIR, corpus_routes()) as server:
        base = f"{server.base_url}/diveintopython3-zh"
        config = config_for(
            f"{base}/index.html",
            tmp_path,
            max_pages=4,
            path_prefixes=("/diveintopython3-zh/",),
        )
        records, _ = await crawl(config)
    pages = pages_by_path(records, base)

    assert "/index.html" in pages
    assert "深入" in pages["/index.html"]["title"]
    assert "Python" in pages["/index.html"]["text"]
    assert len(pages) >= 2


@pytest.mark.parametrize(
    ("domains", "reason"),
    [
        (("127.0.0.1",), "offsite_redirect"),
        (("127.0.0.1", "169.254.169.254"), "blocked_cloud_metadata"),
    ],
)
async def test_redirect_to_metadata_address_rejected(
    tmp_path: Path, domains: tuple[str, ...], reason: str
) -> None:
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text(
        '<html><body><p>Start page text.</p><a href="/go">go</a></body></html>'
    )
    routes = SiteRoutes(redirects={"/go": "http://169.254.169.254/latest/meta-data/"})
    with serve(root, routes) as server:
        config = CrawlConfig(
            start_url=f"{server.base_url}/index.html",
            allowed_domains=domains,
            output_dir=str(tmp_path),
            allow_networks=LOOPBACK,
        )
        records, _ = await crawl(config)
    failed = [r for r in records if r["type"] == "failed"]

    assert [r["reason"] for r in failed] == [reason]
    assert failed[0]["url"].endswith("/go")


async def test_time_limit_stops_crawl(tmp_path: Path) -> None:
    root = tmp_path / "site"
    root.mkdir()
    links = "".join(f'<a href="p{i}.html">p{i}</a>' for i in range(20))
    (root / "index.html").write_text(f"<html><body><p>Index.</p>{links}</body></html>")
    for i in range(20):
        (root / f"p{i}.html").write_text(f"<html><body><p>Page {i}.</p></body></html>")
    routes = SiteRoutes(delays={f"/p{i}.html": 1.0 for i in range(20)})
    with serve(root, routes) as server:
        config = config_for(
            f"{server.base_url}/index.html", tmp_path, max_seconds=2.0, concurrency=1
        )
        records, done = await crawl(config)

    assert done["reason"] == "closespider_timeout"
    assert len([r for r in records if r["type"] == "page"]) < 21


async def test_host_name_resolved_through_guard(tmp_path: Path) -> None:
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text(
        "<html><head><title>Named</title></head><body><p>Reached by a host "
        "name that resolves to loopback.</p></body></html>"
    )
    with serve(root) as server:
        url = server.base_url.replace("127.0.0.1", "localhost")
        config = CrawlConfig(
            start_url=f"{url}/index.html",
            allowed_domains=("localhost",),
            output_dir=str(tmp_path),
            allow_networks=("127.0.0.0/8", "::1/128"),
        )
        records, _ = await crawl(config)

    assert [r["type"] for r in records] == ["page"]
    assert records[0]["title"] == "Named"
