"""`tidings catalog import FILE`: load products from CSV or JSON Lines."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from tidings.catalog_rows import (
    FIELD_RULES,
    CatalogFileError,
    CatalogRow,
    RowProblem,
    read_rows,
)
from tidings.client import ClientError, TidingsClient, error_message
from tidings.settings import get_settings

# Problems printed before the rest are only counted.
MAX_SHOWN_PROBLEMS = 20

catalog_app = typer.Typer(help="Manage the product catalog.", no_args_is_help=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def _fields_help() -> str:
    lines = []
    for rule in FIELD_RULES:
        required = "required" if rule.required else "optional"
        lines.append(f"{rule.name} ({rule.json_type}, {required}): {rule.expected}.")
    return "\n\n".join(lines)


IMPORT_HELP = f"""Upsert the products of a CSV or JSON Lines file, in batches.

A .jsonl or .ndjson file has one JSON object per line. A .csv file has a
header row of field names and one product per row. In CSV, empty cells are
left out, price, stock and version are numbers, category_path joins its
levels with " > ", and attributes is a JSON object in one cell. The fields:

{_fields_help()}

Every row is checked before anything is sent. When a row is invalid, the
command prints each problem (line, field, value, expected form), imports
nothing and exits with status 1. With --skip-invalid it imports the valid
rows instead, and still exits with status 1. If the API rejects a batch, the
import stops and names the lines that were not sent and how many products
were accepted before them. Running the same command again is safe.
"""


@dataclass
class ScanResult:
    """Counts and problems from a first pass over the file."""

    rows: int = 0
    valid: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    invalid_lines: int = 0


def scan(path: Path) -> ScanResult:
    """Read and check every row without sending anything."""
    result = ScanResult()
    for row in read_rows(path):
        result.rows += 1
        if row.product is None:
            result.invalid_lines += 1
            result.problems.extend(row.problems)
        else:
            result.valid += 1
    return result


def batches(rows: Iterator[CatalogRow], size: int) -> Iterator[list[CatalogRow]]:
    """Group the valid rows into lists of up to `size`, in file order."""
    batch: list[CatalogRow] = []
    for row in rows:
        if row.product is None:
            continue
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def rejected_rows(detail: Any, batch: list[CatalogRow]) -> list[RowProblem]:
    """Map a 422 `detail` list of the API onto the batch's lines.

    Each entry's location contains the product's index in the request; entries
    without one (an error of the request as a whole) are left out.
    """
    problems = []
    if not isinstance(detail, list):
        return problems
    for error in detail:
        location = error.get("loc", []) if isinstance(error, dict) else []
        indexes = [i for i, part in enumerate(location) if isinstance(part, int)]
        if not indexes or location[indexes[0]] >= len(batch):
            continue
        position = indexes[0]
        line = batch[location[position]].line
        name = ".".join(str(part) for part in location[position + 1 :]) or None
        has_value = "input" in error and error.get("type") != "missing"
        problems.append(
            RowProblem(line, name, error_message(error), error.get("input"), has_value)
        )
    return problems


def _print_problems(result: ScanResult) -> None:
    for problem in result.problems[:MAX_SHOWN_PROBLEMS]:
        errors.print(str(problem), markup=False)
    hidden = len(result.problems) - MAX_SHOWN_PROBLEMS
    if hidden > 0:
        errors.print(f"... and {hidden} more problems", markup=False)


def _fail(message: str) -> None:
    errors.print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


def _send(client: TidingsClient, path: Path, total: int, batch_size: int) -> None:
    """Send the valid rows in batches; on a rejected batch, report and exit 1."""
    accepted = 0
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=errors) as progress:
        task = progress.add_task("importing", total=total)
        for batch in batches(read_rows(path), batch_size):
            try:
                client.upsert_products([row.product for row in batch])
            except ClientError as exc:
                progress.stop()
                problems = rejected_rows(exc.detail, batch)
                for problem in problems:
                    errors.print(str(problem), markup=False)
                reason = "" if problems else f" ({exc})"
                _fail(
                    f"the batch of lines {batch[0].line} to {batch[-1].line} was "
                    f"rejected{reason}; {accepted} of {total} products were "
                    f"accepted before line {batch[0].line}, and the rest were not "
                    "sent. Fix the cause and run the same command again; sending "
                    "accepted products again is safe"
                )
            accepted += len(batch)
            progress.advance(task, len(batch))


@catalog_app.command("import", help=IMPORT_HELP)
def import_catalog(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    batch_size: Annotated[
        int, typer.Option(min=1, max=5000, help="Products per request.")
    ] = 500,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid",
            help="Import the valid rows when some are invalid, and exit with "
            "status 1; without it an invalid row stops the import before "
            "anything is sent.",
        ),
    ] = False,
) -> None:
    try:
        client = TidingsClient(get_settings())
        result = scan(file)
    except (ClientError, CatalogFileError) as exc:
        _fail(str(exc))

    if result.problems:
        _print_problems(result)
        if not skip_invalid:
            _fail(
                f"nothing imported: {result.invalid_lines} of {result.rows} rows "
                f"are invalid; fix them, or pass --skip-invalid to import the "
                f"{result.valid} valid rows"
            )

    _send(client, file, result.valid, batch_size)
    print(f"accepted {result.valid} products from {file.name}")
    if result.invalid_lines:
        errors.print(
            f"skipped {result.invalid_lines} invalid rows, listed above", markup=False
        )
        raise typer.Exit(1)
