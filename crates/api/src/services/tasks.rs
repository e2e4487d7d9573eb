//! Small-job tasks: a company's work with a schedule, a wage and a number of positions, through
//! draft → open → filled → completed, or cancelled.

use chrono::{NaiveDate, NaiveTime, Weekday};
use smaajob_domain::matching::DanishPoint;
use smaajob_domain::{
    CardStatus, CompanyId, GeoPoint, Money, MunicipalityCode, Name, PlacementState, Schedule, Skill, TaskAction,
    TaskStatus, Verification, WorkedTime, parse_skills, task_transition,
};
use smaajob_persistence::repo::tasks::{self, ListedTask, TaskRow, TaskScope};
use smaajob_persistence::repo::{Page, citizens, companies, frikort, new_id, now, placements};
use smaajob_persistence::types::Json;
use smaajob_persistence::{DbConn, RepoError};

use crate::services::audit;
use crate::services::common::{optional_text, today_copenhagen};
use crate::services::companies::{ContactInput, ContactPerson, parse_contact};
use crate::services::error::{Code, Fields, OrNotFound, ServiceError, checked};
use crate::services::principal::Principal;
use crate::services::scope::{self, ScopedTask};

/// Reads a stored task's paid minutes per shift.
pub fn stored_paid_minutes(t: &TaskRow) -> Result<u32, ServiceError> {
    u32::try_from(t.paid_minutes_per_shift)
        .map_err(|_| ServiceError::internal(format!("stored paid minutes {} are negative", t.paid_minutes_per_shift)))
}

/// Reads a stored task's number of positions.
pub fn stored_positions(t: &TaskRow) -> Result<u32, ServiceError> {
    u32::try_from(t.positions)
        .map_err(|_| ServiceError::internal(format!("stored positions {} are negative", t.positions)))
}

/// A count as a stored integer column.
fn column(n: u32) -> Result<i32, ServiceError> {
    i32::try_from(n).map_err(|_| ServiceError::internal(format!("{n} does not fit a stored integer")))
}

/// Whether the citizen holds an active frikort.
pub fn holds_active_card(conn: &mut DbConn, citizen_id: &str) -> Result<bool, ServiceError> {
    Ok(frikort::find_by_citizen(conn, citizen_id)?.is_some_and(|card| card.status == CardStatus::Active))
}

/// A stored task, read: its counts as values, with its company.
#[derive(Debug, Clone)]
pub struct Task {
    /// The task as stored.
    pub row: TaskRow,
    /// Paid minutes per shift.
    pub paid_minutes_per_shift: u32,
    /// People wanted.
    pub positions: u32,
    /// Positions held by approved placements.
    pub positions_filled: u32,
    /// The company's name.
    pub company_name: String,
    /// The company's verification.
    pub company_verification: Verification,
}

impl Task {
    /// Reads a stored task with its company and its count of approved placements.
    pub fn read(
        row: TaskRow,
        company_name: String,
        verification: Verification,
        approved: i64,
    ) -> Result<Task, ServiceError> {
        Ok(Task {
            paid_minutes_per_shift: stored_paid_minutes(&row)?,
            positions: stored_positions(&row)?,
            positions_filled: u32::try_from(approved)
                .map_err(|_| ServiceError::internal(format!("{approved} approved placements is not a count")))?,
            company_verification: verification,
            company_name,
            row,
        })
    }

    fn listed(l: ListedTask) -> Result<Task, ServiceError> {
        Task::read(l.task, l.company_name, l.company_verification, l.approved)
    }

    /// Reads a task, counting its approved placements.
    fn counted(
        conn: &mut DbConn,
        row: TaskRow,
        company_name: String,
        verification: Verification,
    ) -> Result<Task, ServiceError> {
        let approved = placements::approved_count(conn, &row.id)?;
        Task::read(row, company_name, verification, approved)
    }
}

