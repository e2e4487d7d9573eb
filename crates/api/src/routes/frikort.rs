//! Frikort cards (`/citizens/{id}/frikort…`, `/frikort/controls-due`): issue, deactivate,
//! reactivate, record the periodic control of the conditions, and the full history.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use smaajob_domain::{
    Attestations, CardEventKind, CardStatus, CardTransitionError, Cpr, EligibilityProblem, FrikortNumber,
    MunicipalityCode, check_eligibility, control_allowed_in, control_due_year, is_control_due, next_status,
};
use smaajob_persistence::DbConn;
use smaajob_persistence::crypto::DataKey;
use smaajob_persistence::repo::citizens::CitizenRow;
use smaajob_persistence::repo::frikort::{self, CardEventRow, CardRow};
use smaajob_persistence::repo::{audit, new_id, now, truncate_to_micros};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, Problem};
use crate::http::{parse_id, utc};
use crate::routes::citizens::citizen_in_scope;
use crate::services::allocation::reallocate_citizen;
use crate::services::audit as audit_log;
use crate::services::common::{
    check_not_before_scheme, frikort_year, optional_text, start_of_day_utc, today_copenhagen,
};
use crate::services::error::Code;
use crate::services::error::Fields;
use crate::services::principal::Principal;
use crate::state::AppState;
use crate::views::{AdjustmentView, adjustment_view};
use smaajob_domain::AdjustmentCause;

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
    pub year: Option<i32>,
}

