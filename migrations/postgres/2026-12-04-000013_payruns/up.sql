-- Pay runs: confirmed hours wait for a pay run, which pays them on its payment date (by bank,
-- cash or MobilePay) as one payout per employment and run of shifts. A run is scoped to a
-- coordinator's municipality (optionally one company's workers) or to a company's own workers.
-- Keep in step with migrations/sqlite (a test compares the two schemas).

-- The totals are the sums of the payouts the run registered, as registered (a later reversal
-- or re-split does not change what was paid).
CREATE TABLE pay_runs (
    id TEXT PRIMARY KEY NOT NULL,
    municipality TEXT,
    company_id TEXT REFERENCES companies (id),
    period_from DATE NOT NULL,
    period_to DATE NOT NULL,
    payment_date DATE NOT NULL,
    payment_method TEXT NOT NULL CHECK (payment_method IN ('bank', 'cash', 'mobilepay')),
    lines INTEGER NOT NULL,
    shifts INTEGER NOT NULL,
    wage_ore BIGINT NOT NULL,
    holiday_pay_ore BIGINT NOT NULL,
    pension_ore BIGINT NOT NULL,
    gross_ore BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_by_role TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    CHECK (municipality IS NOT NULL OR company_id IS NOT NULL),
    CHECK (period_from <= period_to AND period_to <= payment_date),
    CHECK (lines > 0 AND shifts >= lines),
    CHECK (gross_ore = wage_ore + holiday_pay_ore + pension_ore)
);
CREATE INDEX pay_runs_municipality ON pay_runs (municipality, created_at);
CREATE INDEX pay_runs_company ON pay_runs (company_id, created_at);

-- The payouts a run registered; a payout belongs to at most one run.
CREATE TABLE pay_run_payouts (
    payout_id TEXT PRIMARY KEY NOT NULL REFERENCES payouts (id),
    pay_run_id TEXT NOT NULL REFERENCES pay_runs (id)
);
CREATE INDEX pay_run_payouts_run ON pay_run_payouts (pay_run_id);

-- A run reads the period's reports of every placement in its scope by shift date.
CREATE INDEX shift_reports_shift_date ON shift_reports (shift_date, status);
