//! Employments (`/employments`): the registration § 6 requires — period, expected hours and pay,
//! and a responsible contact person — made by the company itself or by a coordinator for it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use smaajob_domain::{Cpr, FrikortNumber, Money};
use smaajob_persistence::repo::citizens::{self, CitizenRow};
use smaajob_persistence::repo::employments::{self, EmploymentRow, EmploymentScope};
use smaajob_persistence::repo::{audit, companies, frikort, new_id, now};
use smaajob_persistence::{DbConn, RepoError};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, Problem};
use crate::http::{PageQuery, Paged, parse_id};
use crate::idempotency::{self, Idempotency, IdempotencyHeader, Reply};
use crate::routes::citizens::citizen_in_scope;
use crate::services::audit as audit_log;
use crate::services::common::{check_not_before_scheme, optional_text, today_copenhagen};
use crate::services::error::OrNotFound;
use crate::services::error::{Code, ServiceError};
use crate::services::error::{Fields, checked};
use crate::services::principal::Principal;
use crate::state::AppState;
use crate::views::{Contact, EmploymentView, employment_view, parse_contact};

/// Who is employed: a company names the citizen by CPR and frikort number; a coordinator may
/// use the citizen's id instead.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CitizenRef {
    /// The citizen's id (coordinators).
    pub id: Option<String>,
    /// The citizen's CPR number (with `frikort_number`).
    pub cpr: Option<String>,
    /// The citizen's 5-digit frikort number (with `cpr`).
    pub frikort_number: Option<String>,
}

/// Registration of an employment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEmployment {
    /// The employee.
    pub citizen: CitizenRef,
    /// The employer; a company token registers for its own company (omit, or give its own id).
    pub company_id: Option<String>,
    /// First day of work.
    pub start_date: NaiveDate,
    /// Last day, if known.
    pub end_date: Option<NaiveDate>,
    /// Expected hours per week (0–60).
    pub expected_hours_per_week: Option<f64>,
    /// Expected pay for the whole employment, DKK decimal string.
    pub expected_pay: Option<String>,
    /// The company's responsible contact person.
    pub contact: Contact,
}

/// Ending an employment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndEmployment {
    /// Last day of work; defaults to today. Not before the start or after the last payout's work.
    pub end_date: Option<NaiveDate>,
    /// Why it ended.
    pub reason: Option<String>,
}

/// Filter of the employment list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EmploymentFilter {
    /// `active` or `ended`.
    pub status: Option<String>,
}

/// Loads an employment the caller may see: the company's own, a coordinator's municipality's,
/// the citizen's own. Anything else is a 404.
pub fn employment_in_scope(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
) -> Result<(EmploymentRow, String, String, CitizenRow), ApiError> {
    let (e, citizen_name, company_name) = employments::find(conn, id).or_not_found("employment")?;
    let (citizen, _) = citizens::find(conn, &e.citizen_id)?;
    let visible = match principal {
        Principal::Company { company_id, .. } => *company_id == e.company_id,
        Principal::Coordinator { municipality, .. } => citizen.municipality == municipality.to_string(),
        Principal::Citizen { citizen_id, .. } => *citizen_id == e.citizen_id,
        Principal::NewCompany { .. } => return Err(ServiceError::Unregistered.into()),
    };
    if !visible {
        return Err(ApiError::not_found("employment"));
    }
    Ok((e, citizen_name, company_name, citizen))
}

fn not_matched() -> ApiError {
    ApiError::Unprocessable {
        code: Code::CitizenNotMatched,
        detail: "no active frikort matches that CPR number and card number".into(),
    }
}

/// The citizen a company names by CPR + card number: one generic refusal for every mismatch so
/// CPR numbers cannot be probed.
fn citizen_by_cpr_and_card(
    conn: &mut DbConn,
    state: &AppState,
    cpr: &Cpr,
    number: &FrikortNumber,
) -> Result<CitizenRow, ApiError> {
    let id = citizens::find_id_by_cpr_hash(conn, &state.data_key.lookup_hash(cpr.digits()))?.ok_or_else(not_matched)?;
    let card = frikort::find_by_citizen(conn, &id)?.ok_or_else(not_matched)?;
    if card.number != number.as_str() || card.status != "active" {
        return Err(not_matched());
    }
    Ok(citizens::find(conn, &id)?.0)
}

/// Registers an employment (company for itself, or a coordinator for a company).
#[utoipa::path(
    tag = "employments",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first response")),
    request_body = CreateEmployment,
    responses(
        (status = 201, description = "Registered", body = EmploymentView),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 415, response = Problem),
        (status = 422, description = "Invalid fields, no matching active card, or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/employments")]
