"""The `tidings` command line."""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from tidings.catalog_import import catalog_app
from tidings.client import ClientError, TidingsClient
from tidings.crawl_command import crawl as crawl_command
from tidings.history.commands import register as register_history_commands
from tidings.logs import configure_logging
from tidings.settings import get_settings
from tidings.verify_command import register as register_verify_command
from tidings.webhooks_cli import webhooks_app

app = typer.Typer(
    help="Tidings: ingestion and search over Kafka event streams.", no_args_is_help=True
)
tenants_app = typer.Typer(help="Manage tenants.", no_args_is_help=True)
app.add_typer(tenants_app, name="tenants")
app.add_typer(catalog_app, name="catalog")
app.add_typer(webhooks_app, name="webhooks")
console = Console(soft_wrap=True)
errors = Console(stderr=True)


def _setup_logging() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)


def _fail(message: str, code: int = 1) -> None:
    errors.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


@app.command()
def run(
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Start the whole platform on this machine in the foreground."""
    from connectors.errors import ConnectorError
    from tidings.localstack.kafka import LocalStackError
    from tidings.localstack.supervisor import Supervisor

    _setup_logging()
    try:
        code = Supervisor(get_settings(), workers=workers).run()
    except (LocalStackError, ConnectorError) as exc:
        _fail(str(exc))
    raise typer.Exit(code)


@app.command()
def api() -> None:
    """Run the HTTP API alone (settings point at Kafka and Postgres)."""
    import uvicorn

    from api.main import create_app

    _setup_logging()
    settings = get_settings()
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        access_log=False,
        # uvloop spends less CPU per request than asyncio's own loop. The HTTP
        # parser stays h11: uvicorn limits the size of request headers only
        # with h11 (16 KB), and with httptools accepted a 100 MB header.
        loop="uvloop",
        http="h11",
    )


@app.command()
def worker() -> None:
    """Run one stream-processing worker (all document stages)."""
    import faust

    from streams.app import create_app

    _setup_logging()
    faust_app = create_app(get_settings())
    worker = faust.Worker(faust_app, loglevel="WARNING", override_logging=False)
    worker.execute_from_commandline()


@tenants_app.command("create")
def tenants_create(name: str) -> None:
    """Create a tenant and print its API key (shown only once)."""
    import psycopg

    from connectors.postgres import apply_migrations
    from tidings.tenants import TenantError, create_tenant

    settings = get_settings()
    try:
        url = settings.resolved_database_url()
        apply_migrations(url)
        with psycopg.connect(url) as conn:
            tenant_id, key = create_tenant(conn, name)
    except (TenantError, RuntimeError, psycopg.Error) as exc:
        _fail(str(exc))
    console.print(f"tenant {name} ({tenant_id})")
    print(key)


def cli_detail(reason: str | None, detail: str | None) -> str | None:
    """Return a failure detail with the API's form field named as the CLI option.

    The parse stage writes one detail for every client, and it names the
    `password` form field of the API.
    """
    if reason != "encrypted" or detail is None:
        return detail
    return detail.replace("the `password` field", "the --password option")


@app.command()
def ingest(
    files: Annotated[
        list[Path], typer.Argument(exists=True, dir_okay=False, readable=True)
    ],
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for final states.")
    ] = 600,
    password: Annotated[
        str | None, typer.Option(help="Password for encrypted PDFs.")
    ] = None,
) -> None:
    """Upload PDFs and wait until each is indexed, no_text or failed."""
    try:
        client = TidingsClient(get_settings())
    except ClientError as exc:
        _fail(str(exc))

    accepted: dict[str, Path] = {}
    rejected = 0
    for path in files:
        try:
            answer = client.upload(path, password)
        except ClientError as exc:
            console.print(f"{path.name}: rejected: {exc}")
            rejected += 1
            continue
        accepted[answer["document_id"]] = path

    results: dict[str, dict] = {}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=errors, transient=True) as progress:
        task = progress.add_task("processing", total=len(accepted))

        def on_final(document: dict) -> None:
            results[document["document_id"]] = document
            progress.advance(task)

        try:
            latest = client.wait_final(list(accepted), timeout, on_final)
        except ClientError as exc:
            _fail(str(exc))

    pending = 0
    for document_id, path in accepted.items():
        document = latest.get(document_id, {"status": "unknown"})
        state = document["status"]
        reason = (
            f" ({document['reason']}: "
            f"{cli_detail(document['reason'], document['detail'])})"
            if document.get("reason")
            else ""
        )
        if state not in ("indexed", "failed", "no_text"):
            pending += 1
            state = f"pending after {timeout:g}s"
        console.print(
            f"{path.name}: {state}{reason}  [{document_id}]",
            markup=False,
            highlight=False,
        )

    if pending:
        raise typer.Exit(2)
    if rejected:
        raise typer.Exit(1)


@app.command()
def search(
    query: str,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print hits as JSON.")
    ] = False,
) -> None:
    """Search the tenant's documents."""
    try:
        result = TidingsClient(get_settings()).search(query, limit)
    except ClientError as exc:
        _fail(str(exc))

    if as_json:
        json.dump(result["hits"], sys.stdout, ensure_ascii=False, indent=2)
        print()
        return
    if not result["hits"]:
        console.print("no hits")
    for hit in result["hits"]:
        console.print(
            f"{hit['score']:.4f}  {hit['filename']}  p.{hit['page']}  "
            f"[{hit['document_id']}]",
            markup=False,
            highlight=False,
        )
        console.print(f"    {hit['snippet']}", markup=False, highlight=False)


register_history_commands(app)
app.command("crawl")(crawl_command)
register_verify_command(app)


def main() -> None:
    app()
