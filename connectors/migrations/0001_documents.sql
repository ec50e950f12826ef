-- Tenants, API keys, documents, their event trail and their indexed chunks.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE tenants (
    tenant_id   text PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Keys are random 256-bit tokens, so a plain SHA-256 of the key is enough to
-- store them safely; nothing here can recover a key.
CREATE TABLE api_keys (
    key_hash    text PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants (tenant_id),
    label       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

CREATE TABLE documents (
    tenant_id     text NOT NULL,
    document_id   text NOT NULL,
    filename      text,
    content_type  text,
    size_bytes    bigint,
    sha256        text,
    object_uri    text,
    status        text NOT NULL,
    reason        text,
    detail        text,
    attempt       integer NOT NULL,
    page_count    integer,
    chunk_count   integer,
    created_at    timestamptz NOT NULL,
    status_time   timestamptz NOT NULL,
    status_rank   integer NOT NULL,
    PRIMARY KEY (tenant_id, document_id)
);

CREATE TABLE document_events (
    event_id     text PRIMARY KEY,
    tenant_id    text NOT NULL,
    document_id  text NOT NULL,
    event_type   text NOT NULL,
    status       text NOT NULL,
    attempt      integer NOT NULL,
    reason       text,
    detail       text,
    time         timestamptz NOT NULL,
    trace_id     text
);
CREATE INDEX document_events_by_document
    ON document_events (tenant_id, document_id, time);

CREATE TABLE document_chunks (
    chunk_id     text PRIMARY KEY,
    tenant_id    text NOT NULL,
    document_id  text NOT NULL,
    chunk_index  integer NOT NULL,
    page         integer NOT NULL,
    content      text NOT NULL,
    search_text  tsvector NOT NULL,
    embedding    vector(384) NOT NULL,
    UNIQUE (tenant_id, document_id, chunk_index)
);
CREATE INDEX document_chunks_search_text ON document_chunks USING gin (search_text);
CREATE INDEX document_chunks_embedding
    ON document_chunks USING hnsw (embedding vector_cosine_ops);

-- Workers report here every few seconds; the API's /readyz reads it.
CREATE TABLE worker_heartbeats (
    worker_id   text PRIMARY KEY,
    started_at  timestamptz NOT NULL,
    seen_at     timestamptz NOT NULL
);
