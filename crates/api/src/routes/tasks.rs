//! Tasks (`/tasks`, `/me/tasks`): small jobs a company hands the coordinator in one request —
//! what, where, when, for how much, how many people — through draft → open → filled → completed,
//! or cancelled.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use smaajob_domain::{Money, Schedule, Verification};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, Problem};
use crate::http::{PageQuery, Paged, parse_id, utc};
use crate::json::Json;
use crate::responses::{ApiErrors, Conflict, Invalid, JsonBody, NotFound};
use crate::services::common::optional_text;
use crate::services::companies::ContactInput;
use crate::services::error::Fields;
use crate::services::principal::Principal;
use crate::services::tasks::{self, NewTask, NewTaskInput, PlaceInput, ScheduleInput, Task, TaskChangesInput};
use crate::state::AppState;
use crate::views::Contact;
use crate::views::Reason;

/// When the work happens: one shift, or a weekly pattern between two dates.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleDto {
    /// `single` or `weekly`.
    #[schema(example = "weekly")]
    pub kind: String,
    /// The day of a single shift.
    #[serde(default, deserialize_with = "crate::http::strict_date::optional")]
    pub date: Option<NaiveDate>,
    /// Weekly: the weekdays (`mon` … `sun`).
    pub weekdays: Option<Vec<String>>,
    /// Start time `HH:MM`.
    #[schema(example = "08:00")]
    pub start: String,
    /// End time `HH:MM`, after `start` on the same day.
    #[schema(example = "12:00")]
    pub end: String,
    /// Weekly: first day of the pattern.
    #[serde(default, deserialize_with = "crate::http::strict_date::optional")]
    pub from: Option<NaiveDate>,
    /// Weekly: last day of the pattern.
    #[serde(default, deserialize_with = "crate::http::strict_date::optional")]
    pub to: Option<NaiveDate>,
}

/// Where the work happens.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Place {
    /// Street address.
    pub address: Option<String>,
    /// Latitude (WGS84).
    pub lat: Option<f64>,
    /// Longitude (WGS84).
    pub lon: Option<f64>,
}

/// A new task.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTask {
    /// The company (coordinators); a company token creates tasks for itself.
    pub company_id: Option<String>,
    /// Municipality whose citizens the task is for; defaults to the company's (or the coordinator's).
    pub municipality: Option<String>,
    /// Short title.
    #[schema(example = "Bageriet mangler en hjælper lørdag formiddag")]
    pub title: String,
    /// What the work is.
    pub description: String,
    /// Skills needed.
    #[serde(default)]
    pub required_skills: Vec<String>,
    /// Where the work happens: an address and coordinates, each optional.
    #[serde(default)]
    pub place: Place,
    /// When the work happens: one shift or a weekly pattern.
    pub schedule: ScheduleDto,
    /// Paid hours per shift, decimal (`"3.5"`), at most the shift's length.
    #[schema(example = "3.5")]
    pub hours_per_shift: String,
    /// Hourly wage, DKK decimal string, at least the configured wage floor.
    #[schema(example = "140.00")]
    pub hourly_wage: String,
    /// How many people (1–100).
    pub positions: u32,
    /// Only for frikort holders (`true`) or for every small-job seeker (`false`).
    pub frikort_only: bool,
    /// The company's contact person for this task.
    pub contact: Contact,
}

/// Changes to a draft task; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTask {
    /// Short title.
    pub title: Option<String>,
    /// What the work is.
    pub description: Option<String>,
    /// Skills needed; replaces the list.
    pub required_skills: Option<Vec<String>>,
    /// Where; replaces it.
    pub place: Option<Place>,
    /// When; replaces it.
    pub schedule: Option<ScheduleDto>,
    /// Paid hours per shift.
    pub hours_per_shift: Option<String>,
    /// Hourly wage.
    pub hourly_wage: Option<String>,
    /// How many people.
    pub positions: Option<u32>,
    /// Only for frikort holders.
    pub frikort_only: Option<bool>,
    /// Contact person; replaces it.
    pub contact: Option<Contact>,
}

/// A task.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TaskView {
    /// The task's id.
    pub id: String,
    /// The company.
    pub company_id: String,
    /// The company's name.
    pub company_name: String,
    /// Whether a coordinator has verified the company.
    pub company_verified: bool,
    /// The municipality the task is for.
    pub municipality: String,
    /// A short title a citizen recognises the job by.
    pub title: String,
    /// What the work is, in plain words.
    pub description: String,
    /// Skills needed.
    pub required_skills: Vec<String>,
    /// Where the work happens.
    pub place: Place,
    /// When the work happens: one shift or a weekly pattern.
    pub schedule: ScheduleDto,
    /// Number of shifts in the schedule.
    pub shifts: usize,
    /// Paid hours per shift.
    pub hours_per_shift: String,
    /// Hourly wage, DKK.
    pub hourly_wage: String,
    /// People wanted.
    pub positions: u32,
    /// Positions held by approved placements.
    pub positions_filled: u32,
    /// Only for frikort holders.
    pub frikort_only: bool,
    /// Contact person.
    pub contact: Contact,
    /// `draft`, `open`, `filled`, `completed` or `cancelled`.
    pub status: String,
    /// When it was first opened.
    pub opened_at: Option<DateTime<Utc>>,
    /// When its last position was filled.
    pub filled_at: Option<DateTime<Utc>>,
    /// When it was completed or cancelled.
    pub closed_at: Option<DateTime<Utc>>,
    /// Why it was cancelled.
    pub close_reason: Option<String>,
    /// When the task was registered.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// Filter of the task list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskFilter {
    /// `draft`, `open`, `filled`, `completed` or `cancelled`.
    pub status: Option<String>,
}

