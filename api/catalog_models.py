"""Request and response models of the catalog, search and recommendation API."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.text_checks import reject_nul
from connectors.catalog_tables import CATEGORY_SEPARATOR
from schemas.events import AttributeValue, InteractionKind

PRODUCT_ID_PATTERN = r"^[\w.:\-]{1,128}$"

ProductSort = Literal["relevance", "price_asc", "price_desc", "newest"]

# The largest values of Postgres' integer and bigint columns.
PG_INTEGER_MAX = 2**31 - 1
PG_BIGINT_MAX = 2**63 - 1


def _check_title(title: str) -> str:
    if not title.strip():
        raise ValueError(
            f"title {title!r} is blank; send a title with at least one "
            "visible character"
        )
    return title


def _check_category_path(path: list[str]) -> list[str]:
    """Reject levels that would break the category prefixes in filters and
    facets: an empty level, or one that contains the separator."""
    for index, level in enumerate(path):
        if not level.strip():
            raise ValueError(
                f"category_path[{index}] {level!r} is empty; remove the level "
                "or name it"
            )
        if CATEGORY_SEPARATOR in level:
            levels = [part.strip() for part in level.split(CATEGORY_SEPARATOR)]
            suggestion = [part for part in levels if part]
            raise ValueError(
                f"category_path[{index}] {level!r} contains "
                f"{CATEGORY_SEPARATOR!r}, which separates levels in category "
                f"filters and facets; send each level as its own item, "
                f"e.g. {suggestion!r}"
            )
    return path


class ProductCreate(BaseModel):
    """A product as the caller sends it; `version` defaults to the time the API
    accepts it, in microseconds since the Unix epoch."""

    # Non-finite prices cannot be sent as JSON numbers in events.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    product_id: str = Field(pattern=PRODUCT_ID_PATTERN)
    version: int | None = Field(
        default=None,
        ge=0,
        le=PG_BIGINT_MAX,
        description="Grows with each change. Use one scheme per tenant: either "
        "always send it, or never.",
    )
    title: str = Field(min_length=1, max_length=500)
    description: str = Field(default="", max_length=20000)
    brand: str | None = Field(default=None, max_length=200)
    category_path: list[str] = Field(
        default_factory=list,
        max_length=10,
        description='Category levels, root first, e.g. ["Men", "Tops"].',
    )
    price: float | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    stock: int | None = Field(
        default=None,
        ge=0,
        le=PG_INTEGER_MAX,
        description="Units on hand; null means not tracked.",
    )
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)
    image_url: str | None = Field(default=None, max_length=2000)

    _no_nul = field_validator("*")(reject_nul)
    _title_not_blank = field_validator("title")(_check_title)
    _category_levels = field_validator("category_path")(_check_category_path)


class ProductAccepted(BaseModel):
    product_id: str
    version: int
    event_id: str


class CatalogAccepted(BaseModel):
    accepted: int
    products: list[ProductAccepted]


class ProductPublic(BaseModel):
    product_id: str
    version: int
    title: str
    description: str
    brand: str | None
    category_path: list[str]
    price: float | None
    currency: str | None
    stock: int | None
    attributes: dict[str, AttributeValue]
    image_url: str | None
    updated_at: datetime


class ProductSummary(BaseModel):
    product_id: str
    title: str
    brand: str | None
    category_path: list[str]
    price: float | None
    currency: str | None
    stock: int | None
    image_url: str | None


class Highlights(BaseModel):
    title: str = Field(description="HTML-escaped title, query terms in <mark>.")
    snippet: str = Field(
        description="HTML-escaped window of the description, query terms in <mark>."
    )


class ProductHit(ProductSummary):
    score: float
    matched_by: list[str] = Field(description='"text", "vector" or both.')
    highlights: Highlights


class FacetCount(BaseModel):
    value: str
    count: int


class PriceBucket(BaseModel):
    min: float = Field(description="Lower bound, inclusive.")
    max: float = Field(description="Upper bound, exclusive.")
    count: int


class Facets(BaseModel):
    categories: list[FacetCount] = Field(
        description='Counts per category path prefix (levels joined by "/").'
    )
    brands: list[FacetCount]
    price: list[PriceBucket]


class ProductSearchResults(BaseModel):
    query: str
    corrected_query: str | None = Field(
        description="The query after typo correction, when that was needed."
    )
    total: int
    exhaustive: bool = Field(
        description="False when the query matched more products than the "
        "search reads (TIDINGS_CATALOG_MAX_TEXT_MATCHES): then total is a lower "
        "bound, and ranking and facets cover only the matches read."
    )
    limit: int
    offset: int
    sort: ProductSort
    hits: list[ProductHit]
    facets: Facets | None


class InteractionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    _no_nul = field_validator("*")(reject_nul)

    kind: InteractionKind
    session_id: str = Field(min_length=1, max_length=128)
    user_id: str | None = Field(default=None, max_length=128)
    product_id: str = Field(pattern=PRODUCT_ID_PATTERN)
    occurred_at: datetime | None = Field(
        default=None, description="Defaults to the time the API accepts it."
    )
    interaction_id: str | None = Field(
        default=None,
        max_length=128,
        description="The caller's id; sending the same id again is a no-op.",
    )


class InteractionsAccepted(BaseModel):
    accepted: int
    event_ids: list[str]


class Recommendation(ProductSummary):
    score: float = Field(
        description="Cosine similarity for `similar`, the number of shared "
        "sessions for the together lists."
    )


class Recommendations(BaseModel):
    product_id: str | None
    session_id: str | None
    user_id: str | None
    similar: list[Recommendation]
    bought_together: list[Recommendation]
    viewed_together: list[Recommendation]
