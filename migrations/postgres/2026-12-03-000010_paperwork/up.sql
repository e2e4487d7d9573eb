-- Paperwork, first the parts that keep the balance right: frikort income registered with the
-- national register outside Småjob (it takes headroom on its payment date like a payout), and
-- the register statements a coordinator imports to reconcile a citizen-year with the register.
-- Keep in step with migrations/sqlite (a test compares the two schemas).

-- A statement of a citizen's register entries for one income year, drawn from the register on
-- drawn_on. Imported as pending; it changes nothing until a coordinator accepts it. differences
-- holds the disagreements found at import (JSON), which must still be the same when it is
-- accepted. Accepting one supersedes the citizen-year's other pending statements.
CREATE TABLE register_statements (
    id TEXT PRIMARY KEY NOT NULL,
    citizen_id TEXT NOT NULL REFERENCES citizens (id),
    year INTEGER NOT NULL,
    drawn_on DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'superseded')),
    differences TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    imported_by_role TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    accepted_by TEXT,
    accepted_at TIMESTAMP,
    CHECK ((status = 'accepted') = (accepted_at IS NOT NULL)),
    CHECK ((accepted_at IS NULL) = (accepted_by IS NULL))
);
CREATE INDEX register_statements_citizen_year ON register_statements (citizen_id, year);

-- The statement's lines as read (line = the line of the file, the header being line 1).
CREATE TABLE register_statement_lines (
    statement_id TEXT NOT NULL REFERENCES register_statements (id),
    line INTEGER NOT NULL,
    employer_cvr TEXT NOT NULL,
    employer_name TEXT NOT NULL,
    payment_date DATE NOT NULL,
    amount_ore BIGINT NOT NULL,
    PRIMARY KEY (statement_id, line),
    CHECK (amount_ore > 0)
);

-- Outside income: recorded by a coordinator (source says from where), or by accepting a register
-- statement (statement_id). Its sequence comes from the citizen-year's counter, shared with the
-- payouts. It is never deleted: a mistake, or an entry the register does not have, is withdrawn.
CREATE TABLE outside_income (
    id TEXT PRIMARY KEY NOT NULL,
    citizen_id TEXT NOT NULL REFERENCES citizens (id),
    year INTEGER NOT NULL,
    sequence BIGINT NOT NULL,
    payment_date DATE NOT NULL,
    amount_ore BIGINT NOT NULL,
    employer_cvr TEXT,
    source TEXT NOT NULL,
    statement_id TEXT REFERENCES register_statements (id),
    recorded_by TEXT NOT NULL,
    recorded_by_role TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    withdrawn_at TIMESTAMP,
    withdrawn_by TEXT,
    withdrawn_reason TEXT,
    UNIQUE (citizen_id, year, sequence),
    FOREIGN KEY (citizen_id, year) REFERENCES citizen_years (citizen_id, year),
    CHECK (amount_ore > 0),
    CHECK ((withdrawn_at IS NULL) = (withdrawn_by IS NULL) AND (withdrawn_at IS NULL) = (withdrawn_reason IS NULL))
);
CREATE INDEX outside_income_citizen_year ON outside_income (citizen_id, year);

-- Adjustments get the cause outside_income. A CHECK cannot be changed in place in SQLite, so the
-- table is rebuilt (the same statements on both backends; nothing refers to adjustments).
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
    cause TEXT NOT NULL CHECK (cause IN ('reversal', 'backdated_payout', 'cap_changed', 'card_changed', 'outside_income')),
    cause_ref TEXT,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO adjustments SELECT * FROM adjustments_copy;
DROP TABLE adjustments_copy;
CREATE INDEX adjustments_company ON adjustments (company_id, created_at);
CREATE INDEX adjustments_citizen ON adjustments (citizen_id, created_at);
