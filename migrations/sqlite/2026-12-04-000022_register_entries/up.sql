-- Register entries: what the coordinator types into the national frikort solution for each
-- payout with an exempt part, and the corrections to make there when a re-allocation changed it.
-- A payout's entries form a chain (see the domain's register_entry module): the amounts the
-- entries that are not cancelled move the register by (exempt_ore - previous_exempt_ore) add up
-- to the payout's exempt amount. Written in the transaction that splits the payout.
-- Keep in step with migrations/postgres (a test compares the two schemas).
CREATE TABLE register_entries (
    id TEXT PRIMARY KEY NOT NULL,
    payout_id TEXT NOT NULL REFERENCES payouts (id),
    citizen_id TEXT NOT NULL REFERENCES citizens (id),
    company_id TEXT NOT NULL REFERENCES companies (id),
    year INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('registration', 'correction')),
    corrects_id TEXT REFERENCES register_entries (id),
    card_number TEXT NOT NULL,
    previous_exempt_ore BIGINT NOT NULL,
    exempt_ore BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'registered', 'needs_correction', 'corrected', 'cancelled')),
    due_on DATE NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    registered_by TEXT,
    registered_at TIMESTAMP,
    national_reference TEXT,
    CHECK ((kind = 'registration') = (corrects_id IS NULL)),
    CHECK (kind = 'correction' OR previous_exempt_ore = 0),
    CHECK (previous_exempt_ore >= 0 AND exempt_ore >= 0),
    CHECK ((registered_at IS NULL) = (registered_by IS NULL) AND (registered_at IS NULL) = (national_reference IS NULL)),
    CHECK ((status IN ('registered', 'needs_correction', 'corrected')) = (registered_at IS NOT NULL))
);
CREATE INDEX register_entries_payout ON register_entries (payout_id, created_at);
CREATE INDEX register_entries_status ON register_entries (status, due_on);
CREATE INDEX register_entries_company ON register_entries (company_id, created_at);
