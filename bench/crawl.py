"""Benchmark: website crawl and index end to end against Scrapy alone.

Serves a corpus site on loopback and measures pages/s three ways:

- Scrapy alone: a minimal spider that fetches every page and follows links,
  with the crawl's concurrency and no delay, in a child process;
- crawl process: the Tidings crawl process (Scrapy plus decoding and
  trafilatura extraction), without Kafka or indexing;
- end to end: POST /v1/sites on a running stack until every changed page
  is indexed (HTTP API, Kafka, crawl stage, site page stage, index stage
  with embedding, Postgres).

Each run of the end-to-end crawl uses a new tenant, so every page is new
and indexed. Starts its own stack on the ports of TIDINGS_TEST_* (default:
the crawl worktree's) with data under var/bench-crawl.

Usage: .venv/bin/python bench/crawl.py [--site diveintopython3-en] [--repeat N]
"""

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402

from connectors.sites.config import CrawlConfig  # noqa: E402
from connectors.sites.runner import run_crawl  # noqa: E402
from tests import stack as test_stack  # noqa: E402
from tests.corpus import SITES_DIR  # noqa: E402
from tests.site_server import corpus_routes, serve  # noqa: E402
from tidings.tenants import create_tenant  # noqa: E402

MAX_PAGES = 60
CONCURRENCY = 4

SCRAPY_ALONE = r"""
import json, sys, time
from scrapy import Request, Spider
from scrapy.crawler import CrawlerProcess
from scrapy.http import HtmlResponse
from scrapy.linkextractors import LinkExtractor

start, prefix, max_pages = sys.argv[1], sys.argv[2], int(sys.argv[3])
CONCURRENCY = int(sys.argv[4])

class Fetch(Spider):
    name = "fetch"
    links = LinkExtractor()
    seen = set()
    pages = 0

    async def start(self):
        self.seen.add(start)
        yield Request(start)

    def parse(self, response):
        # Count HTML pages only, as the crawl does; other files are fetched
        # by both.
        self.pages += isinstance(response, HtmlResponse)
        if not isinstance(response, HtmlResponse):
            return
        for link in self.links.extract_links(response):
            url = link.url.split("#")[0]
            if url.startswith(prefix) and url not in self.seen:
                if len(self.seen) < max_pages:
                    self.seen.add(url)
                    yield Request(url)

process = CrawlerProcess({
    "ROBOTSTXT_OBEY": True, "CONCURRENT_REQUESTS": CONCURRENCY,
    "CONCURRENT_REQUESTS_PER_DOMAIN": CONCURRENCY, "COOKIES_ENABLED": False,
    "TELNETCONSOLE_ENABLED": False, "LOG_LEVEL": "ERROR", "RETRY_ENABLED": False,
})
crawler = process.create_crawler(Fetch)
process.crawl(crawler)
began = time.perf_counter()
process.start()
print(json.dumps({"pages": crawler.spider.pages,
                  "seconds": time.perf_counter() - began}))
"""


def scrapy_alone(start: str, prefix: str) -> dict:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            SCRAPY_ALONE,
            start,
            prefix,
            str(MAX_PAGES),
            str(CONCURRENCY),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def crawl_process_alone(start: str, path_prefix: str) -> dict:
    pages = 0

    async def count(record: dict) -> None:
        nonlocal pages
        pages += record["type"] == "page"

    with tempfile.TemporaryDirectory() as output:
        config = CrawlConfig(
            start_url=start,
            allowed_domains=("127.0.0.1",),
            path_prefixes=(path_prefix,),
            output_dir=output,
            max_pages=MAX_PAGES,
            concurrency=CONCURRENCY,
            allow_networks=("127.0.0.0/8",),
        )
        began = time.perf_counter()
        asyncio.run(run_crawl(config, count))
    return {"pages": pages, "seconds": time.perf_counter() - began}


