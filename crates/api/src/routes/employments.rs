//! Employments (`/employments`): the registration § 6 requires — period, expected hours and pay,
//! and a responsible contact person — made by the company itself or by a coordinator for it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use smaajob_domain::{CompanyId, Cpr, EmploymentId, FrikortNumber, Money, WeeklyHours};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, Problem};
use crate::guess_guard;
use crate::http::{PageQuery, Paged, parse_id, path_id};
use crate::idempotency::{self, Idempotency, IdempotencyHeader, Reply};
use crate::json::Json;
use crate::responses::{ApiErrors, Conflict, Invalid, JsonBody, NotFound};
use crate::services::common::{check_not_before_scheme, optional_text};
use crate::services::companies::unknown_company;
use crate::services::employments::{self, ContactPerson, Employee, Employment, NewEmployment};
use crate::services::error::{Code, Fields, checked};
use crate::services::guesses::GuessAttempt;
use crate::services::principal::Principal;
use crate::state::AppState;
use crate::views::{Contact, EmploymentView, employment_view, parse_contact};

/// A citizen as a company knows them: CPR number and frikort number, given together.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CitizenCard {
    /// The citizen's CPR number (with `frikort_number`).
    pub cpr: Option<String>,
    /// The citizen's 5-digit frikort number (with `cpr`).
    pub frikort_number: Option<String>,
}

/// Registration of an employment. A company names the employee by CPR and frikort number
/// (`citizen`); a coordinator may use the citizen's id (`citizen_id`) instead.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEmployment {
    /// The employee's id (coordinators).
    pub citizen_id: Option<String>,
    /// The employee's CPR and frikort number.
    pub citizen: Option<CitizenCard>,
    /// The employer; a company token registers for its own company (omit, or give its own id).
    pub company_id: Option<String>,
    /// First day of work.
    #[serde(deserialize_with = "crate::http::strict_date::required")]
    pub start_date: NaiveDate,
    /// Last day, if known.
    #[serde(default, deserialize_with = "crate::http::strict_date::optional")]
    pub end_date: Option<NaiveDate>,
    /// Expected hours per week, decimal hours above 0 and at most 60 (`"7.5"`).
    #[schema(example = "7.5")]
    pub expected_hours_per_week: Option<String>,
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
    #[serde(default, deserialize_with = "crate::http::strict_date::optional")]
    pub end_date: Option<NaiveDate>,
    /// Why it ended.
    pub reason: Option<String>,
}

fn view(e: Employment) -> EmploymentView {
    employment_view((e.employment, e.citizen_name, e.company_name))
}

/// Parses a registration into a command: every invalid field is named in one answer.
fn parse_registration(principal: &Principal, b: &CreateEmployment) -> Result<NewEmployment, ApiError> {
    let company_id = employments::employer(principal, b.company_id.as_deref())?;
    let mut f = Fields::new();
    let by_card = match b.citizen.as_ref().map(|c| (&c.cpr, &c.frikort_number)) {
        Some((Some(c), Some(n))) => {
            let cpr = f.check("citizen.cpr", Cpr::parse(c));
            let number = f.check("citizen.frikort_number", FrikortNumber::parse(n));
            Some((cpr, number))
        }
        None => None,
        Some(_) => {
            f.push("citizen", "cpr_and_card_number", "give both `cpr` and `frikort_number`");
            None
        }
    };
    if company_id.is_none() {
        f.push("company_id", "required", "coordinators name the company");
    }
    match (principal, &b.citizen_id, &by_card) {
        (Principal::Company { .. }, Some(_), _) => {
            f.push("citizen_id", "not_allowed", "companies name the citizen by CPR and frikort number")
        }
        (_, None, None) => f.push("citizen", "required", "name the citizen"),
        _ => {}
    }
    if b.end_date.is_some_and(|e| e < b.start_date) {
        f.push("end_date", "before_start", "the end date is before the start date");
    }
    check_not_before_scheme(&mut f, "start_date", b.start_date);
    let expected_hours =
        f.check_opt("expected_hours_per_week", b.expected_hours_per_week.as_deref().map(WeeklyHours::parse));
    let expected_pay = f.check_opt("expected_pay", b.expected_pay.as_deref().map(Money::parse_non_negative));
    let contact = parse_contact(&mut f, &b.contact);
    f.finish()?;
    let (name, phone, email) = checked(contact)?;
    let company_id = CompanyId::parse(&checked(company_id)?).map_err(|_| unknown_company())?;
    let employee = match (by_card, &b.citizen_id) {
        (Some((cpr, number)), _) => Employee::Card { cpr: checked(cpr)?, number: checked(number)? },
        (None, Some(id)) => Employee::Id(parse_id(id, "citizen")?),
        (None, None) => return Err(ApiError::Internal("no citizen reference after validation".into())),
    };
    Ok(NewEmployment {
        employee,
        company_id,
        start_date: b.start_date,
        end_date: b.end_date,
        expected_hours_per_week: checked(expected_hours)?,
        expected_pay: checked(expected_pay)?,
        contact: ContactPerson { name, phone, email },
    })
}

