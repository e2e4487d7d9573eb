-- Small jobs: companies' tasks, placements of citizens on them (offer → accept → approve), and
-- the hours worked per shift that become payouts once confirmed.

CREATE TABLE tasks (
    id TEXT PRIMARY KEY NOT NULL,
    company_id TEXT NOT NULL REFERENCES companies (id),
    municipality TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    required_skills TEXT NOT NULL,
    address TEXT,
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    schedule TEXT NOT NULL,
    first_date DATE NOT NULL,
    last_date DATE NOT NULL,
    paid_minutes_per_shift INTEGER NOT NULL CHECK (paid_minutes_per_shift > 0),
    hourly_wage_ore BIGINT NOT NULL CHECK (hourly_wage_ore > 0),
    positions INTEGER NOT NULL CHECK (positions BETWEEN 1 AND 100),
    frikort_only BOOLEAN NOT NULL,
    contact_name TEXT NOT NULL,
    contact_phone TEXT,
    contact_email TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'open', 'filled', 'completed', 'cancelled')),
    opened_at TIMESTAMP,
    filled_at TIMESTAMP,
    closed_at TIMESTAMP,
    close_reason TEXT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (last_date >= first_date)
);
CREATE INDEX tasks_company ON tasks (company_id, status);
CREATE INDEX tasks_municipality ON tasks (municipality, status);

CREATE TABLE placements (
    id TEXT PRIMARY KEY NOT NULL,
    task_id TEXT NOT NULL REFERENCES tasks (id),
    citizen_id TEXT NOT NULL REFERENCES citizens (id),
    state TEXT NOT NULL CHECK (state IN ('interested', 'offered', 'accepted', 'declined', 'approved', 'rejected', 'cancelled', 'no_show', 'completed')),
    interested_at TIMESTAMP,
    offered_at TIMESTAMP,
    offered_by TEXT,
    answered_at TIMESTAMP,
    approved_at TIMESTAMP,
    decided_at TIMESTAMP,
    decided_by TEXT,
    reason TEXT,
    employment_id TEXT REFERENCES employments (id),
    estimated_pay_ore BIGINT,
    estimated_taxable_ore BIGINT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX placements_task ON placements (task_id, state);
CREATE INDEX placements_citizen ON placements (citizen_id, state);

CREATE TABLE shift_reports (
    id TEXT PRIMARY KEY NOT NULL,
    placement_id TEXT NOT NULL REFERENCES placements (id),
    shift_date DATE NOT NULL,
    minutes INTEGER NOT NULL CHECK (minutes > 0 AND minutes <= 1440),
    status TEXT NOT NULL CHECK (status IN ('reported', 'confirmed', 'disputed')),
    reported_by TEXT NOT NULL,
    reported_by_role TEXT NOT NULL,
    reported_at TIMESTAMP NOT NULL,
    answered_by TEXT,
    answered_at TIMESTAMP,
    dispute_reason TEXT,
    payout_id TEXT REFERENCES payouts (id),
    UNIQUE (placement_id, shift_date)
);
CREATE INDEX shift_reports_status ON shift_reports (status, reported_at);
