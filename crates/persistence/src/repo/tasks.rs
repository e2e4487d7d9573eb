//! Small-job tasks that companies hand to the coordinator.

use std::collections::BTreeMap;

use diesel::prelude::*;
use smaajob_domain::{CompanyId, Money, PlacementState, Schedule, TaskStatus, Verification};

use crate::db::{DbConn, MultiBackend};
use crate::error::RepoError;
use crate::repo::{Page, lock_row};
use crate::schema::{companies, placements, tasks};
use crate::types::{Code, IdText, Json, JsonText, Ore};

/// A task as stored. `schedule` and `required_skills` are JSON.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = tasks, check_for_backend(MultiBackend))]
#[diesel(treat_none_as_null = true)]
pub struct TaskRow {
    /// Row id (UUID).
    pub id: String,
    /// The company offering the work.
    #[diesel(serialize_as = IdText)]
    pub company_id: CompanyId,
    /// The municipality whose citizens and coordinators the task is for.
    pub municipality: String,
    /// Short title.
    pub title: String,
    /// What the work is.
    pub description: String,
    /// Required skills, stored as a JSON array.
    #[diesel(serialize_as = JsonText)]
    pub required_skills: Json<Vec<String>>,
    /// Where the work happens.
    pub address: Option<String>,
    /// Latitude (WGS 84) of the place of work.
    pub lat: Option<f64>,
    /// Longitude (WGS 84) of the place of work.
    pub lon: Option<f64>,
    /// The schedule (single shift or weekly pattern), stored as JSON.
    #[diesel(serialize_as = JsonText)]
    pub schedule: Json<Schedule>,
    /// Date of the first shift.
    pub first_date: chrono::NaiveDate,
    /// Date of the last shift.
    pub last_date: chrono::NaiveDate,
    /// Paid minutes per shift.
    pub paid_minutes_per_shift: i32,
    /// Hourly wage, stored in øre.
    #[diesel(column_name = hourly_wage_ore, serialize_as = Ore)]
    pub hourly_wage: Money,
    /// Number of people wanted.
    pub positions: i32,
    /// Only for frikort holders.
    pub frikort_only: bool,
    /// Contact person.
    pub contact_name: String,
    /// Contact phone.
    pub contact_phone: Option<String>,
    /// Contact email.
    pub contact_email: Option<String>,
    /// Where the task is in its life.
    #[diesel(serialize_as = Code)]
    pub status: TaskStatus,
    /// When it was first opened (for time-to-placement).
    pub opened_at: Option<chrono::NaiveDateTime>,
    /// When the last position was filled.
    pub filled_at: Option<chrono::NaiveDateTime>,
    /// When it was completed or cancelled.
    pub closed_at: Option<chrono::NaiveDateTime>,
    /// Why it was cancelled.
    pub close_reason: Option<String>,
    /// Who created it.
    pub created_by: String,
    /// Created (UTC).
    pub created_at: chrono::NaiveDateTime,
    /// Last changed (UTC).
    pub updated_at: chrono::NaiveDateTime,
}

/// A task with its company's name and verification.
pub type TaskWithCompany = (TaskRow, String, Verification);

/// A task as a list shows it: with its company's name and verification, and how many
/// placements hold one of its positions.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedTask {
    /// The task.
    pub task: TaskRow,
    /// The company's name.
    pub company_name: String,
    /// The company's verification.
    pub company_verification: Verification,
    /// How many of its placements are approved (hold a position).
    pub approved: i64,
}

/// Who lists tasks.
#[derive(Debug, Clone)]
pub enum TaskScope {
    /// A company: its own.
    Company(CompanyId),
    /// A coordinator: the municipality's.
    Municipality(String),
    /// A citizen: open tasks of the municipality; frikort-only ones only for a card holder.
    OpenIn {
        /// The citizen's municipality.
        municipality: String,
        /// Whether the citizen holds an active frikort (and so sees frikort-only tasks).
        card_holder: bool,
    },
}

/// Inserts a task.
pub fn insert(conn: &mut DbConn, row: &TaskRow) -> Result<(), RepoError> {
    diesel::insert_into(tasks::table).values(row.clone()).execute(conn)?;
    Ok(())
}

