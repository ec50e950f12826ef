"""Hybrid product search: full-text and vector candidates fused by reciprocal
rank fusion (RRF), with filters, sorting, pagination and facets.

The result set of a query is every filtered product whose search text
matches the query, plus the nearest products by embedding whose cosine
similarity reaches `catalog_vector_min_similarity`. Totals and facets count
that set. Sorting by relevance ranks it by RRF over the top `window` products
of each list, where `window` covers the requested page. The other sorts
order the whole set. Without a query, the set is every filtered product.
"""

from dataclasses import dataclass, field
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row

from api.product_filters import ProductFilters

# RRF constant from Cormack, Clarke and Buettcher (SIGIR 2009).
RRF_K = 60
MIN_WINDOW = 100
MAX_WINDOW = 1000
FACET_VALUES = 30

HIT_COLUMNS = sql.SQL(
    "p.product_id, p.title, p.description, p.brand, p.category_path, "
    "p.price::float8 AS price, p.currency, p.stock, p.image_url"
)

SORT_ORDERS = {
    "price_asc": sql.SQL("p.price ASC NULLS LAST, p.product_id"),
    "price_desc": sql.SQL("p.price DESC NULLS LAST, p.product_id"),
    "newest": sql.SQL("p.updated_at DESC, p.product_id"),
    "relevance": sql.SQL("p.updated_at DESC, p.product_id"),
}

TSQUERY = sql.SQL("websearch_to_tsquery('english', %(text)s)")


@dataclass(frozen=True)
class ProductQuery:
    text: str  # segmented query text, "" to browse
    filters: ProductFilters
    sort: str
    limit: int
    offset: int
    facets: bool


@dataclass
class SearchPage:
    rows: list[dict[str, Any]]
    total: int
    text_matches: int
    facets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def window_for(limit: int, offset: int) -> int:
    """Return how many candidates each list contributes to the fusion."""
    return min(MAX_WINDOW, max(MIN_WINDOW, offset + limit))


def _matched_condition(query: ProductQuery) -> sql.Composable:
    """Return the condition that puts a filtered product in the result set."""
    if not query.text:
        return sql.SQL("TRUE")
    return sql.SQL("(p.search_text @@ q.tsq OR p.product_id = ANY(%(vector_members)s))")


def _from_clause(query: ProductQuery) -> sql.Composable:
    if not query.text:
        return sql.SQL("products p")
    return sql.SQL("products p, {} AS q(tsq)").format(TSQUERY)


RELEVANCE_SQL = """
WITH lexical AS (
    SELECT p.product_id,
           row_number() OVER (ORDER BY ts_rank_cd(p.search_text, q.tsq) DESC,
                              p.product_id) AS rank
    FROM products p, {tsquery} AS q(tsq)
    WHERE {filters} AND p.search_text @@ q.tsq
    ORDER BY rank
    LIMIT %(window)s
),
semantic AS (
    SELECT v.product_id, v.similarity, v.rank
    FROM unnest(%(vector_ids)s::text[], %(vector_similarities)s::float8[])
         WITH ORDINALITY AS v(product_id, similarity, rank)
),
fused AS (
    SELECT product_id,
           sum(1.0 / (%(rrf_k)s + rank))::float8 AS score,
           array_agg(source ORDER BY source) AS matched_by
    FROM (
        SELECT product_id, rank, 'text' AS source, NULL::float8 AS similarity
        FROM lexical
        UNION ALL
        SELECT product_id, rank, 'vector', similarity FROM semantic
    ) ranked
    GROUP BY product_id
    HAVING bool_or(source = 'text') OR max(similarity) >= %(min_similarity)s
)
SELECT {columns}, f.score, f.matched_by
FROM fused f
JOIN products p ON p.tenant_id = %(f_tenant)s AND p.product_id = f.product_id
ORDER BY f.score DESC, p.product_id
LIMIT %(limit)s OFFSET %(offset)s
"""


def hits_sql(query: ProductQuery, tenant_id: str) -> tuple[sql.Composed, dict]:
    """Return the statement for one page of hits and its parameters."""
    filters, params = query.filters.where(tenant_id)
    if query.text and query.sort == "relevance":
        statement = sql.SQL(RELEVANCE_SQL).format(
            tsquery=TSQUERY, filters=filters, columns=HIT_COLUMNS
        )
        return statement, params

    if query.text:
        matched_by = sql.SQL(
            "array_remove(ARRAY["
            "CASE WHEN p.search_text @@ q.tsq THEN 'text' END, "
            "CASE WHEN p.product_id = ANY(%(vector_members)s) THEN 'vector' END"
            "], NULL) AS matched_by"
        )
    else:
        matched_by = sql.SQL("ARRAY[]::text[] AS matched_by")
    statement = sql.SQL(
        "SELECT {columns}, 0.0::float8 AS score, {matched_by} FROM {source} "
        "WHERE {filters} AND {matched} ORDER BY {order} "
        "LIMIT %(limit)s OFFSET %(offset)s"
    ).format(
        columns=HIT_COLUMNS,
        matched_by=matched_by,
        source=_from_clause(query),
        filters=filters,
        matched=_matched_condition(query),
        order=SORT_ORDERS[query.sort],
    )
    return statement, params


