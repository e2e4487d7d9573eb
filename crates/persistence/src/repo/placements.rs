//! Placements: a citizen on a task, from interest or offer through approval to the end.

use diesel::prelude::*;
use smaajob_domain::{CompanyId, EmploymentId, Money, PlacementState};

use crate::db::{DbConn, MultiBackend};
use crate::error::RepoError;
use crate::repo::Page;
use crate::repo::tasks::TaskRow;
use crate::schema::{citizens, placements, tasks};
use crate::types::{Code, NullableIdText, NullableOre};

/// A placement as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = placements, check_for_backend(MultiBackend))]
#[diesel(treat_none_as_null = true)]
pub struct PlacementRow {
    /// Row id (UUID).
    pub id: String,
    /// The task.
    pub task_id: String,
    /// The citizen.
    pub citizen_id: String,
    /// Where the placement is in its life.
    #[diesel(serialize_as = Code)]
    pub state: PlacementState,
    /// When the citizen said they were interested.
    pub interested_at: Option<chrono::NaiveDateTime>,
    /// When the coordinator offered the task.
    pub offered_at: Option<chrono::NaiveDateTime>,
    /// Who offered it.
    pub offered_by: Option<String>,
    /// When the citizen accepted or declined.
    pub answered_at: Option<chrono::NaiveDateTime>,
    /// When it was approved (kept when it later ends, for time-to-placement).
    pub approved_at: Option<chrono::NaiveDateTime>,
    /// When it was approved, rejected, cancelled or ended.
    pub decided_at: Option<chrono::NaiveDateTime>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// The reason given with the latest decision.
    pub reason: Option<String>,
    /// The employment registered on approval.
    #[diesel(serialize_as = NullableIdText)]
    pub employment_id: Option<EmploymentId>,
    /// Estimated pay at approval, stored in øre.
    #[diesel(column_name = estimated_pay_ore, serialize_as = NullableOre)]
    pub estimated_pay: Option<Money>,
    /// Estimated taxable part at approval, stored in øre.
    #[diesel(column_name = estimated_taxable_ore, serialize_as = NullableOre)]
    pub estimated_taxable: Option<Money>,
    /// Created (UTC).
    pub created_at: chrono::NaiveDateTime,
    /// Last changed (UTC).
    pub updated_at: chrono::NaiveDateTime,
}

/// A placement with its task and the citizen's name.
pub type PlacementWithTask = (PlacementRow, TaskRow, String);

/// Who lists placements.
#[derive(Debug, Clone)]
pub enum PlacementScope {
    /// A coordinator: placements of the municipality's citizens.
    Municipality(String),
    /// A company: placements on its tasks that were approved (its current and former employees).
    Company(CompanyId),
    /// A citizen: their own.
    Citizen(String),
}

/// The codes of the states in which a placement can still lead to work.
fn live_states() -> Vec<Code> {
    PlacementState::ALL.into_iter().filter(|s| s.is_live()).map(Code::from).collect()
}

/// Inserts a placement.
pub fn insert(conn: &mut DbConn, row: &PlacementRow) -> Result<(), RepoError> {
    diesel::insert_into(placements::table).values(row.clone()).execute(conn)?;
    Ok(())
}

