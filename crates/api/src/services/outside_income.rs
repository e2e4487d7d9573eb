//! Outside income: frikort income a citizen earned from employers who register directly with the
//! national register, outside Småjob. A coordinator records it (an amount, a date, a source), or
//! it comes in by accepting a register statement (`register_statements`). It counts toward the
//! cap in the allocation on its payment date like any payout, so recording or withdrawing it
//! re-splits the year, and every payout whose split changes gets an adjustment.

use chrono::{Datelike, NaiveDate};
use smaajob_domain::{AdjustmentCause, Cvr, Money, OutsideIncomeId, RegisterStatementId, Split};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::accounting::{AdjustmentRow, CitizenYearRow};
use smaajob_persistence::repo::outside_income::{self, OutsideIncomeRow};
use smaajob_persistence::repo::{Page, now};
use smaajob_persistence::types::new_record_id;

use crate::services::allocation::{Reallocated, lock_year, reallocate};
use crate::services::audit::{self, Audited};
use crate::services::common::{check_not_before_scheme, optional_text, today_copenhagen};
use crate::services::error::{Code, Fields, OrNotFound, ServiceError, checked};
use crate::services::payouts::YearBalance;
use crate::services::principal::Principal;
use crate::services::scope;

/// The largest single amount of outside income (a typo guard, as for payouts).
const MAX_OUTSIDE_KRONER: i64 = 1_000_000;

/// Outside income as a coordinator states it, before it is checked.
#[derive(Debug, Clone, Copy)]
pub struct OutsideIncomeInput<'a> {
    /// The day the outside employer paid it.
    pub payment_date: NaiveDate,
    /// The amount, a DKK decimal.
    pub amount: &'a str,
    /// The outside employer's CVR, when known.
    pub employer_cvr: Option<&'a str>,
    /// Where the coordinator knows it from.
    pub source: Option<&'a str>,
}

/// Outside income to record, checked.
#[derive(Debug, Clone)]
pub struct NewOutsideIncome {
    payment_date: NaiveDate,
    amount: Money,
    employer_cvr: Option<Cvr>,
    source: String,
}

impl NewOutsideIncome {
    /// Checks stated outside income; every invalid field is named. It has been paid already (it
    /// is in the register), so a payment date after today is refused.
    pub fn parse(input: &OutsideIncomeInput<'_>) -> Result<NewOutsideIncome, ServiceError> {
        let mut f = Fields::new();
        let amount = f.check("amount", Money::parse_positive(input.amount));
        if amount.is_some_and(|a| a > Money::from_kroner(MAX_OUTSIDE_KRONER)) {
            f.push("amount", "too_large", format!("an amount above {MAX_OUTSIDE_KRONER} kr is refused as a typo"));
        }
        let employer_cvr = f.check_opt("employer_cvr", input.employer_cvr.map(Cvr::parse));
        let source = optional_text(&mut f, "source", input.source, 200);
        if input.source.is_none_or(|s| s.trim().is_empty()) {
            f.push("source", "required", "say where the income is known from (the employer, a letter, the register)");
        }
        check_not_before_scheme(&mut f, "payment_date", input.payment_date);
        if input.payment_date > today_copenhagen() {
            f.push("payment_date", "in_future", "outside income is recorded once it has been paid");
        }
        f.finish()?;
        Ok(NewOutsideIncome {
            payment_date: input.payment_date,
            amount: checked(amount)?,
            employer_cvr: checked(employer_cvr)?,
            source: checked(source)?,
        })
    }
}

/// What recording or withdrawing outside income returns.
#[derive(Debug, Clone)]
pub struct OutsideIncomeReceipt {
    /// The entry as stored.
    pub income: OutsideIncomeRow,
    /// Its share of the headroom now (reversed coverage once withdrawn).
    pub split: Split,
    /// The citizen-year afterwards.
    pub balance: YearBalance,
    /// Payouts whose split changed because of it.
    pub adjustments: Vec<AdjustmentRow>,
}

/// A new outside income row in a locked citizen-year; takes the year's next sequence.
pub fn new_row(
    principal: &Principal,
    year: &mut CitizenYearRow,
    income: &NewOutsideIncome,
    statement_id: Option<&RegisterStatementId>,
) -> Result<OutsideIncomeRow, ServiceError> {
    let sequence = year.next_sequence;
    year.next_sequence += 1;
    Ok(OutsideIncomeRow {
        id: new_record_id(),
        citizen_id: year.citizen_id.clone(),
        year: year.year,
        sequence,
        payment_date: income.payment_date,
        amount: income.amount,
        employer_cvr: income.employer_cvr.map(|c| c.to_string()),
        source: income.source.clone(),
        statement_id: statement_id.cloned(),
        recorded_by: principal.sub().to_owned(),
        recorded_by_role: principal.actor().ok_or_else(scope::no_personal_data)?,
        created_at: now(),
        withdrawn_at: None,
        withdrawn_by: None,
        withdrawn_reason: None,
    })
}

