-- Webhook callbacks of verification jobs.
--
-- webhook_deliveries is written by the callbacks stage and can be rebuilt
-- from the verification.completed and verification.callback-attempted
-- topics; only the lease columns are process state. webhook_secrets is
-- primary data (like api_keys) and is not in any topic.

CREATE TABLE webhook_deliveries (
    webhook_id        text PRIMARY KEY,
    tenant_id         text NOT NULL,
    job_id            text NOT NULL,
    -- The verification.completed event that caused the delivery.
    event_id          text NOT NULL,
    subject           text NOT NULL,
    request_id        text,
    traceparent       text,
    url               text NOT NULL,
    -- The exact bytes that are signed and sent on every attempt.
    body              text NOT NULL,
    -- pending, delivered, rejected or gave_up.
    status            text NOT NULL,
    attempts          integer NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz,
    last_status_code  integer,
    last_error        text,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    -- A worker that claims a due attempt holds it until lease_until.
    lease_owner       text,
    lease_until       timestamptz
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_job ON webhook_deliveries (tenant_id, job_id);

CREATE TABLE webhook_secrets (
    tenant_id               text PRIMARY KEY REFERENCES tenants (tenant_id),
    -- Fernet tokens under the platform's secret key.
    secret_token            text NOT NULL,
    previous_secret_token   text,
    previous_valid_until    timestamptz,
    created_at              timestamptz NOT NULL DEFAULT now(),
    rotated_at              timestamptz
);
