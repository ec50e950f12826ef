"""Views of the catalog and interaction stages that `tidings rebuild` rebuilds.

The products view contains the tables that the catalog stage writes
(products, delete tombstones and the typo fallback's vocabulary). The
recommendations view contains the tables that the interaction stage writes
(interactions and co-occurrence counts). Both builders call the stages' own
functions with the shadow tables' names.
"""

from dataclasses import dataclass, field

import structlog
from psycopg import AsyncConnection

from connectors.catalog_tables import CatalogTables, write_catalog_changes
from connectors.embedder import Embedder, shared_embedder
from connectors.interaction_tables import InteractionTables, record_interaction
from schemas import topics
from schemas.envelope import CloudEvent
from schemas.events import InteractionRecordedV1
from streams.batch import BAD_DATA_ERRORS
from streams.catalog import KnownTerms, build_catalog_changes, decode_catalog_event
from streams.vector_indexes import INDEX_LOCK_ID
from tidings.history.views import TableSpec, View
from tidings.settings import Settings

log = structlog.get_logger(__name__)

# Catalog events embedded and written per batch, as the stage batches them.
PRODUCT_BATCH_EVENTS = 256

PRODUCTS_TABLE = TableSpec(
    name="products",
    key=("tenant_id", "product_id"),
    # NOTE: created_at is not compared. It is the time of the upsert that
    # inserted the row, so after a delete and a newer upsert it depends on
    # which of the two the stage saw first. They come from two topics, whose
    # relative order Kafka does not keep. No query reads the column.
    columns=(
        "version",
        "title",
        "description",
        "brand",
        "category_path",
        "category_prefixes",
        "price",
        "currency",
        "stock",
        "attributes",
        "attribute_pairs",
        "image_url",
        "search_text",
        "updated_at",
        "event_id",
    ),
    vectors=("embedding",),
)
TOMBSTONES_TABLE = TableSpec(
    name="product_tombstones",
    key=("tenant_id", "product_id"),
    columns=("version", "deleted_at"),
)
TERMS_TABLE = TableSpec(
    name="catalog_terms",
    key=("tenant_id", "term"),
    columns=("variants",),
)
INTERACTIONS_TABLE = TableSpec(
    name="interactions",
    key=("event_id",),
    columns=(
        "tenant_id",
        "session_id",
        "user_id",
        "product_id",
        "kind",
        "occurred_at",
    ),
)
PAIRS_TABLE = TableSpec(
    name="product_pairs",
    key=("tenant_id", "kind", "product_id", "other_id"),
    columns=("sessions",),
)

# The shadow tables get no version bump: no reader sees them before the swap,
# and `refresh_catalog_state` bumps every tenant once the swap is done.
SHADOW_CATALOG_TABLES = CatalogTables(
    products=PRODUCTS_TABLE.shadow,
    tombstones=TOMBSTONES_TABLE.shadow,
    terms=TERMS_TABLE.shadow,
    state=None,
)
SHADOW_INTERACTION_TABLES = InteractionTables(
    interactions=INTERACTIONS_TABLE.shadow,
    pairs=PAIRS_TABLE.shadow,
)


