//! `GET /atp-rates`, `GET /atp-rates/{year}`: the ATP rates per year for casual workers, for every
//! role; `PUT /atp-rates/{year}`: the operator sets one, with a reason.

use actix_web::{get, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use smaajob_persistence::repo::atp_rates::AtpRateRow;
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::http::{path_cap_year, utc};
use crate::json::Json;
use crate::responses::{ApiErrors, JsonBody, NotFound};
use crate::services::atp_rates::{self as service, AtpRateOfYear, SetAtpRate};
use crate::services::caps::ensure_reader;
use crate::services::principal::Principal;
use crate::state::AppState;

/// The ATP rate of one calendar year (of the payment date).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AtpRateView {
    /// The calendar year.
    pub year: i32,
    /// The employee's part per hour paid (withheld from the wage), DKK.
    #[schema(example = "0.53")]
    pub employee_per_hour: String,
    /// The employer's part per hour paid, DKK.
    #[schema(example = "1.06")]
    pub employer_per_hour: String,
    /// True when the year has no rate of its own and the latest earlier year's is used until it
    /// is set.
    pub provisional: bool,
    /// The year whose rate is used (differs from `year` only when provisional).
    pub source_year: i32,
    /// The operator who set the rate used.
    pub set_by: String,
    /// When that rate was set.
    pub set_at: DateTime<Utc>,
    /// Why it was set.
    pub reason: String,
}

/// A year's ATP rate to set.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetAtpRateRequest {
    /// The employee's part per hour paid, DKK decimal string, 0 to 100.
    #[schema(example = "0.53")]
    pub employee_per_hour: String,
    /// The employer's part per hour paid, DKK decimal string, 0 to 100.
    #[schema(example = "1.06")]
    pub employer_per_hour: String,
    /// Why (required; 1–500 characters), e.g. the announcement of the year's ATP rates.
    #[schema(example = "ATP-satser 2026 for timelønnede")]
    pub reason: Option<String>,
}

fn row_view(r: &AtpRateRow) -> AtpRateView {
    AtpRateView {
        year: r.year,
        employee_per_hour: r.employee_per_hour.to_string(),
        employer_per_hour: r.employer_per_hour.to_string(),
        provisional: false,
        source_year: r.year,
        set_by: r.set_by.clone(),
        set_at: utc(r.set_at),
        reason: r.reason.clone(),
    }
}

fn view(r: &AtpRateOfYear) -> AtpRateView {
    AtpRateView { year: r.year, provisional: r.resolved.provisional, ..row_view(&r.source) }
}

/// Every year with an ATP rate of its own, in year order.
#[utoipa::path(
    tag = "caps",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<AtpRateView>),
        ApiErrors,
    )
)]
#[get("/atp-rates")]
pub async fn list_atp_rates(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<web::Json<Vec<AtpRateView>>, ApiError> {
    ensure_reader(&principal)?;
    let rows = state.read(move |conn| Ok(service::list(conn, &principal)?)).await?;
    Ok(web::Json(rows.iter().map(row_view).collect()))
}

/// One year's ATP rate in force: its own, or the latest earlier year's, provisionally.
#[utoipa::path(
    tag = "caps",
    security(("bearer" = [])),
    params(("year" = i32, Path, description = "Calendar year, 2019–2100")),
    responses(
        (status = 200, body = AtpRateView),
        ApiErrors, NotFound,
        (status = 404, description = "No year up to it has an ATP rate", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/atp-rates/{year}")]
pub async fn get_atp_rate(
    state: web::Data<AppState>,
    principal: Principal,
    year: web::Path<String>,
) -> Result<web::Json<AtpRateView>, ApiError> {
    ensure_reader(&principal)?;
    let year = path_cap_year(&year)?;
    let rate = state.read(move |conn| Ok(service::get(conn, &principal, year)?)).await?;
    Ok(web::Json(view(&rate)))
}

/// Sets a year's ATP rate (the operator), replacing any earlier one; audited with the previous
/// rate.
#[utoipa::path(
    tag = "caps",
    security(("bearer" = [])),
    params(("year" = i32, Path, description = "Calendar year, 2019–2100")),
    request_body = SetAtpRateRequest,
    responses(
        (status = 200, description = "Set", body = AtpRateView),
        ApiErrors, NotFound, JsonBody,
    )
)]
#[put("/atp-rates/{year}")]
pub async fn set_atp_rate(
    state: web::Data<AppState>,
    principal: Principal,
    year: web::Path<String>,
    body: Json<SetAtpRateRequest>,
) -> Result<web::Json<AtpRateView>, ApiError> {
    principal.operator()?;
    let year = path_cap_year(&year)?;
    let cmd = SetAtpRate::parse(year.get(), &body.employee_per_hour, &body.employer_per_hour, body.reason.as_deref())?;
    let set = state.write(move |conn| Ok(service::set(conn, &principal, &cmd)?)).await?;
    Ok(web::Json(view(&set)))
}
