//! Frikort income registered outside Småjob, and the national-register statements a coordinator
//! imports to reconcile a citizen-year: outside income counts toward the cap in the allocation
//! (see `accounting` for the citizen-year it belongs to), a statement changes nothing until it is
//! accepted.

use diesel::prelude::*;
use smaajob_domain::{Actor, Money, OutsideIncomeId, RegisterStatementId, StatementStatus};

use crate::db::{DbConn, MultiBackend};
use crate::error::RepoError;
use crate::repo::Page;
use crate::schema::{outside_income, register_statement_lines, register_statements};
use crate::types::{Code, IdText, NullableIdText, Ore};

/// One entry of outside income.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = outside_income, check_for_backend(MultiBackend))]
pub struct OutsideIncomeRow {
    /// Row id (UUID).
    #[diesel(serialize_as = IdText)]
    pub id: OutsideIncomeId,
    /// The citizen who earned it.
    pub citizen_id: String,
    /// Income year (the payment date's calendar year).
    pub year: i32,
    /// Registration sequence within the citizen-year, from the counter the payouts use.
    pub sequence: i64,
    /// The day the outside employer paid it.
    pub payment_date: chrono::NaiveDate,
    /// The amount, øre.
    #[diesel(column_name = amount_ore, serialize_as = Ore)]
    pub amount: Money,
    /// The outside employer's CVR, when known.
    pub employer_cvr: Option<String>,
    /// Where the coordinator knows it from (the employer, a letter, the statement).
    pub source: String,
    /// The register statement whose acceptance recorded it, if one did.
    #[diesel(serialize_as = NullableIdText)]
    pub statement_id: Option<RegisterStatementId>,
    /// The subject of the token that recorded it.
    pub recorded_by: String,
    /// The recording role.
    #[diesel(serialize_as = Code)]
    pub recorded_by_role: Actor,
    /// When it was recorded (UTC).
    pub created_at: chrono::NaiveDateTime,
    /// When it was withdrawn (UTC); it then no longer counts.
    pub withdrawn_at: Option<chrono::NaiveDateTime>,
    /// The subject of the token that withdrew it.
    pub withdrawn_by: Option<String>,
    /// Why it was withdrawn.
    pub withdrawn_reason: Option<String>,
}

impl OutsideIncomeRow {
    /// Whether it has been withdrawn.
    pub fn withdrawn(&self) -> bool {
        self.withdrawn_at.is_some()
    }
}

/// Inserts outside income (its citizen-year row must exist: lock it first).
pub fn insert(conn: &mut DbConn, row: &OutsideIncomeRow) -> Result<(), RepoError> {
    diesel::insert_into(outside_income::table).values(row.clone()).execute(conn)?;
    Ok(())
}

/// One entry.
pub fn find(conn: &mut DbConn, id: &OutsideIncomeId) -> Result<OutsideIncomeRow, RepoError> {
    Ok(outside_income::table.find(id.as_str()).select(OutsideIncomeRow::as_select()).first(conn)?)
}

/// Every entry of a citizen-year, withdrawn ones included, in registration order.
pub fn of_year(conn: &mut DbConn, citizen_id: &str, year: i32) -> Result<Vec<OutsideIncomeRow>, RepoError> {
    Ok(outside_income::table
        .filter(outside_income::citizen_id.eq(citizen_id))
        .filter(outside_income::year.eq(year))
        .order(outside_income::sequence.asc())
        .select(OutsideIncomeRow::as_select())
        .load(conn)?)
}

/// One page of a citizen's outside income (of one year, when given), newest payment first, and
/// how many entries there are in all.
pub fn page_of_citizen(
    conn: &mut DbConn,
    citizen_id: &str,
    year: Option<i32>,
    page: Page,
) -> Result<(Vec<OutsideIncomeRow>, i64), RepoError> {
    let base = || {
        let q = outside_income::table.filter(outside_income::citizen_id.eq(citizen_id.to_owned())).into_boxed();
        match year {
            Some(y) => q.filter(outside_income::year.eq(y)),
            None => q,
        }
    };
    let total: i64 = base().count().get_result(conn)?;
    let rows = base()
        .order((outside_income::payment_date.desc(), outside_income::sequence.desc()))
        .select(OutsideIncomeRow::as_select())
        .limit(page.limit)
        .offset(page.offset)
        .load(conn)?;
    Ok((rows, total))
}

/// The latest payment date of a citizen-year's outside income (withdrawn entries included, as
/// reversed payouts are in `accounting::latest_payment_date`).
pub fn latest_payment_date(
    conn: &mut DbConn,
    citizen_id: &str,
    year: i32,
) -> Result<Option<chrono::NaiveDate>, RepoError> {
    Ok(outside_income::table
        .filter(outside_income::citizen_id.eq(citizen_id))
        .filter(outside_income::year.eq(year))
        .select(diesel::dsl::max(outside_income::payment_date))
        .first(conn)?)
}

