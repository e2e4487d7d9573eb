//! Placements (`/placements`, `/me/offers`, `/me/tasks/{id}/interest`): a coordinator offers a
//! task to a citizen (or turns a citizen's interest into an offer), the citizen accepts or
//! declines, and the coordinator approves — which registers the employment on the company's
//! behalf — or rejects. Cancel and no-show end a placement and free its position.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, Problem};
use crate::http::{PageQuery, Paged, parse_id, utc};
use crate::json::{Json, OptionalJson};
use crate::responses::{ApiErrors, Conflict, Invalid, JsonBody, NotFound};
use crate::services::common::optional_text;
use crate::services::error::Fields;
use crate::services::placements::{self, Approval, Offer, Placement};
use crate::services::principal::Principal;
use crate::state::AppState;
use crate::views::{EmploymentView, Reason, employment_view};

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
    /// When the placement was made (interest shown or offer given).
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

/// Builds the view of a placement.
pub fn placement_view(p: Placement) -> PlacementView {
    let row = p.row;
    PlacementView {
        task_title: p.task_title,
        company_id: p.company_id.into(),
        citizen_name: p.citizen_name,
        interested_at: row.interested_at.map(utc),
        offered_at: row.offered_at.map(utc),
        answered_at: row.answered_at.map(utc),
        approved_at: row.approved_at.map(utc),
        decided_at: row.decided_at.map(utc),
        estimated_pay: row.estimated_pay.map(|m| m.to_string()),
        estimated_taxable: row.estimated_taxable.map(|m| m.to_string()),
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
        id: row.id,
        task_id: row.task_id,
        citizen_id: row.citizen_id,
        state: row.state.as_str().to_owned(),
        reason: row.reason,
        employment_id: row.employment_id.map(String::from),
    }
}

fn approval_view(a: Approval) -> ApprovalView {
    ApprovalView {
        employment: employment_view((a.employment, a.placement.citizen_name.clone(), a.company_name)),
        placement: placement_view(a.placement),
        estimated_pay: a.estimated_pay.to_string(),
        estimated_taxable: a.estimated_taxable.to_string(),
    }
}

fn paged(rows: Vec<Placement>, total: i64, page: smaajob_persistence::repo::Page) -> Paged<PlacementView> {
    Paged { items: rows.into_iter().map(placement_view).collect(), total, limit: page.limit, offset: page.offset }
}