pub async fn create_employment(
    state: web::Data<AppState>,
    principal: Principal,
    key: IdempotencyHeader,
    req: HttpRequest,
    body: web::Json<CreateEmployment>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let idem = Idempotency::new(&principal, key, &req, &b);
    let mut f = Fields::new();
    let by_card = match (&b.citizen.cpr, &b.citizen.frikort_number) {
        (Some(c), Some(n)) => {
            let cpr = f.check("citizen.cpr", Cpr::parse(c));
            let number = f.check("citizen.frikort_number", FrikortNumber::parse(n));
            Some((cpr, number))
        }
        (None, None) => None,
        _ => {
            f.push("citizen", "cpr_and_card_number", "give both `cpr` and `frikort_number`");
            None
        }
    };
    let company_id = match (&principal, &b.company_id) {
        (Principal::Company { company_id, .. }, None) => Some(company_id.clone()),
        (Principal::Company { company_id, .. }, Some(given)) if given == company_id => Some(company_id.clone()),
        (Principal::Company { .. }, Some(_)) => {
            return Err(ApiError::Forbidden("a company registers employments for itself only".into()));
        }
        (Principal::Coordinator { .. }, Some(given)) => Some(parse_id(given, "company")?),
        (Principal::Coordinator { .. }, None) => {
            f.push("company_id", "required", "coordinators name the company");
            None
        }
        (Principal::Citizen { .. }, _) => {
            return Err(ApiError::Forbidden("citizens cannot register employments".into()));
        }
        (Principal::NewCompany { .. }, _) => return Err(ServiceError::Unregistered.into()),
    };
    match (&principal, &b.citizen.id, &by_card) {
        (Principal::Company { .. }, Some(_), _) => {
            f.push("citizen.id", "not_allowed", "companies name the citizen by CPR and frikort number")
        }
        (_, None, None) => f.push("citizen", "required", "name the citizen"),
        _ => {}
    }
    if b.end_date.is_some_and(|e| e < b.start_date) {
        f.push("end_date", "before_start", "the end date is before the start date");
    }
    check_not_before_scheme(&mut f, "start_date", b.start_date);
    if b.expected_hours_per_week.is_some_and(|h| !(h > 0.0 && h <= 60.0)) {
        f.push("expected_hours_per_week", "out_of_range", "between 0 and 60 hours");
    }
    let expected_pay = f.check_opt("expected_pay", b.expected_pay.as_deref().map(Money::parse_non_negative));
    let contact = parse_contact(&mut f, &b.contact);
    f.finish()?;
    let (contact_name, contact_phone, contact_email) = checked(contact)?;
    let expected_pay = checked(expected_pay)?;
    let company_id = checked(company_id)?;
    let by_card = match by_card {
        Some((c, n)) => Some((checked(c)?, checked(n)?)),
        None => None,
    };
    let citizen_id = b.citizen.id.as_deref().map(|id| parse_id(id, "citizen")).transpose()?;
    let st = state.get_ref().clone();
    idempotency::run(&state, idem, move |conn| {
        let citizen = match (&principal, citizen_id, by_card) {
            (Principal::Coordinator { municipality, .. }, Some(id), _) => {
                let (c, card) = citizen_in_scope(conn, *municipality, &id)?;
                if card.is_none_or(|c| c.status != "active") {
                    return Err(ApiError::Unprocessable {
                        code: Code::NoActiveCard,
                        detail: "the citizen has no active frikort".into(),
                    });
                }
                c
            }
            (Principal::Coordinator { municipality, .. }, None, Some((cpr, number))) => {
                let c = citizen_by_cpr_and_card(conn, &st, &cpr, &number)?;
                if c.municipality != municipality.to_string() {
                    return Err(not_matched());
                }
                c
            }
            (_, _, Some((cpr, number))) => citizen_by_cpr_and_card(conn, &st, &cpr, &number)?,
            _ => return Err(ApiError::Internal("no citizen reference after validation".into())),
        };
        let company = companies::find(conn, &company_id).map_err(|e| match e {
            RepoError::NotFound => {
                ApiError::Unprocessable { code: Code::UnknownCompany, detail: "no company with that id".into() }
            }
            other => other.into(),
        })?;
        let row = EmploymentRow {
            id: new_id(),
            citizen_id: citizen.id.clone(),
            company_id: company.id.clone(),
            start_date: b.start_date,
            end_date: b.end_date,
            expected_hours_per_week: b.expected_hours_per_week,
            expected_pay_ore: expected_pay.map(Money::ore),
            contact_name,
            contact_phone,
            contact_email,
            registered_at: now(),
            registered_by: principal.sub().to_owned(),
            registered_by_role: principal.role().as_str().to_owned(),
            ended_at: None,
            end_reason: None,
        };
        employments::insert(conn, &row)?;
        let details = serde_json::json!({ "company_id": company.id, "start_date": row.start_date });
        audit::append(
            conn,
            &[audit_log::entry(
                &principal,
                "employment.registered",
                "employment",
                &row.id,
                Some(&citizen.municipality),
                Some(details),
            )],
        )?;
        Reply::new(StatusCode::CREATED, &employment_view((row, citizen.name, company.name)))
    })
    .await
}

