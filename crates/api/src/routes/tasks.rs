//! Tasks (`/tasks`, `/me/tasks`): small jobs a company hands the coordinator in one request —
//! what, where, when, for how much, how many people — through draft → open → filled → completed,
//! or cancelled.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};
use smaajob_domain::{
    GeoPoint, Money, MunicipalityCode, Name, Schedule, TaskAction, TaskStatus, WorkedTime, parse_skills,
    task_transition,
};
use smaajob_persistence::repo::tasks::{self, TaskRow, TaskScope};
use smaajob_persistence::repo::{audit, citizens, companies, frikort, new_id, now, placements};
use smaajob_persistence::{DbConn, RepoError};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, Problem};
use crate::http::{PageQuery, Paged, parse_id, utc};
use crate::services::audit as audit_log;
use crate::services::common::{json, optional_text};
use crate::services::error::OrNotFound;
use crate::services::error::{Code, ServiceError};
use crate::services::error::{Fields, checked};
use crate::services::principal::Principal;
use crate::services::tasks::stored_schedule;
use crate::state::AppState;
use crate::views::{Contact, parse_contact};

/// When the work happens: one shift, or a weekly pattern between two dates.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleDto {
    /// `single` or `weekly`.
    #[schema(example = "weekly")]
    pub kind: String,
    /// The day of a single shift.
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
    pub from: Option<NaiveDate>,
    /// Weekly: last day of the pattern.
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
    /// Where.
    #[serde(default)]
    pub place: Place,
    /// When.
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

/// A reason for a decision.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// Why.
    pub reason: Option<String>,
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
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Skills needed.
    pub required_skills: Vec<String>,
    /// Where.
    pub place: Place,
    /// When.
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
    /// Created.
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

