"""Hybrid product search: full-text and vector candidates fused by reciprocal
rank fusion (RRF), with filters, sorting, pagination and facets.

The result set of a query is every filtered product whose search text
matches the query, plus the nearest products by embedding whose cosine
similarity reaches `catalog_vector_min_similarity`. Totals and facets count
that set. Sorting by relevance ranks it by RRF over the first 100 products
of each list, and the text matches after those follow in text order. The
other sorts order the whole set. Without a query, the set is every filtered product.

One statement does all of it, so the matched rows are read once: their
search text is the largest part of the work.
"""

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row

from api.product_filters import ProductFilters
from api.typo import TERMS_SQL
from api.vector_search import nearest_sql

# RRF constant from Cormack, Clarke and Buettcher (SIGIR 2009).
RRF_K = 60
MIN_WINDOW = 100
# The vector list does not grow with the offset: it is part of the result
# set, so a larger list on later pages would change `total` and the order,
# and pages would repeat products.
FUSION_WINDOW = MIN_WINDOW
MAX_WINDOW = 1000
FACET_VALUES = 30

SORT_ORDERS = {
    "price_asc": "m.price ASC NULLS LAST, m.product_id",
    "price_desc": "m.price DESC NULLS LAST, m.product_id",
    "newest": "m.updated_at DESC, m.product_id",
    "relevance": "m.updated_at DESC, m.product_id",
}


@dataclass(frozen=True)
class ProductQuery:
    text: str  # segmented query text, "" to browse
    filters: ProductFilters
    sort: str
    limit: int
    offset: int
    facets: bool


@dataclass(frozen=True)
class Nearest:
    """The `k` products nearest to `embedding`, found by the search statement
    itself: through the tenant's HNSW index, walking `candidates` rows, when
    `use_index`, else by an exact scan."""

    embedding: np.ndarray
    k: int
    candidates: int
    use_index: bool


# The vector list of a search: product ids nearest first, or the query that
# finds them inside the search statement.
VectorList = list[tuple[str, float]] | Nearest


@dataclass
class SearchPage:
    rows: list[dict[str, Any]]
    total: int
    text_matches: int
    # False when the full-text matches reached the cap, so that `total` is a
    # lower bound and ranking and facets saw only the first matches.
    exhaustive: bool
    facets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # The tenant's catalog version and vector index, read in the same
    # snapshot as the products.
    catalog_version: int = 0
    vector_index: str | None = None
    # The stored words that may correct a typo in the query, returned when
    # the text matched fewer products than `typo_below`.
    typo_terms: list[str] | None = None


def vector_window(ef_search: int) -> int:
    """Return how many nearest products a search fuses: FUSION_WINDOW, or
    `ef_search` when lower. An HNSW walk returns at most `ef_search` rows, so
    a longer list would need a wider walk on every search. Exact scans of
    small tenants use the same length, so every tenant's list is alike."""
    return min(FUSION_WINDOW, ef_search)


def window_for(limit: int, offset: int) -> int:
    """Return how many candidates each list contributes to the fusion."""
    return min(MAX_WINDOW, max(MIN_WINDOW, offset + limit))


# The vector list as ranked product ids that the caller passes.
VECTOR_IDS = """
vector_list AS MATERIALIZED (
    SELECT v.product_id, v.rank
    FROM unnest(%(vector_ids)s::text[]) WITH ORDINALITY AS v(product_id, rank)
)"""

# The vector list found by the statement itself, which saves a round trip
# and sending the ids both ways. Only products that reach the similarity take
# part, so a product is labelled as matched by vector in every sort order alike.
VECTOR_NEAREST = """
nearest AS MATERIALIZED ({nearest}),
vector_list AS MATERIALIZED (
    SELECT product_id,
           row_number() OVER (ORDER BY similarity DESC, product_id) AS rank
    FROM nearest
    WHERE similarity >= %(min_similarity)s
)"""

# Filters apply after the HNSW walk, so when they leave fewer than k products
# an exact scan of the filtered products replaces the walk. Postgres runs
# only the branch whose one-time condition holds.
NEAREST_CHECKED = """
    SELECT * FROM walked WHERE (SELECT count(*) FROM walked) >= {k}
    UNION ALL
    SELECT * FROM ({exact}) exact WHERE (SELECT count(*) FROM walked) < {k}
"""

