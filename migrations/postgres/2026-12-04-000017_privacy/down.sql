-- Back to an audit log without its hash chain.
DROP TABLE audit_chain_start;
DROP TABLE audit_chains;
ALTER TABLE audit_log DROP COLUMN entry_hash;
ALTER TABLE audit_log DROP COLUMN prev_hash;
