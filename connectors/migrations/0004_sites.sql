-- Website crawls and the pages they indexed. A page's chunks live in
-- document_chunks under the page's document id, like a PDF's.
CREATE TABLE site_crawls (
    crawl_id     text PRIMARY KEY,
    tenant_id    text NOT NULL,
    site_id      text NOT NULL,
    start_url    text NOT NULL,
    limits       jsonb NOT NULL,
    status       text NOT NULL,  -- requested, running, completed, partial, failed
    stop_reason  text,
    detail       text,
    fetched      integer NOT NULL DEFAULT 0,
    changed      integer NOT NULL DEFAULT 0,
    unchanged    integer NOT NULL DEFAULT 0,
    removed      integer NOT NULL DEFAULT 0,
    pdfs         integer NOT NULL DEFAULT 0,
    failed       jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL,
    started_at   timestamptz,
    finished_at  timestamptz,
    trace_id     text
);
CREATE INDEX site_crawls_by_site ON site_crawls (tenant_id, site_id, created_at);

CREATE TABLE site_pages (
    tenant_id         text NOT NULL,
    document_id       text NOT NULL,
    site_id           text NOT NULL,
    url               text NOT NULL,
    title             text NOT NULL DEFAULT '',
    content_sha256    text NOT NULL,
    version           integer NOT NULL,
    text_uri          text NOT NULL,
    last_crawl_id     text NOT NULL,
    changed_crawl_id  text NOT NULL,
    fetched_at        timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, document_id)
);
CREATE INDEX site_pages_by_site ON site_pages (tenant_id, site_id);
CREATE INDEX site_pages_by_changed_crawl ON site_pages (changed_crawl_id);
