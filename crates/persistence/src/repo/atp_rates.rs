//! The ATP rates per year for casual workers: scheme-wide data only the operator changes.

use diesel::prelude::*;
use smaajob_domain::Money;

use crate::db::{DbConn, MultiBackend};
use crate::error::RepoError;
use crate::schema::atp_rates;
use crate::types::Ore;

/// The ATP rate set for one year.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = atp_rates, check_for_backend(MultiBackend))]
pub struct AtpRateRow {
    /// The calendar year (of the payment date).
    pub year: i32,
    /// The employee's part per hour paid, øre.
    #[diesel(column_name = employee_ore_per_hour, serialize_as = Ore)]
    pub employee_per_hour: Money,
    /// The employer's part per hour paid, øre.
    #[diesel(column_name = employer_ore_per_hour, serialize_as = Ore)]
    pub employer_per_hour: Money,
    /// The operator's subject.
    pub set_by: String,
    /// When it was set (UTC).
    pub set_at: chrono::NaiveDateTime,
    /// Why it was set (the announcement of the year's rates).
    pub reason: String,
}

/// Every year with a rate, in year order.
pub fn list(conn: &mut DbConn) -> Result<Vec<AtpRateRow>, RepoError> {
    Ok(atp_rates::table.order(atp_rates::year.asc()).select(AtpRateRow::as_select()).load(conn)?)
}

/// Sets a year's rate, replacing any earlier one (also one inserted concurrently).
pub fn set(conn: &mut DbConn, row: &AtpRateRow) -> Result<(), RepoError> {
    // Update-then-insert in the caller's transaction: an upsert does not go through the
    // multi-backend connection (as for the caps).
    let updated = diesel::update(atp_rates::table.find(row.year)).set(row.clone()).execute(conn)?;
    if updated == 0 {
        match conn
            .transaction(|c| diesel::insert_into(atp_rates::table).values(row.clone()).execute(c))
            .map_err(RepoError::from)
        {
            Ok(_) => {}
            Err(RepoError::Conflict { .. }) => {
                diesel::update(atp_rates::table.find(row.year)).set(row.clone()).execute(conn)?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
