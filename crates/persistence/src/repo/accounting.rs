//! Cap accounting rows: the citizen-year totals (the row concurrent writers serialize on),
//! payouts with their current split, reversals and adjustments.

use diesel::prelude::*;
use smaajob_domain::{Actor, AdjustmentCause, CompanyId, Coverage, EmploymentId, Money, PayoutId};

use crate::db::{DbConn, MultiBackend};
use crate::error::RepoError;
use crate::repo::Page;
use crate::schema::{adjustments, citizen_years, citizens, companies, payout_reversals, payouts};
use crate::types::{Code, IdText, Ore};

/// A citizen's running totals for one income year.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = citizen_years, check_for_backend(MultiBackend))]
pub struct CitizenYearRow {
    /// The citizen.
    pub citizen_id: String,
    /// The income year.
    pub year: i32,
    /// The cap the split was computed with, in øre.
    #[diesel(column_name = cap_ore, serialize_as = Ore)]
    pub cap: Money,
    /// Whether that cap is provisional (the year has no cap set yet).
    pub cap_provisional: bool,
    /// Gross of all counted payouts, in øre.
    #[diesel(column_name = gross_ore, serialize_as = Ore)]
    pub gross: Money,
    /// Exempt part, in øre.
    #[diesel(column_name = exempt_ore, serialize_as = Ore)]
    pub exempt: Money,
    /// Taxable part, in øre.
    #[diesel(column_name = taxable_ore, serialize_as = Ore)]
    pub taxable: Money,
    /// Number of counted (not reversed) payouts.
    pub payout_count: i32,
    /// The registration sequence the next payout gets.
    pub next_sequence: i64,
    /// Last change (UTC).
    pub updated_at: chrono::NaiveDateTime,
}

/// A payout: immutable facts plus the current split.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = payouts, check_for_backend(MultiBackend))]
pub struct PayoutRow {
    /// Row id.
    #[diesel(serialize_as = IdText)]
    pub id: PayoutId,
    /// The employment it pays for.
    #[diesel(serialize_as = IdText)]
    pub employment_id: EmploymentId,
    /// The employee.
    pub citizen_id: String,
    /// The employer.
    #[diesel(serialize_as = IdText)]
    pub company_id: CompanyId,
    /// Income year (the payment date's calendar year).
    pub year: i32,
    /// Registration sequence within the citizen-year.
    pub sequence: i64,
    /// Payment date.
    pub payment_date: chrono::NaiveDate,
    /// First day worked.
    pub worked_from: chrono::NaiveDate,
    /// Last day worked.
    pub worked_to: chrono::NaiveDate,
    /// Wage, øre.
    #[diesel(column_name = wage_ore, serialize_as = Ore)]
    pub wage: Money,
    /// Holiday pay, øre.
    #[diesel(column_name = holiday_pay_ore, serialize_as = Ore)]
    pub holiday_pay: Money,
    /// Whether holiday pay is paid separately later (`"0.00"` given).
    pub holiday_pay_separate: bool,
    /// Pension, øre.
    #[diesel(column_name = pension_ore, serialize_as = Ore)]
    pub pension: Money,
    /// Wage + holiday pay + pension, øre.
    #[diesel(column_name = gross_ore, serialize_as = Ore)]
    pub gross: Money,
    /// Current exempt part, øre.
    #[diesel(column_name = exempt_ore, serialize_as = Ore)]
    pub exempt: Money,
    /// Current taxable part, øre.
    #[diesel(column_name = taxable_ore, serialize_as = Ore)]
    pub taxable: Money,
    /// Why the payout is split as it is.
    #[diesel(serialize_as = Code)]
    pub coverage: Coverage,
    /// Work began before the employment was registered.
    pub late_registration: bool,
    /// Who registered it.
    pub registered_by: String,
    /// The registering role.
    #[diesel(serialize_as = Code)]
    pub registered_by_role: Actor,
    /// Registered (UTC).
    pub created_at: chrono::NaiveDateTime,
}

