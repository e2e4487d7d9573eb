-- Back to the adjustment causes before outside income (its adjustments go with it), and without
-- outside income and register statements.
DELETE FROM adjustments WHERE cause = 'outside_income';
CREATE TABLE adjustments_copy AS SELECT * FROM adjustments;
DROP TABLE adjustments;
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
INSERT INTO adjustments SELECT * FROM adjustments_copy;
DROP TABLE adjustments_copy;
CREATE INDEX adjustments_company ON adjustments (company_id, created_at);
CREATE INDEX adjustments_citizen ON adjustments (citizen_id, created_at);

DROP TABLE outside_income;
DROP TABLE register_statement_lines;
DROP TABLE register_statements;
