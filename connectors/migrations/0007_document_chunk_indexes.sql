-- No HNSW index spans tenants' document chunks any more. pgvector 0.6
-- filters on tenant_id only after the index walk, so a tenant with a small
-- share of one shared index got fewer neighbours than it asked for. A worker
-- adds a partial HNSW index per large tenant (see streams/chunk_indexes.py),
-- and the API scans every other tenant's chunks exactly.
DROP INDEX IF EXISTS document_chunks_embedding;

-- One row per tenant whose chunks have their own HNSW index.
CREATE TABLE document_chunk_state (
    tenant_id     text PRIMARY KEY,
    vector_index  text,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
