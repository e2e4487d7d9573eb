//! Employments: the registration § 6 requires before frikort income is exempt.

use diesel::prelude::*;
use smaajob_domain::{Actor, CompanyId, EmploymentId, Money};

use crate::db::{DbConn, MultiBackend};
use crate::error::RepoError;
use crate::repo::{Page, lock_row};
use crate::schema::{citizens, companies, employments};
use crate::types::{Code, IdText, NullableOre};

/// An employment as stored.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = employments, check_for_backend(MultiBackend))]
#[diesel(treat_none_as_null = true)]
pub struct EmploymentRow {
    /// Row id.
    #[diesel(serialize_as = IdText)]
    pub id: EmploymentId,
    /// The employee.
    pub citizen_id: String,
    /// The employer.
    #[diesel(serialize_as = IdText)]
    pub company_id: CompanyId,
    /// First day of the employment.
    pub start_date: chrono::NaiveDate,
    /// Last day, if known.
    pub end_date: Option<chrono::NaiveDate>,
    /// Expected hours per week.
    pub expected_hours_per_week: Option<f64>,
    /// Expected pay for the whole employment, stored in øre.
    #[diesel(column_name = expected_pay_ore, serialize_as = NullableOre)]
    pub expected_pay: Option<Money>,
    /// The company's responsible contact person.
    pub contact_name: String,
    /// Contact phone.
    pub contact_phone: Option<String>,
    /// Contact email.
    pub contact_email: Option<String>,
    /// When it was registered (UTC).
    pub registered_at: chrono::NaiveDateTime,
    /// Who registered it (subject).
    pub registered_by: String,
    /// The registering role (`company` or `coordinator`).
    #[diesel(serialize_as = Code)]
    pub registered_by_role: Actor,
    /// When it was ended (UTC), if it has been.
    pub ended_at: Option<chrono::NaiveDateTime>,
    /// Why it was ended.
    pub end_reason: Option<String>,
}

/// An employment with the names of the two parties.
pub type EmploymentWithNames = (EmploymentRow, String, String);

/// Who is asking for a list of employments.
#[derive(Debug, Clone)]
pub enum EmploymentScope {
    /// A company: its own employments.
    Company(CompanyId),
    /// A coordinator: employments of the municipality's citizens.
    Municipality(String),
    /// A citizen: their own.
    Citizen(String),
}

/// Inserts an employment.
pub fn insert(conn: &mut DbConn, row: &EmploymentRow) -> Result<(), RepoError> {
    diesel::insert_into(employments::table).values(row.clone()).execute(conn)?;
    Ok(())
}

/// Saves a changed employment.
pub fn update(conn: &mut DbConn, row: &EmploymentRow) -> Result<(), RepoError> {
    let n = diesel::update(employments::table.find(row.id.as_str())).set(row.clone()).execute(conn)?;
    if n == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// Locks an employment's row for the rest of the transaction (see `repo::lock_row!`) and reads it:
/// ending it and paying on it must not interleave.
pub fn lock(conn: &mut DbConn, id: &EmploymentId) -> Result<EmploymentRow, RepoError> {
    let _: String = lock_row!(&mut *conn, employments::table.find(id.as_str()).select(employments::id))?;
    Ok(employments::table.find(id.as_str()).select(EmploymentRow::as_select()).first(conn)?)
}

/// One employment with the citizen's and the company's names.
pub fn find(conn: &mut DbConn, id: &EmploymentId) -> Result<EmploymentWithNames, RepoError> {
    Ok(employments::table
        .inner_join(citizens::table)
        .inner_join(companies::table)
        .filter(employments::id.eq(id.as_str()))
        .select((EmploymentRow::as_select(), citizens::name, companies::name))
        .first(conn)?)
}

/// Every employment of a citizen (for the allocation's employment spans).
pub fn of_citizen(conn: &mut DbConn, citizen_id: &str) -> Result<Vec<EmploymentRow>, RepoError> {
    Ok(employments::table
        .filter(employments::citizen_id.eq(citizen_id))
        .select(EmploymentRow::as_select())
        .load(conn)?)
}

/// Whether the company employs or employed the citizen.
pub fn company_employs(conn: &mut DbConn, company_id: &CompanyId, citizen_id: &str) -> Result<bool, RepoError> {
    let n: i64 = employments::table
        .filter(employments::company_id.eq(company_id.as_str()))
        .filter(employments::citizen_id.eq(citizen_id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// An employment with the names of the two parties and the citizen's municipality (whose audit
/// log a read of it is filed in).
pub type ListedEmployment = (EmploymentRow, String, String, String);

/// One page of the employments in scope, newest start first, and the total.
pub fn list(
    conn: &mut DbConn,
    scope: &EmploymentScope,
    active_only: Option<bool>,
    page: Page,
) -> Result<(Vec<ListedEmployment>, i64), RepoError> {
    let base = || {
        let mut q = employments::table.inner_join(citizens::table).inner_join(companies::table).into_boxed();
        q = match scope {
            EmploymentScope::Company(id) => q.filter(employments::company_id.eq(id.as_str().to_owned())),
            EmploymentScope::Municipality(m) => q.filter(citizens::municipality.eq(m.clone())),
            EmploymentScope::Citizen(id) => q.filter(employments::citizen_id.eq(id.clone())),
        };
        match active_only {
            Some(true) => q.filter(employments::ended_at.is_null()),
            Some(false) => q.filter(employments::ended_at.is_not_null()),
            None => q,
        }
    };
    let total: i64 = base().count().get_result(conn)?;
    let rows = base()
        .select((EmploymentRow::as_select(), citizens::name, companies::name, citizens::municipality))
        .order((employments::start_date.desc(), employments::id.asc()))
        .limit(page.limit)
        .offset(page.offset)
        .load(conn)?;
    Ok((rows, total))
}
