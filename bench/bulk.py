#!/usr/bin/env python3
"""Fills a migrated Småjob database directly in SQL with a year of payouts, for the
flat-with-size benchmarks of docs/BENCHMARKS.md (`bench/http.sh flat`).

Adds N citizens (default 10,000) of municipality 730, each with an employment at the first
company in the database and P payouts (default 100) paid on 1 January of this year, with the
citizen-year, the employer's totals and one audit entry per payout, as the server would have
written them: by default 1,000,000 payouts and 1,000,000 audit entries. Run it while the server
is stopped. The rows are plausible for the tables and indexes, not for every read: the CPR
numbers are placeholders (never decrypted on the payout path), so do not list these citizens.

Standard library only; PostgreSQL through psql.
"""
import argparse
import datetime
import sqlite3
import subprocess
import sys
import time
import zoneinfo


def statements(citizens: int, payouts: int, jan1: str, company: str, cap: tuple[int, bool],
               employer_totals: bool) -> list[str]:
    now = f"{jan1} 00:00:00"
    n = f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {citizens})"
    k = f"k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k WHERE j < {payouts})"
    per_payout, year = 10000, int(jan1[:4])
    gross = per_payout * payouts
    rows = [
        f"""INSERT INTO citizens (id, cpr_hash, cpr_ciphertext, birth_date, name, municipality, skills,
                availability, transport_modes, created_at, updated_at)
            {n} SELECT 'bulk-c-' || i, 'bulk-hash-' || i, 'bulk', '1970-01-01', 'Bulk Citizen ' || i, '730',
                '[]', '{{"slots":[],"max_hours_per_week":null}}', '[]', '{now}', '{now}' FROM n""",
        f"""INSERT INTO municipality_periods (citizen_id, municipality, started_at)
            {n} SELECT 'bulk-c-' || i, '730', '{now}' FROM n""",
        f"""INSERT INTO employments (id, citizen_id, company_id, start_date, contact_name, registered_at,
                registered_by, registered_by_role)
            {n} SELECT 'bulk-e-' || i, 'bulk-c-' || i, '{company}', '{jan1}', 'Bulk', '{now}', 'bulk', 'coordinator'
            FROM n""",
        f"""INSERT INTO citizen_years (citizen_id, year, cap_ore, cap_provisional, gross_ore, exempt_ore,
                taxable_ore, payout_count, next_sequence, updated_at)
            {n} SELECT 'bulk-c-' || i, {year}, {cap[0]}, {'TRUE' if cap[1] else 'FALSE'}, {gross}, {gross}, 0, {payouts}, {payouts + 1}, '{now}'
            FROM n""",
        f"""INSERT INTO employer_totals (citizen_id, year, company_id, gross_ore, exempt_ore, taxable_ore,
                covered_gross_ore, payout_count)
            {n} SELECT 'bulk-c-' || i, {year}, '{company}', {gross}, {gross}, 0, {gross}, {payouts} FROM n""",
        f"""INSERT INTO payouts (id, employment_id, citizen_id, company_id, year, sequence, payment_date,
                worked_from, worked_to, wage_ore, holiday_pay_ore, holiday_pay_separate, pension_ore, gross_ore,
                exempt_ore, taxable_ore, coverage, late_registration, registered_by, registered_by_role, created_at)
            {n}, {k} SELECT 'bulk-p-' || i || '-' || j, 'bulk-e-' || i, 'bulk-c-' || i, '{company}', {year}, j,
                '{jan1}', '{jan1}', '{jan1}', {per_payout}, 0, TRUE, 0, {per_payout}, {per_payout}, 0, 'covered',
                FALSE, 'bulk', 'coordinator', '{now}'
            FROM n, k""",
        f"""INSERT INTO audit_log (at, actor, actor_role, action, target_type, target_id, municipality, details)
            {n}, {k} SELECT '{now}', 'bulk', 'coordinator', 'payout.registered', 'citizen', 'bulk-c-' || i, '730',
                '{{}}' FROM n, k""",
    ]
    # A database of a build before the per-employer totals has no such table.
    return [sql for sql in rows if employer_totals or "employer_totals" not in sql]


# The cap in force for a year: its own, or provisionally the latest earlier one.
CAP = "SELECT amount_ore, year <> {year} FROM caps WHERE year <= {year} ORDER BY year DESC LIMIT 1"


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--database-url", required=True, help="sqlite://PATH or postgres://…")
    p.add_argument("--citizens", type=int, default=10_000)
    p.add_argument("--payouts", type=int, default=100, help="payouts per citizen")
    args = p.parse_args()
    jan1 = datetime.datetime.now(zoneinfo.ZoneInfo("Europe/Copenhagen")).date().replace(month=1, day=1).isoformat()
    started = time.monotonic()
    url = args.database_url
    if url.startswith("postgres"):
        def query(sql: str) -> str:
            out = subprocess.run(["psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                                 check=True, capture_output=True, text=True)
            return out.stdout.strip()
        company = query("SELECT id FROM companies ORDER BY created_at LIMIT 1")
        cap = query(CAP.format(year=jan1[:4])).split("|")
        cap = (int(cap[0]), cap[1] in ("t", "1"))
        totals = query("SELECT count(*) FROM information_schema.tables WHERE table_name = 'employer_totals'") != "0"
        script = "BEGIN;\n" + ";\n".join(statements(args.citizens, args.payouts, jan1, company, cap, totals)) + ";\nCOMMIT;\nANALYZE;"
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url], input=script, check=True, text=True)
    else:
        path = url.removeprefix("sqlite://").removeprefix("sqlite:")
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("PRAGMA foreign_keys = ON")
        (company,) = db.execute("SELECT id FROM companies ORDER BY created_at LIMIT 1").fetchone()
        amount, provisional = db.execute(CAP.format(year=jan1[:4])).fetchone()
        db.execute("BEGIN IMMEDIATE")
        totals = db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'employer_totals'").fetchone()[0] > 0
        for sql in statements(args.citizens, args.payouts, jan1, company, (int(amount), bool(provisional)), totals):
            db.execute(sql)
        db.execute("COMMIT")
        db.execute("ANALYZE")
        db.close()
    print(f"bulk: {args.citizens} citizens × {args.payouts} payouts in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
