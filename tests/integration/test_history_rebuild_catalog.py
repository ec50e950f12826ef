"""`tidings rebuild products` and `recommendations` after a run of the catalog
and interaction stages: the rebuilt tables equal the live ones, `--check`
finds a corrupted row, and searches and recommendations return the same results
before, during and after the swap."""

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import psycopg
import pytest

from schemas import topics
from streams.app import APP_ID
from streams.vector_indexes import build_vector_index, vector_index_name
from tests.integration.catalog_helpers import (
    new_tenant,
    post_products,
    tenant_id_of,
    wait_for_versions,
)
from tests.integration.history_helpers import run_cli, wait_caught_up
from tests.stack import Stack
from tidings.history.catalog_views import PRODUCTS_VIEW, RECOMMENDATIONS_VIEW
from tidings.history.rebuild import RebuildReport, TableReport, rebuild_view
from tidings.history.views import View
from tidings.settings import Settings

pytestmark = pytest.mark.integration

CATALOG_TOPICS = [
    topics.CATALOG_PRODUCT_UPSERTED.name,
    topics.CATALOG_PRODUCT_DELETED.name,
    topics.INTERACTION_RECORDED.name,
]


def product(product_id: str, version: int, title: str, **fields: Any) -> dict:
    return {"product_id": product_id, "version": version, "title": title, **fields}


# Sent in this order, one request each, so the stage processes them in this order within
# each topic. Deletes are (product id, version) and follow the upserts.
UPSERTS = [
    product(
        "hoodie-a",
        1,
        "Wool pullover hoodie, black",
        brand="Northwind",
        category_path=["Men", "Tops"],
        price=59.0,
        currency="EUR",
        stock=5,
        attributes={"color": "black", "size": ["M", "L"]},
    ),
    product("hoodie-b", 1, "Fleece zip hoodie, grey", brand="Northwind", stock=5),
    product("hoodie-c", 1, "Cotton hoodie with pockets", stock=0),
    product(
        "mug-a",
        1,
        "Ceramic coffee mug",
        brand="Potter",
        category_path=["Home", "Kitchen"],
        price=9.5,
        stock=5,
        description="A mug for coffee or tea, dishwasher safe.",
    ),
    product("mug-b", 1, "Enamel camping mug", price=12.0, stock=5),
    product("laptop", 1, "13 inch laptop computer", brand="Acme", price=999.0),
    # Out of order: version 2 arrives first, so version 1 changes nothing.
    product("kettle", 2, "Steel kettle, 1.7 litres", price=35.0),
    product("kettle", 1, "Old kettle"),
    product("tent", 1, "Dome tent for two"),
    product("tent", 3, "Dome tent for two, storm edition"),
    product("tent", 2, "Dome tent for two, light"),
    product("lamp", 1, "Desk lamp"),
    product("beanie", 1, "Knit beanie"),
]
DELETES = [("lamp", 1), ("scarf", 3), ("beanie", 1)]
# After the deletes: an upsert below the tombstone is ignored, one above
# brings the product back.
LATE_UPSERTS = [
    product("scarf", 2, "Silk scarf"),
    product("beanie", 2, "Knit beanie, red", stock=3),
]
EXPECTED_VERSIONS: dict[str, int | None] = {
    "hoodie-a": 1,
    "hoodie-b": 1,
    "hoodie-c": 1,
    "mug-a": 1,
    "mug-b": 1,
    "laptop": 1,
    "kettle": 2,
    "tent": 3,
    "lamp": None,
    "scarf": None,
    "beanie": 2,
}
# (session, user, kind, product, interaction id); i2 is sent twice.
INTERACTIONS = [
    ("s1", "u1", "purchase", "hoodie-a", "i1"),
    ("s1", "u1", "purchase", "mug-a", "i2"),
    ("s1", "u1", "purchase", "mug-a", "i2"),
    ("s2", "u2", "purchase", "hoodie-a", "i3"),
    ("s2", "u2", "purchase", "mug-a", "i4"),
    ("s3", "u3", "purchase", "hoodie-a", "i5"),
    ("s3", "u3", "purchase", "mug-b", "i6"),
    ("s4", "u4", "view", "hoodie-a", "i7"),
    ("s4", "u4", "view", "laptop", "i8"),
    ("s4", "u4", "click", "hoodie-a", "i9"),
    ("s4", "u4", "add_to_cart", "kettle", "i10"),
    ("s5", "u5", "view", "hoodie-a", "i11"),
    ("s5", "u5", "add_to_cart", "laptop", "i12"),
    ("s5", "u5", "view", "tent", None),
]
OTHER_TENANT_PRODUCTS = [
    product("hoodie-a", 1, "Linen summer shirt", stock=2),
    product("mug-a", 1, "Glass teapot", stock=2),
]
OTHER_TENANT_INTERACTIONS = [
    ("s1", "u1", "view", "hoodie-a", "o1"),
    ("s1", "u1", "view", "mug-a", "o2"),
]

