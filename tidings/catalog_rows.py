"""Rows of a catalog file, the accepted product fields and a check of each row.

A row is checked with the model that `POST /v1/catalog/products` validates
with, so a row that passes here is accepted by the API of the same version.
"""

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from api.catalog_models import ProductCreate
from tidings.client import error_message, shorten

CATEGORY_SEPARATOR = " > "
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")


@dataclass(frozen=True)
class FieldRule:
    """One accepted product field, as the docs and `--help` describe it."""

    name: str
    json_type: str
    required: bool
    expected: str


FIELD_RULES = (
    FieldRule(
        "product_id",
        "string",
        True,
        "1 to 128 letters, digits, '_', '.', ':' or '-'",
    ),
    FieldRule("title", "string", True, "1 to 500 characters"),
    FieldRule(
        "version",
        "integer",
        False,
        "a whole number from 0 to 2^63-1 that grows with each change; leave it "
        "out to use the time of the import",
    ),
    FieldRule("description", "string", False, "up to 20,000 characters"),
    FieldRule("brand", "string", False, "up to 200 characters"),
    FieldRule(
        "category_path",
        "array of strings",
        False,
        "up to 10 levels, root first; in CSV the levels joined by ' > ', such "
        "as 'Men > Tops'",
    ),
    FieldRule("price", "number", False, "a number of 0 or more, such as 19.99"),
    FieldRule(
        "currency",
        "string",
        False,
        "an ISO 4217 code in three capital letters, such as USD",
    ),
    FieldRule(
        "stock",
        "integer",
        False,
        "a whole number from 0 to 2147483647; leave it out when stock is not tracked",
    ),
    FieldRule(
        "attributes",
        "object",
        False,
        "a JSON object whose values are strings, numbers, true/false or lists "
        'of strings, such as {"color": "red"}',
    ),
    FieldRule("image_url", "string", False, "up to 2,000 characters"),
)
RULES_BY_NAME = {rule.name: rule for rule in FIELD_RULES}
ACCEPTED_FIELDS = ", ".join(RULES_BY_NAME)
INTEGER_FIELDS = ("stock", "version")


class CatalogFileError(ValueError):
    """A catalog file cannot be read as products at all."""


@dataclass(frozen=True)
class RowProblem:
    """Why one row of the file is invalid: its line, field, value and fix."""

    line: int
    field: str | None
    message: str
    value: Any = None
    has_value: bool = False

    def __str__(self) -> str:
        where = f"line {self.line}"
        if self.field is not None:
            where += f": {self.field}"
        if self.has_value:
            where += f" {shorten(self.value)}"
        return f"{where}: {self.message}"


@dataclass
class CatalogRow:
    """One product row: the product when valid, else its problems."""

    line: int
    product: dict[str, Any] | None
    problems: list[RowProblem] = field(default_factory=list)


def _rule_text(name: str) -> str:
    rule = RULES_BY_NAME.get(name)
    if rule is None:
        return f"use one of the accepted fields: {ACCEPTED_FIELDS}"
    required = " (required)" if rule.required else ""
    return f"expected {rule.expected}{required}"


def _invalid(line: int, name: str, value: Any, reason: str) -> RowProblem:
    return RowProblem(
        line, name, f"{reason}; {_rule_text(name)}", value=value, has_value=True
    )


def _convert_csv_cells(row: dict[str | None, Any], line: int) -> CatalogRow:
    """Turn CSV text cells into the JSON types of the product fields."""
    product: dict[str, Any] = {k: v for k, v in row.items() if k and v != ""}
    problems = []
    if None in row:
        problems.append(
            RowProblem(
                line,
                None,
                f"{len(row[None])} more cells than the header has columns; quote "
                "cells that contain commas",
            )
        )
    if "price" in product:
        try:
            product["price"] = float(product["price"])
        except ValueError:
            problems.append(_invalid(line, "price", product["price"], "not a number"))
    for name in INTEGER_FIELDS:
        if name in product:
            try:
                product[name] = int(product[name])
            except ValueError:
                problems.append(
                    _invalid(line, name, product[name], "not a whole number")
                )
    if "attributes" in product:
        try:
            product["attributes"] = json.loads(product["attributes"])
        except json.JSONDecodeError as exc:
            problems.append(
                _invalid(
                    line, "attributes", product["attributes"], f"invalid JSON ({exc})"
                )
            )
    if "category_path" in product:
        levels = product["category_path"].split(CATEGORY_SEPARATOR)
        product["category_path"] = [level.strip() for level in levels]
    return CatalogRow(line, None if problems else product, problems)


