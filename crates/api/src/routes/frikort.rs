//! Frikort cards (`/citizens/{id}/frikort…`, `/frikort/controls-due`): issue, deactivate,
//! reactivate, record the periodic control of the conditions, and the full history.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use smaajob_domain::Attestations;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, Problem};
use crate::http::{PageQuery, Paged, parse_id, utc};
use crate::json::Json;
use crate::responses::{ApiErrors, Conflict, Invalid, JsonBody, NotFound};
use crate::services::common::{frikort_year, today_copenhagen};
use crate::services::frikort::{
    self as service, Card, CorrectDecision as Correction, Corrected, Decide, DueControl, IssueCard as Issue,
    RecordControl as Control,
};
use crate::services::principal::Principal;
use crate::state::AppState;
use crate::views::{AdjustmentView, adjustment_view};

/// The caseworker's assessment of each eligibility condition (all must hold).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttestationsDto {
    /// The citizen is not in SU-eligible education.
    pub no_su_eligible_education: bool,
    /// No taxable work income over the threshold (10,320 DKK at 2024 level) in the last 12 months.
    pub no_taxable_work_income_over_threshold: bool,
    /// Residence in Denmark 9 of the last 10 years.
    pub residence_9_of_last_10_years: bool,
    /// In the target group of Serviceloven afsnit V.
    pub in_target_group: bool,
}

impl From<Attestations> for AttestationsDto {
    fn from(a: Attestations) -> Self {
        AttestationsDto {
            no_su_eligible_education: a.no_su_eligible_education,
            no_taxable_work_income_over_threshold: a.no_taxable_work_income_over_threshold,
            residence_9_of_last_10_years: a.residence_9_of_last_10_years,
            in_target_group: a.in_target_group,
        }
    }
}

impl From<AttestationsDto> for Attestations {
    fn from(a: AttestationsDto) -> Self {
        Attestations {
            no_su_eligible_education: a.no_su_eligible_education,
            no_taxable_work_income_over_threshold: a.no_taxable_work_income_over_threshold,
            residence_9_of_last_10_years: a.residence_9_of_last_10_years,
            in_target_group: a.in_target_group,
        }
    }
}

/// Issue of a card.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueCard {
    /// The 5-digit card number; generated when absent.
    #[schema(example = "04217")]
    pub number: Option<String>,
    /// The date the card is valid from; defaults to today (Europe/Copenhagen).
    #[serde(default, deserialize_with = "crate::http::strict_date::optional")]
    pub valid_from: Option<NaiveDate>,
    /// The caseworker's assessment of the conditions.
    pub attestations: AttestationsDto,
    /// A note on the decision.
    pub note: Option<String>,
}

/// Deactivation of a card.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeactivateCard {
    /// The time of the decision, from which work is no longer covered; defaults to now.
    pub decided_at: Option<DateTime<Utc>>,
    /// Why the card is deactivated.
    pub reason: String,
}

/// Reactivation of a deactivated card by a new decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReactivateCard {
    /// The time of the decision; defaults to now.
    pub decided_at: Option<DateTime<Utc>>,
    /// The caseworker's renewed assessment of the conditions.
    pub attestations: AttestationsDto,
    /// A note on the decision.
    pub reason: Option<String>,
}

/// The periodic control that the conditions still hold.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordControl {
    /// The date of the control; defaults to today. Not in the year of issue.
    #[serde(default, deserialize_with = "crate::http::strict_date::optional")]
    pub controlled_on: Option<NaiveDate>,
    /// The caseworker's assessment of the conditions; if any fails, deactivate the card instead.
    pub attestations: AttestationsDto,
    /// A note.
    pub note: Option<String>,
}

/// One decision in a card's history.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CardEventView {
    /// `issued`, `deactivated`, `reactivated` or `controlled`.
    pub kind: String,
    /// When the decision takes effect.
    pub effective_at: DateTime<Utc>,
    /// The originally recorded time, if the decision time was corrected.
    pub corrected_from: Option<DateTime<Utc>>,
    /// The reason or note given.
    pub reason: Option<String>,
    /// The attestations recorded with the decision.
    pub attestations: Option<AttestationsDto>,
    /// Who decided.
    pub actor: String,
    /// The municipality that decided.
    pub municipality: String,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

/// A citizen's frikort and its history.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CardView {
    /// The card holder.
    pub citizen_id: String,
    /// The 5-digit card number.
    pub number: String,
    /// `active` or `deactivated`.
    pub status: String,
    /// The date the card is valid from.
    pub valid_from: NaiveDate,
    /// The date it was issued.
    pub issued_on: NaiveDate,
    /// The date of the latest control of the conditions.
    pub last_control_on: Option<NaiveDate>,
    /// The latest calendar year in which the conditions must be controlled again.
    pub control_due_year: i32,
    /// Every decision, oldest first.
    pub history: Vec<CardEventView>,
    /// Only for a municipality the card holder has moved away from: when its responsibility
    /// ended. The card and its history are shown as they stood then; later decisions are the
    /// new municipality's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsible_until: Option<DateTime<Utc>>,
}

