"""The products table keeps the columns that searches read in the row and
its GIN indexes without a pending list."""

import psycopg
import pytest

pytestmark = pytest.mark.integration

IN_ROW = ("tenant_id", "product_id", "brand", "category_prefixes", "rank_text")
MOVED_OUT = ("description", "attributes", "search_text", "attribute_pairs")


def test_search_columns_stay_in_row(db: psycopg.Connection) -> None:
    storage = dict(
        db.execute(
            "SELECT attname, attstorage FROM pg_attribute "
            "WHERE attrelid = 'products'::regclass AND attnum > 0"
        ).fetchall()
    )
    for column in IN_ROW:
        assert storage[column] == "m", f"{column} is not storage MAIN"
    for column in MOVED_OUT:
        assert storage[column] == "x", f"{column} is not storage EXTENDED"


def test_rows_toasted_above_128_bytes(db: psycopg.Connection) -> None:
    (options,) = db.execute(
        "SELECT reloptions FROM pg_class WHERE oid = 'products'::regclass"
    ).fetchone()
    assert "toast_tuple_target=128" in options


@pytest.mark.parametrize(
    "index",
    ["products_search_text", "products_category_prefixes", "products_attribute_pairs"],
)
def test_gin_index_has_no_pending_list(db: psycopg.Connection, index: str) -> None:
    (options,) = db.execute(
        "SELECT reloptions FROM pg_class WHERE relname = %s", (index,)
    ).fetchone()
    assert "fastupdate=off" in options
