"""The catalog views write only to shadow tables and compare every column but
created_at."""

import re

import pytest
from psycopg import sql

from connectors import catalog_tables, interaction_tables
from tidings.history.catalog_views import (
    PRODUCTS_TABLE,
    PRODUCTS_VIEW,
    RECOMMENDATIONS_VIEW,
    SHADOW_CATALOG_TABLES,
    SHADOW_INTERACTION_TABLES,
)
from tidings.history.views import load_views

LIVE_NAME = re.compile(
    r"\b(products|product_tombstones|catalog_terms|interactions|product_pairs)\b"
)
CATALOG_STATEMENTS = [
    catalog_tables.UPSERT_SQL,
    catalog_tables.TOMBSTONE_SQL,
    catalog_tables.DELETE_SQL,
    catalog_tables.TERMS_SQL,
]
INTERACTION_STATEMENTS = [
    interaction_tables.INSERT_SQL,
    interaction_tables.SEEN_SQL,
    interaction_tables.PARTNERS_SQL,
    interaction_tables.PAIR_SQL,
]


@pytest.mark.parametrize("statement", CATALOG_STATEMENTS)
def test_catalog_statement_uses_shadow_names(statement: sql.SQL) -> None:
    text = SHADOW_CATALOG_TABLES.compose(statement).as_string(None)

    assert "_shadow" in text
    assert LIVE_NAME.search(text) is None, text


@pytest.mark.parametrize("statement", INTERACTION_STATEMENTS)
def test_interaction_statement_uses_shadow_names(statement: sql.SQL) -> None:
    text = SHADOW_INTERACTION_TABLES.compose(statement).as_string(None)

    assert "_shadow" in text
    assert LIVE_NAME.search(text) is None, text


def test_shadow_catalog_tables_skip_version_bump() -> None:
    assert SHADOW_CATALOG_TABLES.state is None


def test_live_statements_keep_live_names() -> None:
    text = catalog_tables.LIVE_TABLES.compose(catalog_tables.UPSERT_SQL).as_string(None)

    assert 'INSERT INTO "products"' in text
    assert 'FROM "product_tombstones"' in text


def test_products_table_compares_columns() -> None:
    compared = set(PRODUCTS_TABLE.key + PRODUCTS_TABLE.columns + PRODUCTS_TABLE.vectors)
    upsert = catalog_tables.UPSERT_SQL.as_string(None)
    inserted = upsert[upsert.index("(") + 1 : upsert.index(")")]
    written = {name.strip() for name in inserted.split(",")}

    # created_at is left out on purpose, see PRODUCTS_TABLE.
    assert written - compared == {"created_at"}


def test_load_views_lists_catalog_views() -> None:
    views = load_views()

    assert views["products"] is PRODUCTS_VIEW
    assert views["recommendations"] is RECOMMENDATIONS_VIEW
    assert {"documents", "document_chunks"} <= set(views)
