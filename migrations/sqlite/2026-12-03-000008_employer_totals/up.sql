-- Each employer's share of a citizen-year (payouts not reversed), kept in the same transaction
-- as every change of the year's splits, so a balance read does not read the year's payouts.
CREATE TABLE employer_totals (
    citizen_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    company_id TEXT NOT NULL REFERENCES companies (id),
    gross_ore BIGINT NOT NULL,
    exempt_ore BIGINT NOT NULL,
    taxable_ore BIGINT NOT NULL,
    covered_gross_ore BIGINT NOT NULL,
    payout_count INTEGER NOT NULL,
    PRIMARY KEY (citizen_id, year, company_id),
    FOREIGN KEY (citizen_id, year) REFERENCES citizen_years (citizen_id, year),
    CHECK (exempt_ore >= 0 AND taxable_ore >= 0 AND exempt_ore + taxable_ore = gross_ore),
    CHECK (covered_gross_ore >= 0 AND covered_gross_ore <= gross_ore),
    CHECK (payout_count > 0)
);

INSERT INTO employer_totals
    (citizen_id, year, company_id, gross_ore, exempt_ore, taxable_ore, covered_gross_ore, payout_count)
SELECT p.citizen_id, p.year, p.company_id, SUM(p.gross_ore), SUM(p.exempt_ore), SUM(p.taxable_ore),
       SUM(CASE WHEN p.coverage = 'covered' THEN p.gross_ore ELSE 0 END), COUNT(*)
FROM payouts p
WHERE NOT EXISTS (SELECT 1 FROM payout_reversals r WHERE r.payout_id = p.id)
GROUP BY p.citizen_id, p.year, p.company_id;

-- The latest payment date of a citizen-year, and its payouts paid after a given day, by index.
CREATE INDEX payouts_citizen_year_date ON payouts (citizen_id, year, payment_date);
