-- Cap accounting: employments (the § 6 registration), payouts and their current split, the
-- per citizen-year running totals (also the row writers lock), reversals, adjustments, and
-- idempotency keys. The accounting rules are also CHECK constraints, a last line of defence
-- behind the application: a payout's gross is its positive wage plus holiday pay plus pension,
-- and it is paid no earlier than the work began; a split is never negative and adds up to the
-- gross (a reversed payout keeps none); a citizen-year's exempt total stays within its cap; an
-- employment ends no earlier than it starts and its expected pay is not negative.

CREATE TABLE employments (
    id TEXT PRIMARY KEY NOT NULL,
    citizen_id TEXT NOT NULL REFERENCES citizens (id),
    company_id TEXT NOT NULL REFERENCES companies (id),
    start_date DATE NOT NULL,
    end_date DATE,
    expected_hours_per_week DOUBLE PRECISION,
    expected_pay_ore BIGINT,
    contact_name TEXT NOT NULL,
    contact_phone TEXT,
    contact_email TEXT,
    registered_at TIMESTAMP NOT NULL,
    registered_by TEXT NOT NULL,
    registered_by_role TEXT NOT NULL,
    ended_at TIMESTAMP,
    end_reason TEXT,
    CHECK (end_date IS NULL OR end_date >= start_date),
    CHECK (expected_pay_ore IS NULL OR expected_pay_ore >= 0)
);
CREATE INDEX employments_citizen ON employments (citizen_id);
CREATE INDEX employments_company ON employments (company_id);

CREATE TABLE citizen_years (
    citizen_id TEXT NOT NULL REFERENCES citizens (id),
    year INTEGER NOT NULL,
    cap_ore BIGINT NOT NULL,
    cap_provisional BOOLEAN NOT NULL,
    gross_ore BIGINT NOT NULL,
    exempt_ore BIGINT NOT NULL,
    taxable_ore BIGINT NOT NULL,
    payout_count INTEGER NOT NULL,
    next_sequence BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (citizen_id, year),
    CHECK (exempt_ore >= 0 AND taxable_ore >= 0 AND exempt_ore + taxable_ore = gross_ore),
    CHECK (exempt_ore <= cap_ore)
);

CREATE TABLE payouts (
    id TEXT PRIMARY KEY NOT NULL,
    employment_id TEXT NOT NULL REFERENCES employments (id),
    citizen_id TEXT NOT NULL REFERENCES citizens (id),
    company_id TEXT NOT NULL REFERENCES companies (id),
    year INTEGER NOT NULL,
    sequence BIGINT NOT NULL,
    payment_date DATE NOT NULL,
    worked_from DATE NOT NULL,
    worked_to DATE NOT NULL,
    wage_ore BIGINT NOT NULL,
    holiday_pay_ore BIGINT NOT NULL,
    holiday_pay_separate BOOLEAN NOT NULL,
    pension_ore BIGINT NOT NULL,
    gross_ore BIGINT NOT NULL,
    exempt_ore BIGINT NOT NULL,
    taxable_ore BIGINT NOT NULL,
    coverage TEXT NOT NULL CHECK (coverage IN ('covered', 'card_inactive', 'outside_employment', 'reversed')),
    late_registration BOOLEAN NOT NULL,
    registered_by TEXT NOT NULL,
    registered_by_role TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (citizen_id, year, sequence),
    FOREIGN KEY (citizen_id, year) REFERENCES citizen_years (citizen_id, year),
    CHECK (worked_from <= worked_to AND worked_from <= payment_date),
    CHECK (wage_ore > 0 AND holiday_pay_ore >= 0 AND pension_ore >= 0),
    CHECK (gross_ore = wage_ore + holiday_pay_ore + pension_ore),
    CHECK (exempt_ore >= 0 AND taxable_ore >= 0),
    CHECK (exempt_ore + taxable_ore = gross_ore OR (coverage = 'reversed' AND exempt_ore = 0 AND taxable_ore = 0))
);
CREATE INDEX payouts_employment ON payouts (employment_id);
CREATE INDEX payouts_company_year ON payouts (company_id, year);

CREATE TABLE payout_reversals (
    payout_id TEXT PRIMARY KEY NOT NULL REFERENCES payouts (id),
    reason TEXT NOT NULL,
    reversed_by TEXT NOT NULL,
    reversed_by_role TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE adjustments (
    id TEXT PRIMARY KEY NOT NULL,
    payout_id TEXT NOT NULL REFERENCES payouts (id),
    citizen_id TEXT NOT NULL REFERENCES citizens (id),
    company_id TEXT NOT NULL REFERENCES companies (id),
    employment_id TEXT NOT NULL REFERENCES employments (id),
    year INTEGER NOT NULL,
    old_exempt_ore BIGINT NOT NULL,
    old_taxable_ore BIGINT NOT NULL,
    new_exempt_ore BIGINT NOT NULL,
    new_taxable_ore BIGINT NOT NULL,
    cause TEXT NOT NULL CHECK (cause IN ('reversal', 'backdated_payout', 'cap_changed', 'card_changed')),
    cause_ref TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX adjustments_company ON adjustments (company_id, created_at);
CREATE INDEX adjustments_citizen ON adjustments (citizen_id, created_at);

CREATE TABLE idempotency_keys (
    caller TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (caller, idempotency_key)
);
