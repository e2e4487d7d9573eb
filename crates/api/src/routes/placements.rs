//! Placements (`/placements`, `/me/offers`, `/me/tasks/{id}/interest`): a coordinator offers a
//! task to a citizen (or turns a citizen's interest into an offer), the citizen accepts or
//! declines, and the coordinator approves — which registers the employment on the company's
//! behalf — or rejects. Cancel and no-show end a placement and free its position.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Datelike, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use smaajob_domain::{
    Actor, CardCoverage, Money, PlacementAction, PlacementState, Schedule, TaskAction, TaskStatus, WeeklyAvailability,
    card_coverage, estimated_pay, has_free_position, holiday_pay, placement_transition,
};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::citizens::{self, CitizenRow};
use smaajob_persistence::repo::employments::{self, EmploymentRow};
use smaajob_persistence::repo::placements::{self, PlacementRow, PlacementScope};
use smaajob_persistence::repo::tasks::{self, TaskRow};
use smaajob_persistence::repo::{accounting, audit, frikort, new_id, now};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, Problem};
use crate::http::{PageQuery, Paged, parse_id, utc};
use crate::routes::citizens::citizen_in_scope;
use crate::routes::tasks::{Reason, step, task_in_scope};
use crate::services::allocation::{cap_for, card_periods};
use crate::services::audit as audit_log;
use crate::services::common::{optional_text, today_copenhagen};
use crate::services::error::Fields;
use crate::services::error::OrNotFound;
use crate::services::error::{Code, ServiceError};
use crate::services::planning::planned_shifts;
use crate::services::principal::Principal;
use crate::services::tasks::stored_schedule;
use crate::state::AppState;
use crate::views::{EmploymentView, employment_view};

/// An offer of a task to a citizen.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOffer {
    /// The task.
    pub task_id: String,
    /// The citizen.
    pub citizen_id: String,
}

/// Approval of an accepted placement.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Approve {
    /// Must be `true` to approve when the expected pay would cross the citizen's remaining
    /// frikort amount (the excess is taxable and offset in benefits).
    #[serde(default)]
    pub accept_taxable_excess: bool,
}

/// A placement.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PlacementView {
    /// The placement's id.
    pub id: String,
    /// The task.
    pub task_id: String,
    /// The task's title.
    pub task_title: String,
    /// The company.
    pub company_id: String,
    /// The citizen.
    pub citizen_id: String,
    /// The citizen's name.
    pub citizen_name: String,
    /// `interested`, `offered`, `accepted`, `declined`, `approved`, `rejected`, `cancelled`, `no_show` or `completed`.
    pub state: String,
    /// When the citizen showed interest.
    pub interested_at: Option<DateTime<Utc>>,
    /// When it was offered.
    pub offered_at: Option<DateTime<Utc>>,
    /// When the citizen answered.
    pub answered_at: Option<DateTime<Utc>>,
    /// When it was approved.
    pub approved_at: Option<DateTime<Utc>>,
    /// When the latest decision was made.
    pub decided_at: Option<DateTime<Utc>>,
    /// The reason given with the latest decision.
    pub reason: Option<String>,
    /// The employment registered on approval.
    pub employment_id: Option<String>,
    /// Expected pay at approval (wage and holiday pay), DKK.
    pub estimated_pay: Option<String>,
    /// Expected taxable part at approval, DKK.
    pub estimated_taxable: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// The outcome of an approval.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApprovalView {
    /// The approved placement.
    pub placement: PlacementView,
    /// The employment registered on the company's behalf (§ 6).
    pub employment: EmploymentView,
    /// Expected pay for the remaining shifts (wage and holiday pay), DKK.
    pub estimated_pay: String,
    /// The part of it expected above the citizen's remaining frikort amount, DKK: taxable A-income.
    pub estimated_taxable: String,
}

/// Filter of the placement list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlacementFilter {
    /// Only placements in this state.
    pub state: Option<String>,
}

