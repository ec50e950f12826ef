-- Verification jobs: their state, per-check results and event trail (all
-- written from the four verification topics, so they can be rebuilt), plus
-- the work queue that the runners claim jobs from.

CREATE TABLE verification_jobs (
    tenant_id        text NOT NULL,
    job_id           text NOT NULL,
    -- queued, running or completed; never moves back.
    status           text NOT NULL,
    status_rank      integer NOT NULL,
    idempotency_key  text,
    body_sha256      text,
    subject          jsonb,
    checks           text[],
    priority         text,
    callback_url     text,
    verdict          text,
    score            double precision,
    check_statuses   jsonb,
    reasons          jsonb,
    evidence         jsonb,
    requested_at     timestamptz,
    completed_at     timestamptz,
    updated_at       timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, job_id)
);
-- One job per tenant and idempotency key.
CREATE UNIQUE INDEX verification_jobs_by_key
    ON verification_jobs (tenant_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX verification_jobs_by_time
    ON verification_jobs (tenant_id, requested_at DESC);

CREATE TABLE verification_checks (
    tenant_id    text NOT NULL,
    job_id       text NOT NULL,
    check_name   text NOT NULL,
    status       text NOT NULL,
    provider     text NOT NULL,
    score        double precision NOT NULL,
    reasons      jsonb NOT NULL,
    evidence     jsonb NOT NULL,
    details      jsonb NOT NULL,
    attempts     integer NOT NULL,
    duration_ms  integer NOT NULL,
    event_id     text NOT NULL,
    checked_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, job_id, check_name)
);

CREATE TABLE verification_events (
    event_id    text PRIMARY KEY,
    tenant_id   text NOT NULL,
    job_id      text NOT NULL,
    event_type  text NOT NULL,
    -- A short readable line for the trail, such as "web_search: clear".
    summary     text NOT NULL,
    data        jsonb NOT NULL,
    time        timestamptz NOT NULL,
    trace_id    text
);
CREATE INDEX verification_events_by_job
    ON verification_events (tenant_id, job_id, time);

-- Work queue of the runners. Not derived from events alone: it records
-- which worker holds which job, so a rebuild leaves it alone.
CREATE TABLE verification_queue (
    job_id       text PRIMARY KEY,
    tenant_id    text NOT NULL,
    priority     text NOT NULL,
    enqueued_at  timestamptz NOT NULL,
    -- The verification.requested event (attributes and payload) that the
    -- runner works from.
    request      jsonb NOT NULL,
    -- A runner holds the job until lease_until; an expired lease means its
    -- worker died, and another runner may take the job.
    lease_owner  text,
    lease_until  timestamptz,
    runs         integer NOT NULL DEFAULT 0,
    finished_at  timestamptz
);
CREATE INDEX verification_queue_open
    ON verification_queue (priority, enqueued_at)
    WHERE finished_at IS NULL;