/// When the work happens, as stated.
#[derive(Debug, Clone)]
pub struct ScheduleInput {
    /// `single` or `weekly`.
    pub kind: String,
    /// The day of a single shift.
    pub date: Option<NaiveDate>,
    /// Weekly: the weekdays (`mon` … `sun`).
    pub weekdays: Option<Vec<String>>,
    /// Start time `HH:MM`.
    pub start: String,
    /// End time `HH:MM`.
    pub end: String,
    /// Weekly: first day.
    pub from: Option<NaiveDate>,
    /// Weekly: last day.
    pub to: Option<NaiveDate>,
}

/// Where the work happens, as stated.
#[derive(Debug, Clone, Default)]
pub struct PlaceInput {
    /// Street address.
    pub address: Option<String>,
    /// Latitude (WGS 84) of the place of work.
    pub lat: Option<f64>,
    /// Longitude (WGS 84) of the place of work.
    pub lon: Option<f64>,
}

/// Where the work happens, checked.
#[derive(Debug, Clone)]
struct Place {
    address: Option<String>,
    point: Option<GeoPoint>,
}

fn parse_schedule(f: &mut Fields, s: &ScheduleInput) -> Option<Schedule> {
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

fn parse_place(f: &mut Fields, p: &PlaceInput) -> Option<Place> {
    let address = optional_text(f, "place.address", p.address.as_deref(), 300);
    let point = match (p.lat, p.lon) {
        (Some(lat), Some(lon)) => f.check("place", DanishPoint::parse(lat, lon)).map(|p| Some(p.point())),
        (None, None) => Some(None),
        _ => {
            f.push("place", "lat_lon_pair", "give both `lat` and `lon`, or neither");
            None
        }
    };
    Some(Place { address, point: point? })
}

/// Paid hours per shift: a whole number of minutes, at most the shift's length.
fn paid_time(f: &mut Fields, hours: &str, schedule: Option<&Schedule>) -> Option<WorkedTime> {
    let worked = f.check("hours_per_shift", WorkedTime::parse_hours(hours))?;
    if let Some(s) = schedule
        && worked.minutes() > s.shift_minutes()
    {
        f.push("hours_per_shift", "hours_exceed_shift", "more paid hours than the shift is long");
        return None;
    }
    Some(worked)
}

/// The hourly wage: positive and at least the wage floor.
fn wage(f: &mut Fields, s: &str, floor: Money) -> Option<Money> {
    let w = f.check("hourly_wage", Money::parse_positive(s))?;
    if w < floor {
        f.push("hourly_wage", "below_wage_floor", format!("the hourly wage must be at least {floor} kr"));
        return None;
    }
    Some(w)
}

fn positions(f: &mut Fields, n: u32) -> Option<u32> {
    if !(1..=100).contains(&n) {
        f.push("positions", "out_of_range", "between 1 and 100 people");
        return None;
    }
    Some(n)
}

/// A description: required, at most 4 000 characters.
fn description(f: &mut Fields, d: &str) -> Option<String> {
    let checked = optional_text(f, "description", Some(d), 4000);
    if checked.is_none() && d.trim().is_empty() {
        f.push("description", "required", "describe the work");
    }
    checked
}

fn skills_column(skills: &[Skill]) -> Json<Vec<String>> {
    Json(skills.iter().map(|s| s.as_str().to_owned()).collect())
}

/// A new task, as stated.
#[derive(Debug, Clone)]
pub struct NewTaskInput {
    /// The municipality whose citizens it is for; absent → the company's (or the coordinator's).
    pub municipality: Option<String>,
    /// Short title.
    pub title: String,
    /// What the work is.
    pub description: String,
    /// Skills needed.
    pub required_skills: Vec<String>,
    /// Where the work happens, unchecked.
    pub place: PlaceInput,
    /// When the work happens (one shift or a weekly pattern), unchecked.
    pub schedule: ScheduleInput,
    /// Paid hours per shift, decimal.
    pub hours_per_shift: String,
    /// Hourly wage, DKK decimal.
    pub hourly_wage: String,
    /// How many people.
    pub positions: u32,
    /// Only for frikort holders.
    pub frikort_only: bool,
    /// The company's contact person for the task.
    pub contact: ContactInput,
}

/// A new task, checked.
#[derive(Debug, Clone)]
pub struct NewTask {
    company_id: CompanyId,
    municipality: Option<MunicipalityCode>,
    title: Name,
    description: String,
    skills: Vec<Skill>,
    place: Place,
    schedule: Schedule,
    paid: WorkedTime,
    wage: Money,
    positions: u32,
    frikort_only: bool,
    contact: ContactPerson,
}

impl NewTask {
    /// Checks a new task of `company_id` (see [`company_of_new_task`]); every invalid field is
    /// named. The wage must be at least `wage_floor`.
    pub fn parse(company_id: CompanyId, input: &NewTaskInput, wage_floor: Money) -> Result<NewTask, ServiceError> {
        let mut f = Fields::new();
        let title = f.check("title", Name::parse(&input.title));
        let description = description(&mut f, &input.description);
        let skills = f.check("required_skills", parse_skills(&input.required_skills));
        let place = parse_place(&mut f, &input.place);
        let schedule = parse_schedule(&mut f, &input.schedule);
        let paid = paid_time(&mut f, &input.hours_per_shift, schedule.as_ref());
        let hourly = wage(&mut f, &input.hourly_wage, wage_floor);
        let positions = positions(&mut f, input.positions);
        let contact = parse_contact(&mut f, &input.contact);
        let municipality = f.check_opt("municipality", input.municipality.as_deref().map(MunicipalityCode::parse));
        f.finish()?;
        Ok(NewTask {
            company_id,
            municipality: checked(municipality)?,
            title: checked(title)?,
            description: checked(description)?,
            skills: checked(skills)?,
            place: checked(place)?,
            schedule: checked(schedule)?,
            paid: checked(paid)?,
            wage: checked(hourly)?,
            positions: checked(positions)?,
            frikort_only: input.frikort_only,
            contact: checked(contact)?,
        })
    }
}

/// The company a new task is for: a company's own (it may name only itself), the one a
/// coordinator names. Decided from the principal alone, before the task is read.
pub fn company_of_new_task(principal: &Principal, named: Option<&str>) -> Result<CompanyId, ServiceError> {
    match (principal, named) {
        (Principal::Company { company_id, .. }, None) => Ok(company_id.clone()),
        (Principal::Company { company_id, .. }, Some(given)) if given == company_id.as_str() => Ok(company_id.clone()),
        (Principal::Company { .. }, Some(_)) => {
            Err(ServiceError::Forbidden("a company creates tasks for itself only".into()))
        }
        // A malformed id names no company, like a well-formed id of none.
        (Principal::Coordinator { .. }, Some(given)) => {
            CompanyId::parse(given).map_err(|_| crate::services::companies::unknown_company())
        }
        (Principal::Coordinator { .. }, None) => {
            Err(ServiceError::field("company_id", "required", "coordinators name the company"))
        }
        (Principal::NewCompany { .. }, _) => Err(ServiceError::Unregistered),
        (Principal::Citizen { .. }, _) => Err(ServiceError::Forbidden("citizens cannot create tasks".into())),
        (Principal::Operator { .. }, _) => Err(scope::no_personal_data()),
    }
}

/// Creates a task as a draft, for the municipality named, else the coordinator's, else the
/// company's. A coordinator creates tasks in their own municipality only.
pub fn create(conn: &mut DbConn, principal: &Principal, cmd: NewTask) -> Result<Task, ServiceError> {
    company_of_new_task(principal, Some(cmd.company_id.as_str()))?;
    let company = companies::find(conn, &cmd.company_id).map_err(|e| match e {
        RepoError::NotFound => crate::services::companies::unknown_company(),
        other => other.into(),
    })?;
    let municipality = match (cmd.municipality, principal) {
        (Some(m), _) => m.to_string(),
        (None, Principal::Coordinator { municipality, .. }) => municipality.to_string(),
        (None, _) => company.municipality.clone().ok_or_else(|| {
            ServiceError::field("municipality", "required", "the company has no municipality; name the task's")
        })?,
    };
    if let Principal::Coordinator { municipality: own, .. } = principal
        && municipality != own.to_string()
    {
        return Err(ServiceError::Forbidden("coordinators create tasks in their own municipality".into()));
    }
    let (contact_name, contact_phone, contact_email) = cmd.contact.columns();
    let t = now();
    let row = TaskRow {
        id: new_id(),
        company_id: cmd.company_id,
        municipality,
        title: cmd.title.as_str().to_owned(),
        description: cmd.description,
        required_skills: skills_column(&cmd.skills),
        address: cmd.place.address,
        lat: cmd.place.point.map(|p| p.lat()),
        lon: cmd.place.point.map(|p| p.lon()),
        schedule: Json(cmd.schedule.clone()),
        first_date: cmd.schedule.first_date(),
        last_date: cmd.schedule.last_date(),
        paid_minutes_per_shift: column(cmd.paid.minutes())?,
        hourly_wage: cmd.wage,
        positions: column(cmd.positions)?,
        frikort_only: cmd.frikort_only,
        contact_name,
        contact_phone,
        contact_email,
        status: TaskStatus::Draft,
        opened_at: None,
        filled_at: None,
        closed_at: None,
        close_reason: None,
        created_by: principal.sub().to_owned(),
        created_at: t,
        updated_at: t,
    };
    tasks::insert(conn, &row)?;
    let details = serde_json::json!({ "company_id": row.company_id, "title": row.title });
    audit::record(
        conn,
        audit::entry(principal, "task.created", "task", &row.id, Some(&row.municipality), Some(details)),
    )?;
    // A new task holds no placements yet.
    Task::read(row, company.name, company.verification, 0)
}

/// The status filter of a task list: absent, or a task status (a field error otherwise).
pub fn status_filter(raw: Option<&str>) -> Result<Option<TaskStatus>, ServiceError> {
    raw.map(|s| {
        TaskStatus::parse(s).ok_or_else(|| {
            ServiceError::field("status", "status_filter", "use draft, open, filled, completed or cancelled")
        })
    })
    .transpose()
}

fn page_of(conn: &mut DbConn, scope: &TaskScope, status: Option<TaskStatus>, page: Page) -> Listed {
    let (rows, total) = tasks::list(conn, scope, status, page)?;
    Ok((rows.into_iter().map(Task::listed).collect::<Result<_, _>>()?, total))
}

type Listed = Result<(Vec<Task>, i64), ServiceError>;

/// One page of tasks by first date, and the total: a company its own, a coordinator the
/// municipality's.
pub fn list(conn: &mut DbConn, principal: &Principal, status: Option<TaskStatus>, page: Page) -> Listed {
    let scope = match principal {
        Principal::Company { company_id, .. } => TaskScope::Company(company_id.clone()),
        Principal::Coordinator { municipality, .. } => TaskScope::Municipality(municipality.to_string()),
        Principal::Citizen { .. } => {
            return Err(ServiceError::Forbidden("citizens see open tasks at /api/v1/me/tasks".into()));
        }
        Principal::NewCompany { .. } => return Err(ServiceError::Unregistered),
        Principal::Operator { .. } => return Err(scope::no_personal_data()),
    };
    page_of(conn, &scope, status, page)
}

/// One page of the open tasks of the citizen's municipality (frikort-only ones only for card
/// holders), and the total.
pub fn open_for_citizen(conn: &mut DbConn, principal: &Principal, page: Page) -> Listed {
    let id = principal.citizen()?;
    let (citizen, _) = citizens::find(conn, id).or_not_found("citizen")?;
    let card_holder = holds_active_card(conn, id)?;
    page_of(conn, &TaskScope::OpenIn { municipality: citizen.municipality, card_holder }, None, page)
}

/// One task the caller may see.
pub fn get(conn: &mut DbConn, principal: &Principal, id: &str) -> Result<Task, ServiceError> {
    let ScopedTask { task, company_name, company_verification } = scope::task(conn, principal, id)?;
    Task::counted(conn, task, company_name, company_verification)
}

/// Whether the principal's role may change tasks at all (citizens may not); checked before
/// anything else is read.
pub fn may_change(principal: &Principal) -> Result<(), ServiceError> {
    match principal {
        Principal::Citizen { .. } => Err(ServiceError::Forbidden("citizens cannot change tasks".into())),
        Principal::Operator { .. } => Err(scope::no_personal_data()),
        Principal::Coordinator { .. } | Principal::Company { .. } | Principal::NewCompany { .. } => Ok(()),
    }
}

/// The status after a lifecycle step, or `illegal_transition`.
pub fn next_status(t: &TaskRow, action: TaskAction) -> Result<TaskStatus, ServiceError> {
    task_transition(t.status, action).map_err(|e| ServiceError::conflict(Code::IllegalTransition, e.to_string()))
}

/// Changes to a draft task, as stated; absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct TaskChangesInput {
    /// Short title.
    pub title: Option<String>,
    /// What the work is.
    pub description: Option<String>,
    /// Skills needed; replaces the list.
    pub required_skills: Option<Vec<String>>,
    /// Where; replaces it.
    pub place: Option<PlaceInput>,
    /// When; replaces it.
    pub schedule: Option<ScheduleInput>,
    /// Paid hours per shift.
    pub hours_per_shift: Option<String>,
    /// Hourly wage.
    pub hourly_wage: Option<String>,
    /// How many people.
    pub positions: Option<u32>,
    /// Only for frikort holders.
    pub frikort_only: Option<bool>,
    /// Contact person; replaces it.
    pub contact: Option<ContactInput>,
}