@dataclass
class ProductsBuilder:
    """The catalog stage's writes, in batches of `PRODUCT_BATCH_EVENTS` events.

    The outcome does not depend on the batches: versions and tombstones
    decide every row, and the vocabulary only grows.
    """

    settings: Settings
    embedder: Embedder | None = None
    pending: list[CloudEvent] = field(default_factory=list)
    known_terms: KnownTerms = field(default_factory=KnownTerms)

    async def apply(self, conn: AsyncConnection, event: CloudEvent) -> None:
        # Validate now, so that an invalid event is skipped on its own.
        decode_catalog_event(event)
        self.pending.append(event)
        if len(self.pending) >= PRODUCT_BATCH_EVENTS:
            await self.finish(conn)

    async def finish(self, conn: AsyncConnection) -> None:
        events, self.pending = self.pending, []
        if not events:
            return
        try:
            await self._write(conn, events)
            return
        except BAD_DATA_ERRORS as exc:
            log.warning("rebuild_batch_split", events=len(events), error=str(exc))
        # As in the stage, one bad event must not cost the others their rows.
        for event in events:
            try:
                await self._write(conn, [event])
            except BAD_DATA_ERRORS as exc:
                log.warning(
                    "rebuild_event_skipped",
                    tenant_id=event.tenantid,
                    event_id=event.id,
                    error=str(exc),
                )

    async def _write(self, conn: AsyncConnection, events: list[CloudEvent]) -> None:
        if self.embedder is None:
            self.embedder = shared_embedder(
                self.settings.embedding_model, self.settings.embedding_batch_size
            )
        changes = await build_catalog_changes(events, self.embedder)
        new_terms = self.known_terms.unknown(changes.words)
        await write_catalog_changes(
            conn,
            changes.upserts,
            changes.deletes,
            sorted(new_terms),
            tables=SHADOW_CATALOG_TABLES,
        )
        self.known_terms.add(new_terms)


@dataclass
class RecommendationsBuilder:
    """The interaction stage's writes, one event at a time as in the stage,
    because each event's pairs depend on the interactions stored before it."""

    settings: Settings

    async def apply(self, conn: AsyncConnection, event: CloudEvent) -> None:
        interaction = InteractionRecordedV1.model_validate(event.data)
        await record_interaction(
            conn,
            event.id,
            event.tenantid,
            interaction,
            tables=SHADOW_INTERACTION_TABLES,
        )

    async def finish(self, conn: AsyncConnection) -> None:
        return None


BUMP_ALL_VERSIONS_SQL = """
UPDATE catalog_state SET version = version + 1, updated_at = now()
"""

ADD_MISSING_TENANTS_SQL = """
INSERT INTO catalog_state (tenant_id, version)
SELECT DISTINCT tenant_id, 1 FROM products
ON CONFLICT (tenant_id) DO NOTHING
"""

# The API searches through the index that catalog_state names. Forgetting an
# index that the new table lacks sends that tenant to an exact scan until the
# vector index timer builds the index again.
FORGET_MISSING_INDEXES_SQL = """
UPDATE catalog_state s SET vector_index = NULL
WHERE s.vector_index IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM pg_indexes i
    WHERE i.schemaname = current_schema() AND i.tablename = 'products'
      AND i.indexname = s.vector_index
)
"""


async def refresh_catalog_state(conn: AsyncConnection) -> None:
    """Bump every tenant's catalog version, so that the API drops the search
    results it cached from the old table, and forget missing vector indexes.

    Runs inside the swap's transaction, after the rename.
    """
    await conn.execute(BUMP_ALL_VERSIONS_SQL)
    await conn.execute(ADD_MISSING_TENANTS_SQL)
    cursor = await conn.execute(FORGET_MISSING_INDEXES_SQL)
    if cursor.rowcount:
        log.warning("vector_indexes_forgotten", tenants=cursor.rowcount)


PRODUCTS_VIEW = View(
    name="products",
    description="Products, delete tombstones and the typo fallback's vocabulary, "
    "from the two catalog topics (what the catalog stage writes).",
    topics=(topics.CATALOG_PRODUCT_UPSERTED, topics.CATALOG_PRODUCT_DELETED),
    tables=(PRODUCTS_TABLE, TOMBSTONES_TABLE, TERMS_TABLE),
    builder=ProductsBuilder,
    # The vector index timer takes this lock too, so it builds no index on
    # the live table that the shadow table would lack.
    lock_id=INDEX_LOCK_ID,
    after_swap=refresh_catalog_state,
)
RECOMMENDATIONS_VIEW = View(
    name="recommendations",
    description="Interactions and the viewed-together and bought-together "
    "counts, from interaction.recorded (what the interaction stage writes).",
    topics=(topics.INTERACTION_RECORDED,),
    tables=(INTERACTIONS_TABLE, PAIRS_TABLE),
    builder=RecommendationsBuilder,
)