# Ranking reads `rank_text` (title, brand, category, attributes), because
# reading every match's full `search_text` made broad queries slow.
# Description-only matches are ranked by `search_text` in PAGE_RELEVANCE, and
# only when the main-field matches leave the window short.
# Vector hits, at most `window` rows, come from a second branch that keeps
# those the full text does not match. Every vector candidate that passes the
# filters and exclusions belongs to the result set, so the fusion joins the
# vector list with those candidates instead of scanning all matches.
# Testing `product_id = ANY(...)` on every text match instead scans the
# array once per row when Postgres runs the statement on a cached generic
# plan. The second branch looks its rows up
# among the text matches instead of testing their search_text, which lives
# outside the row (TOAST).
MATCHED_TEXT = """
text_matched AS MATERIALIZED (
    SELECT p.product_id, p.brand, p.category_prefixes, p.price, p.updated_at,
           TRUE AS text_hit,
           CASE WHEN p.rank_text @@ q.tsq
                THEN ts_rank(p.rank_text, q.tsq) END AS main_rank
    FROM products p, websearch_to_tsquery('english', %(text)s) AS q(tsq)
    WHERE {filters} AND p.search_text @@ q.tsq{text_limit}
),
vector_candidates AS MATERIALIZED (
    SELECT p.product_id, p.brand, p.category_prefixes, p.price, p.updated_at,
           t.product_id IS NOT NULL AS text_hit
    FROM products p
    LEFT JOIN text_matched t ON t.product_id = p.product_id
    WHERE {filters}
      AND p.product_id = ANY(ARRAY(SELECT product_id FROM vector_list)){exclusion}
),
vector_matched AS MATERIALIZED (
    SELECT product_id, brand, category_prefixes, price, updated_at,
           FALSE AS text_hit, NULL::float4 AS main_rank
    FROM vector_candidates
    WHERE NOT text_hit
),
matched AS NOT MATERIALIZED (
    SELECT * FROM text_matched
    UNION ALL
    SELECT * FROM vector_matched
)"""

# Reading matches in table order and stopping at the cap bounds the cost of a
# broad query, since each match read is fetched, ranked and counted. The one
# row read past the cap separates a query that matches exactly the cap from a
# larger one.
TEXT_LIMIT = """
    LIMIT %(max_matches)s + 1"""

# A word or phrase the query excludes ("-word", '-"two words"') also keeps
# out products that only the vector search found.
EXCLUSION = """
      AND NOT p.search_text @@ websearch_to_tsquery('english', %(excluded)s)"""
# websearch_to_tsquery reads an unclosed quote as a phrase to the end.
_EXCLUDED = re.compile(r'(?:^|\s)-("[^"]+"?|[^\s"]+)')


def without_excluded(text: str) -> str:
    """Return `text` without the words and phrases that it excludes."""
    return " ".join(_EXCLUDED.sub(" ", text).split())


def excluded_text(text: str) -> str:
    """Return the words and phrases that a websearch query excludes, joined by
    "or", or "" when it excludes none."""
    return " or ".join(match.group(1) for match in _EXCLUDED.finditer(text))


MATCHED_BROWSE = """
matched AS MATERIALIZED (
    SELECT p.product_id, p.brand, p.category_prefixes, p.price, p.updated_at,
           FALSE AS text_hit, NULL::float4 AS main_rank
    FROM products p
    WHERE {filters}
)"""