/// A card whose control is due.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ControlDue {
    /// The card holder.
    pub citizen_id: String,
    /// The card holder's name.
    pub citizen_name: String,
    /// The card number.
    pub number: String,
    /// The date of issue.
    pub issued_on: NaiveDate,
    /// The latest control, if any.
    pub last_control_on: Option<NaiveDate>,
    /// The year by which the control must happen.
    pub due_year: i32,
    /// True when the due year has passed without a control.
    pub overdue: bool,
}

/// The year to list controls for.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ControlsQuery {
    /// Calendar year; defaults to this year.
    #[serde(default, deserialize_with = "crate::http::saturating::optional_i32")]
    pub year: Option<i32>,
}

fn card_view(card: Card) -> CardView {
    let history = card
        .history
        .into_iter()
        .map(|e| CardEventView {
            kind: e.kind.as_str().to_owned(),
            attestations: e.attestations.map(|a| a.into_inner().into()),
            effective_at: utc(e.effective_at),
            corrected_from: e.corrected_from.map(utc),
            reason: e.reason,
            actor: e.actor,
            municipality: e.municipality,
            recorded_at: utc(e.recorded_at),
        })
        .collect();
    CardView {
        status: card.row.status.as_str().to_owned(),
        control_due_year: card.control_due_year,
        citizen_id: card.row.citizen_id,
        number: card.row.number,
        valid_from: card.row.valid_from,
        issued_on: card.row.issued_on,
        last_control_on: card.row.last_control_on,
        history,
        responsible_until: card.responsible_until.map(utc),
    }
}

fn control_due_view(d: DueControl) -> ControlDue {
    ControlDue {
        citizen_id: d.card.citizen_id,
        citizen_name: d.citizen_name,
        number: d.card.number,
        issued_on: d.card.issued_on,
        last_control_on: d.card.last_control_on,
        due_year: d.due_year,
        overdue: d.overdue,
    }
}

/// Issues a frikort to a citizen of the coordinator's municipality.
#[utoipa::path(
    tag = "frikort",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Citizen id")),
    request_body = IssueCard,
    responses(
        (status = 201, description = "Issued", body = CardView),
        ApiErrors, NotFound, Conflict, JsonBody,
        (status = 409, description = "The citizen already has a card, or the number is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Under 18, a condition not met, or invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/citizens/{id}/frikort")]
pub async fn issue_card(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<IssueCard>,
) -> Result<HttpResponse, ApiError> {
    // The role before the body, so a caller who may not issue learns that first.
    principal.coordinator()?;
    let id = parse_id(&id, "citizen")?;
    let b = body.into_inner();
    let cmd = Issue::parse(b.number.as_deref(), b.valid_from, b.attestations.into(), b.note.as_deref())?;
    let key = state.data_key.clone();
    let card = state.write(move |conn| Ok(service::issue(conn, &key, &principal, &id, cmd)?)).await?;
    let view = card_view(card);
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/citizens/{}/frikort", view.citizen_id)))
        .json(view))
}