fn card_view(conn: &mut DbConn, card: &CardRow) -> Result<CardView, ApiError> {
    let history = frikort::events(conn, &card.id)?
        .into_iter()
        .map(|e| {
            Ok(CardEventView {
                attestations: e
                    .attestations
                    .as_deref()
                    .map(serde_json::from_str)
                    .transpose()
                    .map_err(|err| ApiError::Internal(format!("stored attestations are corrupt: {err}")))?,
                kind: e.kind,
                effective_at: utc(e.effective_at),
                corrected_from: e.corrected_from.map(utc),
                reason: e.reason,
                actor: e.actor,
                municipality: e.municipality,
                recorded_at: utc(e.recorded_at),
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(CardView {
        citizen_id: card.citizen_id.clone(),
        number: card.number.clone(),
        status: card.status.clone(),
        valid_from: card.valid_from,
        issued_on: card.issued_on,
        last_control_on: card.last_control_on,
        control_due_year: control_due_year(card.issued_on.year(), card.last_control_on.map(|d| d.year())),
        history,
    })
}

fn status_of(card: &CardRow) -> Result<CardStatus, ApiError> {
    CardStatus::parse(&card.status).ok_or_else(|| ApiError::Internal("stored card status is invalid".into()))
}

fn transition(current: Option<CardStatus>, event: CardEventKind) -> Result<CardStatus, ApiError> {
    next_status(current, event).map_err(|e| {
        let code = match e {
            CardTransitionError::NoCard => Code::NoCard,
            CardTransitionError::AlreadyIssued => Code::CardExists,
            CardTransitionError::AlreadyActive => Code::CardAlreadyActive,
            CardTransitionError::AlreadyDeactivated => Code::CardAlreadyDeactivated,
            CardTransitionError::NotActive => Code::CardNotActive,
        };
        ApiError::Conflict { code, detail: e.to_string() }
    })
}

/// Checks age (from the CPR) and every attestation.
fn eligibility(key: &DataKey, citizen: &CitizenRow, on: NaiveDate, att: AttestationsDto) -> Result<String, ApiError> {
    let digits = key.decrypt(&citizen.id, &citizen.cpr_ciphertext)?;
    let cpr = Cpr::parse(&digits).map_err(|_| ApiError::Internal("stored CPR does not parse".into()))?;
    let attestations: Attestations = att.into();
    if let Err(problems) = check_eligibility(&cpr, on, &attestations) {
        let mut f = Fields::new();
        for p in problems {
            match p {
                EligibilityProblem::Underage { age } => {
                    return Err(ApiError::Unprocessable {
                        code: Code::Underage,
                        detail: format!("the CPR number says the citizen is {age} on {on}; a frikort requires age 18"),
                    });
                }
                EligibilityProblem::NotAttested(field) => f.push(
                    &format!("attestations.{field}"),
                    "condition_not_met",
                    "this eligibility condition must be met",
                ),
            }
        }
        f.finish()?;
    }
    serde_json::to_string(&att).map_err(|e| ApiError::Internal(e.to_string()))
}

fn decision_time(decided_at: Option<DateTime<Utc>>, not_before: NaiveDateTime) -> Result<NaiveDateTime, ApiError> {
    let now = now();
    let t = decided_at.map(|d| truncate_to_micros(d.naive_utc())).unwrap_or(now);
    if t > now + Duration::minutes(5) {
        return Err(ApiError::field("decided_at", "in_future", "a decision cannot take effect in the future"));
    }
    if t < not_before {
        return Err(ApiError::field(
            "decided_at",
            "before_last_decision",
            "the decision cannot precede the card's previous decision",
        ));
    }
    Ok(t)
}

fn event(
    card: &CardRow,
    kind: CardEventKind,
    effective_at: NaiveDateTime,
    reason: Option<String>,
    attestations: Option<String>,
    principal: &Principal,
    m: MunicipalityCode,
) -> CardEventRow {
    CardEventRow {
        id: new_id(),
        card_id: card.id.clone(),
        kind: kind.as_str().to_owned(),
        effective_at,
        corrected_from: None,
        reason,
        attestations,
        actor: principal.sub().to_owned(),
        municipality: m.to_string(),
        recorded_at: now(),
    }
}

fn card_of(conn: &mut DbConn, citizen_id: &str) -> Result<CardRow, ApiError> {
    frikort::find_by_citizen(conn, citizen_id)?.ok_or_else(|| ApiError::NotFound("the citizen has no frikort".into()))
}

const NUMBER_ATTEMPTS: usize = 50;

fn free_number(conn: &mut DbConn) -> Result<FrikortNumber, ApiError> {
    for _ in 0..NUMBER_ATTEMPTS {
        let candidate = FrikortNumber::from_index(rand::random_range(0..100_000))
            .ok_or_else(|| ApiError::Internal("card number out of range".into()))?;
        if !frikort::number_taken(conn, candidate.as_str())? {
            return Ok(candidate);
        }
    }
    Err(ApiError::Conflict {
        code: Code::CardNumbersExhausted,
        detail: "no free card number was found; give one explicitly".into(),
    })
}

/// Issues a frikort to a citizen of the coordinator's municipality.
#[utoipa::path(
    tag = "frikort",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Citizen id")),
    request_body = IssueCard,
    responses(
        (status = 201, description = "Issued", body = CardView),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 409, description = "The citizen already has a card, or the number is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Under 18, a condition not met, or invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/citizens/{id}/frikort")]
pub async fn issue_card(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: web::Json<IssueCard>,
) -> Result<HttpResponse, ApiError> {
    let own = principal.coordinator()?;
    let id = parse_id(&id, "citizen")?;
    let b = body.into_inner();
    let mut f = Fields::new();
    let number = f.check_opt("number", b.number.as_deref().map(FrikortNumber::parse));
    let note = optional_text(&mut f, "note", b.note.as_deref(), 2000);
    let today = today_copenhagen();
    let valid_from = b.valid_from.unwrap_or(today);
    check_not_before_scheme(&mut f, "valid_from", valid_from);
    if valid_from > today + Duration::days(366) {
        f.push("valid_from", "too_far_ahead", "valid_from can be at most a year ahead");
    }
    f.finish()?;
    let number = number.flatten();
    let key = state.data_key.clone();
    let view = state
        .write(move |conn| {
            let (citizen, _) = citizen_in_scope(conn, own, &id)?;
            let existing = frikort::find_by_citizen(conn, &id)?;
            let status = transition(existing.as_ref().map(status_of).transpose()?, CardEventKind::Issued)?;
            // The card covers work from valid_from on: the citizen must be 18 on that day.
            let attestations = eligibility(&key, &citizen, valid_from, b.attestations)?;
            let number = match number {
                Some(n) if frikort::number_taken(conn, n.as_str())? => {
                    return Err(ApiError::Conflict {
                        code: Code::CardNumberTaken,
                        detail: "that card number is already in use".into(),
                    });
                }
                Some(n) => n,
                None => free_number(conn)?,
            };
            let t = now();
            let card = CardRow {
                id: new_id(),
                citizen_id: id.clone(),
                number: number.as_str().to_owned(),
                status: status.as_str().to_owned(),
                valid_from,
                issued_on: today,
                last_control_on: None,
                status_changed_at: t,
                created_at: t,
                updated_at: t,
            };
            frikort::insert(conn, &card).map_err(|e| {
                if e.is_conflict_on("number") {
                    ApiError::Conflict {
                        code: Code::CardNumberTaken,
                        detail: "that card number is already in use".into(),
                    }
                } else if e.is_conflict_on("citizen_id") {
                    ApiError::Conflict { code: Code::CardExists, detail: "the citizen already has a frikort".into() }
                } else {
                    e.into()
                }
            })?;
            let ev = event(
                &card,
                CardEventKind::Issued,
                start_of_day_utc(valid_from),
                note,
                Some(attestations),
                &principal,
                own,
            );
            frikort::append_event(conn, &ev)?;
            let details = serde_json::json!({ "number": card.number, "valid_from": valid_from });
            audit::append(
                conn,
                &[audit_log::entry(
                    &principal,
                    "frikort.issued",
                    "citizen",
                    &id,
                    Some(&citizen.municipality),
                    Some(details),
                )],
            )?;
            card_view(conn, &card)
        })
        .await?;
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
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, description = "No such citizen, or no card", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/citizens/{id}/frikort")]
pub async fn get_card(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<CardView>, ApiError> {
    let own = principal.coordinator()?;
    let id = parse_id(&id, "citizen")?;
    let view = state
        .read_audited(move |conn| {
            let (citizen, _) = citizen_in_scope(conn, own, &id)?;
            let card = card_of(conn, &id)?;
            let audit_entries =
                vec![audit_log::entry(&principal, "frikort.read", "citizen", &id, Some(&citizen.municipality), None)];
            Ok((card_view(conn, &card)?, audit_entries))
        })
        .await?;
    Ok(web::Json(view))
}

/// Deactivates a card from the time of the decision.
#[utoipa::path(
    tag = "frikort",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Citizen id")),
    request_body = DeactivateCard,
    responses(
        (status = 200, body = CardView),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 409, description = "The card is already deactivated", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = Problem),
    )
)]
#[post("/citizens/{id}/frikort/deactivate")]
pub async fn deactivate_card(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: web::Json<DeactivateCard>,
) -> Result<web::Json<CardView>, ApiError> {
    let own = principal.coordinator()?;
    let id = parse_id(&id, "citizen")?;
    let b = body.into_inner();
    let mut f = Fields::new();
    let reason = optional_text(&mut f, "reason", Some(&b.reason), 2000);
    if reason.is_none() && b.reason.trim().is_empty() {
        f.push("reason", "required", "give the reason for the decision");
    }
    f.finish()?;
    let view = state
        .write(move |conn| {
            let (citizen, _) = citizen_in_scope(conn, own, &id)?;
            let mut card = card_of(conn, &id)?;
            let status = transition(Some(status_of(&card)?), CardEventKind::Deactivated)?;
            // A card deactivated before its valid-from date never becomes active: the decision
            // takes effect when the card would have, which keeps the history in order.
            let at = decision_time(b.decided_at, card.status_changed_at)?.max(start_of_day_utc(card.valid_from));
            card.status = status.as_str().to_owned();
            card.status_changed_at = at;
            card.updated_at = now();
            frikort::update(conn, &card)?;
            let ev = event(&card, CardEventKind::Deactivated, at, reason, None, &principal, own);
            frikort::append_event(conn, &ev)?;
            // A back-dated decision can uncover work already paid for.
            let adjusted = reallocate_citizen(conn, &id, AdjustmentCause::CardChanged, &ev.id)?.len();
            let details = serde_json::json!({ "number": card.number, "decided_at": utc(at), "adjustments": adjusted });
            audit::append(
                conn,
                &[audit_log::entry(
                    &principal,
                    "frikort.deactivated",
                    "citizen",
                    &id,
                    Some(&citizen.municipality),
                    Some(details),
                )],
            )?;
            card_view(conn, &card)
        })
        .await?;
    Ok(web::Json(view))
}

/// Reactivates a deactivated card by a new decision (the conditions are assessed again).
#[utoipa::path(
    tag = "frikort",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Citizen id")),
    request_body = ReactivateCard,
    responses(
        (status = 200, body = CardView),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 409, description = "The card is already active", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = Problem),
    )
)]
#[post("/citizens/{id}/frikort/reactivate")]
pub async fn reactivate_card(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: web::Json<ReactivateCard>,
) -> Result<web::Json<CardView>, ApiError> {
    let own = principal.coordinator()?;
    let id = parse_id(&id, "citizen")?;
    let b = body.into_inner();
    let mut f = Fields::new();
    let reason = optional_text(&mut f, "reason", b.reason.as_deref(), 2000);
    f.finish()?;
    let key = state.data_key.clone();
    let view = state
        .write(move |conn| {
            let (citizen, _) = citizen_in_scope(conn, own, &id)?;
            let mut card = card_of(conn, &id)?;
            let status = transition(Some(status_of(&card)?), CardEventKind::Reactivated)?;
            let at = decision_time(b.decided_at, card.status_changed_at)?;
            let attestations = eligibility(&key, &citizen, today_copenhagen(), b.attestations)?;
            card.status = status.as_str().to_owned();
            card.status_changed_at = at;
            card.updated_at = now();
            frikort::update(conn, &card)?;
            let ev = event(&card, CardEventKind::Reactivated, at, reason, Some(attestations), &principal, own);
            frikort::append_event(conn, &ev)?;
            let adjusted = reallocate_citizen(conn, &id, AdjustmentCause::CardChanged, &ev.id)?.len();
            let details = serde_json::json!({ "number": card.number, "decided_at": utc(at), "adjustments": adjusted });
            audit::append(
                conn,
                &[audit_log::entry(
                    &principal,
                    "frikort.reactivated",
                    "citizen",
                    &id,
                    Some(&citizen.municipality),
                    Some(details),
                )],
            )?;
            card_view(conn, &card)
        })
        .await?;
    Ok(web::Json(view))
}

