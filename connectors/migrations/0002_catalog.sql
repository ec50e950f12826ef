-- Product catalog, its search vocabulary, interactions and co-occurrence.
-- Every table here is written by stream stages and can be rebuilt from the
-- catalog and interaction topics.

CREATE TABLE products (
    tenant_id          text NOT NULL,
    product_id         text NOT NULL,
    version            bigint NOT NULL,
    title              text NOT NULL,
    description        text NOT NULL DEFAULT '',
    brand              text,
    category_path      text[] NOT NULL DEFAULT '{}',
    -- Every prefix of category_path joined by "/", for filters and facets.
    category_prefixes  text[] NOT NULL DEFAULT '{}',
    price              numeric,
    currency           text,
    stock              integer,
    attributes         jsonb NOT NULL DEFAULT '{}',
    -- "name=value" for every attribute value, for attribute filters.
    attribute_pairs    text[] NOT NULL DEFAULT '{}',
    image_url          text,
    search_text        tsvector NOT NULL,
    embedding          vector(384) NOT NULL,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    event_id           text NOT NULL,
    PRIMARY KEY (tenant_id, product_id)
);
CREATE INDEX products_search_text ON products USING gin (search_text);
CREATE INDEX products_category_prefixes ON products USING gin (category_prefixes);
CREATE INDEX products_attribute_pairs ON products USING gin (attribute_pairs);
CREATE INDEX products_by_brand ON products (tenant_id, brand);
CREATE INDEX products_by_price ON products (tenant_id, price);
CREATE INDEX products_by_update ON products (tenant_id, updated_at);
-- No HNSW index covers the whole table on purpose: a worker adds a partial
-- HNSW index per large tenant (see streams/vector_indexes.py).

-- The highest deleted version per product, so that an older upsert that
-- arrives after the delete cannot bring the product back.
CREATE TABLE product_tombstones (
    tenant_id   text NOT NULL,
    product_id  text NOT NULL,
    version     bigint NOT NULL,
    deleted_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, product_id)
);

-- Latin-script words of each tenant's catalog with their trigrams, for the
-- one-edit typo fallback (pg_trgm is not part of the embedded Postgres).
CREATE TABLE catalog_terms (
    tenant_id  text NOT NULL,
    term       text NOT NULL,
    trigrams   text[] NOT NULL,
    PRIMARY KEY (tenant_id, term)
);
CREATE INDEX catalog_terms_trigrams ON catalog_terms USING gin (trigrams);

-- One row per tenant: a version that grows with every catalog change (the
-- API keys its caches by it) and the tenant's HNSW index once it is built.
CREATE TABLE catalog_state (
    tenant_id     text PRIMARY KEY,
    version       bigint NOT NULL DEFAULT 0,
    vector_index  text,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE interactions (
    event_id     text PRIMARY KEY,
    tenant_id    text NOT NULL,
    session_id   text NOT NULL,
    user_id      text,
    product_id   text NOT NULL,
    kind         text NOT NULL,
    occurred_at  timestamptz NOT NULL
);
CREATE INDEX interactions_by_session
    ON interactions (tenant_id, session_id, occurred_at);
CREATE INDEX interactions_by_user
    ON interactions (tenant_id, user_id, occurred_at) WHERE user_id IS NOT NULL;

-- How many sessions contain both products: kind 'viewed' (view, click,
-- add_to_cart) or 'bought' (purchase). Each pair is stored in both directions.
CREATE TABLE product_pairs (
    tenant_id   text NOT NULL,
    kind        text NOT NULL,
    product_id  text NOT NULL,
    other_id    text NOT NULL,
    sessions    integer NOT NULL,
    PRIMARY KEY (tenant_id, kind, product_id, other_id)
);
