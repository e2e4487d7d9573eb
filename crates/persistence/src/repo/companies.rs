//! Companies (employers identified by CVR).

use diesel::prelude::*;
use smaajob_domain::{CompanyId, Verification};

use crate::db::{DbConn, MultiBackend};
use crate::error::RepoError;
use crate::repo::Page;
use crate::schema::companies;
use crate::types::{Code, IdText};

/// A company as stored.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = companies, check_for_backend(MultiBackend))]
#[diesel(treat_none_as_null = true)]
pub struct CompanyRow {
    /// Row id (UUID).
    #[diesel(serialize_as = IdText)]
    pub id: CompanyId,
    /// 8-digit CVR number.
    pub cvr: String,
    /// Company name.
    pub name: String,
    /// Street address.
    pub address: Option<String>,
    /// The company's Danish postcode (4 digits).
    pub postcode: Option<String>,
    /// Latitude (WGS 84) of where the work happens by default.
    pub lat: Option<f64>,
    /// Longitude (WGS 84) of where the work happens by default.
    pub lon: Option<f64>,
    /// Contact person's name.
    pub contact_name: String,
    /// Contact person's phone.
    pub contact_phone: Option<String>,
    /// Contact person's email.
    pub contact_email: Option<String>,
    /// Whether a coordinator has vouched for it.
    #[diesel(serialize_as = Code)]
    pub verification: Verification,
    /// Why it was rejected (or a note on verification).
    pub verification_reason: Option<String>,
    /// The municipality of the coordinator who registered it.
    pub municipality: Option<String>,
    /// Created (UTC).
    pub created_at: chrono::NaiveDateTime,
    /// Last changed (UTC).
    pub updated_at: chrono::NaiveDateTime,
}

/// Inserts a company.
pub fn insert(conn: &mut DbConn, row: &CompanyRow) -> Result<(), RepoError> {
    diesel::insert_into(companies::table).values(row.clone()).execute(conn)?;
    Ok(())
}

/// Replaces a company's stored fields.
pub fn update(conn: &mut DbConn, row: &CompanyRow) -> Result<(), RepoError> {
    let n = diesel::update(companies::table.find(row.id.as_str())).set(row.clone()).execute(conn)?;
    if n == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// One company.
pub fn find(conn: &mut DbConn, id: &CompanyId) -> Result<CompanyRow, RepoError> {
    Ok(companies::table.find(id.as_str()).select(CompanyRow::as_select()).first(conn)?)
}

/// The company with this CVR, if any.
pub fn find_by_cvr(conn: &mut DbConn, cvr: &str) -> Result<Option<CompanyRow>, RepoError> {
    Ok(companies::table.filter(companies::cvr.eq(cvr)).select(CompanyRow::as_select()).first(conn).optional()?)
}

/// One page of companies ordered by name (optionally only those with this verification), and the total.
pub fn list(
    conn: &mut DbConn,
    verification: Option<Verification>,
    page: Page,
) -> Result<(Vec<CompanyRow>, i64), RepoError> {
    let base = || {
        let q = companies::table.into_boxed();
        match verification {
            Some(v) => q.filter(companies::verification.eq(Code::from(v))),
            None => q,
        }
    };
    let total: i64 = base().count().get_result(conn)?;
    let rows = base()
        .select(CompanyRow::as_select())
        .order((companies::name.asc(), companies::id.asc()))
        .limit(page.limit)
        .offset(page.offset)
        .load(conn)?;
    Ok((rows, total))
}

/// The unverified companies of a municipality, by name (for its coordinators' queue).
pub fn unverified_in(conn: &mut DbConn, municipality: &str) -> Result<Vec<CompanyRow>, RepoError> {
    Ok(companies::table
        .filter(companies::verification.eq(Code::from(Verification::Unverified)))
        .filter(companies::municipality.eq(municipality))
        .select(CompanyRow::as_select())
        .order((companies::name.asc(), companies::id.asc()))
        .load(conn)?)
}