/// Changes to a draft task, checked against the task as stored (paid hours must fit the shift
/// the task will have).
#[derive(Debug)]
struct TaskChanges {
    title: Option<Name>,
    description: Option<String>,
    skills: Option<Vec<Skill>>,
    place: Option<Place>,
    schedule: Schedule,
    paid: Option<WorkedTime>,
    wage: Option<Money>,
    positions: Option<u32>,
    contact: Option<ContactPerson>,
}

impl TaskChanges {
    fn parse(input: &TaskChangesInput, stored: &TaskRow, wage_floor: Money) -> Result<TaskChanges, ServiceError> {
        let stored_paid = stored_paid_minutes(stored)?;
        let mut f = Fields::new();
        let title = f.check_opt("title", input.title.as_deref().map(Name::parse));
        let description = input.description.as_deref().map(|d| description(&mut f, d));
        let skills = f.check_opt("required_skills", input.required_skills.as_deref().map(parse_skills));
        let place = input.place.as_ref().map(|p| parse_place(&mut f, p));
        let schedule = match &input.schedule {
            Some(s) => parse_schedule(&mut f, s),
            None => Some(stored.schedule.0.clone()),
        };
        let paid = match &input.hours_per_shift {
            Some(h) => paid_time(&mut f, h, schedule.as_ref()).map(Some),
            None if schedule.as_ref().is_some_and(|s| stored_paid > s.shift_minutes()) => {
                f.push("hours_per_shift", "hours_exceed_shift", "more paid hours than the new shift is long");
                None
            }
            None => Some(None),
        };
        let wage = input.hourly_wage.as_deref().map(|w| wage(&mut f, w, wage_floor));
        let positions = input.positions.map(|p| positions(&mut f, p));
        let contact = input.contact.as_ref().map(|c| parse_contact(&mut f, c));
        f.finish()?;
        Ok(TaskChanges {
            title: title.flatten(),
            description: description.map(checked).transpose()?,
            skills: skills.flatten(),
            place: place.map(checked).transpose()?,
            schedule: checked(schedule)?,
            paid: checked(paid)?,
            wage: wage.map(checked).transpose()?,
            positions: positions.map(checked).transpose()?,
            contact: contact.map(checked).transpose()?,
        })
    }
}