fn parse_schedule(f: &mut Fields, s: &ScheduleDto) -> Option<Schedule> {
    let start = NaiveTime::parse_from_str(&s.start, "%H:%M").ok();
    let end = NaiveTime::parse_from_str(&s.end, "%H:%M").ok();
    if start.is_none() {
        f.push("schedule.start", "time_format", "use HH:MM");
    }
    if end.is_none() {
        f.push("schedule.end", "time_format", "use HH:MM");
    }
    let (start, end) = (start?, end?);
    match s.kind.as_str() {
        "single" => {
            let Some(date) = s.date else {
                f.push("schedule.date", "required", "a single shift needs a date");
                return None;
            };
            f.check("schedule", Schedule::single(date, start, end))
        }
        "weekly" => {
            let mut weekdays = Vec::new();
            for (i, w) in s.weekdays.iter().flatten().enumerate() {
                match w.parse::<Weekday>().ok().filter(|_| w.len() == 3) {
                    Some(d) => weekdays.push(d),
                    None => {
                        f.push(&format!("schedule.weekdays[{i}]"), "weekday", "use mon, tue, wed, thu, fri, sat or sun")
                    }
                }
            }
            let (Some(from), Some(to)) = (s.from, s.to) else {
                f.push("schedule", "required", "a weekly pattern needs `from` and `to`");
                return None;
            };
            f.check("schedule", Schedule::weekly(weekdays, start, end, from, to))
        }
        _ => {
            f.push("schedule.kind", "schedule_kind", "use single or weekly");
            None
        }
    }
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

fn hours_string(minutes: i32) -> String {
    Money::from_ore(i64::from(minutes) * 100 / 60).to_string()
}

fn parse_place(f: &mut Fields, p: &Place) -> Option<(Option<String>, Option<GeoPoint>)> {
    let address = optional_text(f, "place.address", p.address.as_deref(), 300);
    let point = match (p.lat, p.lon) {
        (Some(lat), Some(lon)) => f.check("place", GeoPoint::new(lat, lon)).map(Some),
        (None, None) => Some(None),
        _ => {
            f.push("place", "lat_lon_pair", "give both `lat` and `lon`, or neither");
            None
        }
    };
    Some((address, point?))
}

fn paid_minutes(f: &mut Fields, hours: &str, schedule: Option<&Schedule>) -> Option<i32> {
    let worked = f.check("hours_per_shift", WorkedTime::parse_hours(hours))?;
    if let Some(s) = schedule
        && worked.minutes() > s.shift_minutes()
    {
        f.push("hours_per_shift", "hours_exceed_shift", "more paid hours than the shift is long");
        return None;
    }
    i32::try_from(worked.minutes()).ok()
}

fn wage(f: &mut Fields, s: &str, floor: Money) -> Option<Money> {
    let w = f.check("hourly_wage", Money::parse_positive(s))?;
    if w < floor {
        f.push("hourly_wage", "below_wage_floor", format!("the hourly wage must be at least {floor} kr"));
        return None;
    }
    Some(w)
}

fn positions(f: &mut Fields, n: u32) -> Option<i32> {
    if !(1..=100).contains(&n) {
        f.push("positions", "out_of_range", "between 1 and 100 people");
        return None;
    }
    i32::try_from(n).ok()
}

/// Builds the view of a stored task.
pub fn task_view(
    conn: &mut DbConn,
    t: TaskRow,
    company_name: String,
    verification: &str,
) -> Result<TaskView, ApiError> {
    let schedule = stored_schedule(&t)?;
    let filled = placements::approved_count(conn, &t.id)?;
    Ok(TaskView {
        company_verified: verification == "verified",
        required_skills: serde_json::from_str(&t.required_skills)
            .map_err(|e| ApiError::Internal(format!("stored skills are corrupt: {e}")))?,
        place: Place { address: t.address.clone(), lat: t.lat, lon: t.lon },
        shifts: schedule.shifts().len(),
        schedule: schedule_dto(&schedule),
        hours_per_shift: hours_string(t.paid_minutes_per_shift),
        hourly_wage: Money::from_ore(t.hourly_wage_ore).to_string(),
        positions: u32::try_from(t.positions).unwrap_or(0),
        positions_filled: u32::try_from(filled).unwrap_or(0),
        contact: Contact { name: t.contact_name, phone: t.contact_phone, email: t.contact_email },
        opened_at: t.opened_at.map(utc),
        filled_at: t.filled_at.map(utc),
        closed_at: t.closed_at.map(utc),
        created_at: utc(t.created_at),
        updated_at: utc(t.updated_at),
        id: t.id,
        company_id: t.company_id,
        company_name,
        municipality: t.municipality,
        title: t.title,
        description: t.description,
        frikort_only: t.frikort_only,
        status: t.status,
        close_reason: t.close_reason,
    })
}

/// Loads a task the caller may see: a company its own, a coordinator the municipality's, a
/// citizen open tasks of their municipality. Anything else is a 404.
pub fn task_in_scope(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
) -> Result<(TaskRow, String, String), ApiError> {
    let (t, name, verification) = tasks::find(conn, id).or_not_found("task")?;
    let visible = match principal {
        Principal::Company { company_id, .. } => *company_id == t.company_id,
        Principal::Coordinator { municipality, .. } => t.municipality == municipality.to_string(),
        Principal::Citizen { citizen_id, .. } => {
            t.status == "open"
                && citizens::find(conn, citizen_id)?.0.municipality == t.municipality
                && (!t.frikort_only
                    || frikort::find_by_citizen(conn, citizen_id)?.is_some_and(|c| c.status == "active"))
        }
        Principal::NewCompany { .. } => return Err(ServiceError::Unregistered.into()),
    };
    if !visible {
        return Err(ApiError::not_found("task"));
    }
    Ok((t, name, verification))
}

/// Applies a lifecycle step or answers 409.
pub fn step(t: &TaskRow, action: TaskAction) -> Result<TaskStatus, ApiError> {
    let status =
        TaskStatus::parse(&t.status).ok_or_else(|| ApiError::Internal("stored task status is invalid".into()))?;
    task_transition(status, action)
        .map_err(|e| ApiError::Conflict { code: Code::IllegalTransition, detail: e.to_string() })
}

/// Creates a task as a draft (a company for itself; a coordinator for a company).
#[utoipa::path(
    tag = "tasks",
    security(("bearer" = [])),
    request_body = CreateTask,
    responses(
        (status = 201, description = "Created as a draft", body = TaskView),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 415, response = Problem),
        (status = 422, description = "Invalid fields: schedule, wage below the floor, hours beyond the shift, …", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tasks")]
pub async fn create_task(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<CreateTask>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let company_id = match (&principal, &b.company_id) {
        (Principal::Company { company_id, .. }, None) => company_id.clone(),
        (Principal::Company { company_id, .. }, Some(given)) if given == company_id => company_id.clone(),
        (Principal::Company { .. }, Some(_)) => {
            return Err(ApiError::Forbidden("a company creates tasks for itself only".into()));
        }
        (Principal::Coordinator { .. }, Some(given)) => parse_id(given, "company")?,
        (Principal::Coordinator { .. }, None) => {
            return Err(ApiError::field("company_id", "required", "coordinators name the company"));
        }
        (Principal::NewCompany { .. }, _) => return Err(ServiceError::Unregistered.into()),
        (Principal::Citizen { .. }, _) => return Err(ApiError::Forbidden("citizens cannot create tasks".into())),
    };
    let mut f = Fields::new();
    let title = f.check("title", Name::parse(&b.title));
    let description = optional_text(&mut f, "description", Some(&b.description), 4000);
    if description.is_none() && b.description.trim().is_empty() {
        f.push("description", "required", "describe the work");
    }
    let skills = f.check("required_skills", parse_skills(&b.required_skills));
    let place = parse_place(&mut f, &b.place);
    let schedule = parse_schedule(&mut f, &b.schedule);
    let minutes = paid_minutes(&mut f, &b.hours_per_shift, schedule.as_ref());
    let hourly = wage(&mut f, &b.hourly_wage, state.wage_floor);
    let positions = positions(&mut f, b.positions);
    let contact = parse_contact(&mut f, &b.contact);
    let municipality = f.check_opt("municipality", b.municipality.as_deref().map(MunicipalityCode::parse));
    f.finish()?;
    let schedule = checked(schedule)?;
    let (address, point) = checked(place)?;
    let (contact_name, contact_phone, contact_email) = checked(contact)?;
    let t = now();
    let mut row = TaskRow {
        id: new_id(),
        company_id,
        municipality: String::new(),
        title: checked(title)?.as_str().to_owned(),
        description: checked(description)?,
        required_skills: json(&checked(skills)?.iter().map(|s| s.as_str()).collect::<Vec<_>>())?,
        address,
        lat: point.map(|p| p.lat()),
        lon: point.map(|p| p.lon()),
        schedule: json(&schedule)?,
        first_date: schedule.first_date(),
        last_date: schedule.last_date(),
        paid_minutes_per_shift: checked(minutes)?,
        hourly_wage_ore: checked(hourly)?.ore(),
        positions: checked(positions)?,
        frikort_only: b.frikort_only,
        contact_name,
        contact_phone,
        contact_email,
        status: TaskStatus::Draft.as_str().to_owned(),
        opened_at: None,
        filled_at: None,
        closed_at: None,
        close_reason: None,
        created_by: principal.sub().to_owned(),
        created_at: t,
        updated_at: t,
    };
    let given_municipality = checked(municipality)?;
    let view = state
        .write(move |conn| {
            let company = companies::find(conn, &row.company_id).map_err(|e| match e {
                RepoError::NotFound => {
                    ApiError::Unprocessable { code: Code::UnknownCompany, detail: "no company with that id".into() }
                }
                other => other.into(),
            })?;
            row.municipality = match (given_municipality, &principal) {
                (Some(m), _) => m.to_string(),
                (None, Principal::Coordinator { municipality, .. }) => municipality.to_string(),
                (None, _) => company.municipality.clone().ok_or_else(|| {
                    ApiError::field("municipality", "required", "the company has no municipality; name the task's")
                })?,
            };
            if let Principal::Coordinator { municipality, .. } = &principal
                && row.municipality != municipality.to_string()
            {
                return Err(ApiError::Forbidden("coordinators create tasks in their own municipality".into()));
            }
            tasks::insert(conn, &row)?;
            let details = serde_json::json!({ "company_id": row.company_id, "title": row.title });
            audit::append(
                conn,
                &[audit_log::entry(
                    &principal,
                    "task.created",
                    "task",
                    &row.id,
                    Some(&row.municipality),
                    Some(details),
                )],
            )?;
            task_view(conn, row, company.name, &company.verification)
        })
        .await?;
    Ok(HttpResponse::Created().insert_header(("Location", format!("/api/v1/tasks/{}", view.id))).json(view))
}

/// Lists tasks: a company its own; a coordinator the municipality's.
#[utoipa::path(
    tag = "tasks",
    security(("bearer" = [])),
    params(TaskFilter, PageQuery),
    responses(
        (status = 200, body = Paged<TaskView>),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 422, response = Problem),
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
    let status = status_filter(filter.status.as_deref())?;
    let scope = match &principal {
        Principal::Company { company_id, .. } => TaskScope::Company(company_id.clone()),
        Principal::Coordinator { municipality, .. } => TaskScope::Municipality(municipality.to_string()),
        Principal::Citizen { .. } => {
            return Err(ApiError::Forbidden("citizens see open tasks at /api/v1/me/tasks".into()));
        }
        Principal::NewCompany { .. } => return Err(ServiceError::Unregistered.into()),
    };
    Ok(web::Json(list(&state, scope, status, page).await?))
}

fn status_filter(s: Option<&str>) -> Result<Option<&'static str>, ApiError> {
    match s {
        None => Ok(None),
        Some(s) => TaskStatus::parse(s).map(|t| Some(t.as_str())).ok_or_else(|| {
            ApiError::field("status", "status_filter", "use draft, open, filled, completed or cancelled")
        }),
    }
}

