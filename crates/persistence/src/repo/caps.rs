//! The yearly frikort caps (beløbsgrænser): the statutory amounts ship with the software, and
//! only the operator changes them.

use diesel::prelude::*;
use smaajob_domain::Money;

use crate::db::{DbConn, MultiBackend};
use crate::error::RepoError;
use crate::schema::caps;
use crate::types::Ore;

/// A cap set for one year.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = caps, check_for_backend(MultiBackend))]
#[diesel(treat_none_as_null = true)]
pub struct CapRow {
    /// The calendar year.
    pub year: i32,
    /// The cap, stored in øre.
    #[diesel(column_name = amount_ore, serialize_as = Ore)]
    pub amount: Money,
    /// The regulation percentage the amount was computed from, if it was.
    pub regulation_percent: Option<String>,
    /// Who set it (`law` for the seeded statutory amounts, else the operator's subject).
    pub set_by: String,
    /// When it was set (UTC).
    pub set_at: chrono::NaiveDateTime,
    /// Why the operator set it; `None` for the statutory amounts.
    pub reason: Option<String>,
}

/// All years that have a cap, in year order.
pub fn list(conn: &mut DbConn) -> Result<Vec<CapRow>, RepoError> {
    Ok(caps::table.order(caps::year.asc()).select(CapRow::as_select()).load(conn)?)
}

/// The cap set for `year`, if any.
pub fn find(conn: &mut DbConn, year: i32) -> Result<Option<CapRow>, RepoError> {
    Ok(caps::table.find(year).select(CapRow::as_select()).first(conn).optional()?)
}

/// Sets the cap of a year, replacing any earlier value (also one inserted concurrently).
pub fn set(conn: &mut DbConn, row: &CapRow) -> Result<(), RepoError> {
    // An upsert (ON CONFLICT) does not go through the multi-backend connection; update-then-insert
    // inside the caller's write transaction does the same on both backends.
    let updated = diesel::update(caps::table.find(row.year)).set(row.clone()).execute(conn)?;
    if updated == 0 {
        // A savepoint: when a concurrent writer inserted the year first, replace its value.
        match conn
            .transaction(|c| diesel::insert_into(caps::table).values(row.clone()).execute(c))
            .map_err(RepoError::from)
        {
            Ok(_) => {}
            Err(RepoError::Conflict { .. }) => {
                diesel::update(caps::table.find(row.year)).set(row.clone()).execute(conn)?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
