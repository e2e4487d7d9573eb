//! Each employer's share of a citizen-year: the payouts not reversed, summed per company. The
//! rows are kept under the citizen-year lock, in the same transaction as every change of the
//! year's splits (a payout, a reversal, a re-allocation), so a balance reads one row per
//! employer instead of the year's payouts.

use diesel::prelude::*;
use smaajob_domain::{CompanyId, Coverage, Money};

use crate::db::{DbConn, MultiBackend};
use crate::error::RepoError;
use crate::schema::{companies, employer_totals, payouts};
use crate::types::{Code, IdText, Ore};

/// One employer's share of a citizen-year (payouts not reversed).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = employer_totals, check_for_backend(MultiBackend))]
pub struct EmployerTotalsRow {
    /// The citizen.
    pub citizen_id: String,
    /// The income year.
    pub year: i32,
    /// The employer.
    #[diesel(serialize_as = IdText)]
    pub company_id: CompanyId,
    /// Gross paid by this employer in the year, in øre.
    #[diesel(column_name = gross_ore, serialize_as = Ore)]
    pub gross: Money,
    /// The tax-free part of it, in øre.
    #[diesel(column_name = exempt_ore, serialize_as = Ore)]
    pub exempt: Money,
    /// The taxable part of it, in øre.
    #[diesel(column_name = taxable_ore, serialize_as = Ore)]
    pub taxable: Money,
    /// Gross of the payouts covered by the frikort (card active, within the employment), in øre,
    /// whatever their payment date.
    #[diesel(column_name = covered_gross_ore, serialize_as = Ore)]
    pub covered_gross: Money,
    /// How many payouts (not reversed).
    pub payout_count: i32,
}

/// Adds one new payout's share to its employer's row of the citizen-year, creating the row for
/// the employer's first payout. The caller holds the citizen-year lock, so no other writer
/// changes the row meanwhile.
pub fn add(conn: &mut DbConn, share: &EmployerTotalsRow) -> Result<(), RepoError> {
    use employer_totals::dsl as t;
    let key = (share.citizen_id.as_str(), share.year, share.company_id.as_str());
    let updated = diesel::update(employer_totals::table.find(key))
        .set((
            t::gross_ore.eq(t::gross_ore + Ore::from(share.gross)),
            t::exempt_ore.eq(t::exempt_ore + Ore::from(share.exempt)),
            t::taxable_ore.eq(t::taxable_ore + Ore::from(share.taxable)),
            t::covered_gross_ore.eq(t::covered_gross_ore + Ore::from(share.covered_gross)),
            t::payout_count.eq(t::payout_count + share.payout_count),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(employer_totals::table).values(share.clone()).execute(conn)?;
    }
    Ok(())
}

/// Replaces every employer's row of a citizen-year with `shares` (after the year was re-split).
/// The caller holds the citizen-year lock.
pub fn replace_year(
    conn: &mut DbConn,
    citizen_id: &str,
    year: i32,
    shares: &[EmployerTotalsRow],
) -> Result<(), RepoError> {
    diesel::delete(employer_totals::table)
        .filter(employer_totals::citizen_id.eq(citizen_id))
        .filter(employer_totals::year.eq(year))
        .execute(conn)?;
    for share in shares {
        diesel::insert_into(employer_totals::table).values(share.clone()).execute(conn)?;
    }
    Ok(())
}

/// The employers' rows of a citizen-year with each employer's name, by employer id.
pub fn of_year(conn: &mut DbConn, citizen_id: &str, year: i32) -> Result<Vec<(EmployerTotalsRow, String)>, RepoError> {
    Ok(employer_totals::table
        .inner_join(companies::table)
        .filter(employer_totals::citizen_id.eq(citizen_id))
        .filter(employer_totals::year.eq(year))
        .order(employer_totals::company_id.asc())
        .select((EmployerTotalsRow::as_select(), companies::name))
        .load(conn)?)
}

/// Gross of the citizen-year's covered payouts paid after `day` (a payout may be registered up
/// to a month before it is paid): usually none, and found by index.
pub fn covered_gross_paid_after(
    conn: &mut DbConn,
    citizen_id: &str,
    year: i32,
    day: chrono::NaiveDate,
) -> Result<Money, RepoError> {
    let gross: Vec<Money> = payouts::table
        .filter(payouts::citizen_id.eq(citizen_id))
        .filter(payouts::year.eq(year))
        .filter(payouts::payment_date.gt(day))
        .filter(payouts::coverage.eq(Code::from(Coverage::Covered)))
        .select(payouts::gross_ore)
        .load(conn)?;
    Ok(Money::from_ore(gross.iter().map(|g| g.ore()).sum()))
}