# The histogram's bucket width is 1, 2 or 5 times a power of ten, chosen to
# give about ten buckets between the lowest and the highest price.
FACETS_SQL = """
WITH m AS MATERIALIZED (
    SELECT p.brand, p.category_prefixes, p.price, {text_hit} AS text_hit
    FROM {source}
    WHERE {filters} AND {matched}
),
stats AS (SELECT min(price) AS lo, max(price) AS hi FROM m),
step AS (
    SELECT CASE
        WHEN hi IS NULL THEN NULL
        WHEN hi = lo THEN 1::numeric
        ELSE power(10::numeric, floor(log((hi - lo) / 10.0)))
             * CASE
                 WHEN (hi - lo) / 10.0
                      / power(10::numeric, floor(log((hi - lo) / 10.0))) <= 1 THEN 1
                 WHEN (hi - lo) / 10.0
                      / power(10::numeric, floor(log((hi - lo) / 10.0))) <= 2 THEN 2
                 WHEN (hi - lo) / 10.0
                      / power(10::numeric, floor(log((hi - lo) / 10.0))) <= 5 THEN 5
                 ELSE 10
               END
    END AS width
    FROM stats
)
SELECT 'total' AS facet, NULL AS value, NULL::float8 AS lower,
       NULL::float8 AS width, count(*) AS count,
       count(*) FILTER (WHERE text_hit) AS text_count
FROM m
{facet_parts}
"""

FACET_PARTS = """
UNION ALL (
    SELECT 'brand', brand, NULL, NULL, count(*), NULL FROM m
    WHERE brand IS NOT NULL GROUP BY brand
    ORDER BY count(*) DESC, brand LIMIT %(facet_values)s
)
UNION ALL (
    SELECT 'category', c, NULL, NULL, count(*), NULL
    FROM m, unnest(m.category_prefixes) AS c
    GROUP BY c ORDER BY count(*) DESC, c LIMIT %(facet_values)s
)
UNION ALL (
    SELECT 'price', NULL, (floor(m.price / s.width) * s.width)::float8,
           s.width::float8, count(*), NULL
    FROM m, step s WHERE m.price IS NOT NULL
    GROUP BY 3, 4 ORDER BY 3
)
"""


def facets_sql(query: ProductQuery, tenant_id: str) -> tuple[sql.Composed, dict]:
    """Return the statement for the total and the facets, and its parameters."""
    filters, params = query.filters.where(tenant_id)
    text_hit = sql.SQL("p.search_text @@ q.tsq" if query.text else "FALSE")
    statement = sql.SQL(FACETS_SQL).format(
        text_hit=text_hit,
        source=_from_clause(query),
        filters=filters,
        matched=_matched_condition(query),
        facet_parts=sql.SQL(FACET_PARTS if query.facets else ""),
    )
    return statement, params


def _facets(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    facets: dict[str, list[dict[str, Any]]] = {
        "brands": [],
        "categories": [],
        "price": [],
    }
    for row in rows:
        if row["facet"] == "brand":
            facets["brands"].append({"value": row["value"], "count": row["count"]})
        elif row["facet"] == "category":
            facets["categories"].append({"value": row["value"], "count": row["count"]})
        elif row["facet"] == "price":
            lower = row["lower"]
            facets["price"].append(
                {"min": lower, "max": lower + row["width"], "count": row["count"]}
            )
    return facets


async def search_page(
    conn: AsyncConnection,
    tenant_id: str,
    query: ProductQuery,
    vector: list[tuple[str, float]],
    min_similarity: float,
) -> SearchPage:
    """Run the hits and facets statements for one query."""
    members = [pid for pid, similarity in vector if similarity >= min_similarity]
    params: dict[str, Any] = {
        "text": query.text,
        "window": window_for(query.limit, query.offset),
        "vector_ids": [pid for pid, _ in vector],
        "vector_similarities": [similarity for _, similarity in vector],
        "vector_members": members,
        "min_similarity": min_similarity,
        "rrf_k": RRF_K,
        "limit": query.limit,
        "offset": query.offset,
        "facet_values": FACET_VALUES,
    }
    async with conn.cursor(row_factory=dict_row) as cursor:
        statement, filter_params = hits_sql(query, tenant_id)
        await cursor.execute(statement, {**params, **filter_params})
        rows = await cursor.fetchall()
        statement, filter_params = facets_sql(query, tenant_id)
        await cursor.execute(statement, {**params, **filter_params})
        facet_rows = await cursor.fetchall()

    total_row = next(row for row in facet_rows if row["facet"] == "total")
    return SearchPage(
        rows=rows,
        total=int(total_row["count"]),
        text_matches=int(total_row["text_count"]),
        facets=_facets(facet_rows),
    )
