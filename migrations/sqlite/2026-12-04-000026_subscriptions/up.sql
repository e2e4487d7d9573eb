-- Webhook subscriptions of companies and of coordinators' integrations: the URL, the event types
-- sent to it, and the signing secret (encrypted with the data key). Keep in step with
-- migrations/postgres (a test compares the two schemas).
CREATE TABLE webhook_subscriptions (
    id TEXT PRIMARY KEY NOT NULL,
    owner_kind TEXT NOT NULL CHECK (owner_kind IN ('company', 'coordinator')),
    -- The company id, or the coordinators' municipality code.
    owner TEXT NOT NULL,
    url TEXT NOT NULL,
    event_types TEXT NOT NULL,
    secret_ciphertext TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    secret_rotated_at TIMESTAMP
);
CREATE INDEX webhook_subscriptions_owner ON webhook_subscriptions (owner_kind, owner);