/// The schedule as the API shows it.
pub fn schedule_dto(s: &Schedule) -> ScheduleDto {
    let hm = |t: &NaiveTime| t.format("%H:%M").to_string();
    match s {
        Schedule::Single { date, start, end } => ScheduleDto {
            kind: "single".into(),
            date: Some(*date),
            weekdays: None,
            start: hm(start),
            end: hm(end),
            from: None,
            to: None,
        },
        Schedule::Weekly { weekdays, start, end, from, to } => ScheduleDto {
            kind: "weekly".into(),
            date: None,
            weekdays: Some(weekdays.iter().map(|d| d.to_string().to_lowercase()).collect()),
            start: hm(start),
            end: hm(end),
            from: Some(*from),
            to: Some(*to),
        },
    }
}

/// Paid minutes as decimal hours with two decimals, rounded down (`210` → `"3.50"`).
fn hours_string(minutes: u32) -> String {
    Money::from_ore(i64::from(minutes) * 100 / 60).to_string()
}

/// Builds the view of a task.
pub fn task_view(t: Task) -> TaskView {
    let row = t.row;
    TaskView {
        company_verified: t.company_verification == Verification::Verified,
        required_skills: row.required_skills.0,
        place: Place { address: row.address, lat: row.lat, lon: row.lon },
        shifts: row.schedule.shifts().len(),
        schedule: schedule_dto(&row.schedule),
        hours_per_shift: hours_string(t.paid_minutes_per_shift),
        hourly_wage: row.hourly_wage.to_string(),
        positions: t.positions,
        positions_filled: t.positions_filled,
        contact: Contact { name: row.contact_name, phone: row.contact_phone, email: row.contact_email },
        opened_at: row.opened_at.map(utc),
        filled_at: row.filled_at.map(utc),
        closed_at: row.closed_at.map(utc),
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
        id: row.id,
        company_id: row.company_id.into(),
        company_name: t.company_name,
        municipality: row.municipality,
        title: row.title,
        description: row.description,
        frikort_only: row.frikort_only,
        status: row.status.as_str().to_owned(),
        close_reason: row.close_reason,
    }
}

fn paged(rows: Vec<Task>, total: i64, page: smaajob_persistence::repo::Page) -> Paged<TaskView> {
    Paged { items: rows.into_iter().map(task_view).collect(), total, limit: page.limit, offset: page.offset }
}

fn schedule_input(s: ScheduleDto) -> ScheduleInput {
    ScheduleInput {
        kind: s.kind,
        date: s.date,
        weekdays: s.weekdays,
        start: s.start,
        end: s.end,
        from: s.from,
        to: s.to,
    }
}

fn place_input(p: Place) -> PlaceInput {
    PlaceInput { address: p.address, lat: p.lat, lon: p.lon }
}

fn contact_input(c: Contact) -> ContactInput {
    ContactInput { name: c.name, phone: c.phone, email: c.email }
}

