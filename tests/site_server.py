"""A loopback HTTP server for crawl tests, and a small site built for them.

The server serves files under one root folder and can misbehave on
purpose: redirects (loops included), extra or wrong Content-Type headers,
and 404s for files that are missing.
"""

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.corpus import PDF_DIR, SITES_DIR


@dataclass
class SiteRoutes:
    """Behaviour of the server beyond plain files, by request path."""

    redirects: dict[str, str] = field(default_factory=dict)
    content_types: dict[str, str] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)


def _handler(root: Path, routes: SiteRoutes) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            routes.requests.append(self.path)
            if path in routes.delays:
                time.sleep(routes.delays[path])
            if path in routes.redirects:
                self.send_response(302)
                self.send_header("Location", routes.redirects[path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            super().do_GET()

        def guess_type(self, path: Any) -> str:
            request_path = str(path)
            for route, content_type in routes.content_types.items():
                if request_path.endswith(route):
                    return content_type
            return super().guess_type(path)

    return Handler


@dataclass
class SiteServer:
    base_url: str
    routes: SiteRoutes


@contextmanager
def serve(root: Path, routes: SiteRoutes | None = None) -> Iterator[SiteServer]:
    """Serve `root` on 127.0.0.1 at a free port until the block ends."""
    routes = routes or SiteRoutes()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(root, routes))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield SiteServer(f"http://127.0.0.1:{server.server_address[1]}", routes)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def corpus_routes() -> SiteRoutes:
    """Routes that serve the corpus sites with plain Content-Type headers."""
    return SiteRoutes(content_types={".html": "text/html"})


# Phrases that only one page of the built site contains, so tests can find
# that page by search.
ABOUT_PHRASE = "Tidings lighthouse keepers polish brass lanterns every Tuesday"
GUIDE_PHRASE = "The harbour guide explains tide tables for careful sailors"
GBK_TEXT = "简体中文网页测试：港口灯塔的历史与航海安全知识介绍。"
BIG5_TEXT = "繁體中文網頁測試：港口燈塔的歷史與航海安全知識介紹。"
WRONG_HEADER_TEXT = "声明编码错误的页面：实际内容使用统一码编码。"
SITE_PDF = "pypdf__crazyones.pdf"
SIZE_CAP_BYTES = 1_000_000


def _page(title: str, body: str, *, head: str = "", links: str = "") -> str:
    menu = '<nav><a href="/index.html">Home</a> | <a href="/about.html">About</a></nav>'
    return (
        f"<!DOCTYPE html><html><head>{head}<title>{title}</title></head><body>"
        f"<header>{menu}</header><main><h1>{title}</h1><article>{body}</article>"
        f"{links}</main><footer>Copyright Tidings test site. All rights "
        "reserved. Cookie settings.</footer></body></html>"
    )


def _paragraphs(sentence: str, count: int = 4) -> str:
    return "".join(
        f"<p>{sentence} Paragraph {i} adds detail.</p>" for i in range(count)
    )


def build_site(root: Path) -> SiteRoutes:
    """Write the test site under `root` and return its routes.

    The pages with text are index, about and docs/guide (relative links),
    gbk (GBK bytes, charset in the header), big5 (Big5 bytes, meta charset
    only) and wrong-header (UTF-8 bytes served as iso-8859-1). The rest
    misbehave: refresh (meta refresh to about), big (over the size cap),
    private/secret (disallowed by robots.txt), a redirect loop, a JSON
    file, a missing page and a linked PDF.
    """
    (root / "docs").mkdir(parents=True, exist_ok=True)
    (root / "private").mkdir(exist_ok=True)
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n")
    links = (
        '<ul><li><a href="about.html#team">About</a></li>'
        '<li><a href="about.html?utm_source=news&utm_medium=mail">About again</a></li>'
        '<li><a href="docs/guide.html">Guide</a></li>'
        '<li><a href="gbk.html">GBK</a></li><li><a href="big5.html">Big5</a></li>'
        '<li><a href="wrong-header.html">Wrong header</a></li>'
        '<li><a href="refresh.html">Refresh</a></li>'
        '<li><a href="big.html">Big</a></li>'
        '<li><a href="/private/secret.html">Secret</a></li>'
        '<li><a href="loop/a">Loop</a></li>'
        '<li><a href="data.json">Data</a></li>'
        '<li><a href="missing.html">Missing</a></li>'
        '<li><a href="files/report.pdf">Report</a></li>'
        '<li><a href="style.css">Style</a></li>'
        '<li><a href="http://example.invalid/elsewhere.html">Off site</a></li></ul>'
    )
    welcome = _paragraphs("Welcome to the harbour of the Tidings test site.")
    (root / "index.html").write_text(_page("Harbour home", welcome, links=links))
    write_about(root, ABOUT_PHRASE)
    guide = _paragraphs(GUIDE_PHRASE)
    back = '<p><a href="../index.html">Back home</a></p>'
    (root / "docs" / "guide.html").write_text(_page("Harbour guide", guide + back))
    (root / "gbk.html").write_bytes(
        _page("港口灯塔", _paragraphs(GBK_TEXT)).encode("gbk")
    )
    big5_head = '<meta charset="big5">'
    (root / "big5.html").write_bytes(
        _page("港口燈塔", _paragraphs(BIG5_TEXT), head=big5_head).encode("big5")
    )
    (root / "wrong-header.html").write_bytes(
        _page("编码测试", _paragraphs(WRONG_HEADER_TEXT)).encode("utf-8")
    )
    refresh_head = '<meta http-equiv="refresh" content="0; url=about.html">'
    (root / "refresh.html").write_text(
        f"<html><head>{refresh_head}</head><body></body></html>"
    )
    filler = _paragraphs("Large page filler text about ships.", 20000)
    (root / "big.html").write_text(_page("Big page", filler))
    (root / "private" / "secret.html").write_text(_page("Secret", "hidden"))
    (root / "data.json").write_text('{"kind": "not html"}')
    # A unique trailer makes the PDF a new document for the tenant, even
    # when another test uploaded the same corpus file.
    (root / "files").mkdir(exist_ok=True)
    trailer = f"\n% tidings crawl test {uuid.uuid4()}\n".encode()
    (root / "files" / "report.pdf").write_bytes(
        (PDF_DIR / SITE_PDF).read_bytes() + trailer
    )
    (root / "style.css").write_text("body { color: navy; }")
    return SiteRoutes(
        redirects={"/loop/a": "/loop/b", "/loop/b": "/loop/a"},
        content_types={
            "gbk.html": "text/html; charset=GBK",
            "big5.html": "text/html",
            "wrong-header.html": "text/html; charset=iso-8859-1",
            ".html": "text/html",
        },
    )


def write_about(root: Path, phrase: str) -> None:
    (root / "about.html").write_text(_page("About the harbour", _paragraphs(phrase)))


# Canonical paths of the pages the built site yields with text.
SITE_PAGES = (
    "/index.html",
    "/about.html",
    "/docs/guide.html",
    "/gbk.html",
    "/big5.html",
    "/wrong-header.html",
)
# Reasons the built site's failing URLs give, one URL each.
SITE_FAILURES = {
    "robots_txt": 1,
    "redirect_loop": 1,
    "too_large": 1,
    "not_html": 1,
    "http_404": 1,
}

__all__ = ["SITES_DIR", "SiteRoutes", "SiteServer", "build_site", "serve"]