impl NewOutsideIncome {
    /// Outside income from a register statement's line.
    pub fn from_statement(payment_date: NaiveDate, amount: Money, employer_cvr: Cvr, source: String) -> Self {
        NewOutsideIncome { payment_date, amount, employer_cvr: Some(employer_cvr), source }
    }
}

/// Records outside income of a citizen of the coordinator's municipality and re-splits the year.
/// Runs in a write transaction.
pub fn record(
    conn: &mut DbConn,
    principal: &Principal,
    citizen_id: &str,
    income: &NewOutsideIncome,
) -> Result<OutsideIncomeReceipt, ServiceError> {
    let municipality = principal.coordinator()?;
    let citizen = scope::citizen_for_change(conn, municipality, citizen_id)?.citizen;
    let (mut year, cap) = lock_year(conn, &citizen.id, income.payment_date.year())?;
    let row = new_row(principal, &mut year, income, None)?;
    outside_income::insert(conn, &row)?;
    let r = reallocate(conn, year, cap, AdjustmentCause::OutsideIncome, Some(row.id.as_str()))?;
    let details = serde_json::json!({
        "outside_income_id": row.id, "amount": row.amount.to_string(), "payment_date": row.payment_date,
        "adjustments": r.adjustments.len(),
    });
    let logged = audit::entry(
        principal,
        "outside_income.recorded",
        "citizen",
        &citizen.id,
        Some(&citizen.municipality),
        Some(details),
    );
    audit::record(conn, logged)?;
    receipt(row, r)
}

/// Withdraws outside income recorded in error; the year is re-split. Runs in a write transaction.
pub fn withdraw(
    conn: &mut DbConn,
    principal: &Principal,
    id: &OutsideIncomeId,
    reason: &str,
) -> Result<OutsideIncomeReceipt, ServiceError> {
    let municipality = principal.coordinator()?;
    let found = outside_income::find(conn, id).or_not_found("outside income")?;
    let citizen = match scope::citizen_for_change(conn, municipality, &found.citizen_id) {
        Err(ServiceError::NotFound(_)) => return Err(ServiceError::NotFound("outside income")),
        other => other?.citizen,
    };
    // Lock first, then look: a concurrent withdrawal waits and then sees it withdrawn.
    let (year, cap) = lock_year(conn, &citizen.id, found.year)?;
    if outside_income::find(conn, id)?.withdrawn() {
        return Err(ServiceError::conflict(
            Code::OutsideIncomeAlreadyWithdrawn,
            "the outside income is withdrawn already",
        ));
    }
    outside_income::withdraw(conn, id, principal.sub(), reason, now())?;
    let row = outside_income::find(conn, id)?;
    let r = reallocate(conn, year, cap, AdjustmentCause::OutsideIncome, Some(id.as_str()))?;
    let details = serde_json::json!({ "outside_income_id": id, "adjustments": r.adjustments.len() });
    let logged = audit::entry(
        principal,
        "outside_income.withdrawn",
        "citizen",
        &citizen.id,
        Some(&citizen.municipality),
        Some(details),
    );
    audit::record(conn, logged)?;
    receipt(row, r)
}

fn receipt(income: OutsideIncomeRow, r: Reallocated) -> Result<OutsideIncomeReceipt, ServiceError> {
    let split = *r
        .outside_splits
        .get(income.id.as_str())
        .ok_or_else(|| ServiceError::internal("the outside income was not allocated"))?;
    // Only coordinators record outside income or accept statements: the totals are theirs to see.
    let balance = YearBalance::after(&r, true);
    Ok(OutsideIncomeReceipt { income, split, balance, adjustments: r.adjustments })
}

/// One page of a citizen's outside income, newest payment first.
#[derive(Debug)]
pub struct OutsideIncomePage {
    /// The entries of the page, withdrawn ones included.
    pub items: Vec<OutsideIncomeRow>,
    /// How many entries there are in all.
    pub total: i64,
}

/// The outside income of a citizen of the coordinator's municipality (of one year, when given).
/// An audited read.
pub fn of_citizen(
    conn: &mut DbConn,
    principal: &Principal,
    citizen_id: &str,
    year: Option<i32>,
    page: Page,
) -> Result<Audited<OutsideIncomePage>, ServiceError> {
    let municipality = principal.coordinator()?;
    let citizen = scope::citizen(conn, municipality, citizen_id)?.citizen;
    let (items, total) = outside_income::page_of_citizen(conn, &citizen.id, year, page)?;
    let logged =
        audit::entry(principal, "outside_income.listed", "citizen", &citizen.id, Some(&citizen.municipality), None);
    Ok(Audited::new(OutsideIncomePage { items, total }, vec![logged]))
}