# The product list of the requested page, in order: `position`, `score` and
# `matched_by` for each product. RRF fuses the first FUSION_WINDOW products of
# each list. Text matches ranked after them keep their text score, which is
# below every fused score, so deeper pages continue in text order. Fusing a
# window that grew with the page would move products between pages.
PAGE_RELEVANCE = """
main_lexical AS MATERIALIZED (
    SELECT product_id, 0 AS tier, main_rank AS text_rank
    FROM matched
    WHERE main_rank IS NOT NULL
    ORDER BY main_rank DESC, product_id
    LIMIT %(window)s
),
description_lexical AS (
    SELECT m.product_id, 1 AS tier,
           ts_rank(p.search_text, websearch_to_tsquery('english', %(text)s))
               AS text_rank
    FROM matched m
    JOIN products p ON p.tenant_id = %(f_tenant)s AND p.product_id = m.product_id
    WHERE m.text_hit AND m.main_rank IS NULL
      AND (SELECT count(*) FROM main_lexical) < %(window)s
    ORDER BY text_rank DESC, m.product_id
    LIMIT %(window)s
),
lexical AS (
    SELECT product_id,
           row_number() OVER (ORDER BY tier, text_rank DESC, product_id) AS rank
    FROM (
        SELECT * FROM main_lexical
        UNION ALL
        SELECT * FROM description_lexical
    ) ranked
    ORDER BY rank
    LIMIT %(window)s
),
semantic AS (
    SELECT v.product_id, v.rank, c.text_hit
    FROM vector_list v
    JOIN vector_candidates c USING (product_id)
),
fused AS (
    SELECT coalesce(l.product_id, s.product_id) AS product_id,
           CASE
               WHEN s.rank IS NULL THEN 1.0 / (%(rrf_k)s + l.rank)
               WHEN l.rank <= %(fusion_window)s
                   THEN 1.0 / (%(rrf_k)s + l.rank) + 1.0 / (%(rrf_k)s + s.rank)
               ELSE 1.0 / (%(rrf_k)s + s.rank)
           END::float8 AS score,
           CASE
               WHEN s.rank IS NULL THEN ARRAY['text']
               WHEN l.rank IS NOT NULL OR s.text_hit THEN ARRAY['text', 'vector']
               ELSE ARRAY['vector']
           END AS matched_by
    FROM lexical l
    FULL JOIN semantic s ON s.product_id = l.product_id
),
page AS (
    SELECT product_id, score, matched_by,
           row_number() OVER (ORDER BY score DESC, product_id) AS position
    FROM fused
    ORDER BY position
    LIMIT %(limit)s OFFSET %(offset)s
)"""

PAGE_SORTED = """
page AS (
    SELECT m.product_id, 0.0::float8 AS score,
           array_remove(ARRAY[
               CASE WHEN m.text_hit THEN 'text' END,
               CASE WHEN m.product_id = ANY(ARRAY(SELECT product_id FROM vector_list))
                    THEN 'vector' END
           ], NULL) AS matched_by,
           row_number() OVER (ORDER BY {order}) AS position
    FROM matched m
    ORDER BY position
    LIMIT %(limit)s OFFSET %(offset)s
)"""

# Without facets, totals come from one pass over the matched rows.
COUNTS = """
counts AS MATERIALIZED (
    SELECT count(*) AS total, count(*) FILTER (WHERE text_hit) AS text_count
    FROM matched
)"""

