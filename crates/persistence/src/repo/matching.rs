//! The facts matching weighs, read in bulk: one query per kind of fact for every citizen of a
//! municipality (a candidate list) or for one citizen (their suggestions), never one per citizen.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::error::RepoError;
use crate::repo::citizens::CitizenRow;
use crate::repo::tasks::TaskRow;
use crate::schema::{citizen_years, citizens, frikort_cards, frikort_events, placements, shift_reports, tasks};

/// Whose facts to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who<'a> {
    /// Every citizen of the municipality with this code.
    Municipality(&'a str),
    /// The one citizen with this id.
    Citizen(&'a str),
}

macro_rules! only {
    ($query:expr, $who:expr) => {
        match $who {
            Who::Municipality(m) => $query.filter(citizens::municipality.eq(m.to_owned())),
            Who::Citizen(id) => $query.filter(citizens::id.eq(id.to_owned())),
        }
    };
}

/// The citizens, by id.
pub fn citizens_of(conn: &mut DbConn, who: Who<'_>) -> Result<Vec<CitizenRow>, RepoError> {
    let q = citizens::table.select(CitizenRow::as_select()).order(citizens::id.asc()).into_boxed();
    Ok(only!(q, who).load(conn)?)
}

/// Every card decision of the citizens' cards: (citizen id, event kind, effective at), in
/// effective order per citizen.
pub fn card_events(conn: &mut DbConn, who: Who<'_>) -> Result<Vec<(String, String, NaiveDateTime)>, RepoError> {
    let q = frikort_events::table
        .inner_join(frikort_cards::table.inner_join(citizens::table))
        .select((citizens::id, frikort_events::kind, frikort_events::effective_at))
        .order((citizens::id.asc(), frikort_events::effective_at.asc(), frikort_events::recorded_at.asc()))
        .into_boxed();
    Ok(only!(q, who).load(conn)?)
}

/// The citizens' approved placements with their tasks: (citizen id, task).
pub fn approved_tasks(conn: &mut DbConn, who: Who<'_>) -> Result<Vec<(String, TaskRow)>, RepoError> {
    let q = placements::table
        .inner_join(tasks::table)
        .inner_join(citizens::table)
        .filter(placements::state.eq("approved"))
        .select((citizens::id, TaskRow::as_select()))
        .into_boxed();
    Ok(only!(q, who).load(conn)?)
}

/// The citizens with a live placement (interest, offer, acceptance or approval) on a task.
pub fn live_on_task(conn: &mut DbConn, task_id: &str) -> Result<Vec<String>, RepoError> {
    Ok(placements::table
        .filter(placements::task_id.eq(task_id))
        .filter(placements::state.eq_any(["interested", "offered", "accepted", "approved"]))
        .select(placements::citizen_id)
        .load(conn)?)
}

/// The tasks on which the citizen has a live placement.
pub fn live_tasks_of(conn: &mut DbConn, citizen_id: &str) -> Result<Vec<String>, RepoError> {
    Ok(placements::table
        .filter(placements::citizen_id.eq(citizen_id))
        .filter(placements::state.eq_any(["interested", "offered", "accepted", "approved"]))
        .select(placements::task_id)
        .load(conn)?)
}

/// One citizen id per offer made to the citizens since `since` (UTC).
pub fn offers_since(conn: &mut DbConn, who: Who<'_>, since: NaiveDateTime) -> Result<Vec<String>, RepoError> {
    let q = placements::table
        .inner_join(citizens::table)
        .filter(placements::offered_at.ge(since))
        .select(citizens::id)
        .into_boxed();
    Ok(only!(q, who).load(conn)?)
}

/// Minutes of work reported for the citizens' shifts on or after `since`: (citizen id, minutes).
pub fn worked_since(conn: &mut DbConn, who: Who<'_>, since: NaiveDate) -> Result<Vec<(String, i32)>, RepoError> {
    let q = shift_reports::table
        .inner_join(placements::table.inner_join(citizens::table))
        .filter(shift_reports::shift_date.ge(since))
        .filter(shift_reports::status.ne("disputed"))
        .select((citizens::id, shift_reports::minutes))
        .into_boxed();
    Ok(only!(q, who).load(conn)?)
}

/// Exempt income so far in `year`: (citizen id, exempt øre), for the citizens who have any.
pub fn exempt_in(conn: &mut DbConn, who: Who<'_>, year: i32) -> Result<Vec<(String, i64)>, RepoError> {
    let q = citizen_years::table
        .inner_join(citizens::table.on(citizens::id.eq(citizen_years::citizen_id)))
        .filter(citizen_years::year.eq(year))
        .select((citizens::id, citizen_years::exempt_ore))
        .into_boxed();
    Ok(only!(q, who).load(conn)?)
}