/// Builds the view of a stored placement.
pub fn placement_view(p: PlacementRow, task: &TaskRow, citizen_name: String) -> PlacementView {
    PlacementView {
        task_title: task.title.clone(),
        company_id: task.company_id.clone(),
        citizen_name,
        interested_at: p.interested_at.map(utc),
        offered_at: p.offered_at.map(utc),
        answered_at: p.answered_at.map(utc),
        approved_at: p.approved_at.map(utc),
        decided_at: p.decided_at.map(utc),
        estimated_pay: p.estimated_pay_ore.map(|o| Money::from_ore(o).to_string()),
        estimated_taxable: p.estimated_taxable_ore.map(|o| Money::from_ore(o).to_string()),
        created_at: utc(p.created_at),
        updated_at: utc(p.updated_at),
        id: p.id,
        task_id: p.task_id,
        citizen_id: p.citizen_id,
        state: p.state,
        reason: p.reason,
        employment_id: p.employment_id,
    }
}

fn actor(principal: &Principal) -> Actor {
    match principal {
        Principal::Coordinator { .. } => Actor::Coordinator,
        Principal::Company { .. } | Principal::NewCompany { .. } => Actor::Company,
        Principal::Citizen { .. } => Actor::Citizen,
    }
}

fn state_of(p: &PlacementRow) -> Result<PlacementState, ApiError> {
    PlacementState::parse(&p.state).ok_or_else(|| ApiError::Internal("stored placement state is invalid".into()))
}

fn transition(
    current: Option<PlacementState>,
    action: PlacementAction,
    principal: &Principal,
) -> Result<PlacementState, ApiError> {
    placement_transition(current, action, actor(principal)).map_err(|e| match e {
        smaajob_domain::TransitionError::WrongActor { .. } => ApiError::Forbidden(e.to_string()),
        _ => ApiError::Conflict { code: Code::IllegalTransition, detail: e.to_string() },
    })
}

/// A placement with its task and citizen.
pub type ScopedPlacement = (PlacementRow, TaskRow, CitizenRow);

/// Loads a placement the caller may see: a coordinator the municipality's citizens', a company
/// those on its tasks, a citizen their own. Anything else is a 404.
pub fn placement_in_scope(conn: &mut DbConn, principal: &Principal, id: &str) -> Result<ScopedPlacement, ApiError> {
    let (p, t, _) = placements::find(conn, id).or_not_found("placement")?;
    let (citizen, _) = citizens::find(conn, &p.citizen_id)?;
    let visible = match principal {
        Principal::Coordinator { municipality, .. } => citizen.municipality == municipality.to_string(),
        // An employer sees the citizens placed with it, not who else was offered or interested.
        Principal::Company { company_id, .. } => *company_id == t.company_id && p.approved_at.is_some(),
        Principal::Citizen { citizen_id, .. } => *citizen_id == p.citizen_id,
        Principal::NewCompany { .. } => return Err(ServiceError::Unregistered.into()),
    };
    if !visible {
        return Err(ApiError::not_found("placement"));
    }
    Ok((p, t, citizen))
}

fn new_placement(task_id: &str, citizen_id: &str, state: PlacementState, at: NaiveDateTime) -> PlacementRow {
    PlacementRow {
        id: new_id(),
        task_id: task_id.to_owned(),
        citizen_id: citizen_id.to_owned(),
        state: state.as_str().to_owned(),
        interested_at: None,
        offered_at: None,
        offered_by: None,
        answered_at: None,
        approved_at: None,
        decided_at: None,
        decided_by: None,
        reason: None,
        employment_id: None,
        estimated_pay_ore: None,
        estimated_taxable_ore: None,
        created_at: at,
        updated_at: at,
    }
}

fn has_active_card(conn: &mut DbConn, citizen_id: &str) -> Result<bool, ApiError> {
    Ok(frikort::find_by_citizen(conn, citizen_id)?.is_some_and(|c| c.status == "active"))
}

fn placement_exists() -> ApiError {
    ApiError::Conflict {
        code: Code::PlacementExists,
        detail: "the citizen already has a live placement on this task".into(),
    }
}

