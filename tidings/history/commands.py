"""CLI commands for event history: topics, replay, rebuild, asyncapi.

Heavy modules (pyarrow, the embedding model) are imported inside the
commands, so `tidings --help` stays fast.
"""

import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import click
import psycopg
import typer
from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from typer.core import TyperCommand

from connectors.errors import ConnectorError
from tidings.history.errors import HistoryError, ReplayError
from tidings.logs import configure_logging
from tidings.settings import Settings, get_settings

if TYPE_CHECKING:
    from tidings.history.replay import ReplaySummary

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

# Exit status of `rebuild --check` when the tables differ (1 means an error).
EXIT_DIFFERENCES = 2


def _fail(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[red]error:[/red] {message}", markup=True, highlight=False)
    raise typer.Exit(code)


def _settings() -> Settings:
    settings = get_settings()
    # The commands print their own summary; only problems go to the log.
    level = "DEBUG" if settings.log_level == "DEBUG" else "WARNING"
    configure_logging(level, settings.log_format)
    return settings


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    )


def parse_moment(value: str | None, option: str) -> datetime | None:
    """Parse an ISO 8601 time; one without an offset is taken as UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        _fail(
            f"{option} {value!r} is not an ISO 8601 time; write it like "
            "2026-01-31T09:00:00Z"
        )
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def topics_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the catalog as JSON.")
    ] = False,
    internal: Annotated[
        bool,
        typer.Option("--internal", help="Include internal topics (names with __)."),
    ] = False,
) -> None:
    """List topics: partitions, retention, message counts and consumer group lag."""
    from tidings.history.catalog import describe_topics, format_retention

    settings = _settings()
    try:
        found = describe_topics(
            settings.resolved_kafka_bootstrap(), include_internal=internal
        )
    except HistoryError as exc:
        _fail(str(exc))

    if as_json:
        json.dump([topic.to_json() for topic in found], sys.stdout, indent=2)
        print()
        return

    table = Table(box=box.SIMPLE)
    table.add_column("topic", no_wrap=True)
    for name in ("partitions", "retention", "cleanup", "messages"):
        table.add_column(name, justify="right", no_wrap=True)
    # One line per consumer group: lag, then committed/all partitions.
    table.add_column("group lag", overflow="fold")
    for topic in found:
        lags = [
            f"{group.group} {group.lag} "
            f"({group.committed_partitions}/{group.partitions})"
            for group in topic.groups
        ]
        table.add_row(
            topic.name if topic.registered else f"{topic.name} (unregistered)",
            str(topic.partitions),
            format_retention(topic.retention_ms),
            topic.cleanup_policy or "unknown",
            str(topic.messages),
            "\n".join(lags) or "-",
        )
    # Piped output has no terminal width; 80 columns would cut the table.
    out = console if console.is_terminal else Console(width=160)
    out.print(table)


def _check_republish_target(target: str, sources: list[str]) -> None:
    from schemas.topics import all_topic_names

    if target in sources:
        _fail(f"--republish {target} is also a source topic; choose another topic")
    if target in all_topic_names():
        _fail(
            f"--republish {target} is a Tidings topic, whose stages would process "
            "the copies; re-publish to a topic of a test environment instead"
        )


def _print_replay_summary(
    summary: "ReplaySummary", outputs: list[str], out: Console
) -> None:
    table = Table("event type", "tenant", "events")
    for (event_type, tenant), count in sorted(summary.counts.items()):
        table.add_row(event_type, tenant, str(count))
    if summary.counts:
        out.print(table)
    out.print(
        f"{summary.written} events written to {', '.join(outputs)}; "
        f"{summary.scanned} records scanned, {summary.filtered} filtered out, "
        f"{summary.invalid} not valid CloudEvents, "
        f"{summary.outside_window} outside the window; "
        f"{summary.seconds:.1f} s ({summary.events_per_second:.0f} events/s)",
        markup=False,
        highlight=False,
    )


def replay_command(
    topics: Annotated[
        list[str], typer.Option("--topic", help="Topic to read; repeat for more.")
    ],
    start: Annotated[
        str | None,
        typer.Option(
            "--from", help="Start time, inclusive (ISO 8601, UTC if no offset)."
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--to", help="End time, exclusive (ISO 8601, UTC if no offset)."),
    ] = None,
    tenants: Annotated[
        list[str] | None,
        typer.Option("--tenant", help="Keep only this tenant id; repeat for more."),
    ] = None,
    event_types: Annotated[
        list[str] | None,
        typer.Option("--type", help="Keep only this event type; repeat for more."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(help="File to write; `-` writes JSON Lines to stdout."),
    ] = None,
    output_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="jsonl or parquet; by default the --output file's suffix "
            "decides (.jsonl or .ndjson for jsonl, .parquet for parquet).",
        ),
    ] = None,
    republish: Annotated[
        str | None,
        typer.Option(help="Also send the selected events to this existing topic."),
    ] = None,
    target_bootstrap: Annotated[
        str | None,
        typer.Option(
            help="Bootstrap servers of the --republish cluster; default: the "
            "source cluster."
        ),
    ] = None,
) -> None:
    """Export the events of a time window to a file, or re-publish them.

    The window is on the Kafka record timestamp. Reading uses its own
    throwaway consumer and never commits offsets, so no consumer group of the
    platform moves.
    """
    from tidings.history.replay import ReplayQuery, replay
    from tidings.history.sinks import (
        EventSink,
        JsonLinesSink,
        ParquetSink,
        RepublishSink,
        choose_output_format,
    )

    settings = _settings()
    query = ReplayQuery(
        topics=tuple(topics),
        start=parse_moment(start, "--from"),
        end=parse_moment(end, "--to"),
        tenants=frozenset(tenants or ()),
        event_types=frozenset(event_types or ()),
    )
    if query.start and query.end and query.start >= query.end:
        _fail(f"--from {start} is not before --to {end}; swap them")
    if output is None and republish is None:
        _fail("nothing to do: pass --output FILE, --republish TOPIC or both")
    if output is not None:
        try:
            output_format = choose_output_format(str(output), output_format)
        except ReplayError as exc:
            _fail(str(exc))

    if republish is not None:
        _check_republish_target(republish, topics)

    bootstrap = settings.resolved_kafka_bootstrap()
    to_stdout = output is not None and str(output) == "-"
    sinks: list[EventSink] = []
    outputs = []
    try:
        if output is not None:
            if output_format == "parquet":
                sinks.append(ParquetSink(output))
            else:
                sinks.append(JsonLinesSink(output))
            outputs.append("stdout" if to_stdout else str(output))
        if republish is not None:
            sinks.append(RepublishSink(target_bootstrap or bootstrap, republish))
            outputs.append(f"topic {republish}")

        with _progress() as progress:
            task = progress.add_task("replaying", total=None)
            summary = replay(
                bootstrap,
                query,
                sinks,
                on_plan=lambda total: progress.update(task, total=total),
                on_progress=lambda scanned: progress.advance(task, scanned),
            )
    except HistoryError as exc:
        for sink in sinks:
            sink.abort()
        _fail(str(exc))
    # With the events on stdout, the summary goes to stderr.
    _print_replay_summary(summary, outputs, errors if to_stdout else console)


class RebuildHelp(TyperCommand):
    """`tidings rebuild` with the registered views listed under its help."""

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Imported only for --help: the views pull in the stages' modules.
        from tidings.history.views import load_views

        views = sorted(load_views().values(), key=lambda view: view.name)
        self.epilog = "Views:\n\n" + "\n\n".join(
            f"{view.name}: {view.description}" for view in views
        )
        super().format_help(ctx, formatter)


def rebuild_command(
    view: Annotated[
        str,
        typer.Argument(help="View to rebuild; the views are listed below."),
    ],
    check: Annotated[
        bool,
        typer.Option(
            help="Compare the rebuilt tables with the live ones and report the "
            "differing keys, without swapping. Exit status 2 if they differ."
        ),
    ] = False,
) -> None:
    """Rebuild a view's tables from the Kafka history and swap them in.

    Run it with the same settings as the workers (chunk size, embedding
    model), or the rebuilt chunks will differ.
    """
    from tidings.history.rebuild import rebuild_view
    from tidings.history.views import load_views

    views = load_views()
    if view not in views:
        _fail(f"unknown view {view!r}; choose one of {', '.join(sorted(views))}")
    settings = _settings()
    try:
        with _progress() as progress:
            task = progress.add_task(f"reading {view} history", total=None)
            report = asyncio.run(
                rebuild_view(
                    views[view],
                    settings,
                    check=check,
                    on_plan=lambda total: progress.update(task, total=total),
                    on_progress=lambda count: progress.advance(task, count),
                )
            )
    except (HistoryError, ConnectorError, RuntimeError) as exc:
        _fail(str(exc))
    except psycopg.OperationalError as exc:
        # The swap runs in one transaction, so the live tables are either
        # untouched or fully swapped.
        _fail(
            f"Postgres failed during the rebuild of {view}: {exc}. The live "
            "tables are either unchanged or fully rebuilt; check that Postgres "
            "is running and run the command again"
        )

    table = Table("table", "live rows", "rebuilt rows", "differences")
    for part in report.tables:
        differences = str(part.difference_count) if check else "-"
        table.add_row(
            part.table, str(part.live_rows), str(part.rebuilt_rows), differences
        )
    console.print(table)
    for part in report.tables:
        for difference in part.differences:
            key = ", ".join(str(value) for value in difference.key)
            line = f"{part.table} [{key}]: {difference.kind}"
            if difference.columns:
                line += f" in {', '.join(difference.columns)}"
            console.print(line, markup=False, highlight=False)
        if part.difference_count > len(part.differences):
            hidden = part.difference_count - len(part.differences)
            console.print(f"{part.table}: {hidden} more differences not listed")
    verb = "checked" if check else "rebuilt and swapped in"
    console.print(
        f"view {view} {verb} from {report.events_read} events "
        f"({report.events_skipped} skipped as invalid) in {report.seconds:.1f} s",
        markup=False,
        highlight=False,
    )
    if check and not report.equal:
        raise typer.Exit(EXIT_DIFFERENCES)


def asyncapi_command(
    output: Annotated[
        Path | None, typer.Option(help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Print the AsyncAPI 3.0 document of every topic, key, header and payload."""
    from tidings.history.asyncapi import build_document, render_document

    settings = get_settings()
    text = render_document(
        build_document(
            settings.resolved_kafka_bootstrap(),
            partitions=settings.topic_partitions,
            replicas=settings.topic_replication,
        )
    )
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)


def register(app: typer.Typer) -> None:
    """Add the history commands to the `tidings` command line."""
    app.command("topics")(topics_command)
    app.command("replay")(replay_command)
    app.command("rebuild", cls=RebuildHelp)(rebuild_command)
    app.command("asyncapi")(asyncapi_command)