/// Saves a changed placement.
pub fn update(conn: &mut DbConn, row: &PlacementRow) -> Result<(), RepoError> {
    let n = diesel::update(placements::table.find(&row.id)).set(row.clone()).execute(conn)?;
    if n == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// A placement with its task and the citizen's name.
pub fn find(conn: &mut DbConn, id: &str) -> Result<PlacementWithTask, RepoError> {
    Ok(placements::table
        .inner_join(tasks::table)
        .inner_join(citizens::table)
        .filter(placements::id.eq(id))
        .select((PlacementRow::as_select(), TaskRow::as_select(), citizens::name))
        .first(conn)?)
}

/// The citizen's live (not ended) placement on a task, if any.
pub fn live_for(conn: &mut DbConn, task_id: &str, citizen_id: &str) -> Result<Option<PlacementRow>, RepoError> {
    Ok(placements::table
        .filter(placements::task_id.eq(task_id))
        .filter(placements::citizen_id.eq(citizen_id))
        .filter(placements::state.eq_any(live_states()))
        .select(PlacementRow::as_select())
        .first(conn)
        .optional()?)
}

/// How many placements of a task hold a position.
pub fn approved_count(conn: &mut DbConn, task_id: &str) -> Result<i64, RepoError> {
    Ok(placements::table
        .filter(placements::task_id.eq(task_id))
        .filter(placements::state.eq(Code::from(PlacementState::Approved)))
        .count()
        .get_result(conn)?)
}

/// The citizen's approved placements with their tasks (for overlap, weekly hours and planned pay).
pub fn approved_of_citizen(conn: &mut DbConn, citizen_id: &str) -> Result<Vec<(PlacementRow, TaskRow)>, RepoError> {
    Ok(placements::table
        .inner_join(tasks::table)
        .filter(placements::citizen_id.eq(citizen_id))
        .filter(placements::state.eq(Code::from(PlacementState::Approved)))
        .select((PlacementRow::as_select(), TaskRow::as_select()))
        .load(conn)?)
}

/// Approved placements of a task (to complete them with the task).
pub fn approved_of_task(conn: &mut DbConn, task_id: &str) -> Result<Vec<PlacementRow>, RepoError> {
    Ok(placements::table
        .filter(placements::task_id.eq(task_id))
        .filter(placements::state.eq(Code::from(PlacementState::Approved)))
        .select(PlacementRow::as_select())
        .load(conn)?)
}

/// Live placements of a task (to cancel them with the task).
pub fn live_of_task(conn: &mut DbConn, task_id: &str) -> Result<Vec<PlacementRow>, RepoError> {
    Ok(placements::table
        .filter(placements::task_id.eq(task_id))
        .filter(placements::state.eq_any(live_states()))
        .select(PlacementRow::as_select())
        .load(conn)?)
}

/// One page of placements in scope, newest first, optionally in one state, and the total.
pub fn list(
    conn: &mut DbConn,
    scope: &PlacementScope,
    state: Option<PlacementState>,
    page: Page,
) -> Result<(Vec<PlacementWithTask>, i64), RepoError> {
    let base = || {
        let mut q = placements::table.inner_join(tasks::table).inner_join(citizens::table).into_boxed();
        q = match scope {
            PlacementScope::Municipality(m) => q.filter(citizens::municipality.eq(m.clone())),
            // An employer sees the citizens placed with it, not who else was offered or interested.
            PlacementScope::Company(id) => {
                q.filter(tasks::company_id.eq(id.as_str().to_owned())).filter(placements::approved_at.is_not_null())
            }
            PlacementScope::Citizen(id) => q.filter(placements::citizen_id.eq(id.clone())),
        };
        match state {
            Some(s) => q.filter(placements::state.eq(Code::from(s))),
            None => q,
        }
    };
    let total: i64 = base().count().get_result(conn)?;
    let rows = base()
        .select((PlacementRow::as_select(), TaskRow::as_select(), citizens::name))
        .order((placements::created_at.desc(), placements::id.asc()))
        .limit(page.limit)
        .offset(page.offset)
        .load(conn)?;
    Ok((rows, total))
}

/// Placements of a municipality's citizens in a state, oldest change first (for the queue).
pub fn in_state_for_municipality(
    conn: &mut DbConn,
    municipality: &str,
    state: PlacementState,
) -> Result<Vec<PlacementWithTask>, RepoError> {
    Ok(placements::table
        .inner_join(tasks::table)
        .inner_join(citizens::table)
        .filter(citizens::municipality.eq(municipality))
        .filter(placements::state.eq(Code::from(state)))
        .order((placements::updated_at.asc(), placements::id.asc()))
        .select((PlacementRow::as_select(), TaskRow::as_select(), citizens::name))
        .load(conn)?)
}

/// Placements of the given tasks that were approved at some point (approved, completed, no-show,
/// or cancelled after approval), for time-to-placement.
pub fn ever_approved_of_tasks(conn: &mut DbConn, task_ids: &[String]) -> Result<Vec<PlacementRow>, RepoError> {
    if task_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(placements::table
        .filter(placements::task_id.eq_any(task_ids))
        .filter(placements::approved_at.is_not_null())
        .select(PlacementRow::as_select())
        .load(conn)?)
}