/// Registers an employment (company for itself, or a coordinator for a company).
#[utoipa::path(
    tag = "employments",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first response")),
    request_body = CreateEmployment,
    responses(
        (status = 201, description = "Registered", body = EmploymentView),
        ApiErrors, NotFound, JsonBody,
        (status = 422, description = "Invalid fields, no matching active card, or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong CPR or frikort numbers from this company, coordinator or address, or at this CPR number (`too_many_guesses`; a right guess is refused too until the lock ends), or too many requests from this address (`rate_limited`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    )
)]
#[post("/employments", wrap = "actix_web::middleware::from_fn(crate::guess_guard::limit_source)")]
pub async fn create_employment(
    state: web::Data<AppState>,
    principal: Principal,
    key: IdempotencyHeader,
    req: HttpRequest,
    body: Json<CreateEmployment>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let idem = Idempotency::new(&principal, key, &req, &b);
    let new = parse_registration(&principal, &b)?;
    let data_key = state.data_key.clone();
    // Naming the citizen by CPR and card number is a guess; naming them by id (coordinators) is not.
    let attempt = match &new.employee {
        Employee::Card { cpr, .. } => {
            Some(GuessAttempt::new(&principal, req.peer_addr().map(|a| a.ip()), Some(cpr), &data_key))
        }
        Employee::Id(_) => None,
    };
    let answer = idempotency::run(&state, idem, move |conn| {
        let employment = employments::register(conn, &data_key, &principal, new)?;
        Reply::new(StatusCode::CREATED, &view(employment))
    });
    match attempt {
        Some(attempt) => guess_guard::guarded(&state, attempt, |e| e.code() == Code::CitizenNotMatched, answer).await,
        None => answer.await,
    }
}

/// Lists employments: a company its current and former frikort employees, a coordinator the
/// municipality's, a citizen their own.
#[utoipa::path(
    tag = "employments",
    security(("bearer" = [])),
    params(EmploymentFilter, PageQuery),
    responses(
        (status = 200, body = Paged<EmploymentView>),
        ApiErrors, Invalid,
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
    let (items, total) = state
        .read_audited(move |conn| {
            let read = employments::list(conn, &principal, active, page)?;
            Ok((read.value, read.entries))
        })
        .await?;
    Ok(web::Json(Paged { items: items.into_iter().map(view).collect(), total, limit: page.limit, offset: page.offset }))
}

/// One employment.
#[utoipa::path(
    tag = "employments",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Employment id")),
    responses(
        (status = 200, body = EmploymentView),
        ApiErrors, NotFound,
    )
)]
#[get("/employments/{id}")]
pub async fn get_employment(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<EmploymentView>, ApiError> {
    let id = path_id::<EmploymentId>(&id)?;
    let employment = state
        .read_audited(move |conn| {
            let read = employments::get(conn, &principal, &id)?;
            Ok((read.value, read.entries))
        })
        .await?;
    Ok(web::Json(view(employment)))
}

/// Ends an employment: no further payouts can be registered on it.
#[utoipa::path(
    tag = "employments",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Employment id")),
    request_body = EndEmployment,
    responses(
        (status = 200, body = EmploymentView),
        ApiErrors, NotFound, Conflict, JsonBody,
        (status = 409, description = "Already ended", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/employments/{id}/end")]
pub async fn end_employment(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<EndEmployment>,
) -> Result<web::Json<EmploymentView>, ApiError> {
    employments::may_end(&principal)?;
    let id = path_id::<EmploymentId>(&id)?;
    let b = body.into_inner();
    let mut f = Fields::new();
    let reason = optional_text(&mut f, "reason", b.reason.as_deref(), 2000);
    f.finish()?;
    let employment = state.write(move |conn| Ok(employments::end(conn, &principal, &id, b.end_date, reason)?)).await?;
    Ok(web::Json(view(employment)))
}

/// Filter of the employment list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EmploymentFilter {
    /// `active` or `ended`.
    pub status: Option<String>,
}
