"""The real corpus catalogs, loaded with `tidings catalog import`, then
searched with real users' queries."""

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.catalog_corpus import corpus_products, hot_keywords, require_catalogs
from tests.integration.catalog_helpers import (
    hit_ids,
    new_tenant,
    search,
    wait_for_products,
    wait_for_versions,
)
from tests.stack import REPO_ROOT, Stack
from tidings.catalog_text import fold

pytestmark = pytest.mark.integration


def run_import(
    stack: Stack, api: httpx.Client, path: Path
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TIDINGS_API_URL": stack.api_url,
        "TIDINGS_API_KEY": api.headers["Authorization"].removeprefix("Bearer "),
    }
    return subprocess.run(
        [sys.executable, "-m", "tidings", "catalog", "import", str(path)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def corpus_shop(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[httpx.Client, str]]:
    """A tenant holding every corpus product, imported from JSON Lines."""
    require_catalogs()
    products = [{**p, "version": 1} for p in corpus_products()]
    path = tmp_path_factory.mktemp("catalog") / "products.jsonl"
    path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in products))
    with new_tenant(stack, "corpus") as api:
        result = run_import(stack, api, path)
        assert result.returncode == 0, result.stderr
        assert wait_for_versions(api, {p["product_id"]: 1 for p in products})
        yield api, result.stdout


def test_import_reports_count(corpus_shop: tuple[httpx.Client, str]) -> None:
    _, output = corpus_shop

    assert (
        output.strip()
        == f"accepted {len(corpus_products())} products from products.jsonl"
    )


def test_hot_keywords_find_their_products(
    corpus_shop: tuple[httpx.Client, str],
) -> None:
    """Every hot keyword that occurs in a product title finds that product
    among its first five hits."""
    api, _ = corpus_shop
    titles = {p["product_id"]: fold(p["title"]) for p in corpus_products()}
    checked = 0
    for keyword in hot_keywords():
        wanted = {pid for pid, title in titles.items() if fold(keyword) in title}
        if not wanted:
            continue
        checked += 1
        found = set(hit_ids(search(api, q=keyword, limit=5)))

        assert found & wanted, f"{keyword}: none of {sorted(wanted)} in {found}"
    assert checked >= 2


def test_english_query_ranks_matching_titles(
    corpus_shop: tuple[httpx.Client, str],
) -> None:
    api, _ = corpus_shop
    titles = [hit["title"] for hit in search(api, q="hoodie", limit=5)["hits"]]

    # The catalog also sells a "Hoodlie" (sic) and a "Hooded" fleece.
    assert all("hood" in title.lower() for title in titles), titles


def test_category_facet_of_real_catalog(
    corpus_shop: tuple[httpx.Client, str],
) -> None:
    api, _ = corpus_shop
    facets = search(api, q="jacket")["facets"]
    categories = {c["value"] for c in facets["categories"]}

    assert "Women/Tops/Jackets" in categories


def test_csv_import(stack: Stack, tmp_path: Path) -> None:
    path = tmp_path / "products.csv"
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["product_id", "title", "category_path", "price", "attributes"])
        writer.writerow(["c1", "Bamboo cutting board", "Home > Kitchen", "24.5", ""])
        writer.writerow(["c2", "竹制砧板", "居家 > 厨房", "", '{"材质": "竹"}'])

    with new_tenant(stack, "csv") as api:
        result = run_import(stack, api, path)
        assert result.returncode == 0, result.stderr
        assert wait_for_products(api, ["c1", "c2"])
        board = api.get("/v1/catalog/products/c1").json()
        chinese = api.get("/v1/catalog/products/c2").json()

    assert board["category_path"] == ["Home", "Kitchen"]
    assert board["price"] == 24.5
    assert chinese["price"] is None
    assert chinese["attributes"] == {"材质": "竹"}


def test_import_rejects_unknown_file_type(stack: Stack, tmp_path: Path) -> None:
    path = tmp_path / "products.xml"
    path.write_text("<products/>")

    with new_tenant(stack, "xml") as api:
        result = run_import(stack, api, path)

    assert result.returncode == 1
    assert "unknown file type '.xml'" in result.stderr
