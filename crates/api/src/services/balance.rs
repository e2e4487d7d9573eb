//! Balances: how much of a year's frikort amount is used and left, what is taxable, per
//! employer, and when the cap would be reached at the pace so far or by the approved shifts.

use chrono::{Datelike, NaiveDate};
use smaajob_domain::{CapYear, CompanyId, Money, Projection, ResolvedCap, YearTotals, project};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::{accounting, citizens, employer_totals, employments, outside_income};

use crate::services::audit::{Audited, entry};
use crate::services::caps::in_force;
use crate::services::citizens::own_id;
use crate::services::common::{frikort_year, today_copenhagen};
use crate::services::error::{OrNotFound, ServiceError};
use crate::services::planning::{planned_shifts, reached_on};
use crate::services::principal::Principal;
use crate::services::scope;

/// One employer's share of a citizen-year (payouts not reversed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmployerShare {
    /// The employer.
    pub company_id: CompanyId,
    /// The employer's name.
    pub company_name: String,
    /// Gross paid.
    pub gross: Money,
    /// The tax-free part.
    pub exempt: Money,
    /// The taxable part.
    pub taxable: Money,
    /// How many payouts.
    pub payouts: u32,
}

/// Pay planned by approved placements and not yet worked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planned {
    /// Expected gross (wage and holiday pay) of the year's remaining approved shifts.
    pub amount: Money,
    /// The shift on which the planned pay would use up the remaining amount, if it does.
    pub cap_reached_on: Option<NaiveDate>,
}

/// What coordinators and the citizen see beyond the cap and the remaining amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceDetails {
    /// Gross of all income known this year: Småjob's payouts and the outside income.
    pub gross: Money,
    /// The part of `gross` registered outside Småjob (recorded by a coordinator or taken in from a
    /// register statement).
    pub outside_income: Money,
    /// The part of `gross` paid through Småjob.
    pub smaajob_income: Money,
    /// Tax-free so far.
    pub exempt: Money,
    /// Taxable so far.
    pub taxable: Money,
    /// How many payouts (not reversed).
    pub payouts: u32,
    /// Per employer, by employer id.
    pub per_employer: Vec<EmployerShare>,
    /// The pace this year and when the cap would be reached (the current year only).
    pub projection: Option<Projection>,
    /// Approved shifts not yet paid.
    pub planned: Planned,
}

/// A citizen's frikort balance for one year. An employer sees no details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    /// The citizen.
    pub citizen_id: String,
    /// The income year.
    pub year: i32,
    /// The cap in force.
    pub cap: ResolvedCap,
    /// What is left before earnings become taxable.
    pub remaining: Money,
    /// What the balance is based on: the income known to Småjob, reconciled with the national
    /// register as of this day (the date the latest accepted statement was drawn), if ever.
    pub reconciled_on: Option<NaiveDate>,
    /// The details, for coordinators and the citizen.
    pub details: Option<BalanceDetails>,
}

/// A citizen's balance in `year` (this year when absent): in full for a coordinator of their
/// municipality; the cap and the remaining amount for a company that employs or employed them.
pub fn citizen_balance(
    conn: &mut DbConn,
    principal: &Principal,
    citizen_id: &str,
    year: Option<i32>,
) -> Result<Audited<Balance>, ServiceError> {
    let year = income_year(year)?;
    let (municipality, full) = match principal {
        Principal::Coordinator { municipality, .. } => {
            (scope::citizen(conn, *municipality, citizen_id)?.citizen.municipality, true)
        }
        Principal::Company { company_id, .. } => {
            if !employments::company_employs(conn, company_id, citizen_id)? {
                return Err(ServiceError::NotFound("citizen"));
            }
            (citizens::find(conn, citizen_id).or_not_found("citizen")?.0.municipality, false)
        }
        Principal::Citizen { .. } => {
            return Err(ServiceError::Forbidden("citizens read their own balance at /api/v1/me/balance".into()));
        }
        Principal::NewCompany { .. } => return Err(ServiceError::Unregistered),
        Principal::Operator { .. } => return Err(scope::no_personal_data()),
    };
    let balance = balance(conn, citizen_id, year, full)?;
    let details = serde_json::json!({ "year": year.get() });
    let logged = entry(principal, "balance.read", "citizen", citizen_id, Some(&municipality), Some(details));
    Ok(Audited::new(balance, vec![logged]))
}