/// Offers a task to a citizen of the coordinator's municipality.
#[utoipa::path(
    tag = "placements",
    security(("bearer" = [])),
    request_body = CreateOffer,
    responses(
        (status = 201, description = "Offered", body = PlacementView),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 409, description = "The task is not open, or the citizen already has a live placement on it", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = Problem),
    )
)]
#[post("/placements")]
pub async fn offer(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<CreateOffer>,
) -> Result<HttpResponse, ApiError> {
    let own = principal.coordinator()?;
    let task_id = parse_id(&body.task_id, "task")?;
    let citizen_id = parse_id(&body.citizen_id, "citizen")?;
    let view = state
        .write(move |conn| {
            let (task, _, _) = task_in_scope(conn, &principal, &task_id)?;
            let (citizen, _) = citizen_in_scope(conn, own, &citizen_id)?;
            if task.status != TaskStatus::Open.as_str() {
                return Err(ApiError::Conflict {
                    code: Code::TaskNotOpen,
                    detail: "only open tasks can be offered".into(),
                });
            }
            if placements::live_for(conn, &task_id, &citizen_id)?.is_some() {
                return Err(placement_exists());
            }
            let at = now();
            let state = transition(None, PlacementAction::Offer, &principal)?;
            let mut p = new_placement(&task_id, &citizen_id, state, at);
            (p.offered_at, p.offered_by) = (Some(at), Some(principal.sub().to_owned()));
            placements::insert(conn, &p)?;
            audit::append(
                conn,
                &[audit_log::entry(
                    &principal,
                    "placement.offered",
                    "placement",
                    &p.id,
                    Some(&citizen.municipality),
                    Some(serde_json::json!({ "task_id": task_id, "citizen_id": citizen_id })),
                )],
            )?;
            Ok(placement_view(p, &task, citizen.name))
        })
        .await?;
    Ok(HttpResponse::Created().insert_header(("Location", format!("/api/v1/placements/{}", view.id))).json(view))
}

/// The citizen says they are interested in an open task of their municipality.
#[utoipa::path(
    tag = "placements",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Task id")),
    responses(
        (status = 201, description = "Interest registered", body = PlacementView),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 409, response = Problem),
    )
)]
#[post("/me/tasks/{id}/interest")]
pub async fn show_interest(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let citizen_id = parse_id(principal.citizen()?, "citizen")?;
    let task_id = parse_id(&id, "task")?;
    let view = state
        .write(move |conn| {
            let (task, _, _) = task_in_scope(conn, &principal, &task_id)?;
            if task.frikort_only && !has_active_card(conn, &citizen_id)? {
                return Err(ApiError::not_found("task"));
            }
            if placements::live_for(conn, &task_id, &citizen_id)?.is_some() {
                return Err(placement_exists());
            }
            let (citizen, _) = citizens::find(conn, &citizen_id)?;
            let at = now();
            let state = transition(None, PlacementAction::ShowInterest, &principal)?;
            let mut p = new_placement(&task_id, &citizen_id, state, at);
            p.interested_at = Some(at);
            placements::insert(conn, &p)?;
            audit::append(
                conn,
                &[audit_log::entry(
                    &principal,
                    "placement.interested",
                    "placement",
                    &p.id,
                    Some(&citizen.municipality),
                    Some(serde_json::json!({ "task_id": task_id })),
                )],
            )?;
            Ok(placement_view(p, &task, citizen.name))
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Lists placements: a coordinator the municipality's, a company those approved on its tasks, a citizen their own.
#[utoipa::path(
    tag = "placements",
    security(("bearer" = [])),
    params(PlacementFilter, PageQuery),
    responses(
        (status = 200, body = Paged<PlacementView>),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 422, response = Problem),
    )
)]
#[get("/placements")]
pub async fn list_placements(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<PlacementFilter>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<PlacementView>>, ApiError> {
    let page = page.into_inner().page()?;
    let wanted = state_filter(filter.state.as_deref())?;
    let scope = match &principal {
        Principal::Coordinator { municipality, .. } => PlacementScope::Municipality(municipality.to_string()),
        Principal::Company { company_id, .. } => PlacementScope::Company(company_id.clone()),
        Principal::Citizen { citizen_id, .. } => PlacementScope::Citizen(citizen_id.clone()),
        Principal::NewCompany { .. } => return Err(ServiceError::Unregistered.into()),
    };
    Ok(web::Json(list(&state, scope, wanted, page).await?))
}

fn state_filter(s: Option<&str>) -> Result<Option<&'static str>, ApiError> {
    match s {
        None => Ok(None),
        Some(s) => PlacementState::parse(s)
            .map(|p| Some(p.as_str()))
            .ok_or_else(|| ApiError::field("state", "state_filter", "not a placement state")),
    }
}