/// A reversal of a payout (the payout itself stays).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = payout_reversals)]
pub struct ReversalRow {
    /// The reversed payout.
    #[diesel(serialize_as = IdText)]
    pub payout_id: PayoutId,
    /// Why the payout was reversed, as the reversing caller stated it.
    pub reason: String,
    /// The subject of the token that reversed it.
    pub reversed_by: String,
    /// The role.
    #[diesel(serialize_as = Code)]
    pub reversed_by_role: Actor,
    /// When (UTC).
    pub created_at: chrono::NaiveDateTime,
}

/// A change of a payout's split after it was first reported.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = adjustments, check_for_backend(MultiBackend))]
pub struct AdjustmentRow {
    /// Row id (UUID).
    pub id: String,
    /// The payout whose split changed.
    #[diesel(serialize_as = IdText)]
    pub payout_id: PayoutId,
    /// The employee.
    pub citizen_id: String,
    /// The employer, who may have to correct eIndkomst.
    #[diesel(serialize_as = IdText)]
    pub company_id: CompanyId,
    /// The employment.
    #[diesel(serialize_as = IdText)]
    pub employment_id: EmploymentId,
    /// Income year.
    pub year: i32,
    /// Exempt before, øre.
    #[diesel(column_name = old_exempt_ore, serialize_as = Ore)]
    pub old_exempt: Money,
    /// Taxable before, øre.
    #[diesel(column_name = old_taxable_ore, serialize_as = Ore)]
    pub old_taxable: Money,
    /// Exempt after, øre.
    #[diesel(column_name = new_exempt_ore, serialize_as = Ore)]
    pub new_exempt: Money,
    /// Taxable after, øre.
    #[diesel(column_name = new_taxable_ore, serialize_as = Ore)]
    pub new_taxable: Money,
    /// What changed the split.
    #[diesel(serialize_as = Code)]
    pub cause: AdjustmentCause,
    /// The id of what caused it (payout, cap year, card event).
    pub cause_ref: Option<String>,
    /// When (UTC).
    pub created_at: chrono::NaiveDateTime,
}

/// Returns the citizen-year locked for the rest of the transaction, or `None` when it does not
/// exist yet (then [`lock_year`] creates it): a row lock on PostgreSQL (see below); on SQLite the
/// caller's `BEGIN IMMEDIATE` already serializes writers.
pub fn lock_existing_year(conn: &mut DbConn, citizen_id: &str, year: i32) -> Result<Option<CitizenYearRow>, RepoError> {
    let key = (citizen_id, year);
    if let DbConn::Pg(c) = conn {
        // Lock the row with a no-op UPDATE rather than `SELECT … FOR UPDATE`: an UPDATE also takes
        // the table's ROW EXCLUSIVE lock now, so a cap change (`lock_all_years`) waits for this
        // transaction or this one for it — never each for the other (a deadlock when the row lock
        // came first and the table lock only with the later UPDATE). No row updated: none exists.
        let locked = diesel::update(citizen_years::table.find(key))
            .set(citizen_years::updated_at.eq(citizen_years::updated_at))
            .execute(c)?;
        if locked == 0 {
            return Ok(None);
        }
    }
    Ok(citizen_years::table.find(key).select(CitizenYearRow::as_select()).first(conn).optional()?)
}

/// Creates the citizen-year row if it is missing (a concurrent creator wins harmlessly), then
/// returns it locked for the rest of the transaction (see [`lock_existing_year`]).
pub fn lock_year(conn: &mut DbConn, fresh: &CitizenYearRow) -> Result<CitizenYearRow, RepoError> {
    if let Some(row) = lock_existing_year(conn, &fresh.citizen_id, fresh.year)? {
        return Ok(row);
    }
    // A savepoint, so a lost insert race does not abort the outer PostgreSQL transaction.
    match conn.transaction(|c| diesel::insert_into(citizen_years::table).values(fresh.clone()).execute(c)) {
        Ok(_) => {}
        Err(e) => match RepoError::from(e) {
            RepoError::Conflict { .. } => {}
            other => return Err(other),
        },
    }
    lock_existing_year(conn, &fresh.citizen_id, fresh.year)?.ok_or(RepoError::NotFound)
}