async fn list(
    state: &AppState,
    scope: TaskScope,
    status: Option<&'static str>,
    page: smaajob_persistence::repo::Page,
) -> Result<Paged<TaskView>, ApiError> {
    state
        .read(move |conn| {
            let (rows, total) = tasks::list(conn, &scope, status, page)?;
            let items = rows.into_iter().map(|(t, n, v)| task_view(conn, t, n, &v)).collect::<Result<_, _>>()?;
            Ok(Paged { items, total, limit: page.limit, offset: page.offset })
        })
        .await
}

/// Open tasks in the citizen's municipality (frikort-only tasks only for card holders).
#[utoipa::path(
    tag = "tasks",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, body = Paged<TaskView>),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 422, response = Problem),
    )
)]
#[get("/me/tasks")]
pub async fn my_tasks(
    state: web::Data<AppState>,
    principal: Principal,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<TaskView>>, ApiError> {
    let id = parse_id(principal.citizen()?, "citizen")?;
    let page = page.into_inner().page()?;
    let paged = state
        .read(move |conn| {
            let (citizen, _) = citizens::find(conn, &id).or_not_found("citizen")?;
            let has_card = frikort::find_by_citizen(conn, &id)?.is_some_and(|c| c.status == "active");
            let (rows, _) = tasks::list(
                conn,
                &TaskScope::OpenIn(citizen.municipality.clone()),
                None,
                smaajob_persistence::repo::Page { limit: 10_000, offset: 0 },
            )?;
            let visible: Vec<_> = rows.into_iter().filter(|(t, _, _)| has_card || !t.frikort_only).collect();
            let total = i64::try_from(visible.len()).unwrap_or(i64::MAX);
            let items = visible
                .into_iter()
                .skip(usize::try_from(page.offset).unwrap_or(0))
                .take(usize::try_from(page.limit).unwrap_or(0))
                .map(|(t, n, v)| task_view(conn, t, n, &v))
                .collect::<Result<_, _>>()?;
            Ok(Paged { items, total, limit: page.limit, offset: page.offset })
        })
        .await?;
    Ok(web::Json(paged))
}

/// One task.
#[utoipa::path(
    tag = "tasks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Task id")),
    responses(
        (status = 200, body = TaskView),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, response = Problem),
    )
)]
#[get("/tasks/{id}")]
pub async fn get_task(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<TaskView>, ApiError> {
    let id = parse_id(&id, "task")?;
    let view = state
        .read(move |conn| {
            let (t, n, v) = task_in_scope(conn, &principal, &id)?;
            task_view(conn, t, n, &v)
        })
        .await?;
    Ok(web::Json(view))
}

/// Changes a draft task.
#[utoipa::path(
    tag = "tasks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Task id")),
    request_body = UpdateTask,
    responses(
        (status = 200, body = TaskView),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 409, description = "Only drafts can be changed", body = Problem, content_type = "application/problem+json"),
        (status = 415, response = Problem),
        (status = 422, response = Problem),
    )
)]
#[patch("/tasks/{id}")]
pub async fn update_task(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: web::Json<UpdateTask>,
) -> Result<web::Json<TaskView>, ApiError> {
    if let Principal::Citizen { .. } = principal {
        return Err(ApiError::Forbidden("citizens cannot change tasks".into()));
    }
    let id = parse_id(&id, "task")?;
    let b = body.into_inner();
    let floor = state.wage_floor;
    let view = state
        .write(move |conn| {
            let (mut t, n, v) = task_in_scope(conn, &principal, &id)?;
            if t.status != TaskStatus::Draft.as_str() {
                return Err(ApiError::Conflict {
                    code: Code::TaskNotEditable,
                    detail: "only draft tasks can be changed".into(),
                });
            }
            let mut f = Fields::new();
            let title = f.check_opt("title", b.title.as_deref().map(Name::parse));
            let description = b.description.as_deref().map(|d| optional_text(&mut f, "description", Some(d), 4000));
            if description.as_ref().is_some_and(Option::is_none)
                && b.description.as_deref().is_some_and(|d| d.trim().is_empty())
            {
                f.push("description", "required", "describe the work");
            }
            let skills = f.check_opt("required_skills", b.required_skills.as_deref().map(parse_skills));
            let place = b.place.as_ref().map(|p| parse_place(&mut f, p));
            let schedule = match &b.schedule {
                Some(s) => parse_schedule(&mut f, s),
                None => Some(stored_schedule(&t)?),
            };
            let minutes = match &b.hours_per_shift {
                Some(h) => paid_minutes(&mut f, h, schedule.as_ref()).map(Some),
                None if schedule
                    .as_ref()
                    .is_some_and(|s| u32::try_from(t.paid_minutes_per_shift).unwrap_or(0) > s.shift_minutes()) =>
                {
                    f.push("hours_per_shift", "hours_exceed_shift", "more paid hours than the new shift is long");
                    None
                }
                None => Some(None),
            };
            let hourly = b.hourly_wage.as_deref().map(|w| wage(&mut f, w, floor));
            let pos = b.positions.map(|p| positions(&mut f, p));
            let contact = b.contact.as_ref().map(|c| parse_contact(&mut f, c));
            f.finish()?;
            if let Some(x) = title.flatten() {
                t.title = x.as_str().to_owned();
            }
            if let Some(d) = description {
                t.description = checked(d)?;
            }
            if let Some(s) = skills.flatten() {
                t.required_skills = json(&s.iter().map(|s| s.as_str()).collect::<Vec<_>>())?;
            }
            if let Some(p) = place {
                let (address, point) = checked(p)?;
                (t.address, t.lat, t.lon) = (address, point.map(|p| p.lat()), point.map(|p| p.lon()));
            }
            let schedule = checked(schedule)?;
            (t.schedule, t.first_date, t.last_date) = (json(&schedule)?, schedule.first_date(), schedule.last_date());
            if let Some(m) = checked(minutes)? {
                t.paid_minutes_per_shift = m;
            }
            if let Some(w) = hourly {
                t.hourly_wage_ore = checked(w)?.ore();
            }
            if let Some(p) = pos {
                t.positions = checked(p)?;
            }
            if let Some(fo) = b.frikort_only {
                t.frikort_only = fo;
            }
            if let Some(c) = contact {
                (t.contact_name, t.contact_phone, t.contact_email) = checked(c)?;
            }
            t.updated_at = now();
            tasks::update(conn, &t)?;
            audit::append(
                conn,
                &[audit_log::entry(&principal, "task.updated", "task", &id, Some(&t.municipality), None)],
            )?;
            task_view(conn, t, n, &v)
        })
        .await?;
    Ok(web::Json(view))
}