async fn list(
    state: &AppState,
    scope: PlacementScope,
    wanted: Option<&'static str>,
    page: smaajob_persistence::repo::Page,
) -> Result<Paged<PlacementView>, ApiError> {
    state
        .read(move |conn| {
            let (rows, total) = placements::list(conn, &scope, wanted, page)?;
            let items = rows.into_iter().map(|(p, t, n)| placement_view(p, &t, n)).collect();
            Ok(Paged { items, total, limit: page.limit, offset: page.offset })
        })
        .await
}

/// The calling citizen's open offers.
#[utoipa::path(
    tag = "placements",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, body = Paged<PlacementView>),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 422, response = Problem),
    )
)]
#[get("/me/offers")]
pub async fn my_offers(
    state: web::Data<AppState>,
    principal: Principal,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<PlacementView>>, ApiError> {
    let citizen_id = principal.citizen()?.to_owned();
    let page = page.into_inner().page()?;
    Ok(web::Json(
        list(&state, PlacementScope::Citizen(citizen_id), Some(PlacementState::Offered.as_str()), page).await?,
    ))
}

/// One placement.
#[utoipa::path(
    tag = "placements",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Placement id")),
    responses(
        (status = 200, body = PlacementView),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, response = Problem),
    )
)]
#[get("/placements/{id}")]
pub async fn get_placement(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<PlacementView>, ApiError> {
    let id = parse_id(&id, "placement")?;
    let view = state
        .read(move |conn| {
            let (p, t, c) = placement_in_scope(conn, &principal, &id)?;
            Ok(placement_view(p, &t, c.name))
        })
        .await?;
    Ok(web::Json(view))
}

/// A plain lifecycle step (offer an interest, accept, decline, reject, cancel, no-show).
async fn act(
    state: &AppState,
    principal: Principal,
    id: String,
    action: PlacementAction,
    reason: Option<String>,
) -> Result<web::Json<PlacementView>, ApiError> {
    let view = state
        .write(move |conn| {
            let (p, task, citizen) = placement_in_scope(conn, &principal, &id)?;
            // The task row is locked first, like an approval, so a freed position is seen whole.
            let mut task_now = tasks::lock(conn, &task.id)?;
            let (mut p, _, _) = placements::find(conn, &p.id)?;
            let before = state_of(&p)?;
            let after = transition(Some(before), action, &principal)?;
            if action == PlacementAction::Offer && task_now.status != TaskStatus::Open.as_str() {
                return Err(ApiError::Conflict {
                    code: Code::TaskNotOpen,
                    detail: "only open tasks can be offered".into(),
                });
            }
            let at = now();
            match action {
                PlacementAction::Offer => (p.offered_at, p.offered_by) = (Some(at), Some(principal.sub().to_owned())),
                PlacementAction::Accept | PlacementAction::Decline => p.answered_at = Some(at),
                _ => (p.decided_at, p.decided_by) = (Some(at), Some(principal.sub().to_owned())),
            }
            if reason.is_some() {
                p.reason = reason.clone();
            }
            p.state = after.as_str().to_owned();
            p.updated_at = at;
            placements::update(conn, &p)?;
            // A position held by an approved placement is free again.
            if before.holds_position() && !after.holds_position() && task_now.status == TaskStatus::Filled.as_str() {
                task_now.status = step(&task_now, TaskAction::Reopen)?.as_str().to_owned();
                task_now.updated_at = at;
                tasks::update(conn, &task_now)?;
            }
            let details = serde_json::json!({ "from": before.as_str(), "to": after.as_str(), "reason": reason });
            audit::append(
                conn,
                &[audit_log::entry(
                    &principal,
                    &format!("placement.{}", action.as_str()),
                    "placement",
                    &id,
                    Some(&citizen.municipality),
                    Some(details),
                )],
            )?;
            Ok(placement_view(p, &task_now, citizen.name))
        })
        .await?;
    Ok(web::Json(view))
}

fn reason_of(body: Option<web::Json<Reason>>, required: bool) -> Result<Option<String>, ApiError> {
    let mut f = Fields::new();
    let reason = optional_text(&mut f, "reason", body.as_ref().and_then(|b| b.reason.as_deref()), 2000);
    if required && reason.is_none() {
        f.push("reason", "required", "give the reason");
    }
    f.finish()?;
    Ok(reason)
}

macro_rules! step_endpoint {
    ($name:ident, $path:literal, $action:expr, $required:expr, $doc:literal, $tag:literal) => {
        #[doc = $doc]
        #[utoipa::path(
            tag = $tag,
            security(("bearer" = [])),
            params(("id" = String, Path, description = "Placement id")),
            request_body(content = Option<Reason>, description = "An optional (or, where noted, required) reason"),
            responses(
                (status = 200, body = PlacementView),
                (status = 400, response = Problem),
                (status = 401, response = Problem),
                (status = 403, description = "Not this role's step", body = Problem, content_type = "application/problem+json"),
                (status = 404, response = Problem),
                (status = 409, description = "Illegal transition", body = Problem, content_type = "application/problem+json"),
                (status = 422, response = Problem),
            )
        )]
        #[post($path)]
        pub async fn $name(
            state: web::Data<AppState>,
            principal: Principal,
            id: web::Path<String>,
            body: Option<web::Json<Reason>>,
        ) -> Result<web::Json<PlacementView>, ApiError> {
            let id = parse_id(&id, "placement")?;
            let reason = reason_of(body, $required)?;
            act(&state, principal, id, $action, reason).await
        }
    };
}