/// Holds off every other writer of citizen-years until the transaction ends, and waits for those
/// under way (PostgreSQL `SHARE ROW EXCLUSIVE`; SQLite serializes writers already). A cap change
/// takes it before it lists the citizen-years to re-split, so a citizen-year created meanwhile by a
/// first payout is either in the list or is created after the new cap is committed.
pub fn lock_all_years(conn: &mut DbConn) -> Result<(), RepoError> {
    use diesel::connection::SimpleConnection;
    if let DbConn::Pg(c) = conn {
        c.batch_execute("LOCK TABLE citizen_years IN SHARE ROW EXCLUSIVE MODE")?;
    }
    Ok(())
}

/// The citizen-year row, if any payout was ever registered for it (no lock).
pub fn find_year(conn: &mut DbConn, citizen_id: &str, year: i32) -> Result<Option<CitizenYearRow>, RepoError> {
    Ok(citizen_years::table.find((citizen_id, year)).select(CitizenYearRow::as_select()).first(conn).optional()?)
}

/// A citizen-year, with the municipality the citizen belongs to now.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct CitizenYearOf {
    /// The citizen.
    pub citizen_id: String,
    /// The income year.
    pub year: i32,
    /// The citizen's municipality (whose log a change of the year is filed in).
    pub municipality: String,
}

/// Citizen-years of `year` and later (candidates for re-allocation after a cap change), in year
/// then citizen order (the order every writer takes citizen-year locks in).
pub fn years_from(conn: &mut DbConn, year: i32) -> Result<Vec<CitizenYearOf>, RepoError> {
    Ok(citizen_years::table
        .inner_join(citizens::table.on(citizens::id.eq(citizen_years::citizen_id)))
        .filter(citizen_years::year.ge(year))
        .select((citizen_years::citizen_id, citizen_years::year, citizens::municipality))
        .order((citizen_years::year.asc(), citizen_years::citizen_id.asc()))
        .load(conn)?)
}

/// The years of a citizen with payouts.
pub fn years_of_citizen(conn: &mut DbConn, citizen_id: &str) -> Result<Vec<i32>, RepoError> {
    Ok(citizen_years::table
        .filter(citizen_years::citizen_id.eq(citizen_id))
        .select(citizen_years::year)
        .order(citizen_years::year.asc())
        .load(conn)?)
}

/// The latest payment date registered in a citizen-year (reversed payouts included).
pub fn latest_payment_date(
    conn: &mut DbConn,
    citizen_id: &str,
    year: i32,
) -> Result<Option<chrono::NaiveDate>, RepoError> {
    Ok(payouts::table
        .filter(payouts::citizen_id.eq(citizen_id))
        .filter(payouts::year.eq(year))
        .select(diesel::dsl::max(payouts::payment_date))
        .first(conn)?)
}