# With facets, one pass (GROUPING SETS) counts the matched rows per brand, per
# category prefix array, per price and per text_hit, and the totals, the price
# range and the histogram come from those groups. GROUPING() sets one bit per
# argument left out of a row's grouping set: 7 is a brand row, 11 a category
# row, 13 a price row and 14 a text_hit row.
# The histogram's bucket width is 1, 2 or 5 times a power of ten, chosen to
# give about ten buckets between the lowest and the highest price. Prices stay
# numeric, so a price on a bucket's lower bound falls in that bucket (in
# float8, 1.2 / 0.2 is 5.999...).
FACET_PARTS = """
groups AS MATERIALIZED (
    SELECT GROUPING(m.brand, m.category_prefixes, m.price, m.text_hit)
               AS grouping,
           m.brand, m.category_prefixes, m.price, m.text_hit, count(*) AS n
    FROM matched m
    GROUP BY GROUPING SETS (
        (m.brand), (m.category_prefixes), (m.price), (m.text_hit)
    )
),
counts AS MATERIALIZED (
    SELECT coalesce(sum(n) FILTER (WHERE grouping = 14), 0) AS total,
           coalesce(sum(n) FILTER (WHERE grouping = 14 AND text_hit), 0)
               AS text_count,
           min(price) FILTER (WHERE grouping = 13) AS lo,
           max(price) FILTER (WHERE grouping = 13) AS hi
    FROM groups
),
step AS MATERIALIZED (
    SELECT CASE
        WHEN lo IS NULL THEN NULL
        WHEN raw = 0 THEN 1.0
        ELSE magnitude * CASE
            WHEN raw / magnitude <= 1 THEN 1
            WHEN raw / magnitude <= 2 THEN 2
            WHEN raw / magnitude <= 5 THEN 5
            ELSE 10
        END
    END AS width
    FROM (
        SELECT lo, raw,
               CASE WHEN raw > 0 THEN power(10.0, floor(log(raw))) END AS magnitude
        FROM (SELECT lo, (hi - lo) / 10.0 AS raw FROM counts) r
    ) s
),
facets AS (
    SELECT json_build_object(
        'brands', (
            SELECT coalesce(json_agg(json_build_object('value', brand, 'count', n)
                                     ORDER BY n DESC, brand), '[]')
            FROM (SELECT brand, n FROM groups
                  WHERE grouping = 7 AND brand IS NOT NULL
                  ORDER BY n DESC, brand LIMIT %(facet_values)s) b
        ),
        'categories', (
            SELECT coalesce(json_agg(json_build_object('value', c, 'count', n)
                                     ORDER BY n DESC, c), '[]')
            FROM (SELECT c, sum(g.n) AS n
                  FROM groups g, unnest(g.category_prefixes) c
                  WHERE g.grouping = 11
                  GROUP BY c ORDER BY n DESC, c LIMIT %(facet_values)s) g
        ),
        'price', (
            SELECT coalesce(json_agg(json_build_object(
                       'min', lower, 'max', upper, 'count', n)
                       ORDER BY lower), '[]')
            FROM (SELECT round(bucket * width, 6)::float8 AS lower,
                         round((bucket + 1) * width, 6)::float8 AS upper, n
                  FROM (SELECT floor(g.price / s.width) AS bucket, s.width,
                               sum(g.n) AS n
                        FROM groups g, step s
                        WHERE g.grouping = 13 AND g.price IS NOT NULL
                        GROUP BY 1, 2) b) h
        )
    ) AS facets
)"""

NO_FACETS = """
facets AS (SELECT NULL::json AS facets)"""

# The summary columns (totals, facets, catalog state, typo candidates) fill
# the first row only, because the later rows would repeat the facets' JSON.
RESULT = (
    """
SELECT c.total, c.text_count,
       coalesce(cs.version, 0) AS catalog_version, cs.vector_index,
       CASE WHEN h.first IS NOT FALSE THEN f.facets END AS facets,
       CASE WHEN h.first IS NOT FALSE AND c.text_count < %(typo_below)s
                 AND cardinality(%(variants)s::text[]) > 0
            THEN """
    + TERMS_SQL
    + """
       END AS typo_terms,
       h.product_id, h.title, h.description, h.brand, h.category_path,
       h.price, h.currency, h.stock, h.image_url, h.score, h.matched_by
FROM counts c
CROSS JOIN facets f
LEFT JOIN catalog_state cs ON cs.tenant_id = %(f_tenant)s
LEFT JOIN (
    SELECT pg.position, pg.position = %(offset)s + 1 AS first,
           p.product_id, p.title, p.description, p.brand,
           p.category_path, p.price::float8 AS price, p.currency, p.stock,
           p.image_url, pg.score, pg.matched_by
    FROM page pg
    JOIN products p ON p.tenant_id = %(f_tenant)s AND p.product_id = pg.product_id
) h ON TRUE
ORDER BY h.position
"""
)


def capped(query: ProductQuery) -> bool:
    """Return whether the search reads at most `max_matches` full-text matches.

    Only relevance order is capped. A price or date order over part of the
    matches would return wrong products, not merely other equal ones.
    """
    return bool(query.text) and query.sort == "relevance"


def _vector_ctes(
    query: ProductQuery, tenant_id: str, vector: VectorList | None
) -> tuple[str, dict[str, sql.Composable]]:
    """Return the vector list's CTEs and the statements they embed."""
    if not isinstance(vector, Nearest):
        return VECTOR_IDS, {}
    filters = query.filters
    limits = {"k": vector.k, "candidates": vector.candidates}
    exact, _ = nearest_sql(tenant_id, filters, use_index=False, **limits)
    if not vector.use_index:
        return VECTOR_NEAREST, {"nearest": exact}

    walk, _ = nearest_sql(tenant_id, filters, use_index=True, **limits)
    if not filters.active:
        return VECTOR_NEAREST, {"nearest": walk}
    checked = sql.SQL(NEAREST_CHECKED).format(exact=exact, k=sql.Literal(vector.k))
    cte = "\nwalked AS MATERIALIZED ({walk})," + VECTOR_NEAREST
    return cte, {"walk": walk, "nearest": checked}


