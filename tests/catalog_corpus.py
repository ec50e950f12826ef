"""Products from the shared corpus catalogs, in the API's product form.

litemall-zh (Chinese home goods), magento-luma-en (apparel and gear) and
vendure-en (electronics, home, sports) are read from CORPUS_DIR/catalogs.
"""

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from tests.corpus import CORPUS_DIR, CORPUS_ENV_VAR

CATALOG_DIR = CORPUS_DIR / "catalogs"
Product = dict[str, Any]


def require_catalogs() -> None:
    """Skip the calling test when the corpus catalogs are missing."""
    if not (CATALOG_DIR / "manifest.csv").is_file():
        pytest.skip(
            f"catalog corpus not found: {CATALOG_DIR} is missing; set "
            f"{CORPUS_ENV_VAR} to the folder that contains catalogs/manifest.csv"
        )


def _json_lines(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]


def litemall_products() -> list[Product]:
    products = []
    for row in _json_lines(CATALOG_DIR / "litemall-zh" / "products.jsonl"):
        attributes = {a["attribute"]: a["value"][:200] for a in row["attributes"]}
        products.append(
            {
                "product_id": f"litemall-{row['id']}",
                "title": row["name"],
                "description": " ".join(
                    filter(None, [row["brief"], row["detail_text"]])
                ),
                "brand": row["brand"] or None,
                "category_path": [row["parent_category"], row["category"]],
                "price": row["retail_price"],
                "currency": "CNY",
                "stock": sum(sku["stock"] for sku in row["skus"]),
                "attributes": dict(list(attributes.items())[:10]),
                "image_url": row["pic_url"] or None,
            }
        )
    return products


def _magento_attributes(text: str) -> dict[str, list[str]]:
    attributes = {}
    for part in (text or "").split(","):
        name, separator, values = part.partition("=")
        if separator and name not in ("has_options", "required_options"):
            attributes[name] = values.split("|")
    return attributes


def magento_products() -> list[Product]:
    products = []
    for row in _json_lines(CATALOG_DIR / "magento-luma-en" / "products.jsonl"):
        attributes = _magento_attributes(row["attributes"])
        variations = row.get("variations") or []
        colors = sorted({v["color"] for v in variations if v.get("color")})
        if colors:
            attributes["color"] = colors
        categories = row["categories"] or []
        products.append(
            {
                "product_id": f"luma-{row['sku']}",
                "title": row["name"].strip(),
                "description": row["description"] or "",
                "brand": "Luma",
                "category_path": categories[0].split("/") if categories else [],
                "price": row["price"],
                "currency": "USD",
                "stock": 10 * len(variations) if variations else 10,
                "attributes": attributes,
            }
        )
    return products


def vendure_products() -> list[Product]:
    products = []
    for row in _json_lines(CATALOG_DIR / "vendure-en" / "products.jsonl"):
        facets = [f.split(":", 1) for f in row["facets"] if ":" in f]
        brands = [value for name, value in facets if name == "brand"]
        categories = [value for name, value in facets if name == "category"]
        prices = [variant["price"] for variant in row["variants"]]
        products.append(
            {
                "product_id": f"vendure-{row['slug']}",
                "title": row["name"],
                "description": row["description"] or "",
                "brand": brands[0] if brands else None,
                "category_path": categories[:2],
                "price": min(prices) if prices else None,
                "currency": "USD",
                "stock": 5,
            }
        )
    return products


def corpus_products() -> list[Product]:
    """Return every corpus product: Chinese first, then English."""
    return litemall_products() + magento_products() + vendure_products()


def hot_keywords() -> list[str]:
    """Return litemall-zh's hot search keywords, which real users typed."""
    path = CATALOG_DIR / "litemall-zh" / "hot_keywords.csv"
    with path.open(encoding="utf-8", newline="") as file:
        return [row["keyword"] for row in csv.DictReader(file)]
