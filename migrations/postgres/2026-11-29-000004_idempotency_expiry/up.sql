-- Idempotency keys expire (SMAAJOB_IDEMPOTENCY_TTL); the purge deletes by age.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