/// The calling citizen's own balance in `year` (this year when absent), in full.
pub fn my_balance(
    conn: &mut DbConn,
    principal: &Principal,
    year: Option<i32>,
) -> Result<Audited<Balance>, ServiceError> {
    let id = own_id(principal)?;
    let year = income_year(year)?;
    let (citizen, _) = citizens::find(conn, &id).or_not_found("citizen")?;
    let balance = balance(conn, &id, year, true)?;
    let details = serde_json::json!({ "year": year.get() });
    let logged = entry(principal, "balance.read_self", "citizen", &id, Some(&citizen.municipality), Some(details));
    Ok(Audited::new(balance, vec![logged]))
}

/// The year asked about, this year (Europe/Copenhagen) when absent; a 422 outside the frikort years.
fn income_year(year: Option<i32>) -> Result<CapYear, ServiceError> {
    let year = frikort_year("year", year.unwrap_or_else(|| today_copenhagen().year()))?;
    CapYear::parse(year).map_err(|e| ServiceError::internal(e.to_string()))
}

/// Computes the balance; without `full` only the cap and the remaining amount.
fn balance(conn: &mut DbConn, citizen_id: &str, year: CapYear, full: bool) -> Result<Balance, ServiceError> {
    let cap = in_force(conn, year)?;
    // The stored totals are the source of truth (kept under the citizen-year lock).
    let totals = accounting::find_year(conn, citizen_id, year.get())?;
    let exempt = Money::from_ore(totals.as_ref().map_or(0, |t| t.exempt.ore()));
    let remaining = YearTotals { exempt, ..YearTotals::empty(cap.amount.money()) }.remaining();
    let reconciled_on = outside_income::reconciled_on(conn, citizen_id, year.get())?;
    let mut balance =
        Balance { citizen_id: citizen_id.to_owned(), year: year.get(), cap, remaining, reconciled_on, details: None };
    if !full {
        return Ok(balance);
    }
    let today = today_copenhagen();
    // Each employer's share is stored with the year (kept in the transaction of every change of
    // its splits): one row per employer, however many payouts the year has.
    let mut per_employer = Vec::new();
    let mut covered_gross = 0i64;
    for (share, company_name) in employer_totals::of_year(conn, citizen_id, year.get())? {
        covered_gross += share.covered_gross.ore();
        per_employer.push(EmployerShare {
            company_id: share.company_id,
            company_name,
            gross: share.gross,
            exempt: share.exempt,
            taxable: share.taxable,
            payouts: u32::try_from(share.payout_count).map_err(|_| {
                ServiceError::internal(format!("stored payout count {} is invalid", share.payout_count))
            })?,
        });
    }
    // The pace counts what is paid by today; a payout may be registered before it is paid.
    let covered_so_far = if covered_gross > 0 {
        covered_gross - employer_totals::covered_gross_paid_after(conn, citizen_id, year.get(), today)?.ore()
    } else {
        0
    };
    let payouts = match &totals {
        Some(t) => u32::try_from(t.payout_count)
            .map_err(|_| ServiceError::internal(format!("stored payout count {} is invalid", t.payout_count)))?,
        None => 0,
    };
    let year_start = NaiveDate::from_ymd_opt(year.get(), 1, 1)
        .ok_or_else(|| ServiceError::internal(format!("{} has no 1 January", year.get())))?;
    let shifts: Vec<_> = planned_shifts(conn, citizen_id, today.max(year_start))?
        .into_iter()
        .filter(|(d, _)| d.year() == year.get())
        .collect();
    // Both parts are summed from their own rows, so that they add up to the stored gross is a
    // check of the stored totals (the tests make it), not true by construction.
    let outside: i64 = outside_income::of_year(conn, citizen_id, year.get())?
        .iter()
        .filter(|o| !o.withdrawn())
        .map(|o| o.amount.ore())
        .sum();
    let smaajob: i64 = per_employer.iter().map(|e| e.gross.ore()).sum();
    balance.details = Some(BalanceDetails {
        gross: Money::from_ore(totals.as_ref().map_or(0, |t| t.gross.ore())),
        outside_income: Money::from_ore(outside),
        smaajob_income: Money::from_ore(smaajob),
        exempt,
        taxable: Money::from_ore(totals.as_ref().map_or(0, |t| t.taxable.ore())),
        payouts,
        per_employer,
        projection: project(year.get(), today, Money::from_ore(covered_so_far), remaining),
        planned: Planned {
            amount: Money::from_ore(shifts.iter().map(|(_, g)| g.ore()).sum()),
            cap_reached_on: reached_on(&shifts, remaining),
        },
    });
    Ok(balance)
}
