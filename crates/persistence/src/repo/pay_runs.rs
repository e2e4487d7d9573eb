//! Pay runs: the payouts one run registered for the confirmed hours of a period, with the run's
//! payment date, method and totals as registered.

use diesel::prelude::*;
use smaajob_domain::{CompanyId, Money, PaymentMethod, PayoutId};

use crate::db::{DbConn, MultiBackend};
use crate::error::RepoError;
use crate::repo::Page;
use crate::repo::accounting::PayoutRow;
use crate::schema::{pay_run_payouts, pay_runs, payout_reversals, payouts};
use crate::types::{Code, NullableIdText, Ore};

/// A committed pay run.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = pay_runs, check_for_backend(MultiBackend))]
pub struct PayRunRow {
    /// Row id (UUID).
    pub id: String,
    /// The coordinator's municipality, for a coordinator's run.
    pub municipality: Option<String>,
    /// The one company whose workers it paid: a company's own run, or a coordinator's run for
    /// one company.
    #[diesel(serialize_as = NullableIdText)]
    pub company_id: Option<CompanyId>,
    /// First shift date of the period.
    pub period_from: chrono::NaiveDate,
    /// Last shift date of the period.
    pub period_to: chrono::NaiveDate,
    /// The day the money is paid (its year is the income year).
    pub payment_date: chrono::NaiveDate,
    /// How it is paid.
    #[diesel(serialize_as = Code)]
    pub payment_method: PaymentMethod,
    /// How many payouts it registered.
    pub lines: i32,
    /// How many shifts they pay.
    pub shifts: i32,
    /// Wages, øre.
    #[diesel(column_name = wage_ore, serialize_as = Ore)]
    pub wage: Money,
    /// Holiday pay, øre.
    #[diesel(column_name = holiday_pay_ore, serialize_as = Ore)]
    pub holiday_pay: Money,
    /// Pension, øre.
    #[diesel(column_name = pension_ore, serialize_as = Ore)]
    pub pension: Money,
    /// Wage + holiday pay + pension, øre.
    #[diesel(column_name = gross_ore, serialize_as = Ore)]
    pub gross: Money,
    /// Who ran it.
    pub created_by: String,
    /// The running role.
    pub created_by_role: String,
    /// Committed (UTC).
    pub created_at: chrono::NaiveDateTime,
}

/// Whose pay runs are listed.
#[derive(Debug, Clone)]
pub enum PayRunScope {
    /// A coordinator: the runs of the municipality's coordinators.
    Municipality(String),
    /// A company: the runs that paid its workers only (its own, and coordinators' for it).
    Company(CompanyId),
}

/// Inserts a run and links the payouts it registered.
pub fn insert(conn: &mut DbConn, run: &PayRunRow, payout_ids: &[PayoutId]) -> Result<(), RepoError> {
    diesel::insert_into(pay_runs::table).values(run.clone()).execute(conn)?;
    for payout_id in payout_ids {
        diesel::insert_into(pay_run_payouts::table)
            .values((pay_run_payouts::payout_id.eq(payout_id.as_str()), pay_run_payouts::pay_run_id.eq(&run.id)))
            .execute(conn)?;
    }
    Ok(())
}

/// One run.
pub fn find(conn: &mut DbConn, id: &str) -> Result<PayRunRow, RepoError> {
    Ok(pay_runs::table.find(id).select(PayRunRow::as_select()).first(conn)?)
}

/// One page of the runs in `scope`, newest first, and the total.
pub fn page(conn: &mut DbConn, scope: &PayRunScope, page: Page) -> Result<(Vec<PayRunRow>, i64), RepoError> {
    let filtered = || {
        let q = pay_runs::table.into_boxed::<MultiBackend>();
        match scope {
            PayRunScope::Municipality(m) => q.filter(pay_runs::municipality.eq(m.clone())),
            PayRunScope::Company(c) => q.filter(pay_runs::company_id.eq(c.as_str().to_owned())),
        }
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let rows = filtered()
        .order((pay_runs::created_at.desc(), pay_runs::id.desc()))
        .select(PayRunRow::as_select())
        .limit(page.limit)
        .offset(page.offset)
        .load(conn)?;
    Ok((rows, total))
}

/// The payouts a run registered, each with whether it is reversed since, in the order they were
/// registered.
pub fn payouts_of(conn: &mut DbConn, run_id: &str) -> Result<Vec<(PayoutRow, bool)>, RepoError> {
    let rows: Vec<(PayoutRow, Option<String>)> = pay_run_payouts::table
        .inner_join(payouts::table)
        .left_join(payout_reversals::table.on(payout_reversals::payout_id.eq(payouts::id)))
        .filter(pay_run_payouts::pay_run_id.eq(run_id))
        .order((payouts::created_at.asc(), payouts::citizen_id.asc(), payouts::sequence.asc()))
        .select((PayoutRow::as_select(), payout_reversals::payout_id.nullable()))
        .load(conn)?;
    Ok(rows.into_iter().map(|(p, r)| (p, r.is_some())).collect())
}