# Requests whose responses must not change: (path, query parameters).
SEARCHES = [
    ("/v1/search/products", {"q": "hoodie"}),
    ("/v1/search/products", {"q": "coffee mug", "facets": "true"}),
    ("/v1/search/products", {"q": "pullovr"}),
    ("/v1/search/products", {"q": "", "sort": "price_asc"}),
]
RECOMMENDATIONS = [
    ("/v1/recommendations", {"product_id": "hoodie-a"}),
    ("/v1/recommendations", {"session_id": "s4"}),
    ("/v1/recommendations", {"user_id": "u1"}),
]

# Every column but created_at (see PRODUCTS_TABLE) and the embedding.
PRODUCT_COLUMNS = (
    "version, title, description, brand, category_path, category_prefixes, "
    "price, currency, stock, attributes, attribute_pairs, image_url, "
    "search_text, updated_at, event_id"
)
# Each returns the tenant id, the row as text and the embedding as text.
SNAPSHOTS = {
    "products": f"SELECT tenant_id, ROW({PRODUCT_COLUMNS})::text, embedding::text "
    "FROM products",
    "product_tombstones": "SELECT tenant_id, t::text, NULL FROM product_tombstones t",
    "catalog_terms": "SELECT tenant_id, t::text, NULL FROM catalog_terms t",
    "interactions": "SELECT tenant_id, t::text, NULL FROM interactions t",
    "product_pairs": "SELECT tenant_id, t::text, NULL FROM product_pairs t",
}


def interaction(row: tuple[str, str, str, str, str | None]) -> dict[str, Any]:
    session, user, kind, product_id, interaction_id = row
    body = {
        "session_id": session,
        "user_id": user,
        "kind": kind,
        "product_id": product_id,
    }
    return (
        body if interaction_id is None else {**body, "interaction_id": interaction_id}
    )


def send_catalog(api: httpx.Client) -> None:
    """Send every upsert and delete, in order, and the interactions."""
    for item in UPSERTS:
        post_products(api, [item])
    assert wait_for_versions(api, {"lamp": 1, "beanie": 1})
    for product_id, version in DELETES:
        response = api.delete(
            f"/v1/catalog/products/{product_id}", params={"version": version}
        )
        assert response.status_code == 202, response.text
    assert wait_for_versions(api, {"lamp": None, "scarf": None, "beanie": None})
    for item in LATE_UPSERTS:
        post_products(api, [item])
    response = api.post("/v1/interactions", json=[interaction(r) for r in INTERACTIONS])
    assert response.status_code == 202, response.text


@dataclass
class CatalogRun:
    stack: Stack
    settings: Settings
    api: httpx.Client
    tenant_id: str
    other_api: httpx.Client
    other_tenant_id: str
    responses: dict[tuple[str, str, str], dict[str, Any]]


def request_key(path: str, params: dict[str, str]) -> str:
    return f"{path}?{json.dumps(params, sort_keys=True)}"