step_endpoint!(
    offer_interest,
    "/placements/{id}/offer",
    PlacementAction::Offer,
    false,
    "Turns a citizen's interest into an offer (coordinator).",
    "placements"
);
step_endpoint!(
    accept_offer,
    "/me/offers/{id}/accept",
    PlacementAction::Accept,
    false,
    "The citizen accepts an offer.",
    "placements"
);
step_endpoint!(
    decline_offer,
    "/me/offers/{id}/decline",
    PlacementAction::Decline,
    false,
    "The citizen declines an offer.",
    "placements"
);
step_endpoint!(
    reject_placement,
    "/placements/{id}/reject",
    PlacementAction::Reject,
    true,
    "Rejects an accepted placement (coordinator; reason required).",
    "placements"
);
step_endpoint!(
    cancel_placement,
    "/placements/{id}/cancel",
    PlacementAction::Cancel,
    false,
    "Cancels a placement; an approved one frees its position (coordinator or company once approved).",
    "placements"
);
step_endpoint!(
    no_show_placement,
    "/placements/{id}/no-show",
    PlacementAction::NoShow,
    false,
    "Records that an approved citizen did not show up; the position frees up (coordinator or company).",
    "placements"
);

/// Expected pay per year from today (wage plus holiday pay), and the part above what is left of
/// the frikort after what is earned and what the citizen's other approved placements will pay.
fn estimate(
    conn: &mut DbConn,
    citizen_id: &str,
    task: &TaskRow,
    schedule: &Schedule,
) -> Result<(Money, Money), ApiError> {
    let today = today_copenhagen();
    let minutes = u32::try_from(task.paid_minutes_per_shift).unwrap_or(0);
    let mine: BTreeMap<i32, i64> = estimated_pay(schedule, minutes, Money::from_ore(task.hourly_wage_ore), today)
        .into_iter()
        .map(|(y, w)| (y, w.ore() + holiday_pay(w).ore()))
        .collect();
    let mut planned: BTreeMap<i32, i64> = BTreeMap::new();
    for (date, gross) in planned_shifts(conn, citizen_id, today)? {
        *planned.entry(date.year()).or_default() += gross.ore();
    }
    let (mut total, mut taxable) = (0i64, 0i64);
    for (year, pay) in mine {
        let cap = cap_for(conn, year)?.amount.money().ore();
        let exempt = accounting::find_year(conn, citizen_id, year)?.map_or(0, |y| y.exempt.ore());
        let left = (cap - exempt - planned.get(&year).copied().unwrap_or(0)).max(0);
        total += pay;
        taxable += (pay - left).max(0);
    }
    Ok((Money::from_ore(total), Money::from_ore(taxable)))
}

