"""Entry point of the crawl process: `python -m connectors.sites.crawl_process`.

It reads a `CrawlConfig` as JSON on stdin, runs one Scrapy crawl and
writes one JSON record per line on stdout as pages arrive, ending with a
`done` record. Scrapy's own logs go to stderr.
"""

import json
import os
import sys
from typing import Any, TextIO

from scrapy import signals
from scrapy.crawler import CrawlerProcess

from connectors.sites.config import CrawlConfig
from connectors.sites.spider import SiteSpider

DOWNLOADER_MIDDLEWARES = {
    # Lower numbers see a request first: scope and guard run before the
    # robots.txt middleware (100), so robots.txt requests and redirect
    # targets are checked too, and an off-site host is never resolved.
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "connectors.sites.middlewares.ScopeMiddleware": 35,
    "connectors.sites.middlewares.UrlGuardMiddleware": 40,
    "connectors.sites.middlewares.RedirectLoopMiddleware": 45,
}


def scrapy_settings(config: CrawlConfig) -> dict[str, Any]:
    return {
        "ROBOTSTXT_OBEY": True,
        "ROBOTSTXT_PARSER": "scrapy.robotstxt.ProtegoRobotParser",
        "USER_AGENT": config.user_agent,
        "DEPTH_LIMIT": config.max_depth,
        "DOWNLOAD_DELAY": config.delay_seconds,
        "DOWNLOAD_DELAY_JITTER": 0,
        "CONCURRENT_REQUESTS": config.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": config.concurrency,
        "DOWNLOAD_MAXSIZE": config.max_page_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "DOWNLOAD_TIMEOUT": config.request_timeout_seconds,
        "REDIRECT_MAX_TIMES": config.max_redirects,
        "METAREFRESH_MAXDELAY": config.meta_refresh_max_delay,
        "CLOSESPIDER_TIMEOUT": config.max_seconds,
        "RETRY_ENABLED": False,
        # The spider de-duplicates canonical URLs itself. Scrapy's filter
        # would drop a redirect back to a visited URL silently, and the loop
        # middleware could not report it.
        "DUPEFILTER_CLASS": "scrapy.dupefilters.BaseDupeFilter",
        # Cookies are off: the cookie middleware would download the public
        # suffix list (tldextract) from the internet on first use.
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "LOG_INSTALL_ROOT_HANDLER": True,
        "TIDINGS_ALLOW_NETWORKS": list(config.allow_networks),
        # Checks the address Twisted connects to, not only the request URL.
        "TWISTED_DNS_RESOLVER": "connectors.sites.resolver.GuardedResolver",
        "DOWNLOADER_MIDDLEWARES": DOWNLOADER_MIDDLEWARES,
    }


def run(config: CrawlConfig, out: TextIO) -> None:
    def emit(record: dict[str, Any]) -> None:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()

    process = CrawlerProcess(scrapy_settings(config))
    crawler = process.create_crawler(SiteSpider)
    finish: dict[str, Any] = {}

    def closed(spider: SiteSpider, reason: str) -> None:
        finish["reason"] = reason
        finish["truncated"] = spider.truncated
        finish["scheduled"] = len(spider.scheduled)

    crawler.signals.connect(closed, signal=signals.spider_closed)
    process.crawl(crawler, config=config, emit=emit)
    process.start()
    emit({"type": "done", **finish})


def main() -> None:
    config = CrawlConfig.from_dict(json.loads(sys.stdin.read()))
    # Records go to a copy of stdout; anything a library prints goes to
    # stderr, so it cannot corrupt the record stream.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    run(config, out)


if __name__ == "__main__":
    main()