def normalized(body: dict[str, Any]) -> dict[str, Any]:
    """Return the body with each score rounded: re-embedded products differ
    from the live ones in the last float bits."""

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                key: round(item, 3) if key == "score" else walk(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    result: dict[str, Any] = walk(body)
    return result


def get_json(api: httpx.Client, path: str, params: dict[str, str]) -> dict[str, Any]:
    response = api.get(path, params=params)
    assert response.status_code == 200, response.text
    return normalized(response.json())


def get_json_alone(
    api: httpx.Client, path: str, params: dict[str, str]
) -> dict[str, Any]:
    """Ask on a client of its own, for use from another thread."""
    with httpx.Client(
        base_url=api.base_url, headers=api.headers, timeout=300
    ) as client:
        return get_json(client, path, params)


def all_responses(run: CatalogRun) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Return the responses to SEARCHES and RECOMMENDATIONS for the first tenant
    and to SEARCHES for the other."""
    requested = [(run.tenant_id, run.api, SEARCHES + RECOMMENDATIONS)]
    requested.append((run.other_tenant_id, run.other_api, SEARCHES))
    return {
        (tenant, path, request_key(path, params)): get_json(client, path, params)
        for tenant, client, requests in requested
        for path, params in requests
    }


@pytest.fixture(scope="module")
def catalog_run(stack: Stack) -> Iterator[CatalogRun]:
    """Run the catalog and interaction stages for two tenants, give the first
    a vector index, and record the API's responses."""
    settings = Settings(
        data_dir=stack.data_dir,
        kafka_bootstrap=stack.kafka_bootstrap,
        database_url=stack.database_url,
        topic_partitions=2,
    )
    with (
        new_tenant(stack, "t-rebuild-shop") as api,
        new_tenant(stack, "t-rebuild-other") as other_api,
    ):
        send_catalog(api)
        post_products(other_api, OTHER_TENANT_PRODUCTS)
        response = other_api.post(
            "/v1/interactions",
            json=[interaction(row) for row in OTHER_TENANT_INTERACTIONS],
        )
        assert response.status_code == 202, response.text
        assert wait_for_versions(api, EXPECTED_VERSIONS)
        assert wait_for_versions(other_api, {"hoodie-a": 1, "mug-a": 1})
        wait_caught_up(stack, APP_ID, CATALOG_TOPICS, timeout=180)

        tenant_id = tenant_id_of(stack, api)
        asyncio.run(_build_index(stack.database_url, tenant_id))
        run = CatalogRun(
            stack,
            settings,
            api,
            tenant_id,
            other_api,
            tenant_id_of(stack, other_api),
            {},
        )
        run.responses = all_responses(run)
        yield run


async def _build_index(database_url: str, tenant_id: str) -> None:
    # The vector index timer builds this index only above 300 products; the
    # same function builds it here for a small catalog.
    async with await psycopg.AsyncConnection.connect(
        database_url, autocommit=True
    ) as conn:
        await build_vector_index(conn, tenant_id)


def rebuild(
    run: CatalogRun, view: View, check: bool, lock_timeout: float = 10.0
) -> RebuildReport:
    return asyncio.run(
        rebuild_view(view, run.settings, check=check, lock_timeout_seconds=lock_timeout)
    )


def snapshot(
    db: psycopg.Connection, table: str, tenants: list[str]
) -> dict[tuple[str, str], np.ndarray | None]:
    """Return the tenants' rows of a table as text, each with its embedding."""
    rows = db.execute(
        f"SELECT * FROM ({SNAPSHOTS[table]}) t (tenant_id, line, embedding) "
        "WHERE tenant_id = ANY(%s)",
        (tenants,),
    ).fetchall()
    return {
        (tenant, line): None
        if embedding is None
        else np.array(json.loads(embedding), dtype=np.float32)
        for tenant, line, embedding in rows
    }


def assert_same_rows(
    before: dict[tuple[str, str], np.ndarray | None],
    after: dict[tuple[str, str], np.ndarray | None],
    table: str,
) -> None:
    assert len(before) > 0, table
    assert set(after) == set(before), table
    for key, vector in before.items():
        if vector is not None:
            assert float(np.dot(vector, after[key])) > 1 - 1e-4, key


def bump_version(db: psycopg.Connection, tenant_id: str) -> None:
    """Move the tenant's catalog version on, so the API's cached results of
    the current version do not serve the next requests."""
    db.execute(
        "UPDATE catalog_state SET version = version + 1 WHERE tenant_id = %s",
        (tenant_id,),
    )


def waiting_locks(db: psycopg.Connection, table: str, mode: str) -> int:
    row = db.execute(
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND mode = %s "
        "AND relation = to_regclass(%s)",
        (mode, table),
    ).fetchone()
    return int(row[0]) if row else 0


def wait_for(
    check: Callable[[], bool], description: str, timeout: float = 180.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {description}")


def swap_under_requests(
    run: CatalogRun,
    db: psycopg.Connection,
    view: View,
    held_table: str,
    requests: list[tuple[str, dict[str, str]]],
) -> tuple[RebuildReport, list[dict[str, Any]]]:
    """Rebuild the view while a reader has `held_table` open, send the requests
    once the swap waits for that reader, then let the swap go on.

    The requests queue behind the swap's ACCESS EXCLUSIVE lock request, so
    they run while the swap is in progress and read the new tables.
    """
    stack = run.stack
    with psycopg.connect(stack.database_url) as reader:
        reader.execute(f"SELECT 1 FROM {held_table} LIMIT 1").fetchall()
        with ThreadPoolExecutor(max_workers=len(requests) + 1) as pool:
            swap = pool.submit(rebuild, run, view, False, 300.0)
            wait_for(
                lambda: (
                    waiting_locks(db, held_table, "AccessExclusiveLock") == 1
                    or swap.done()
                ),
                "the swap to wait for the reader",
            )
            assert not swap.done(), swap.result()

            responses: list[Future[dict[str, Any]]] = [
                pool.submit(get_json_alone, run.api, path, params)
                for path, params in requests
            ]
            wait_for(
                lambda: waiting_locks(db, held_table, "AccessShareLock") >= 1,
                "a request to wait for the swap",
            )
            reader.rollback()
            report = swap.result(timeout=300)
            return report, [future.result(timeout=120) for future in responses]


def expected_responses(
    run: CatalogRun, requests: list[tuple[str, dict[str, str]]]
) -> list[dict[str, Any]]:
    return [
        run.responses[(run.tenant_id, path, request_key(path, params))]
        for path, params in requests
    ]


def check_equal(run: CatalogRun, view: View) -> dict[str, TableReport]:
    """Rebuild with --check, assert that no table differs, return the tables."""
    report = rebuild(run, view, check=True)
    tables = {table.table: table for table in report.tables}

    assert report.equal, report.tables
    for table in tables.values():
        assert table.rebuilt_rows == table.live_rows, table
    return tables


def test_products_check_equal(catalog_run: CatalogRun) -> None:
    tables = check_equal(catalog_run, PRODUCTS_VIEW)

    assert tables["products"].rebuilt_rows >= 10
    assert tables["product_tombstones"].rebuilt_rows >= len(DELETES)
    assert tables["catalog_terms"].rebuilt_rows >= 20


def test_products_check_reports_corrupted_rows(
    catalog_run: CatalogRun, db: psycopg.Connection
) -> None:
    tenant = catalog_run.tenant_id
    db.execute(
        "UPDATE products SET price = price + 1 "
        "WHERE tenant_id = %s AND product_id = 'hoodie-a'",
        (tenant,),
    )
    db.execute(
        "DELETE FROM catalog_terms WHERE tenant_id = %s AND term = 'pullover'",
        (tenant,),
    )

    result = run_cli(catalog_run.stack, "rebuild", "products", "--check")

    assert result.returncode == 2, result.stdout + result.stderr
    assert f"products [{tenant}, hoodie-a]: differs in price" in result.stdout
    assert f"catalog_terms [{tenant}, pullover]: only_rebuilt" in result.stdout
    assert "view products checked" in result.stdout


def test_products_swap_under_requests(
    catalog_run: CatalogRun, db: psycopg.Connection
) -> None:
    # Runs after the check test above, whose corrupted rows the swap repairs.
    run = catalog_run
    index = vector_index_name(run.tenant_id)
    bump_version(db, run.tenant_id)
    version_before = db.execute(
        "SELECT version FROM catalog_state WHERE tenant_id = %s", (run.tenant_id,)
    ).fetchone()
    requests = SEARCHES + RECOMMENDATIONS[:1]

    report, responses = swap_under_requests(
        run, db, PRODUCTS_VIEW, "products", requests
    )
    price = db.execute(
        "SELECT price FROM products WHERE tenant_id = %s AND product_id = 'hoodie-a'",
        (run.tenant_id,),
    ).fetchone()
    state = db.execute(
        "SELECT version, vector_index FROM catalog_state WHERE tenant_id = %s",
        (run.tenant_id,),
    ).fetchone()
    index_row = db.execute(
        "SELECT c.relname, i.indisvalid, pg_get_indexdef(i.indexrelid) "
        "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE c.relname = %s AND i.indrelid = 'products'::regclass",
        (index,),
    ).fetchone()
    shadows = db.execute(
        "SELECT count(*) FROM pg_tables WHERE tablename LIKE '%%\\_shadow'"
    ).fetchone()

    assert report.swapped
    assert responses == expected_responses(run, requests)
    assert price is not None and float(price[0]) == 59.0
    assert state is not None and version_before is not None
    assert state[0] > version_before[0]
    assert state[1] == index
    assert index_row is not None, f"index {index} is missing on products"
    assert index_row[1] is True
    assert f"WHERE (tenant_id = '{run.tenant_id}'::text)" in index_row[2]
    assert shadows == (0,)


def test_products_rebuild_equals_live(
    catalog_run: CatalogRun, db: psycopg.Connection
) -> None:
    tenants = [catalog_run.tenant_id, catalog_run.other_tenant_id]
    tables = ("products", "product_tombstones", "catalog_terms")
    before = {table: snapshot(db, table, tenants) for table in tables}
    versions = {
        row[0]: row[1]
        for row in db.execute(
            "SELECT product_id, version FROM products WHERE tenant_id = %s",
            (catalog_run.tenant_id,),
        ).fetchall()
    }

    report = rebuild(catalog_run, PRODUCTS_VIEW, check=False)

    assert report.swapped
    assert versions == {k: v for k, v in EXPECTED_VERSIONS.items() if v is not None}
    for table in tables:
        assert_same_rows(before[table], snapshot(db, table, tenants), table)
    (options,) = db.execute(
        "SELECT reloptions FROM pg_class WHERE oid = 'products'::regclass"
    ).fetchone()
    assert options is not None and "toast_tuple_target=128" in options


def test_products_responses_equal_after_swap(catalog_run: CatalogRun) -> None:
    assert all_responses(catalog_run) == catalog_run.responses


def test_recommendations_check_equal(catalog_run: CatalogRun) -> None:
    tables = check_equal(catalog_run, RECOMMENDATIONS_VIEW)

    assert tables["interactions"].rebuilt_rows >= len(INTERACTIONS) - 1
    assert tables["product_pairs"].rebuilt_rows >= 8


def test_recommendations_check_reports_corrupted_rows(
    catalog_run: CatalogRun, db: psycopg.Connection
) -> None:
    tenant = catalog_run.tenant_id
    db.execute(
        "UPDATE product_pairs SET sessions = sessions + 5 WHERE tenant_id = %s "
        "AND kind = 'bought' AND product_id = 'hoodie-a' AND other_id = 'mug-a'",
        (tenant,),
    )
    deleted = db.execute(
        "DELETE FROM interactions WHERE tenant_id = %s AND session_id = 's4' "
        "AND product_id = 'kettle' RETURNING event_id",
        (tenant,),
    ).fetchone()
    assert deleted is not None

    result = run_cli(catalog_run.stack, "rebuild", "recommendations", "--check")

    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        f"product_pairs [{tenant}, bought, hoodie-a, mug-a]: differs in sessions"
        in result.stdout
    )
    assert f"interactions [{deleted[0]}]: only_rebuilt" in result.stdout


def test_recommendations_swap_under_requests(
    catalog_run: CatalogRun, db: psycopg.Connection
) -> None:
    # Runs after the check test above, whose corrupted rows the swap repairs.
    run = catalog_run
    requests = RECOMMENDATIONS[1:]

    report, responses = swap_under_requests(
        run, db, RECOMMENDATIONS_VIEW, "interactions", requests
    )
    sessions = db.execute(
        "SELECT sessions FROM product_pairs WHERE tenant_id = %s AND kind = 'bought' "
        "AND product_id = 'hoodie-a' AND other_id = 'mug-a'",
        (run.tenant_id,),
    ).fetchone()

    assert report.swapped
    assert responses == expected_responses(run, requests)
    assert sessions == (2,)


def test_recommendations_rebuild_equals_live(
    catalog_run: CatalogRun, db: psycopg.Connection
) -> None:
    tenants = [catalog_run.tenant_id, catalog_run.other_tenant_id]
    tables = ("interactions", "product_pairs")
    before = {table: snapshot(db, table, tenants) for table in tables}

    report = rebuild(catalog_run, RECOMMENDATIONS_VIEW, check=False)

    assert report.swapped
    for table in tables:
        assert_same_rows(before[table], snapshot(db, table, tenants), table)
    assert all_responses(catalog_run) == catalog_run.responses


def test_cli_help_lists_catalog_views(stack: Stack) -> None:
    result = run_cli(stack, "rebuild", "--help")

    assert result.returncode == 0, result.stderr
    for name in ("documents", "document_chunks", "products", "recommendations"):
        assert f"{name}:" in result.stdout


def test_stage_writes_after_swap(catalog_run: CatalogRun) -> None:
    """The catalog stage writes into the swapped-in tables."""
    marker = uuid.uuid4().hex[:8]
    post_products(catalog_run.api, [product("after-swap", 1, f"Torch {marker}")])

    assert wait_for_versions(catalog_run.api, {"after-swap": 1})
    body = get_json(catalog_run.api, "/v1/search/products", {"q": marker})
    # A random marker sometimes embeds close enough to another product to
    # add it as a vector hit (about 1 in 150 for the laptop), so only text
    # matches count here.
    text_hits = [hit for hit in body["hits"] if "text" in hit["matched_by"]]
    assert [hit["product_id"] for hit in text_hits] == ["after-swap"]