/// Records that the conditions were controlled and still hold.
#[utoipa::path(
    tag = "frikort",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Citizen id")),
    request_body = RecordControl,
    responses(
        (status = 200, body = CardView),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 409, description = "The card is not active", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "In the year of issue, a condition not met, or invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/citizens/{id}/frikort/controls")]
pub async fn record_control(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: web::Json<RecordControl>,
) -> Result<web::Json<CardView>, ApiError> {
    let own = principal.coordinator()?;
    let id = parse_id(&id, "citizen")?;
    let b = body.into_inner();
    let mut f = Fields::new();
    let note = optional_text(&mut f, "note", b.note.as_deref(), 2000);
    let today = today_copenhagen();
    let on = b.controlled_on.unwrap_or(today);
    if on > today {
        f.push("controlled_on", "in_future", "a control cannot be recorded ahead of time");
    }
    f.finish()?;
    let key = state.data_key.clone();
    let view = state
        .write(move |conn| {
            let (citizen, _) = citizen_in_scope(conn, own, &id)?;
            let mut card = card_of(conn, &id)?;
            transition(Some(status_of(&card)?), CardEventKind::Controlled)?;
            if !control_allowed_in(card.issued_on.year(), on.year()) {
                return Err(ApiError::Unprocessable {
                    code: Code::ControlInIssueYear,
                    detail: "the control of the conditions happens from the calendar year after the year of issue"
                        .into(),
                });
            }
            if card.last_control_on.is_some_and(|last| on < last) {
                return Err(ApiError::field(
                    "controlled_on",
                    "before_last_control",
                    "a later control is already recorded",
                ));
            }
            let attestations = eligibility(&key, &citizen, on, b.attestations).map_err(|e| match e {
                ApiError::Validation(errors) => ApiError::Unprocessable {
                    code: Code::ConditionsNotMet,
                    detail: format!(
                        "conditions not met ({}); deactivate the card instead",
                        errors
                            .iter()
                            .map(|e| e.field.trim_start_matches("attestations."))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                },
                other => other,
            })?;
            card.last_control_on = Some(on);
            card.updated_at = now();
            frikort::update(conn, &card)?;
            frikort::append_event(
                conn,
                &event(
                    &card,
                    CardEventKind::Controlled,
                    start_of_day_utc(on),
                    note,
                    Some(attestations),
                    &principal,
                    own,
                ),
            )?;
            let details = serde_json::json!({ "number": card.number, "controlled_on": on });
            audit::append(
                conn,
                &[audit_log::entry(
                    &principal,
                    "frikort.controlled",
                    "citizen",
                    &id,
                    Some(&citizen.municipality),
                    Some(details),
                )],
            )?;
            card_view(conn, &card)
        })
        .await?;
    Ok(web::Json(view))
}

/// Active cards of the coordinator's municipality whose control is due in the year (or overdue).
#[utoipa::path(
    tag = "frikort",
    security(("bearer" = [])),
    params(ControlsQuery),
    responses(
        (status = 200, body = Vec<ControlDue>),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 422, response = Problem),
    )
)]
#[get("/frikort/controls-due")]
pub async fn controls_due(
    state: web::Data<AppState>,
    principal: Principal,
    q: web::Query<ControlsQuery>,
) -> Result<web::Json<Vec<ControlDue>>, ApiError> {
    let own = principal.coordinator()?;
    let year = frikort_year("year", q.year.unwrap_or_else(|| today_copenhagen().year()))?;
    let due = state
        .read_audited(move |conn| {
            let m = own.to_string();
            let due: Vec<ControlDue> = frikort::active_cards_in(conn, &m)?
                .into_iter()
                .filter(|(c, _)| is_control_due(c.issued_on.year(), c.last_control_on.map(|d| d.year()), year))
                .map(|(c, name)| {
                    let due_year = control_due_year(c.issued_on.year(), c.last_control_on.map(|d| d.year()));
                    ControlDue {
                        citizen_id: c.citizen_id,
                        citizen_name: name,
                        number: c.number,
                        issued_on: c.issued_on,
                        last_control_on: c.last_control_on,
                        due_year,
                        overdue: due_year < year,
                    }
                })
                .collect();
            let entries: Vec<_> = due
                .iter()
                .map(|d| {
                    audit_log::entry(&principal, "frikort.control_listed", "citizen", &d.citizen_id, Some(&m), None)
                })
                .collect();
            Ok((due, entries))
        })
        .await?;
    Ok(web::Json(due))
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
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 409, description = "No deactivation or reactivation to correct", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = Problem),
    )
)]
#[post("/citizens/{id}/frikort/decision-time")]
pub async fn correct_decision_time(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: web::Json<CorrectDecision>,
) -> Result<web::Json<CorrectionReceipt>, ApiError> {
    let own = principal.coordinator()?;
    let id = parse_id(&id, "citizen")?;
    let b = body.into_inner();
    let mut f = Fields::new();
    let reason = optional_text(&mut f, "reason", Some(&b.reason), 2000);
    if reason.is_none() {
        f.push("reason", "required", "give the reason for the correction");
    }
    f.finish()?;
    let receipt = state
        .write(move |conn| {
            let (citizen, _) = citizen_in_scope(conn, own, &id)?;
            let mut card = card_of(conn, &id)?;
            let history = frikort::events(conn, &card.id)?;
            let decisions: Vec<&CardEventRow> =
                history.iter().filter(|e| e.kind != CardEventKind::Controlled.as_str()).collect();
            let Some((last, earlier)) = decisions.split_last() else {
                return Err(ApiError::Internal("a card without an issue event".into()));
            };
            if last.kind == CardEventKind::Issued.as_str() {
                return Err(ApiError::Conflict {
                    code: Code::NoDecisionToCorrect,
                    detail: "the card has no deactivation or reactivation to correct".into(),
                });
            }
            let previous = earlier.last().map_or(NaiveDateTime::MIN, |e| e.effective_at);
            let at = decision_time(Some(b.decided_at), previous)?;
            frikort::correct_event_time(conn, last, at)?;
            card.status_changed_at = at;
            card.updated_at = now();
            frikort::update(conn, &card)?;
            let adjustments = reallocate_citizen(conn, &id, AdjustmentCause::CardChanged, &last.id)?;
            let details = serde_json::json!({
                "event_id": last.id, "kind": last.kind, "from": utc(last.effective_at), "to": utc(at),
                "reason": reason, "adjustments": adjustments.len(),
            });
            audit::append(
                conn,
                &[audit_log::entry(
                    &principal,
                    "frikort.decision_corrected",
                    "citizen",
                    &id,
                    Some(&citizen.municipality),
                    Some(details),
                )],
            )?;
            Ok(CorrectionReceipt {
                card: card_view(conn, &card)?,
                adjustments: adjustments.iter().map(adjustment_view).collect(),
            })
        })
        .await?;
    Ok(web::Json(receipt))
}