def search_sql(
    query: ProductQuery, tenant_id: str, vector: VectorList | None = None
) -> tuple[sql.Composed, dict]:
    """Return the search statement and its filter parameters."""
    filters, params = query.filters.where(tenant_id)
    # On a cached generic plan Postgres guesses the share of one tenant from
    # the number of tenants. For a large tenant it then ANDed a bitmap of all
    # its rows (products_by_brand) into every text search, 2 ms per search on
    # the 96,683-product benchmark tenant. The literal gives it the real
    # share, at the cost of one prepared statement per tenant.
    filters = sql.SQL("{} AND p.tenant_id = {}").format(filters, sql.Literal(tenant_id))
    vector_list, statements = _vector_ctes(query, tenant_id, vector)
    matched = MATCHED_TEXT if query.text else MATCHED_BROWSE
    excluded = excluded_text(query.text)
    matched = matched.replace("{exclusion}", EXCLUSION if excluded else "")
    matched = matched.replace("{text_limit}", TEXT_LIMIT if capped(query) else "")
    if excluded:
        params["excluded"] = excluded
    if query.text and query.sort == "relevance":
        page = PAGE_RELEVANCE
    else:
        page = PAGE_SORTED.replace("{order}", SORT_ORDERS[query.sort])
    summary = FACET_PARTS if query.facets else COUNTS + "," + NO_FACETS
    template = "WITH " + ",".join([vector_list, matched, page, summary]) + RESULT
    return sql.SQL(template).format(filters=filters, **statements), params


async def search_page(
    conn: AsyncConnection,
    tenant_id: str,
    query: ProductQuery,
    vector: VectorList,
    min_similarity: float,
    max_matches: int,
    typo_below: int = 0,
    typo_variants: list[str] | None = None,
) -> SearchPage:
    """Run the search statement for one query, reading at most `max_matches`
    full-text matches when it ranks by relevance. When the text matched fewer
    than `typo_below` products, the page carries the stored words that share
    one of `typo_variants`."""
    statement, filter_params = search_sql(query, tenant_id, vector)
    params: dict[str, Any] = {
        **filter_params,
        "text": query.text,
        "window": window_for(query.limit, query.offset),
        "fusion_window": FUSION_WINDOW,
        "rrf_k": RRF_K,
        "limit": query.limit,
        "offset": query.offset,
        "facet_values": FACET_VALUES,
        "max_matches": max_matches,
        "typo_below": typo_below,
        "variants": typo_variants or [],
        "min_similarity": min_similarity,
    }
    if isinstance(vector, Nearest):
        params["embedding"] = vector.embedding
    else:
        # Only products that reach the similarity take part, so a product
        # is labelled as matched by vector in every sort order alike.
        params["vector_ids"] = [
            pid for pid, similarity in vector if similarity >= min_similarity
        ]
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(statement, params)
        rows = await cursor.fetchall()

    first = rows[0]
    # The text CTE reads one row more than the cap, to tell exactly
    # `max_matches` matches from more.
    text_matches = int(first["text_count"])
    hits = [
        {key: value for key, value in row.items() if key not in SUMMARY_COLUMNS}
        for row in rows
        if row["product_id"] is not None
    ]
    return SearchPage(
        rows=hits,
        total=int(first["total"]),
        text_matches=text_matches,
        exhaustive=not capped(query) or text_matches <= max_matches,
        facets=first["facets"] or {},
        catalog_version=int(first["catalog_version"]),
        vector_index=first["vector_index"],
        typo_terms=first["typo_terms"],
    )


SUMMARY_COLUMNS = frozenset(
    {
        "total",
        "text_count",
        "catalog_version",
        "vector_index",
        "facets",
        "typo_terms",
    }
)