/// Saves a changed task.
pub fn update(conn: &mut DbConn, row: &TaskRow) -> Result<(), RepoError> {
    let n = diesel::update(tasks::table.find(&row.id)).set(row.clone()).execute(conn)?;
    if n == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// A task with its company's name and verification status.
pub fn find(conn: &mut DbConn, id: &str) -> Result<TaskWithCompany, RepoError> {
    Ok(tasks::table
        .inner_join(companies::table)
        .filter(tasks::id.eq(id))
        .select((TaskRow::as_select(), companies::name, companies::verification))
        .first(conn)?)
}

/// Locks a task row for the rest of the transaction (see `repo::lock_row!`) and reads it, so two
/// approvals cannot both take the last position.
pub fn lock(conn: &mut DbConn, id: &str) -> Result<TaskRow, RepoError> {
    let _: String = lock_row!(&mut *conn, tasks::table.find(id).select(tasks::id))?;
    Ok(tasks::table.find(id).select(TaskRow::as_select()).first(conn)?)
}

/// One page of tasks in scope, by first date, each with its count of approved placements (one
/// grouped query for the page, not one per task), and the total.
pub fn list(
    conn: &mut DbConn,
    scope: &TaskScope,
    status: Option<TaskStatus>,
    page: Page,
) -> Result<(Vec<ListedTask>, i64), RepoError> {
    let base = || {
        let mut q = tasks::table.inner_join(companies::table).into_boxed();
        q = match scope {
            TaskScope::Company(id) => q.filter(tasks::company_id.eq(id.as_str().to_owned())),
            TaskScope::Municipality(m) => q.filter(tasks::municipality.eq(m.clone())),
            TaskScope::OpenIn { municipality, card_holder } => {
                let q = q
                    .filter(tasks::municipality.eq(municipality.clone()))
                    .filter(tasks::status.eq(Code::from(TaskStatus::Open)));
                if *card_holder { q } else { q.filter(tasks::frikort_only.eq(false)) }
            }
        };
        match status {
            Some(s) => q.filter(tasks::status.eq(Code::from(s))),
            None => q,
        }
    };
    let total: i64 = base().count().get_result(conn)?;
    let rows: Vec<TaskWithCompany> = base()
        .select((TaskRow::as_select(), companies::name, companies::verification))
        .order((tasks::first_date.asc(), tasks::id.asc()))
        .limit(page.limit)
        .offset(page.offset)
        .load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|(t, _, _)| t.id.as_str()).collect();
    let approved: BTreeMap<String, i64> = if ids.is_empty() {
        BTreeMap::new()
    } else {
        placements::table
            .filter(placements::task_id.eq_any(&ids))
            .filter(placements::state.eq(Code::from(PlacementState::Approved)))
            .group_by(placements::task_id)
            .select((placements::task_id, diesel::dsl::count_star()))
            .load::<(String, i64)>(conn)?
            .into_iter()
            .collect()
    };
    let items = rows
        .into_iter()
        .map(|(task, company_name, company_verification)| ListedTask {
            approved: approved.get(&task.id).copied().unwrap_or(0),
            task,
            company_name,
            company_verification,
        })
        .collect();
    Ok((items, total))
}

/// Tasks of a municipality opened in [from, to) (for time-to-placement).
pub fn opened_between(
    conn: &mut DbConn,
    municipality: &str,
    from: chrono::NaiveDateTime,
    to: chrono::NaiveDateTime,
) -> Result<Vec<TaskRow>, RepoError> {
    Ok(tasks::table
        .filter(tasks::municipality.eq(municipality))
        .filter(tasks::opened_at.ge(from))
        .filter(tasks::opened_at.lt(to))
        .select(TaskRow::as_select())
        .load(conn)?)
}

/// The tasks of a municipality with a shift between `from` and `to` (both included) that are
/// open, or cancelled or completed with fewer approved or completed placements than positions
/// (unfilled), by first date, each with its count of approved placements; at most `limit`.
pub fn unfilled_between(
    conn: &mut DbConn,
    municipality: &str,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    limit: i64,
) -> Result<Vec<ListedTask>, RepoError> {
    let statuses = [TaskStatus::Open, TaskStatus::Cancelled, TaskStatus::Completed].map(Code::from);
    let rows: Vec<TaskWithCompany> = tasks::table
        .inner_join(companies::table)
        .filter(tasks::municipality.eq(municipality))
        .filter(tasks::status.eq_any(statuses))
        .filter(tasks::first_date.le(to))
        .filter(tasks::last_date.ge(from))
        .select((TaskRow::as_select(), companies::name, companies::verification))
        .order((tasks::first_date.asc(), tasks::id.asc()))
        .limit(limit)
        .load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|(t, _, _)| t.id.as_str()).collect();
    let held: BTreeMap<String, i64> = if ids.is_empty() {
        BTreeMap::new()
    } else {
        let states = [PlacementState::Approved, PlacementState::Completed].map(Code::from);
        placements::table
            .filter(placements::task_id.eq_any(&ids))
            .filter(placements::state.eq_any(states))
            .group_by(placements::task_id)
            .select((placements::task_id, diesel::dsl::count_star()))
            .load::<(String, i64)>(conn)?
            .into_iter()
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|(task, company_name, company_verification)| ListedTask {
            approved: held.get(&task.id).copied().unwrap_or(0),
            task,
            company_name,
            company_verification,
        })
        .filter(|l| l.task.status == TaskStatus::Open || l.approved < i64::from(l.task.positions))
        .collect())
}