async fn act(
    state: &AppState,
    principal: Principal,
    id: String,
    action: TaskAction,
    reason: Option<String>,
) -> Result<web::Json<TaskView>, ApiError> {
    if let Principal::Citizen { .. } = principal {
        return Err(ApiError::Forbidden("citizens cannot change tasks".into()));
    }
    let view = state
        .write(move |conn| {
            let (_, n, v) = task_in_scope(conn, &principal, &id)?;
            let mut t = tasks::lock(conn, &id)?;
            let status = step(&t, action)?;
            let at = now();
            match action {
                TaskAction::Open => {
                    // Unverified companies may draft, but only verified ones reach citizens.
                    if v != "verified" {
                        return Err(ApiError::Conflict {
                            code: Code::CompanyNotVerified,
                            detail: "the company must be verified by a coordinator before its tasks can open".into(),
                        });
                    }
                    if t.last_date < crate::services::common::today_copenhagen() {
                        return Err(ApiError::Unprocessable {
                            code: Code::ScheduleInPast,
                            detail: "every shift of the task lies in the past".into(),
                        });
                    }
                    t.opened_at = t.opened_at.or(Some(at));
                }
                TaskAction::Complete => {
                    // Approved placements complete with the task; offers and interest still open lapse.
                    for mut p in placements::live_of_task(conn, &id)? {
                        let approved = p.state == smaajob_domain::PlacementState::Approved.as_str();
                        p.state = if approved {
                            smaajob_domain::PlacementState::Completed
                        } else {
                            smaajob_domain::PlacementState::Cancelled
                        }
                        .as_str()
                        .to_owned();
                        if !approved {
                            p.reason = Some("the task was completed".into());
                        }
                        (p.decided_at, p.decided_by, p.updated_at) = (Some(at), Some(principal.sub().to_owned()), at);
                        placements::update(conn, &p)?;
                    }
                    t.closed_at = Some(at);
                }
                TaskAction::Cancel => {
                    for mut p in placements::live_of_task(conn, &id)? {
                        p.state = smaajob_domain::PlacementState::Cancelled.as_str().to_owned();
                        (p.decided_at, p.decided_by, p.updated_at) = (Some(at), Some(principal.sub().to_owned()), at);
                        p.reason = Some("the task was cancelled".into());
                        placements::update(conn, &p)?;
                    }
                    t.closed_at = Some(at);
                    t.close_reason = reason.clone();
                }
                TaskAction::Fill | TaskAction::Reopen => {}
            }
            t.status = status.as_str().to_owned();
            t.updated_at = at;
            tasks::update(conn, &t)?;
            let details = serde_json::json!({ "status": t.status, "reason": reason });
            audit::append(
                conn,
                &[audit_log::entry(
                    &principal,
                    &format!("task.{}", action.as_str()),
                    "task",
                    &id,
                    Some(&t.municipality),
                    Some(details),
                )],
            )?;
            task_view(conn, t, n, &v)
        })
        .await?;
    Ok(web::Json(view))
}