/// A citizen's card and its full history.
#[utoipa::path(
    tag = "frikort",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Citizen id")),
    responses(
        (status = 200, body = CardView),
        ApiErrors, NotFound,
        (status = 404, description = "No such citizen, or no card", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/citizens/{id}/frikort")]
pub async fn get_card(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<CardView>, ApiError> {
    principal.coordinator()?;
    let id = parse_id(&id, "citizen")?;
    let card = state.read_audited(move |conn| Ok(service::get(conn, &principal, &id)?.into_parts())).await?;
    Ok(web::Json(card_view(card)))
}

/// Deactivates a card from the time of the decision.
#[utoipa::path(
    tag = "frikort",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Citizen id")),
    request_body = DeactivateCard,
    responses(
        (status = 200, body = CardView),
        ApiErrors, NotFound, Conflict, JsonBody,
        (status = 409, description = "The card is already deactivated", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/citizens/{id}/frikort/deactivate")]
pub async fn deactivate_card(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<DeactivateCard>,
) -> Result<web::Json<CardView>, ApiError> {
    principal.coordinator()?;
    let id = parse_id(&id, "citizen")?;
    let b = body.into_inner();
    let cmd = Decide::deactivation(b.decided_at, &b.reason)?;
    decide(&state, principal, id, cmd).await
}

/// Reactivates a deactivated card by a new decision (the conditions are assessed again).
#[utoipa::path(
    tag = "frikort",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Citizen id")),
    request_body = ReactivateCard,
    responses(
        (status = 200, body = CardView),
        ApiErrors, NotFound, Conflict, JsonBody,
        (status = 409, description = "The card is already active", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/citizens/{id}/frikort/reactivate")]
pub async fn reactivate_card(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<ReactivateCard>,
) -> Result<web::Json<CardView>, ApiError> {
    principal.coordinator()?;
    let id = parse_id(&id, "citizen")?;
    let b = body.into_inner();
    let cmd = Decide::reactivation(b.decided_at, b.attestations.into(), b.reason.as_deref())?;
    decide(&state, principal, id, cmd).await
}

/// Deactivation and reactivation are one use case behind two paths.
async fn decide(
    state: &AppState,
    principal: Principal,
    id: String,
    cmd: Decide,
) -> Result<web::Json<CardView>, ApiError> {
    let key = state.data_key.clone();
    let card = state.write(move |conn| Ok(service::decide(conn, &key, &principal, &id, cmd)?)).await?;
    Ok(web::Json(card_view(card)))
}

/// Records that the conditions were controlled and still hold.
#[utoipa::path(
    tag = "frikort",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Citizen id")),
    request_body = RecordControl,
    responses(
        (status = 200, body = CardView),
        ApiErrors, NotFound, Conflict, JsonBody,
        (status = 409, description = "The card is not active", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "In the year of issue, a condition not met, or invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/citizens/{id}/frikort/controls")]
pub async fn record_control(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<RecordControl>,
) -> Result<web::Json<CardView>, ApiError> {
    principal.coordinator()?;
    let id = parse_id(&id, "citizen")?;
    let b = body.into_inner();
    let cmd = Control::parse(b.controlled_on, b.attestations.into(), b.note.as_deref())?;
    let key = state.data_key.clone();
    let card = state.write(move |conn| Ok(service::control(conn, &key, &principal, &id, cmd)?)).await?;
    Ok(web::Json(card_view(card)))
}

/// Active cards of the coordinator's municipality whose control is due in the year (or overdue).
#[utoipa::path(
    tag = "frikort",
    security(("bearer" = [])),
    params(ControlsQuery, PageQuery),
    responses(
        (status = 200, body = Paged<ControlDue>),
        ApiErrors, Invalid,
    )
)]
#[get("/frikort/controls-due")]
pub async fn controls_due(
    state: web::Data<AppState>,
    principal: Principal,
    q: web::Query<ControlsQuery>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<ControlDue>>, ApiError> {
    principal.coordinator()?;
    let year = frikort_year("year", q.year.unwrap_or_else(|| today_copenhagen().year()))?;
    let page = page.into_inner().page()?;
    let (due, total) =
        state.read_audited(move |conn| Ok(service::controls_due(conn, &principal, year, page)?.into_parts())).await?;
    let items = due.into_iter().map(control_due_view).collect();
    Ok(web::Json(Paged { items, total, limit: page.limit, offset: page.offset }))
}

/// A corrected time for the card's latest deactivation or reactivation decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectDecision {
    /// The time the decision really took effect.
    pub decided_at: DateTime<Utc>,
    /// Why the recorded time was wrong.
    pub reason: String,
}

/// The card after a corrected decision time, and the splits that changed because of it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CorrectionReceipt {
    /// The card and its history.
    pub card: CardView,
    /// Payouts whose split changed; their employers correct eIndkomst.
    pub adjustments: Vec<AdjustmentView>,
}

/// Corrects when the latest deactivation or reactivation took effect; every year with payouts
/// is re-split and each changed split becomes an adjustment.
#[utoipa::path(
    tag = "frikort",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Citizen id")),
    request_body = CorrectDecision,
    responses(
        (status = 200, body = CorrectionReceipt),
        ApiErrors, NotFound, Conflict, JsonBody,
        (status = 409, description = "No deactivation or reactivation to correct", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/citizens/{id}/frikort/decision-time")]
pub async fn correct_decision_time(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<CorrectDecision>,
) -> Result<web::Json<CorrectionReceipt>, ApiError> {
    principal.coordinator()?;
    let id = parse_id(&id, "citizen")?;
    let b = body.into_inner();
    let cmd = Correction::parse(b.decided_at, &b.reason)?;
    let corrected: Corrected =
        state.write(move |conn| Ok(service::correct_decision_time(conn, &principal, &id, cmd)?)).await?;
    Ok(web::Json(CorrectionReceipt {
        card: card_view(corrected.card),
        adjustments: corrected.adjustments.iter().map(adjustment_view).collect(),
    }))
}
