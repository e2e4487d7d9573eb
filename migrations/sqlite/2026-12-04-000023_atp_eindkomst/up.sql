-- ATP rates for casual workers, per year and hour paid, split into the employee's and the
-- employer's part. Scheme-wide data the operator maintains, like the caps, always with a reason
-- (the audit log keeps every earlier rate). A year without a row uses the latest earlier year's
-- rate provisionally.
-- Keep in step with migrations/postgres (a test compares the two schemas).
CREATE TABLE atp_rates (
    year INTEGER PRIMARY KEY NOT NULL,
    employee_ore_per_hour BIGINT NOT NULL,
    employer_ore_per_hour BIGINT NOT NULL,
    set_by TEXT NOT NULL,
    set_at TIMESTAMP NOT NULL,
    reason TEXT NOT NULL,
    CHECK (employee_ore_per_hour >= 0 AND employee_ore_per_hour <= 10000),
    CHECK (employer_ore_per_hour >= 0 AND employer_ore_per_hour <= 10000)
);
