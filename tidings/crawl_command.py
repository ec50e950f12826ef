"""`tidings crawl URL`: start a website crawl and show its progress."""

import time
from typing import Annotated, Any

import typer
from rich.console import Console

from tidings.client import ClientError, TidingsClient
from tidings.settings import get_settings

FINAL_CRAWL_STATUSES = frozenset({"completed", "partial", "failed"})
POLL_SECONDS = 1.0


def _progress_line(crawl: dict[str, Any]) -> str:
    failed = sum(crawl["failed"].values())
    return (
        f"{crawl['status']}: fetched {crawl['fetched']}, changed {crawl['changed']}, "
        f"unchanged {crawl['unchanged']}, removed {crawl['removed']}, "
        f"failed {failed}, pdfs {crawl['pdfs']}, indexed {crawl['indexed']}"
    )


def _settled(crawl: dict[str, Any]) -> bool:
    """Return whether the crawl ended and the index stage has indexed or
    rejected every changed page."""
    if crawl["status"] not in FINAL_CRAWL_STATUSES:
        return False
    return crawl["indexed"] + crawl["not_indexed"] >= crawl["changed"]


def crawl(
    url: Annotated[str, typer.Argument(help="Start URL, http or https.")],
    max_pages: Annotated[int, typer.Option(min=1, help="Maximum URLs fetched.")] = 100,
    max_depth: Annotated[
        int, typer.Option(min=0, help="Maximum links followed from the start URL.")
    ] = 5,
    domain: Annotated[
        list[str] | None,
        typer.Option(help="Allowed host; repeat for several. Default: URL's host."),
    ] = None,
    prefix: Annotated[
        list[str] | None,
        typer.Option(help='Allowed URL path prefix such as "/docs/"; repeatable.'),
    ] = None,
    delay: Annotated[
        float, typer.Option(min=0, help="Pause between requests, seconds.")
    ] = 0.25,
    max_seconds: Annotated[
        float, typer.Option(min=1, help="Time limit of the crawl, seconds.")
    ] = 600,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the crawl and indexing.")
    ] = 900,
) -> None:
    """Crawl a website, index its pages and print progress until done."""
    console = Console(soft_wrap=True)
    errors = Console(stderr=True)
    body = {
        "url": url,
        "max_pages": max_pages,
        "max_depth": max_depth,
        "allowed_domains": domain or [],
        "path_prefixes": prefix or [],
        "delay_seconds": delay,
        "max_seconds": max_seconds,
    }
    try:
        client = TidingsClient(get_settings())
        accepted = client.start_crawl(body)
    except ClientError as exc:
        errors.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    crawl_id = accepted["crawl_id"]
    console.print(f"crawl {crawl_id} of {accepted['start_url']}", markup=False)

    deadline = time.monotonic() + timeout
    last_line = ""
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            state = client.crawl(crawl_id)
        except ClientError as exc:
            errors.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from exc
        line = _progress_line(state)
        if line != last_line:
            console.print(line, markup=False, highlight=False)
            last_line = line
        if _settled(state):
            break
        time.sleep(POLL_SECONDS)
    else:
        console.print(f"still {state.get('status')} after {timeout:g}s", markup=False)
        raise typer.Exit(2)

    for reason, count in sorted(state["failed"].items()):
        console.print(f"  failed {reason}: {count}", markup=False, highlight=False)
    if state.get("detail"):
        console.print(f"  {state['detail']}", markup=False, highlight=False)
    if state["status"] == "failed":
        raise typer.Exit(1)
