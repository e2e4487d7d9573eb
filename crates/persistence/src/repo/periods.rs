//! Periods of responsibility: which municipality was responsible for a citizen from when to
//! when. Every citizen has exactly one open period (the current municipality's); a transfer
//! closes it and opens the next.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::error::RepoError;
use crate::schema::municipality_periods;

/// One municipality's period of responsibility for a citizen.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = municipality_periods)]
pub struct PeriodRow {
    /// The citizen.
    pub citizen_id: String,
    /// The responsible municipality's code.
    pub municipality: String,
    /// When the municipality became responsible (UTC).
    pub started_at: chrono::NaiveDateTime,
    /// When its responsibility ended (UTC); `None` while it lasts.
    pub ended_at: Option<chrono::NaiveDateTime>,
    /// Why the period started, when a transfer started it.
    pub reason: Option<String>,
    /// The citizen's record and card as they stood at `ended_at`, JSON; set when the period ends.
    pub record_at_end: Option<String>,
}

/// Starts a period.
pub fn open(conn: &mut DbConn, period: &PeriodRow) -> Result<(), RepoError> {
    diesel::insert_into(municipality_periods::table).values(period).execute(conn)?;
    Ok(())
}

/// Ends the citizen's open period at `at`, keeping the record as it stood. `NotFound` when the
/// citizen has no open period.
pub fn close(conn: &mut DbConn, citizen_id: &str, at: chrono::NaiveDateTime, record: &str) -> Result<(), RepoError> {
    let open = municipality_periods::table
        .filter(municipality_periods::citizen_id.eq(citizen_id))
        .filter(municipality_periods::ended_at.is_null());
    let n = diesel::update(open)
        .set((municipality_periods::ended_at.eq(Some(at)), municipality_periods::record_at_end.eq(Some(record))))
        .execute(conn)?;
    if n == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// The latest ended period of `municipality` for the citizen, if it was ever responsible and
/// is no longer.
pub fn latest_ended(conn: &mut DbConn, citizen_id: &str, municipality: &str) -> Result<Option<PeriodRow>, RepoError> {
    Ok(municipality_periods::table
        .filter(municipality_periods::citizen_id.eq(citizen_id))
        .filter(municipality_periods::municipality.eq(municipality))
        .filter(municipality_periods::ended_at.is_not_null())
        .order(municipality_periods::started_at.desc())
        .select(PeriodRow::as_select())
        .first(conn)
        .optional()?)
}

/// Every period of the citizen, oldest first.
pub fn of_citizen(conn: &mut DbConn, citizen_id: &str) -> Result<Vec<PeriodRow>, RepoError> {
    Ok(municipality_periods::table
        .filter(municipality_periods::citizen_id.eq(citizen_id))
        .order(municipality_periods::started_at.asc())
        .select(PeriodRow::as_select())
        .load(conn)?)
}
