"""Topic registry: every topic Tidings reads or writes, with its settings.

Names follow `tidings.<domain>.<event>.v<major>`. History topics keep events
with no time-based deletion so analysts and downstream teams can replay them.
"""

from dataclasses import dataclass

FOREVER = -1


@dataclass(frozen=True)
class TopicSpec:
    name: str
    event_type: str
    key: str
    description: str
    retention_ms: int = FOREVER
    cleanup_policy: str = "delete"
    partitions: int | None = None  # None: the TIDINGS_TOPIC_PARTITIONS setting
    # Tidings stages (Faust agent names) that read the topic; the AsyncAPI
    # document lists them as receive operations.
    consumed_by: tuple[str, ...] = ()

    @property
    def dlq(self) -> str:
        return f"{self.name}.dlq"


DOCUMENT_UPLOADED = TopicSpec(
    name="tidings.document.uploaded.v1",
    event_type="dev.tidings.document.uploaded.v1",
    key="document id",
    description="A file was stored in the object store and awaits parsing.",
    consumed_by=("parse", "status"),
)
DOCUMENT_PARSED = TopicSpec(
    name="tidings.document.parsed.v1",
    event_type="dev.tidings.document.parsed.v1",
    key="document id",
    description="Page text was extracted and stored; it awaits chunking.",
    consumed_by=("index", "status"),
)
DOCUMENT_INDEXED = TopicSpec(
    name="tidings.document.indexed.v1",
    event_type="dev.tidings.document.indexed.v1",
    key="document id",
    description="Chunks and embeddings are in Postgres; the document is searchable.",
    consumed_by=("status",),
)
DOCUMENT_FAILED = TopicSpec(
    name="tidings.document.failed.v1",
    event_type="dev.tidings.document.failed.v1",
    key="document id",
    description="The document reached a final state without being indexed "
    "(failed or no_text), with a reason.",
    consumed_by=("status",),
)
CATALOG_PRODUCT_UPSERTED = TopicSpec(
    name="tidings.catalog.product-upserted.v1",
    event_type="dev.tidings.catalog.product-upserted.v1",
    key="tenant id:product id",
    description="A product was created or changed; the highest version wins.",
    consumed_by=("catalog",),
)
CATALOG_PRODUCT_DELETED = TopicSpec(
    name="tidings.catalog.product-deleted.v1",
    event_type="dev.tidings.catalog.product-deleted.v1",
    key="tenant id:product id",
    description="A product was removed; upserts of the same or a lower version "
    "are ignored afterwards.",
    consumed_by=("catalog",),
)
INTERACTION_RECORDED = TopicSpec(
    name="tidings.interaction.recorded.v1",
    event_type="dev.tidings.interaction.recorded.v1",
    key="tenant id:session id",
    description="A shopper viewed, clicked, added to cart or bought a product.",
    consumed_by=("interactions",),
)

VERIFICATION_REQUESTED = TopicSpec(
    name="tidings.verification.requested.v1",
    event_type="dev.tidings.verification.requested.v1",
    key="job id",
    description="A caller asked to verify a company, person or merchant.",
    consumed_by=("verify-intake", "verification-state"),
)
VERIFICATION_CHECKED = TopicSpec(
    name="tidings.verification.checked.v1",
    event_type="dev.tidings.verification.checked.v1",
    key="job id",
    description="One check of a verification job finished or was given up.",
    consumed_by=("verification-state",),
)
VERIFICATION_COMPLETED = TopicSpec(
    name="tidings.verification.completed.v1",
    event_type="dev.tidings.verification.completed.v1",
    key="job id",
    description="A verification job ended with a verdict.",
    consumed_by=("verification-state", "callbacks"),
)
VERIFICATION_CALLBACK_ATTEMPTED = TopicSpec(
    name="tidings.verification.callback-attempted.v1",
    event_type="dev.tidings.verification.callback-attempted.v1",
    key="job id",
    description="One attempt to deliver a completion to the caller's callback URL.",
    consumed_by=("verification-state", "callbacks"),
)
SITE_CRAWL_REQUESTED = TopicSpec(
    name="tidings.site.crawl-requested.v1",
    event_type="dev.tidings.site.crawl-requested.v1",
    key="site id",
    description="A caller asked to crawl a website with the given limits.",
    consumed_by=("crawl",),
)
SITE_PAGE_FETCHED = TopicSpec(
    name="tidings.site.page-fetched.v1",
    event_type="dev.tidings.site.page-fetched.v1",
    key="document id",
    description="A crawled page's main text is in the object store; changed "
    "pages await indexing.",
    consumed_by=("site-pages",),
)
SITE_PAGE_REMOVED = TopicSpec(
    name="tidings.site.page-removed.v1",
    event_type="dev.tidings.site.page-removed.v1",
    key="document id",
    description="A page of an earlier crawl disappeared; its chunks are deleted.",
    consumed_by=("site-pages",),
)
SITE_CRAWL_COMPLETED = TopicSpec(
    name="tidings.site.crawl-completed.v1",
    event_type="dev.tidings.site.crawl-completed.v1",
    key="site id",
    description="A crawl ended, with counts of fetched, changed, unchanged, "
    "removed and failed URLs.",
)

TOPICS: tuple[TopicSpec, ...] = (
    DOCUMENT_UPLOADED,
    DOCUMENT_PARSED,
    DOCUMENT_INDEXED,
    DOCUMENT_FAILED,
    CATALOG_PRODUCT_UPSERTED,
    CATALOG_PRODUCT_DELETED,
    INTERACTION_RECORDED,
    VERIFICATION_REQUESTED,
    VERIFICATION_CHECKED,
    VERIFICATION_COMPLETED,
    VERIFICATION_CALLBACK_ATTEMPTED,
    SITE_CRAWL_REQUESTED,
    SITE_PAGE_FETCHED,
    SITE_PAGE_REMOVED,
    SITE_CRAWL_COMPLETED,
)


def all_topic_names(with_dlq: bool = True) -> list[str]:
    names = [spec.name for spec in TOPICS]
    if with_dlq:
        names += [spec.dlq for spec in TOPICS]
    return names


def spec_for_type(event_type: str) -> TopicSpec:
    for spec in TOPICS:
        if spec.event_type == event_type:
            return spec
    raise KeyError(f"no topic is registered for event type {event_type!r}")
