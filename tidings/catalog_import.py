"""`tidings catalog import FILE`: load products from CSV or JSON Lines.

JSON Lines: one product object per line, with the fields of
`POST /v1/catalog/products`. CSV: a header row with the same field names;
`category_path` contains the levels joined by " > ", `attributes` a JSON
object, and empty cells are left out.
"""

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from tidings.client import ClientError, TidingsClient
from tidings.settings import get_settings

CATEGORY_SEPARATOR = " > "
INTEGER_FIELDS = ("stock", "version")
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")

catalog_app = typer.Typer(help="Manage the product catalog.", no_args_is_help=True)
errors = Console(stderr=True)


class CatalogFileError(ValueError):
    """A catalog file cannot be read as products."""


def _csv_product(row: dict[str, str], line: int) -> dict[str, Any]:
    product: dict[str, Any] = {k: v for k, v in row.items() if k and v != ""}
    try:
        if "price" in product:
            product["price"] = float(product["price"])
        for name in INTEGER_FIELDS:
            if name in product:
                product[name] = int(product[name])
        if "attributes" in product:
            product["attributes"] = json.loads(product["attributes"])
    except ValueError as exc:
        raise CatalogFileError(
            f"line {line}: {exc}; price must be a number, stock and version "
            "whole numbers and attributes a JSON object"
        ) from exc
    if "category_path" in product:
        levels = product["category_path"].split(CATEGORY_SEPARATOR)
        product["category_path"] = [level.strip() for level in levels]
    return product


def read_products(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the products of a .csv or .jsonl file in file order."""
    suffix = path.suffix.lower()
    if suffix in JSON_LINES_SUFFIXES:
        with path.open(encoding="utf-8") as file:
            for line, text in enumerate(file, start=1):
                if not text.strip():
                    continue
                try:
                    product = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise CatalogFileError(f"line {line}: invalid JSON: {exc}") from exc
                if not isinstance(product, dict):
                    raise CatalogFileError(f"line {line}: expected a JSON object")
                yield product
    elif suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as file:
            for line, row in enumerate(csv.DictReader(file), start=2):
                yield _csv_product(row, line)
    else:
        raise CatalogFileError(
            f"{path.name}: unknown file type {suffix!r}; use .csv, .jsonl or .ndjson"
        )


def batches(
    products: Iterator[dict[str, Any]], size: int
) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for product in products:
        batch.append(product)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@catalog_app.command("import")
def import_catalog(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    batch_size: Annotated[
        int, typer.Option(min=1, max=5000, help="Products per request.")
    ] = 500,
) -> None:
    """Upsert the products of a CSV or JSON Lines file, in batches."""
    try:
        client = TidingsClient(get_settings())
        total = sum(1 for _ in read_products(file))
    except (ClientError, CatalogFileError) as exc:
        errors.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=errors) as progress:
        task = progress.add_task("importing", total=total)
        try:
            for batch in batches(read_products(file), batch_size):
                client.upsert_products(batch)
                progress.advance(task, len(batch))
        except (ClientError, CatalogFileError) as exc:
            done = int(progress.tasks[0].completed)
            errors.print(f"[red]error:[/red] {exc} (after {done} products)")
            raise typer.Exit(1) from exc
    print(f"accepted {total} products from {file.name}")
