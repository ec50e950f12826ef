"""The limits of one crawl, passed from the worker to the crawl process."""

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class CrawlConfig:
    start_url: str
    allowed_domains: tuple[str, ...]
    output_dir: str  # where the crawl process writes fetched PDFs
    path_prefixes: tuple[str, ...] = ()
    max_pages: int = 100
    max_depth: int = 5
    delay_seconds: float = 0.0
    max_seconds: float = 600.0
    max_page_bytes: int = 5 * 1024 * 1024
    max_pdf_bytes: int = 50 * 1024 * 1024
    max_redirects: int = 5
    # Meta refresh with a longer delay is a page reload, not a redirect.
    meta_refresh_max_delay: float = 10.0
    request_timeout_seconds: float = 30.0
    concurrency: int = 4
    allow_networks: tuple[str, ...] = ()
    user_agent: str = "TidingsBot/0.1"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CrawlConfig":
        tuples = ("allowed_domains", "path_prefixes", "allow_networks")
        values = {
            key: tuple(value) if key in tuples else value for key, value in data.items()
        }
        return cls(**values)
