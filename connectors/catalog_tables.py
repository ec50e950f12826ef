"""Postgres tables materialized from catalog events.

Versions decide every write, so the outcome does not depend on the order in
which events arrive. An upsert replaces a stored product only with a higher
version. A delete leaves a tombstone that blocks upserts of the same or a
lower version. Replaying an event changes nothing.

The table names are parameters (`CatalogTables`) so that `tidings rebuild`
can fill shadow tables with the same statements.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from psycopg import AsyncConnection, sql
from psycopg.types.json import Jsonb

from schemas.events import AttributeValue, ProductDeletedV1, ProductUpsertedV1
from tidings.catalog_text import deletion_variants, index_text, latin_words

CATEGORY_SEPARATOR = "/"


@dataclass(frozen=True)
class CatalogTables:
    """Names of the tables that catalog changes are written to."""

    products: str = "products"
    tombstones: str = "product_tombstones"
    terms: str = "catalog_terms"
    # None skips the catalog version bump, for tables that no reader sees yet.
    state: str | None = "catalog_state"

    def compose(self, template: sql.SQL) -> sql.Composed:
        """Fill a statement's {products}, {tombstones}, {terms} and {state}."""
        return template.format(
            products=sql.Identifier(self.products),
            tombstones=sql.Identifier(self.tombstones),
            terms=sql.Identifier(self.terms),
            state=sql.Identifier(self.state or "catalog_state"),
        )


LIVE_TABLES = CatalogTables()


@dataclass(frozen=True)
class ProductUpsert:
    tenant_id: str
    event_id: str
    time: datetime
    product: ProductUpsertedV1
    embedding: np.ndarray


@dataclass(frozen=True)
class ProductDelete:
    tenant_id: str
    time: datetime
    product: ProductDeletedV1


def category_prefixes(path: list[str]) -> list[str]:
    """Return every prefix of a category path: [A, B] -> ["A", "A/B"]."""
    return [CATEGORY_SEPARATOR.join(path[: depth + 1]) for depth in range(len(path))]


def attribute_values(value: AttributeValue) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [
        str(item).lower() if isinstance(item, bool) else str(item) for item in values
    ]


def attribute_pairs(attributes: dict[str, AttributeValue]) -> list[str]:
    """Return "name=value" for every value, the form attribute filters match."""
    return sorted(
        f"{name}={item}"
        for name, value in attributes.items()
        for item in attribute_values(value)
    )


def _attribute_text(attributes: dict[str, AttributeValue]) -> str:
    return " ".join(" ".join(attribute_values(value)) for value in attributes.values())


def upsert_params(change: ProductUpsert) -> dict[str, object]:
    """Return the SQL parameters of one product row."""
    product = change.product
    brand_and_categories = " ".join([product.brand or "", *product.category_path])
    return {
        "tenant": change.tenant_id,
        "product_id": product.product_id,
        "version": product.version,
        "title": product.title,
        "description": product.description,
        "brand": product.brand,
        "category_path": product.category_path,
        "category_prefixes": category_prefixes(product.category_path),
        "price": product.price,
        "currency": product.currency,
        "stock": product.stock,
        "attributes": Jsonb(product.attributes),
        "attribute_pairs": attribute_pairs(product.attributes),
        "image_url": product.image_url,
        "title_text": index_text(product.title),
        "facet_text": index_text(brand_and_categories),
        "attribute_text": index_text(_attribute_text(product.attributes)),
        "description_text": index_text(product.description),
        "embedding": change.embedding,
        "time": change.time,
        "event_id": change.event_id,
    }


def product_words(product: ProductUpsertedV1) -> set[str]:
    """Return the Latin-script words that the typo fallback may correct to."""
    text = " ".join(
        [
            product.title,
            product.brand or "",
            *product.category_path,
            _attribute_text(product.attributes),
            product.description,
        ]
    )
    return latin_words(text)


