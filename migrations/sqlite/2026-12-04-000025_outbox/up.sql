-- Notifications: the transactional outbox. A message is written in the transaction of the change
-- that caused it, one row per recipient and channel, and sent afterwards by the dispatcher; its id
-- is the stable message id receivers deduplicate by. Keep in step with migrations/postgres (a test
-- compares the two schemas).
CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    -- Set where an event is told once only (a cap threshold per citizen and year).
    event_key TEXT,
    recipient_kind TEXT NOT NULL CHECK (recipient_kind IN ('citizen', 'company', 'coordinator')),
    recipient TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('webhook', 'email', 'sms', 'page')),
    subscription_id TEXT,
    -- The municipality whose coordinators answer for the message (its dead letters are theirs).
    municipality TEXT,
    text TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    -- Attempts ever made, and failures since the message was written or last sent again.
    attempts INTEGER NOT NULL CHECK (attempts >= 0),
    failures INTEGER NOT NULL CHECK (failures >= 0),
    next_attempt_at TIMESTAMP NOT NULL,
    -- A dispatcher that claimed the message holds it until then; one killed mid-send loses the
    -- claim when it runs out, and the message is sent again.
    claimed_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_event_key ON outbox (event_key);
CREATE INDEX outbox_dead ON outbox (municipality, state);

-- Every attempt to send a message, with its outcome.
CREATE TABLE outbox_attempts (
    message_id TEXT NOT NULL REFERENCES outbox (id),
    attempt INTEGER NOT NULL CHECK (attempt >= 1),
    at TIMESTAMP NOT NULL,
    succeeded BOOLEAN NOT NULL,
    error TEXT,
    duration_ms BIGINT NOT NULL CHECK (duration_ms >= 0),
    PRIMARY KEY (message_id, attempt)
);