/// Changes a draft task the caller may see; only drafts can be changed (`task_not_editable`).
pub fn update(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
    input: &TaskChangesInput,
    wage_floor: Money,
) -> Result<Task, ServiceError> {
    may_change(principal)?;
    let ScopedTask { task: mut t, company_name, company_verification } = scope::task(conn, principal, id)?;
    if t.status != TaskStatus::Draft {
        return Err(ServiceError::conflict(Code::TaskNotEditable, "only draft tasks can be changed"));
    }
    let c = TaskChanges::parse(input, &t, wage_floor)?;
    if let Some(x) = c.title {
        t.title = x.as_str().to_owned();
    }
    if let Some(d) = c.description {
        t.description = d;
    }
    if let Some(s) = c.skills {
        t.required_skills = skills_column(&s);
    }
    if let Some(p) = c.place {
        (t.address, t.lat, t.lon) = (p.address, p.point.map(|p| p.lat()), p.point.map(|p| p.lon()));
    }
    (t.first_date, t.last_date) = (c.schedule.first_date(), c.schedule.last_date());
    t.schedule = Json(c.schedule);
    if let Some(m) = c.paid {
        t.paid_minutes_per_shift = column(m.minutes())?;
    }
    if let Some(w) = c.wage {
        t.hourly_wage = w;
    }
    if let Some(p) = c.positions {
        t.positions = column(p)?;
    }
    if let Some(fo) = input.frikort_only {
        t.frikort_only = fo;
    }
    if let Some(c) = c.contact {
        (t.contact_name, t.contact_phone, t.contact_email) = c.columns();
    }
    t.updated_at = now();
    tasks::update(conn, &t)?;
    audit::record(conn, audit::entry(principal, "task.updated", "task", id, Some(&t.municipality), None))?;
    Task::counted(conn, t, company_name, company_verification)
}