/// Opens a draft task to citizens (the company must be verified).
#[utoipa::path(
    tag = "tasks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Task id")),
    responses(
        (status = 200, body = TaskView),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 409, description = "Not a draft, or the company is not verified", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = Problem),
    )
)]
#[post("/tasks/{id}/open")]
pub async fn open_task(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<TaskView>, ApiError> {
    let id = parse_id(&id, "task")?;
    act(&state, principal, id, TaskAction::Open, None).await
}

/// Marks a task completed; its approved placements complete with it.
#[utoipa::path(
    tag = "tasks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Task id")),
    responses(
        (status = 200, body = TaskView),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 409, response = Problem),
    )
)]
#[post("/tasks/{id}/complete")]
pub async fn complete_task(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<TaskView>, ApiError> {
    let id = parse_id(&id, "task")?;
    act(&state, principal, id, TaskAction::Complete, None).await
}

/// Cancels a task; its live placements are cancelled with it.
#[utoipa::path(
    tag = "tasks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Task id")),
    request_body = Reason,
    responses(
        (status = 200, body = TaskView),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 409, response = Problem),
        (status = 422, response = Problem),
    )
)]
#[post("/tasks/{id}/cancel")]
pub async fn cancel_task(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: web::Json<Reason>,
) -> Result<web::Json<TaskView>, ApiError> {
    let id = parse_id(&id, "task")?;
    let mut f = Fields::new();
    let reason = optional_text(&mut f, "reason", body.reason.as_deref(), 2000);
    f.finish()?;
    act(&state, principal, id, TaskAction::Cancel, reason).await
}