/// Saves the citizen-year totals.
pub fn save_year(conn: &mut DbConn, row: &CitizenYearRow) -> Result<(), RepoError> {
    let n = diesel::update(citizen_years::table.find((row.citizen_id.as_str(), row.year)))
        .set(row.clone())
        .execute(conn)?;
    if n == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// Inserts a payout.
pub fn insert_payout(conn: &mut DbConn, row: &PayoutRow) -> Result<(), RepoError> {
    diesel::insert_into(payouts::table).values(row.clone()).execute(conn)?;
    Ok(())
}

/// One payout and whether it is reversed.
pub fn find_payout(conn: &mut DbConn, id: &PayoutId) -> Result<(PayoutRow, bool), RepoError> {
    let row = payouts::table.find(id.as_str()).select(PayoutRow::as_select()).first(conn)?;
    let reversed: i64 = payout_reversals::table.find(id.as_str()).count().get_result(conn)?;
    Ok((row, reversed > 0))
}

/// Every payout of a citizen-year with whether it is reversed, in registration order.
pub fn payouts_of_year(conn: &mut DbConn, citizen_id: &str, year: i32) -> Result<Vec<(PayoutRow, bool)>, RepoError> {
    let rows: Vec<(PayoutRow, Option<String>)> = payouts::table
        .left_join(payout_reversals::table)
        .filter(payouts::citizen_id.eq(citizen_id))
        .filter(payouts::year.eq(year))
        .order(payouts::sequence.asc())
        .select((PayoutRow::as_select(), payout_reversals::payout_id.nullable()))
        .load(conn)?;
    Ok(rows.into_iter().map(|(p, r)| (p, r.is_some())).collect())
}

/// Sets a payout's current split.
pub fn set_split(
    conn: &mut DbConn,
    id: &PayoutId,
    exempt: Money,
    taxable: Money,
    coverage: Coverage,
) -> Result<(), RepoError> {
    diesel::update(payouts::table.find(id.as_str()))
        .set((
            payouts::exempt_ore.eq(Ore::from(exempt)),
            payouts::taxable_ore.eq(Ore::from(taxable)),
            payouts::coverage.eq(Code::from(coverage)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records a reversal.
pub fn insert_reversal(conn: &mut DbConn, row: &ReversalRow) -> Result<(), RepoError> {
    diesel::insert_into(payout_reversals::table).values(row.clone()).execute(conn)?;
    Ok(())
}

/// Appends an adjustment.
pub fn insert_adjustment(conn: &mut DbConn, row: &AdjustmentRow) -> Result<(), RepoError> {
    diesel::insert_into(adjustments::table).values(row.clone()).execute(conn)?;
    Ok(())
}

/// Which adjustments to list.
#[derive(Debug, Clone)]
pub enum AdjustmentScope {
    /// One company's.
    Company(CompanyId),
    /// Those of a municipality's citizens.
    Municipality(String),
    /// One citizen's.
    Citizen(String),
}

/// A page of adjustments, newest first, with the company's name, and the total.
pub fn list_adjustments(
    conn: &mut DbConn,
    scope: &AdjustmentScope,
    year: Option<i32>,
    page: Page,
) -> Result<(Vec<(AdjustmentRow, String)>, i64), RepoError> {
    let base = || {
        let mut q = adjustments::table.inner_join(companies::table).inner_join(citizens::table).into_boxed();
        q = match scope {
            AdjustmentScope::Company(id) => q.filter(adjustments::company_id.eq(id.as_str().to_owned())),
            AdjustmentScope::Municipality(m) => q.filter(citizens::municipality.eq(m.clone())),
            AdjustmentScope::Citizen(id) => q.filter(adjustments::citizen_id.eq(id.clone())),
        };
        match year {
            Some(y) => q.filter(adjustments::year.eq(y)),
            None => q,
        }
    };
    let total: i64 = base().count().get_result(conn)?;
    let rows = base()
        .select((AdjustmentRow::as_select(), companies::name))
        .order((adjustments::created_at.desc(), adjustments::id.asc()))
        .limit(page.limit)
        .offset(page.offset)
        .load(conn)?;
    Ok((rows, total))
}

/// One page of the payouts of an employment, newest first, each with whether it is reversed, and
/// how many there are in all.
pub fn page_of_payouts_of_employment(
    conn: &mut DbConn,
    employment_id: &EmploymentId,
    page: Page,
) -> Result<(Vec<(PayoutRow, bool)>, i64), RepoError> {
    let employment_id = employment_id.as_str();
    let total: i64 = payouts::table.filter(payouts::employment_id.eq(employment_id)).count().get_result(conn)?;
    let rows: Vec<(PayoutRow, Option<String>)> = payouts::table
        .left_join(payout_reversals::table)
        .filter(payouts::employment_id.eq(employment_id))
        .order((payouts::payment_date.desc(), payouts::sequence.desc()))
        .select((PayoutRow::as_select(), payout_reversals::payout_id.nullable()))
        .limit(page.limit)
        .offset(page.offset)
        .load(conn)?;
    Ok((rows.into_iter().map(|(p, r)| (p, r.is_some())).collect(), total))
}

/// Payouts of an employment, newest first.
pub fn payouts_of_employment(
    conn: &mut DbConn,
    employment_id: &EmploymentId,
) -> Result<Vec<(PayoutRow, bool)>, RepoError> {
    let employment_id = employment_id.as_str();
    let rows: Vec<(PayoutRow, Option<String>)> = payouts::table
        .left_join(payout_reversals::table)
        .filter(payouts::employment_id.eq(employment_id))
        .order((payouts::payment_date.desc(), payouts::sequence.desc()))
        .select((PayoutRow::as_select(), payout_reversals::payout_id.nullable()))
        .load(conn)?;
    Ok(rows.into_iter().map(|(p, r)| (p, r.is_some())).collect())
}