/// Approves an accepted placement after checking, each with its own problem code: the task is
/// open with a free position (`task_not_open`, `no_free_position`), the company is verified
/// (`company_not_verified`), a frikort-only task has an active card through the whole schedule
/// (`no_active_card_for_schedule`), no overlapping approved placement (`overlapping_placement`),
/// the citizen's weekly hours limit (`weekly_hours_exceeded`), and the expected pay against the
/// remaining frikort amount (`would_exceed_frikort` unless `accept_taxable_excess`). Approval
/// registers the employment with the task's contact person on the company's behalf.
#[utoipa::path(
    tag = "placements",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Placement id")),
    request_body(content = Option<Approve>),
    responses(
        (status = 200, description = "Approved; the employment is registered", body = ApprovalView),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 409, description = "Illegal transition, task not open, no free position, company not verified, or an overlapping placement", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No active card through the schedule, weekly hours exceeded, or the pay would cross the frikort amount without `accept_taxable_excess`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/placements/{id}/approve")]
pub async fn approve(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Option<web::Json<Approve>>,
) -> Result<web::Json<ApprovalView>, ApiError> {
    principal.coordinator()?;
    let id = parse_id(&id, "placement")?;
    let accept_excess = body.map(|b| b.accept_taxable_excess).unwrap_or(false);
    let view = state
        .write(move |conn| {
            let (p, task, citizen) = placement_in_scope(conn, &principal, &id)?;
            // Lock the task before counting positions: two approvals for the last position
            // serialize here and the second sees it taken.
            let mut task = tasks::lock(conn, &task.id)?;
            // Then the citizen: two approvals of one citizen for different tasks must not both
            // pass the overlap, weekly-hours and headroom checks. (Always task, then citizen.)
            citizens::lock(conn, &citizen.id)?;
            let (mut p, _, _) = placements::find(conn, &p.id)?;
            let after = transition(Some(state_of(&p)?), PlacementAction::Approve, &principal)?;
            if task.status != TaskStatus::Open.as_str() {
                let code = if task.status == TaskStatus::Filled.as_str() { Code::NoFreePosition } else { Code::TaskNotOpen };
                return Err(ApiError::Conflict { code, detail: format!("the task is {}", task.status) });
            }
            let approved = u32::try_from(placements::approved_count(conn, &task.id)?).unwrap_or(u32::MAX);
            let positions = u32::try_from(task.positions).unwrap_or(0);
            if !has_free_position(approved, positions) {
                return Err(ApiError::Conflict { code: Code::NoFreePosition, detail: "every position of the task is taken".into() });
            }
            let company = smaajob_persistence::repo::companies::find(conn, &task.company_id)?;
            if company.verification != "verified" {
                return Err(ApiError::Conflict { code: Code::CompanyNotVerified, detail: "the company is not verified".into() });
            }
            let schedule = stored_schedule(&task)?;
            let card = has_active_card(conn, &citizen.id)?;
            if task.frikort_only
                && (!card || card_coverage(&card_periods(conn, &citizen.id)?, schedule.first_date(), schedule.last_date()) != CardCoverage::Whole)
            {
                return Err(ApiError::Unprocessable {
                    code: Code::NoActiveCardForSchedule,
                    detail: "the task is for frikort holders and the citizen's card is not active through the whole schedule".into(),
                });
            }
            let others = placements::approved_of_citizen(conn, &citizen.id)?;
            if let Some((_, clash)) = others.iter().find(|(_, t)| stored_schedule(t).is_ok_and(|s| s.overlaps(&schedule))) {
                return Err(ApiError::Conflict {
                    code: Code::OverlappingPlacement,
                    detail: format!("the schedule overlaps the citizen's approved placement on \"{}\"", clash.title),
                });
            }
            let availability: WeeklyAvailability = serde_json::from_str(&citizen.availability)
                .map_err(|e| ApiError::Internal(format!("stored availability is corrupt: {e}")))?;
            if let Some(limit) = availability.max_hours_per_week() {
                let week = |t: &TaskRow, s: &Schedule| s.max_minutes_in_a_week(u32::try_from(t.paid_minutes_per_shift).unwrap_or(0));
                let mut minutes = week(&task, &schedule);
                for (_, t) in &others {
                    minutes += week(t, &stored_schedule(t)?);
                }
                if minutes > u32::from(limit) * 60 {
                    return Err(ApiError::Unprocessable {
                        code: Code::WeeklyHoursExceeded,
                        detail: format!("up to {:.1} hours a week with this placement; the citizen's limit is {limit}", f64::from(minutes) / 60.0),
                    });
                }
            }
            let (estimated, taxable) = estimate(conn, &citizen.id, &task, &schedule)?;
            let taxable = if card { taxable } else { estimated };
            if card && taxable.is_positive() && !accept_excess {
                return Err(ApiError::Unprocessable {
                    code: Code::WouldExceedFrikort,
                    detail: format!(
                        "the expected pay of {estimated} kr would exceed the citizen's remaining frikort amount by about {taxable} kr, which would be taxable; approve with accept_taxable_excess: true to go ahead"
                    ),
                });
            }
            let at = now();
            let employment = EmploymentRow {
                id: new_id(),
                citizen_id: citizen.id.clone(),
                company_id: task.company_id.clone(),
                start_date: schedule.first_date(),
                end_date: Some(schedule.last_date()),
                expected_hours_per_week: Some(f64::from(schedule.max_minutes_in_a_week(u32::try_from(task.paid_minutes_per_shift).unwrap_or(0))) / 60.0),
                expected_pay_ore: Some(estimated.ore()),
                contact_name: task.contact_name.clone(),
                contact_phone: task.contact_phone.clone(),
                contact_email: task.contact_email.clone(),
                registered_at: at,
                registered_by: principal.sub().to_owned(),
                registered_by_role: principal.role().as_str().to_owned(),
                ended_at: None,
                end_reason: None,
            };
            employments::insert(conn, &employment)?;
            p.state = after.as_str().to_owned();
            (p.approved_at, p.decided_at, p.decided_by) = (Some(at), Some(at), Some(principal.sub().to_owned()));
            p.employment_id = Some(employment.id.clone());
            (p.estimated_pay_ore, p.estimated_taxable_ore) = (Some(estimated.ore()), Some(taxable.ore()));
            p.updated_at = at;
            placements::update(conn, &p)?;
            if !has_free_position(approved + 1, positions) {
                task.status = step(&task, TaskAction::Fill)?.as_str().to_owned();
                task.filled_at = Some(at);
                task.updated_at = at;
                tasks::update(conn, &task)?;
            }
            let details = serde_json::json!({
                "task_id": task.id, "employment_id": employment.id,
                "estimated_pay": estimated.to_string(), "estimated_taxable": taxable.to_string(),
            });
            audit::append(conn, &[
                audit_log::entry(&principal, "placement.approved", "placement", &id, Some(&citizen.municipality), Some(details)),
                audit_log::entry(&principal, "employment.registered", "employment", &employment.id, Some(&citizen.municipality), Some(serde_json::json!({ "company_id": task.company_id, "placement_id": id }))),
            ])?;
            Ok(ApprovalView {
                employment: employment_view((employment, citizen.name.clone(), company.name)),
                placement: placement_view(p, &task, citizen.name),
                estimated_pay: estimated.to_string(),
                estimated_taxable: taxable.to_string(),
            })
        })
        .await?;
    Ok(web::Json(view))
}

/// Whether the placement was ever approved (hours can be reported for its shifts).
pub fn was_approved(p: &PlacementRow) -> bool {
    p.approved_at.is_some() && p.employment_id.is_some()
}