UPSERT_SQL = sql.SQL("""
INSERT INTO {products} AS p (tenant_id, product_id, version, title, description,
    brand, category_path, category_prefixes, price, currency, stock, attributes,
    attribute_pairs, image_url, search_text, embedding, created_at, updated_at,
    event_id)
SELECT %(tenant)s, %(product_id)s, %(version)s, %(title)s, %(description)s,
    %(brand)s, %(category_path)s, %(category_prefixes)s, %(price)s, %(currency)s,
    %(stock)s, %(attributes)s, %(attribute_pairs)s, %(image_url)s,
    setweight(to_tsvector('english', %(title_text)s), 'A')
    || setweight(to_tsvector('english', %(facet_text)s), 'B')
    || setweight(to_tsvector('english', %(attribute_text)s), 'C')
    || setweight(to_tsvector('english', %(description_text)s), 'D'),
    %(embedding)s, %(time)s, %(time)s, %(event_id)s
WHERE NOT EXISTS (
    SELECT 1 FROM {tombstones} t
    WHERE t.tenant_id = %(tenant)s AND t.product_id = %(product_id)s
      AND t.version >= %(version)s
)
ON CONFLICT (tenant_id, product_id) DO UPDATE SET
    version = EXCLUDED.version,
    title = EXCLUDED.title,
    description = EXCLUDED.description,
    brand = EXCLUDED.brand,
    category_path = EXCLUDED.category_path,
    category_prefixes = EXCLUDED.category_prefixes,
    price = EXCLUDED.price,
    currency = EXCLUDED.currency,
    stock = EXCLUDED.stock,
    attributes = EXCLUDED.attributes,
    attribute_pairs = EXCLUDED.attribute_pairs,
    image_url = EXCLUDED.image_url,
    search_text = EXCLUDED.search_text,
    embedding = EXCLUDED.embedding,
    updated_at = EXCLUDED.updated_at,
    event_id = EXCLUDED.event_id
WHERE p.version < EXCLUDED.version
""")

TOMBSTONE_SQL = sql.SQL("""
INSERT INTO {tombstones} AS t (tenant_id, product_id, version, deleted_at)
VALUES (%(tenant)s, %(product_id)s, %(version)s, %(time)s)
ON CONFLICT (tenant_id, product_id) DO UPDATE SET
    version = EXCLUDED.version, deleted_at = EXCLUDED.deleted_at
WHERE t.version < EXCLUDED.version
""")

DELETE_SQL = sql.SQL("""
DELETE FROM {products}
WHERE tenant_id = %(tenant)s AND product_id = %(product_id)s
  AND version <= %(version)s
""")

TERMS_SQL = sql.SQL("""
INSERT INTO {terms} (tenant_id, term, variants) VALUES (%s, %s, %s)
ON CONFLICT (tenant_id, term) DO NOTHING
""")

BUMP_VERSION_SQL = sql.SQL("""
INSERT INTO {state} AS s (tenant_id, version) VALUES (%s, 1)
ON CONFLICT (tenant_id) DO UPDATE SET version = s.version + 1, updated_at = now()
""")


async def write_catalog_changes(
    conn: AsyncConnection,
    upserts: list[ProductUpsert],
    deletes: list[ProductDelete],
    new_terms: Iterable[tuple[str, str]] = (),
    tables: CatalogTables = LIVE_TABLES,
) -> None:
    """Apply upserts, deletes and vocabulary terms in one transaction and bump
    the catalog version of every tenant they touch (unless `tables.state` is
    None)."""
    tenants = sorted(
        {change.tenant_id for change in upserts}
        | {change.tenant_id for change in deletes}
    )
    delete_params = [
        {
            "tenant": change.tenant_id,
            "product_id": change.product.product_id,
            "version": change.product.version,
            "time": change.time,
        }
        for change in deletes
    ]
    terms = [(tenant, term, deletion_variants(term)) for tenant, term in new_terms]

    async with conn.transaction(), conn.cursor() as cursor:
        if upserts:
            await cursor.executemany(
                tables.compose(UPSERT_SQL), [upsert_params(c) for c in upserts]
            )
        if delete_params:
            await cursor.executemany(tables.compose(TOMBSTONE_SQL), delete_params)
            await cursor.executemany(tables.compose(DELETE_SQL), delete_params)
        if terms:
            await cursor.executemany(tables.compose(TERMS_SQL), terms)
        if tables.state is not None:
            await cursor.executemany(
                tables.compose(BUMP_VERSION_SQL), [(tenant,) for tenant in tenants]
            )