def _validation_problem(line: int, error: dict[str, Any]) -> RowProblem:
    location = [str(part) for part in error["loc"]]
    name = location[0] if location else None
    field_path = ".".join(location) or None
    if error["type"] == "missing":
        return RowProblem(line, field_path, f"missing; {_rule_text(name or '')}")
    reason = error_message(error)
    if error["type"] == "extra_forbidden":
        reason = "unknown field"
    if error["type"] == "string_pattern_mismatch":
        reason = "invalid characters or length"
    return RowProblem(
        line,
        field_path,
        f"{reason}; {_rule_text(name or '')}",
        value=error.get("input"),
        has_value=True,
    )


def check_row(row: CatalogRow) -> CatalogRow:
    """Validate the row's product with the API's model and record problems."""
    if row.product is None:
        return row
    try:
        ProductCreate.model_validate(row.product)
    except ValidationError as exc:
        problems = [_validation_problem(row.line, error) for error in exc.errors()]
        return CatalogRow(row.line, None, problems)
    return row


def _json_lines_rows(path: Path) -> Iterator[CatalogRow]:
    with path.open(encoding="utf-8") as file:
        for line, text in enumerate(file, start=1):
            if not text.strip():
                continue
            try:
                product = json.loads(text)
            except json.JSONDecodeError as exc:
                problem = RowProblem(
                    line, None, f"invalid JSON ({exc}); write one object per line"
                )
                yield CatalogRow(line, None, [problem])
                continue
            if not isinstance(product, dict):
                problem = RowProblem(
                    line, None, "not a JSON object; write one object per line"
                )
                yield CatalogRow(line, None, [problem])
                continue
            yield CatalogRow(line, product)


def _csv_rows(path: Path) -> Iterator[CatalogRow]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.DictReader(file)
        header = reader.fieldnames or []
        unknown = [name for name in header if name not in RULES_BY_NAME]
        if unknown:
            raise CatalogFileError(
                f"{path.name}: unknown column {unknown[0]!r} in the header; "
                f"use the accepted columns: {ACCEPTED_FIELDS}"
            )
        for row in reader:
            # line_num is the row's last line. A quoted cell may span lines,
            # so step back over its line breaks to the row's first line.
            breaks = sum(value.count("\n") for value in row.values() if value)
            yield _convert_csv_cells(row, reader.line_num - breaks)


def read_rows(path: Path) -> Iterator[CatalogRow]:
    """Yield every row of a .csv or JSON Lines file, checked, in file order.

    A product id seen on an earlier line makes the later row invalid, because
    one request must not contain a product twice.
    """
    suffix = path.suffix.lower()
    if suffix in JSON_LINES_SUFFIXES:
        rows = _json_lines_rows(path)
    elif suffix == ".csv":
        rows = _csv_rows(path)
    else:
        raise CatalogFileError(
            f"{path.name}: unknown file type {suffix!r}; use .csv, .jsonl or .ndjson"
        )

    first_line: dict[str, int] = {}
    for row in rows:
        row = check_row(row)
        if row.product is not None:
            product_id = row.product["product_id"]
            if product_id in first_line:
                problem = RowProblem(
                    row.line,
                    "product_id",
                    f"also on line {first_line[product_id]}; keep one row per product",
                    value=product_id,
                    has_value=True,
                )
                row = CatalogRow(row.line, None, [problem])
            else:
                first_line[product_id] = row.line
        yield row