/// Withdraws an entry that is not withdrawn yet; `NotFound` when there is none such.
pub fn withdraw(
    conn: &mut DbConn,
    id: &OutsideIncomeId,
    by: &str,
    reason: &str,
    at: chrono::NaiveDateTime,
) -> Result<(), RepoError> {
    let n = diesel::update(outside_income::table.find(id.as_str()).filter(outside_income::withdrawn_at.is_null()))
        .set((
            outside_income::withdrawn_at.eq(Some(at)),
            outside_income::withdrawn_by.eq(Some(by)),
            outside_income::withdrawn_reason.eq(Some(reason)),
        ))
        .execute(conn)?;
    if n == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// An imported register statement.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = register_statements, check_for_backend(MultiBackend))]
pub struct StatementRow {
    /// Row id (UUID).
    #[diesel(serialize_as = IdText)]
    pub id: RegisterStatementId,
    /// The citizen the statement is of.
    pub citizen_id: String,
    /// The income year it covers.
    pub year: i32,
    /// The day it was drawn from the register.
    pub drawn_on: chrono::NaiveDate,
    /// Pending, accepted or superseded.
    #[diesel(serialize_as = Code)]
    pub status: StatementStatus,
    /// The differences found at import, as JSON (compared again when it is accepted).
    pub differences: String,
    /// The subject of the token that imported it.
    pub imported_by: String,
    /// The importing role.
    #[diesel(serialize_as = Code)]
    pub imported_by_role: Actor,
    /// When it was imported (UTC).
    pub created_at: chrono::NaiveDateTime,
    /// Who accepted it.
    pub accepted_by: Option<String>,
    /// When it was accepted (UTC).
    pub accepted_at: Option<chrono::NaiveDateTime>,
}

/// One line of an imported statement.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = register_statement_lines, check_for_backend(MultiBackend))]
pub struct StatementLineRow {
    /// The statement.
    #[diesel(serialize_as = IdText)]
    pub statement_id: RegisterStatementId,
    /// The line of the file (the header is line 1).
    pub line: i32,
    /// The employer's CVR.
    pub employer_cvr: String,
    /// The employer's name as the register shows it.
    pub employer_name: String,
    /// The day it was paid.
    pub payment_date: chrono::NaiveDate,
    /// The registered amount, øre.
    #[diesel(column_name = amount_ore, serialize_as = Ore)]
    pub amount: Money,
}

/// Inserts a statement with its lines.
pub fn insert_statement(conn: &mut DbConn, row: &StatementRow, lines: &[StatementLineRow]) -> Result<(), RepoError> {
    diesel::insert_into(register_statements::table).values(row.clone()).execute(conn)?;
    // One row at a time: a batch insert does not go through the multi-backend connection, and a
    // statement has a few hundred lines at most.
    for line in lines {
        diesel::insert_into(register_statement_lines::table).values(line.clone()).execute(conn)?;
    }
    Ok(())
}

/// One statement.
pub fn find_statement(conn: &mut DbConn, id: &RegisterStatementId) -> Result<StatementRow, RepoError> {
    Ok(register_statements::table.find(id.as_str()).select(StatementRow::as_select()).first(conn)?)
}

/// A statement's lines, in line order.
pub fn lines_of(conn: &mut DbConn, statement_id: &RegisterStatementId) -> Result<Vec<StatementLineRow>, RepoError> {
    Ok(register_statement_lines::table
        .filter(register_statement_lines::statement_id.eq(statement_id.as_str()))
        .order(register_statement_lines::line.asc())
        .select(StatementLineRow::as_select())
        .load(conn)?)
}

/// Marks a pending statement accepted and the citizen-year's other pending statements superseded.
pub fn accept_statement(
    conn: &mut DbConn,
    row: &StatementRow,
    by: &str,
    at: chrono::NaiveDateTime,
) -> Result<(), RepoError> {
    let pending = Code::from(StatementStatus::Pending);
    let n = diesel::update(
        register_statements::table.find(row.id.as_str()).filter(register_statements::status.eq(pending)),
    )
    .set((
        register_statements::status.eq(Code::from(StatementStatus::Accepted)),
        register_statements::accepted_by.eq(Some(by)),
        register_statements::accepted_at.eq(Some(at)),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(RepoError::NotFound);
    }
    diesel::update(
        register_statements::table
            .filter(register_statements::citizen_id.eq(&row.citizen_id))
            .filter(register_statements::year.eq(row.year))
            .filter(register_statements::status.eq(pending)),
    )
    .set(register_statements::status.eq(Code::from(StatementStatus::Superseded)))
    .execute(conn)?;
    Ok(())
}

/// The day the latest accepted statement of a citizen-year was drawn from the register, if any.
pub fn reconciled_on(conn: &mut DbConn, citizen_id: &str, year: i32) -> Result<Option<chrono::NaiveDate>, RepoError> {
    Ok(register_statements::table
        .filter(register_statements::citizen_id.eq(citizen_id))
        .filter(register_statements::year.eq(year))
        .filter(register_statements::status.eq(Code::from(StatementStatus::Accepted)))
        .select(diesel::dsl::max(register_statements::drawn_on))
        .first(conn)?)
}