/// Opens a draft task to citizens: the company must be verified and a shift must lie ahead.
pub fn open(conn: &mut DbConn, principal: &Principal, id: &str) -> Result<Task, ServiceError> {
    step(conn, principal, id, TaskAction::Open, None)
}

/// Completes a task; its approved placements complete with it, offers and interest lapse.
pub fn complete(conn: &mut DbConn, principal: &Principal, id: &str) -> Result<Task, ServiceError> {
    step(conn, principal, id, TaskAction::Complete, None)
}

/// Cancels a task with an optional reason; its live placements are cancelled with it.
pub fn cancel(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
    reason: Option<String>,
) -> Result<Task, ServiceError> {
    step(conn, principal, id, TaskAction::Cancel, reason)
}

fn step(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
    action: TaskAction,
    reason: Option<String>,
) -> Result<Task, ServiceError> {
    may_change(principal)?;
    let ScopedTask { company_name, company_verification, .. } = scope::task(conn, principal, id)?;
    let mut t = tasks::lock(conn, id)?;
    let status = next_status(&t, action)?;
    let at = now();
    match action {
        TaskAction::Open => {
            // Unverified companies may draft, but only verified ones reach citizens.
            if company_verification != Verification::Verified {
                return Err(ServiceError::conflict(
                    Code::CompanyNotVerified,
                    "the company must be verified by a coordinator before its tasks can open",
                ));
            }
            if t.last_date < today_copenhagen() {
                return Err(ServiceError::rule(Code::ScheduleInPast, "every shift of the task lies in the past"));
            }
            t.opened_at = t.opened_at.or(Some(at));
        }
        TaskAction::Complete => {
            // Approved placements complete with the task; offers and interest still open lapse.
            for mut p in placements::live_of_task(conn, id)? {
                let approved = p.state == PlacementState::Approved;
                p.state = if approved { PlacementState::Completed } else { PlacementState::Cancelled };
                if !approved {
                    p.reason = Some("the task was completed".into());
                }
                (p.decided_at, p.decided_by, p.updated_at) = (Some(at), Some(principal.sub().to_owned()), at);
                placements::update(conn, &p)?;
            }
            t.closed_at = Some(at);
        }
        TaskAction::Cancel => {
            for mut p in placements::live_of_task(conn, id)? {
                p.state = PlacementState::Cancelled;
                (p.decided_at, p.decided_by, p.updated_at) = (Some(at), Some(principal.sub().to_owned()), at);
                p.reason = Some("the task was cancelled".into());
                placements::update(conn, &p)?;
            }
            t.closed_at = Some(at);
            t.close_reason = reason.clone();
        }
        TaskAction::Fill | TaskAction::Reopen => {}
    }
    t.status = status;
    t.updated_at = at;
    tasks::update(conn, &t)?;
    let details = serde_json::json!({ "status": t.status, "reason": reason });
    audit::record(
        conn,
        audit::entry(principal, &format!("task.{}", action.as_str()), "task", id, Some(&t.municipality), Some(details)),
    )?;
    Task::counted(conn, t, company_name, company_verification)
}