/// Offers a task to a citizen of the coordinator's municipality.
#[utoipa::path(
    tag = "placements",
    security(("bearer" = [])),
    request_body = CreateOffer,
    responses(
        (status = 201, description = "Offered", body = PlacementView),
        ApiErrors, NotFound, Conflict, JsonBody,
        (status = 409, description = "The task is not open, or the citizen already has a live placement on it", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/placements")]
pub async fn offer(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<CreateOffer>,
) -> Result<HttpResponse, ApiError> {
    principal.coordinator()?;
    let cmd = Offer { task_id: parse_id(&body.task_id, "task")?, citizen_id: parse_id(&body.citizen_id, "citizen")? };
    let view = placement_view(state.write(move |conn| Ok(placements::offer(conn, &principal, &cmd)?)).await?);
    Ok(HttpResponse::Created().insert_header(("Location", format!("/api/v1/placements/{}", view.id))).json(view))
}

/// Offers a task straight from its candidate list: the same offer as `POST /placements`, with
/// the same checks, named by the task and the candidate.
#[utoipa::path(
    tag = "matching",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The task's id"),
        ("citizen_id" = String, Path, description = "The candidate's citizen id"),
    ),
    responses(
        (status = 201, description = "Offered", body = PlacementView),
        ApiErrors, NotFound, Conflict,
        (status = 409, description = "The task is not open, or the citizen already has a live placement on it", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tasks/{id}/candidates/{citizen_id}/offer")]
pub async fn offer_candidate(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    principal.coordinator()?;
    let (task, citizen) = path.into_inner();
    let cmd = Offer { task_id: parse_id(&task, "task")?, citizen_id: parse_id(&citizen, "citizen")? };
    let view = placement_view(state.write(move |conn| Ok(placements::offer(conn, &principal, &cmd)?)).await?);
    Ok(HttpResponse::Created().insert_header(("Location", format!("/api/v1/placements/{}", view.id))).json(view))
}

/// The citizen says they are interested in an open task of their municipality.
#[utoipa::path(
    tag = "placements",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Task id")),
    responses(
        (status = 201, description = "Interest registered", body = PlacementView),
        ApiErrors, NotFound, Conflict,
    )
)]
#[post("/me/tasks/{id}/interest")]
pub async fn show_interest(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    parse_id(principal.citizen()?, "citizen")?;
    let task_id = parse_id(&id, "task")?;
    let placement = state.write(move |conn| Ok(placements::show_interest(conn, &principal, &task_id)?)).await?;
    Ok(HttpResponse::Created().json(placement_view(placement)))
}

/// Lists placements: a coordinator the municipality's, a company those approved on its tasks, a citizen their own.
#[utoipa::path(
    tag = "placements",
    security(("bearer" = [])),
    params(PlacementFilter, PageQuery),
    responses(
        (status = 200, body = Paged<PlacementView>),
        ApiErrors, Invalid,
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
    let wanted = placements::state_filter(filter.state.as_deref())?;
    let (rows, total) = state.read(move |conn| Ok(placements::list(conn, &principal, wanted, page)?)).await?;
    Ok(web::Json(paged(rows, total, page)))
}

/// The calling citizen's open offers.
#[utoipa::path(
    tag = "placements",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, body = Paged<PlacementView>),
        ApiErrors, Invalid,
    )
)]
#[get("/me/offers")]
pub async fn my_offers(
    state: web::Data<AppState>,
    principal: Principal,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<PlacementView>>, ApiError> {
    principal.citizen()?;
    let page = page.into_inner().page()?;
    let (rows, total) = state.read(move |conn| Ok(placements::my_offers(conn, &principal, page)?)).await?;
    Ok(web::Json(paged(rows, total, page)))
}

/// One placement.
#[utoipa::path(
    tag = "placements",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Placement id")),
    responses(
        (status = 200, body = PlacementView),
        ApiErrors, NotFound,
    )
)]
#[get("/placements/{id}")]
pub async fn get_placement(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<PlacementView>, ApiError> {
    let id = parse_id(&id, "placement")?;
    let placement = state.read(move |conn| Ok(placements::get(conn, &principal, &id)?)).await?;
    Ok(web::Json(placement_view(placement)))
}

fn reason_of(body: OptionalJson<Reason>, required: bool) -> Result<Option<String>, ApiError> {
    let mut f = Fields::new();
    let reason = optional_text(&mut f, "reason", body.0.as_ref().and_then(|b| b.reason.as_deref()), 2000);
    if required && reason.is_none() {
        f.push("reason", "required", "give the reason");
    }
    f.finish()?;
    Ok(reason)
}

macro_rules! step_endpoint {
    ($name:ident, $path:literal, $use_case:path, $required:expr, $doc:literal, $tag:literal) => {
        #[doc = $doc]
        #[utoipa::path(
            tag = $tag,
            security(("bearer" = [])),
            params(("id" = String, Path, description = "Placement id")),
            request_body(content = Option<Reason>, description = "An optional (or, where noted, required) reason"),
            responses(
                (status = 200, body = PlacementView),
                ApiErrors, NotFound, JsonBody,
                (status = 403, description = "Not this role's step", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "Illegal transition", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[post($path)]
        pub async fn $name(
            state: web::Data<AppState>,
            principal: Principal,
            id: web::Path<String>,
            body: OptionalJson<Reason>,
        ) -> Result<web::Json<PlacementView>, ApiError> {
            let id = parse_id(&id, "placement")?;
            let reason = reason_of(body, $required)?;
            let placement = state.write(move |conn| Ok($use_case(conn, &principal, &id, reason)?)).await?;
            Ok(web::Json(placement_view(placement)))
        }
    };
}

step_endpoint!(
    offer_interest,
    "/placements/{id}/offer",
    placements::offer_interest,
    false,
    "Turns a citizen's interest into an offer (coordinator).",
    "placements"
);
step_endpoint!(
    accept_offer,
    "/me/offers/{id}/accept",
    placements::accept,
    false,
    "The citizen accepts an offer.",
    "placements"
);
step_endpoint!(
    decline_offer,
    "/me/offers/{id}/decline",
    placements::decline,
    false,
    "The citizen declines an offer.",
    "placements"
);
step_endpoint!(
    reject_placement,
    "/placements/{id}/reject",
    placements::reject,
    true,
    "Rejects an accepted placement (coordinator; reason required).",
    "placements"
);
step_endpoint!(
    cancel_placement,
    "/placements/{id}/cancel",
    placements::cancel,
    false,
    "Cancels a placement; an approved one frees its position (coordinator or company once approved).",
    "placements"
);
step_endpoint!(
    no_show_placement,
    "/placements/{id}/no-show",
    placements::no_show,
    false,
    "Records that an approved citizen did not show up; the position frees up (coordinator or company).",
    "placements"
);

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
        ApiErrors, NotFound, Conflict, JsonBody,
        (status = 409, description = "Illegal transition, task not open, no free position, company not verified, or an overlapping placement", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No active card through the schedule, weekly hours exceeded, or the pay would cross the frikort amount without `accept_taxable_excess`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/placements/{id}/approve")]
pub async fn approve(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: OptionalJson<Approve>,
) -> Result<web::Json<ApprovalView>, ApiError> {
    principal.coordinator()?;
    let id = parse_id(&id, "placement")?;
    let accept_excess = body.0.is_some_and(|b| b.accept_taxable_excess);
    let approval = state.write(move |conn| Ok(placements::approve(conn, &principal, &id, accept_excess)?)).await?;
    Ok(web::Json(approval_view(approval)))
}