/// Creates a task as a draft (a company for itself; a coordinator for a company).
#[utoipa::path(
    tag = "tasks",
    security(("bearer" = [])),
    request_body = CreateTask,
    responses(
        (status = 201, description = "Created as a draft", body = TaskView),
        ApiErrors, JsonBody,
        (status = 422, description = "Invalid fields: schedule, wage below the floor, hours beyond the shift, …", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tasks")]
pub async fn create_task(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<CreateTask>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let company_id = tasks::company_of_new_task(&principal, b.company_id.as_deref())?;
    let input = NewTaskInput {
        municipality: b.municipality,
        title: b.title,
        description: b.description,
        required_skills: b.required_skills,
        place: place_input(b.place),
        schedule: schedule_input(b.schedule),
        hours_per_shift: b.hours_per_shift,
        hourly_wage: b.hourly_wage,
        positions: b.positions,
        frikort_only: b.frikort_only,
        contact: contact_input(b.contact),
    };
    let cmd = NewTask::parse(company_id, &input, state.wage_floor)?;
    let view = task_view(state.write(move |conn| Ok(tasks::create(conn, &principal, cmd)?)).await?);
    Ok(HttpResponse::Created().insert_header(("Location", format!("/api/v1/tasks/{}", view.id))).json(view))
}

/// Lists tasks: a company its own; a coordinator the municipality's.
#[utoipa::path(
    tag = "tasks",
    security(("bearer" = [])),
    params(TaskFilter, PageQuery),
    responses(
        (status = 200, body = Paged<TaskView>),
        ApiErrors, Invalid,
    )
)]
#[get("/tasks")]
pub async fn list_tasks(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<TaskFilter>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<TaskView>>, ApiError> {
    let page = page.into_inner().page()?;
    let status = tasks::status_filter(filter.status.as_deref())?;
    let (rows, total) = state.read(move |conn| Ok(tasks::list(conn, &principal, status, page)?)).await?;
    Ok(web::Json(paged(rows, total, page)))
}

/// Open tasks in the citizen's municipality (frikort-only tasks only for card holders).
#[utoipa::path(
    tag = "tasks",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, body = Paged<TaskView>),
        ApiErrors, NotFound, Invalid,
    )
)]
#[get("/me/tasks")]
pub async fn my_tasks(
    state: web::Data<AppState>,
    principal: Principal,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<TaskView>>, ApiError> {
    parse_id(principal.citizen()?, "citizen")?;
    let page = page.into_inner().page()?;
    let (rows, total) = state.read(move |conn| Ok(tasks::open_for_citizen(conn, &principal, page)?)).await?;
    Ok(web::Json(paged(rows, total, page)))
}

/// One task.
#[utoipa::path(
    tag = "tasks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Task id")),
    responses(
        (status = 200, body = TaskView),
        ApiErrors, NotFound,
    )
)]
#[get("/tasks/{id}")]
pub async fn get_task(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<TaskView>, ApiError> {
    let id = parse_id(&id, "task")?;
    let task = state.read(move |conn| Ok(tasks::get(conn, &principal, &id)?)).await?;
    Ok(web::Json(task_view(task)))
}

/// Changes a draft task.
#[utoipa::path(
    tag = "tasks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Task id")),
    request_body = UpdateTask,
    responses(
        (status = 200, body = TaskView),
        ApiErrors, NotFound, Conflict, JsonBody,
        (status = 409, description = "Only drafts can be changed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/tasks/{id}")]
pub async fn update_task(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<UpdateTask>,
) -> Result<web::Json<TaskView>, ApiError> {
    tasks::may_change(&principal)?;
    let id = parse_id(&id, "task")?;
    let b = body.into_inner();
    let input = TaskChangesInput {
        title: b.title,
        description: b.description,
        required_skills: b.required_skills,
        place: b.place.map(place_input),
        schedule: b.schedule.map(schedule_input),
        hours_per_shift: b.hours_per_shift,
        hourly_wage: b.hourly_wage,
        positions: b.positions,
        frikort_only: b.frikort_only,
        contact: b.contact.map(contact_input),
    };
    let floor = state.wage_floor;
    let task = state.write(move |conn| Ok(tasks::update(conn, &principal, &id, &input, floor)?)).await?;
    Ok(web::Json(task_view(task)))
}

/// Opens a draft task to citizens (the company must be verified).
#[utoipa::path(
    tag = "tasks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Task id")),
    responses(
        (status = 200, body = TaskView),
        ApiErrors, NotFound, Conflict, Invalid,
        (status = 409, description = "Not a draft, or the company is not verified", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tasks/{id}/open")]
pub async fn open_task(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<TaskView>, ApiError> {
    let id = parse_id(&id, "task")?;
    let task = state.write(move |conn| Ok(tasks::open(conn, &principal, &id)?)).await?;
    Ok(web::Json(task_view(task)))
}

/// Marks a task completed; its approved placements complete with it.
#[utoipa::path(
    tag = "tasks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Task id")),
    responses(
        (status = 200, body = TaskView),
        ApiErrors, NotFound, Conflict,
    )
)]
#[post("/tasks/{id}/complete")]
pub async fn complete_task(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<TaskView>, ApiError> {
    let id = parse_id(&id, "task")?;
    let task = state.write(move |conn| Ok(tasks::complete(conn, &principal, &id)?)).await?;
    Ok(web::Json(task_view(task)))
}

/// Cancels a task; its live placements are cancelled with it.
#[utoipa::path(
    tag = "tasks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Task id")),
    request_body = Reason,
    responses(
        (status = 200, body = TaskView),
        ApiErrors, NotFound, Conflict, JsonBody,
    )
)]
#[post("/tasks/{id}/cancel")]
pub async fn cancel_task(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<Reason>,
) -> Result<web::Json<TaskView>, ApiError> {
    let id = parse_id(&id, "task")?;
    let mut f = Fields::new();
    let reason = optional_text(&mut f, "reason", body.reason.as_deref(), 2000);
    f.finish()?;
    let task = state.write(move |conn| Ok(tasks::cancel(conn, &principal, &id, reason)?)).await?;
    Ok(web::Json(task_view(task)))
}