/// Lists employments: a company its current and former frikort employees, a coordinator the
/// municipality's, a citizen their own.
#[utoipa::path(
    tag = "employments",
    security(("bearer" = [])),
    params(EmploymentFilter, PageQuery),
    responses(
        (status = 200, body = Paged<EmploymentView>),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 422, response = Problem),
    )
)]
#[get("/employments")]
pub async fn list_employments(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<EmploymentFilter>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<EmploymentView>>, ApiError> {
    let page = page.into_inner().page()?;
    let active = match filter.status.as_deref() {
        None => None,
        Some("active") => Some(true),
        Some("ended") => Some(false),
        Some(_) => return Err(ApiError::field("status", "status_filter", "use active or ended")),
    };
    let (scope, log_municipality) = match &principal {
        Principal::Company { company_id, .. } => (EmploymentScope::Company(company_id.clone()), None),
        Principal::Coordinator { municipality, .. } => {
            (EmploymentScope::Municipality(municipality.to_string()), Some(municipality.to_string()))
        }
        Principal::Citizen { citizen_id, .. } => (EmploymentScope::Citizen(citizen_id.clone()), None),
        Principal::NewCompany { .. } => return Err(ServiceError::Unregistered.into()),
    };
    let paged = state
        .read_audited(move |conn| {
            let (rows, total) = employments::list(conn, &scope, active, page)?;
            let mut entries = Vec::with_capacity(rows.len());
            for (e, _, _) in &rows {
                let m = match &log_municipality {
                    Some(m) => m.clone(),
                    None => citizens::find(conn, &e.citizen_id)?.0.municipality,
                };
                entries.push(audit_log::entry(&principal, "employment.listed", "employment", &e.id, Some(&m), None));
            }
            let audit_entries = entries;
            Ok((
                Paged {
                    items: rows.into_iter().map(employment_view).collect(),
                    total,
                    limit: page.limit,
                    offset: page.offset,
                },
                audit_entries,
            ))
        })
        .await?;
    Ok(web::Json(paged))
}

/// One employment.
#[utoipa::path(
    tag = "employments",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Employment id")),
    responses(
        (status = 200, body = EmploymentView),
        (status = 401, response = Problem),
        (status = 404, response = Problem),
    )
)]
#[get("/employments/{id}")]
pub async fn get_employment(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<EmploymentView>, ApiError> {
    let id = parse_id(&id, "employment")?;
    let view = state
        .read_audited(move |conn| {
            let (e, cn, con, citizen) = employment_in_scope(conn, &principal, &id)?;
            let audit_entries = vec![audit_log::entry(
                &principal,
                "employment.read",
                "employment",
                &id,
                Some(&citizen.municipality),
                None,
            )];
            Ok((employment_view((e, cn, con)), audit_entries))
        })
        .await?;
    Ok(web::Json(view))
}

/// Ends an employment: no further payouts can be registered on it.
#[utoipa::path(
    tag = "employments",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Employment id")),
    request_body = EndEmployment,
    responses(
        (status = 200, body = EmploymentView),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 409, description = "Already ended", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = Problem),
    )
)]
#[post("/employments/{id}/end")]
pub async fn end_employment(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: web::Json<EndEmployment>,
) -> Result<web::Json<EmploymentView>, ApiError> {
    if let Principal::Citizen { .. } = principal {
        return Err(ApiError::Forbidden("citizens cannot end employments".into()));
    }
    let id = parse_id(&id, "employment")?;
    let b = body.into_inner();
    let mut f = Fields::new();
    let reason = optional_text(&mut f, "reason", b.reason.as_deref(), 2000);
    f.finish()?;
    let view = state
        .write(move |conn| {
            let (_, cn, con, citizen) = employment_in_scope(conn, &principal, &id)?;
            // Locked, so a payout on it cannot slip in between the check below and the end.
            let mut e = employments::lock(conn, &id)?;
            if e.ended_at.is_some() {
                return Err(ApiError::Conflict {
                    code: Code::EmploymentEnded,
                    detail: "the employment has already ended".into(),
                });
            }
            let end = b.end_date.or(e.end_date).unwrap_or_else(today_copenhagen);
            if end < e.start_date {
                return Err(ApiError::field("end_date", "before_start", "the end date is before the start date"));
            }
            let last_worked = smaajob_persistence::repo::accounting::payouts_of_employment(conn, &e.id)?
                .into_iter()
                .filter(|(_, reversed)| !reversed)
                .map(|(p, _)| p.worked_to)
                .max();
            if let Some(last) = last_worked.filter(|l| *l > end) {
                return Err(ApiError::field(
                    "end_date",
                    "before_paid_work",
                    format!("a payout covers work until {last}"),
                ));
            }
            e.end_date = Some(end);
            e.ended_at = Some(now());
            e.end_reason = reason;
            employments::update(conn, &e)?;
            let details = serde_json::json!({ "end_date": end });
            audit::append(
                conn,
                &[audit_log::entry(
                    &principal,
                    "employment.ended",
                    "employment",
                    &id,
                    Some(&citizen.municipality),
                    Some(details),
                )],
            )?;
            Ok(employment_view((e, cn, con)))
        })
        .await?;
    Ok(web::Json(view))
}
