"""Catalog stage: product-upserted and product-deleted -> `products` rows.

Each batch gets one embedding call and one transaction. The product's
search text is folded (full-width, traditional Chinese), segmented and
weighted: title A, brand and categories B, attributes C, description D.
"""

import asyncio
from dataclasses import dataclass

import structlog

from connectors.catalog_tables import (
    ProductDelete,
    ProductUpsert,
    product_words,
    write_catalog_changes,
)
from connectors.embedder import Embedder
from schemas import topics
from schemas.envelope import CloudEvent
from schemas.events import ProductDeletedV1, ProductUpsertedV1
from streams.runtime import Runtime
from tidings.catalog_text import embedding_text

log = structlog.get_logger(__name__)

# Bound of the in-process set of vocabulary terms already written.
MAX_KNOWN_TERMS = 500_000


# TODO: terms are never removed, so a misspelling in a deleted product keeps
# the typo fallback from correcting that word (docs/catalog.md).
class KnownTerms:
    """Terms this worker has written to `catalog_terms`, to skip rewriting them.

    Cleared when it outgrows its bound. A skipped term is one that is
    already stored, so clearing only costs repeated no-op inserts.
    """

    def __init__(self, limit: int = MAX_KNOWN_TERMS) -> None:
        self.limit = limit
        self._terms: set[tuple[str, str]] = set()

    def unknown(self, terms: set[tuple[str, str]]) -> set[tuple[str, str]]:
        return terms - self._terms

    def add(self, terms: set[tuple[str, str]]) -> None:
        if len(self._terms) + len(terms) > self.limit:
            self._terms.clear()
        self._terms |= terms


known_terms = KnownTerms()


def decode_catalog_event(event: CloudEvent) -> ProductUpsertedV1 | ProductDeletedV1:
    """Validate the payload of a catalog event; raise ValueError for another type."""
    if event.type == topics.CATALOG_PRODUCT_UPSERTED.event_type:
        return ProductUpsertedV1.model_validate(event.data)
    if event.type == topics.CATALOG_PRODUCT_DELETED.event_type:
        return ProductDeletedV1.model_validate(event.data)
    raise ValueError(f"{event.type!r} is not a catalog event type")


@dataclass(frozen=True)
class CatalogChanges:
    """A batch of catalog events as rows to write."""

    upserts: list[ProductUpsert]
    deletes: list[ProductDelete]
    # (tenant id, word) of every upserted product, stored or not.
    words: set[tuple[str, str]]


async def build_catalog_changes(
    events: list[CloudEvent], embedder: Embedder
) -> CatalogChanges:
    """Decode a batch and embed its upserted products in one model call.

    `tidings rebuild` calls this too, so rebuilt rows match the stage's.
    """
    upserted: list[tuple[CloudEvent, ProductUpsertedV1]] = []
    deletes: list[ProductDelete] = []
    for event in events:
        payload = decode_catalog_event(event)
        if isinstance(payload, ProductUpsertedV1):
            upserted.append((event, payload))
        else:
            deletes.append(ProductDelete(event.tenantid, event.time, payload))

    texts = [
        embedding_text(p.title, p.brand, p.category_path, p.description)
        for _, p in upserted
    ]
    vectors = await asyncio.to_thread(embedder.encode, texts)
    upserts = [
        ProductUpsert(event.tenantid, event.id, event.time, product, vector)
        for (event, product), vector in zip(upserted, vectors, strict=True)
    ]
    words = {
        (event.tenantid, word)
        for event, product in upserted
        for word in product_words(product)
    }
    return CatalogChanges(upserts, deletes, words)


async def handle_catalog_batch(events: list[CloudEvent], runtime: Runtime) -> None:
    assert runtime.embedder is not None
    assert runtime.pool is not None

    changes = await build_catalog_changes(events, runtime.embedder)
    new_terms = known_terms.unknown(changes.words)

    async with runtime.pool.connection() as conn:
        await write_catalog_changes(
            conn, changes.upserts, changes.deletes, sorted(new_terms)
        )
    known_terms.add(new_terms)
    log.debug(
        "catalog_batch_written",
        upserts=len(changes.upserts),
        deletes=len(changes.deletes),
        new_terms=len(new_terms),
        tenant_ids=sorted({event.tenantid for event in events}),
    )