def end_to_end(stack: test_stack.Stack, start: str, path_prefix: str) -> dict:
    with psycopg.connect(stack.database_url) as conn:
        tenant_id, key = create_tenant(conn, f"bench-{uuid.uuid4().hex[:8]}")
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=60) as api:
        began = time.perf_counter()
        response = api.post(
            "/v1/sites",
            json={
                "url": start,
                "max_pages": MAX_PAGES,
                "path_prefixes": [path_prefix],
                "delay_seconds": 0,
            },
        )
        response.raise_for_status()
        crawl_id = response.json()["crawl_id"]
        while True:
            state = api.get(f"/v1/sites/{crawl_id}").json()
            ended = state["status"] in ("completed", "partial", "failed")
            if ended and state["indexed"] + state["not_indexed"] >= state["changed"]:
                break
            time.sleep(0.25)
        seconds = time.perf_counter() - began
    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM document_chunks WHERE tenant_id = %s", (tenant_id,)
        ).fetchone()
    crawl_seconds = _parse_time(state["finished_at"]) - _parse_time(state["started_at"])
    return {
        "pages": state["fetched"],
        "seconds": seconds,
        "crawl_seconds": crawl_seconds,
        "failed": state["failed"],
        "chunks": row[0] if row else 0,
    }


def _parse_time(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", default="diveintopython3-en")
    parser.add_argument("--repeat", type=int, default=2, help="Runs of each kind.")
    args = parser.parse_args()

    test_stack.TEST_ENV.update(
        TIDINGS_DATA_DIR=str(REPO_ROOT / "var" / "bench-crawl"),
        TIDINGS_LOG_LEVEL="WARNING",
        TIDINGS_SITE_MAX_PAGE_BYTES=str(5 * 1024 * 1024),
    )
    path_prefix = f"/{args.site}/"
    stack = test_stack.start_stack()
    try:
        with serve(SITES_DIR, corpus_routes()) as server:
            start = f"{server.base_url}{path_prefix}index.html"
            prefix_url = f"{server.base_url}{path_prefix}"
            scrapy_runs = [scrapy_alone(start, prefix_url) for _ in range(args.repeat)]
            process_runs = [
                crawl_process_alone(start, path_prefix) for _ in range(args.repeat)
            ]
            e2e_runs = [
                end_to_end(stack, start, path_prefix) for _ in range(args.repeat)
            ]
    finally:
        test_stack.stop_stack(stack.process)

    def rate(runs: list[dict], key: str = "seconds") -> float:
        return statistics.median(run["pages"] / run[key] for run in runs)

    scrapy_rate = rate(scrapy_runs)
    process_rate = rate(process_runs)
    crawled_rate = rate(e2e_runs, "crawl_seconds")
    e2e_rate = rate(e2e_runs)
    with open("/proc/loadavg") as handle:
        load = handle.read().split()[:3]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {' '.join(load)}"
    )
    print(
        f"site: {args.site}, max_pages {MAX_PAGES}, concurrency {CONCURRENCY}, "
        f"runs: {args.repeat}"
    )
    print("| measure | pages | pages/s | ratio to Scrapy alone |")
    print("| --- | --- | --- | --- |")
    rows = (
        ("Scrapy alone (fetch and follow links)", scrapy_runs, scrapy_rate),
        ("crawl process (plus decode and extract)", process_runs, process_rate),
        ("crawl stage (crawl start to crawl end)", e2e_runs, crawled_rate),
        ("end to end (POST to every page indexed)", e2e_runs, e2e_rate),
    )
    for name, runs, value in rows:
        print(
            f"| {name} | {runs[0]['pages']} | {value:.1f} | {value / scrapy_rate:.2f} |"
        )
    for number, run in enumerate(e2e_runs, start=1):
        print(
            f"end-to-end run {number}: {run['seconds']:.1f} s, crawl "
            f"{run['crawl_seconds']:.1f} s, {run['chunks']} chunks, "
            f"failed {run['failed']}"
        )


if __name__ == "__main__":
    main()
