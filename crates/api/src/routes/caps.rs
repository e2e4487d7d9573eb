//! `GET /caps`, `GET /caps/{year}`, `PUT /caps/{year}`: the yearly frikort amounts.

use actix_web::{get, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use smaajob_domain::CapYear;
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::http::{PageQuery, Paged, path_year, utc};
use crate::json::Json;
use crate::responses::{ApiErrors, Conflict, Invalid, JsonBody, NotFound};
use crate::services::caps::{self as service, Cap, SetCap as NewCap};
use crate::services::principal::Principal;
use crate::state::AppState;

/// The cap (beløbsgrænse) of one calendar year.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CapView {
    /// The calendar year.
    pub year: i32,
    /// The tax-free amount in DKK, a decimal string.
    #[schema(example = "42766.00")]
    pub amount: String,
    /// True when no cap is set for this year yet and the latest earlier year's amount is used
    /// until the real cap is entered.
    pub provisional: bool,
    /// The year whose amount is used (differs from `year` only when provisional).
    pub source_year: i32,
    /// The regulation percentage (satsreguleringsprocent) the amount was computed from, if any.
    pub regulation_percent: Option<String>,
    /// Who set the amount (`law` for the statutory amounts); absent when provisional.
    pub set_by: Option<String>,
    /// When the amount was set; absent when provisional.
    pub set_at: Option<DateTime<Utc>>,
}

/// A new cap for a year: exactly one of `amount` or `regulation_percent`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetCap {
    /// The amount in whole DKK, a decimal string (e.g. `"43500"` or `"43500.00"`).
    pub amount: Option<String>,
    /// The regulation percentage applied to the previous year's cap (e.g. `"2.9"`); the result
    /// is rounded to the nearest whole krone.
    pub regulation_percent: Option<String>,
}

fn view(cap: Cap) -> CapView {
    let r = cap.resolved;
    CapView {
        year: r.year,
        amount: r.amount.money().to_string(),
        provisional: r.provisional,
        source_year: r.source_year,
        regulation_percent: cap.set.as_ref().and_then(|s| s.regulation_percent.clone()),
        set_by: cap.set.as_ref().map(|s| s.set_by.clone()),
        set_at: cap.set.as_ref().map(|s| utc(s.set_at)),
    }
}

/// Every year from 2019 through next year (or the last year set), provisional where not set,
/// oldest first, one page at a time.
#[utoipa::path(
    tag = "caps",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "The caps, oldest first", body = Paged<CapView>),
        ApiErrors, Invalid,
    )
)]
#[get("/caps")]
pub async fn list_caps(
    state: web::Data<AppState>,
    principal: Principal,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<CapView>>, ApiError> {
    service::ensure_reader(&principal)?;
    let page = page.into_inner().page()?;
    let list = state.read(move |conn| Ok(service::list(conn, &principal, page)?)).await?;
    let items = list.items.into_iter().map(view).collect();
    Ok(web::Json(Paged { items, total: list.total, limit: list.page.limit, offset: list.page.offset }))
}

/// One year's cap, provisional if it is not set yet.
#[utoipa::path(
    tag = "caps",
    security(("bearer" = [])),
    params(("year" = i32, Path, description = "Calendar year, 2019–2100")),
    responses(
        (status = 200, body = CapView),
        ApiErrors, NotFound,
        (status = 404, description = "No cap exists for that year", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/caps/{year}")]
pub async fn get_cap(
    state: web::Data<AppState>,
    principal: Principal,
    year: web::Path<String>,
) -> Result<web::Json<CapView>, ApiError> {
    service::ensure_reader(&principal)?;
    let year = path_year(&year)
        .and_then(|y| CapYear::parse(y).ok())
        .ok_or_else(|| ApiError::NotFound("the frikort exists from 2019 to 2100".into()))?;
    let cap = state.read(move |conn| Ok(service::get(conn, &principal, year)?)).await?;
    Ok(web::Json(view(cap)))
}

/// Sets a year's cap by amount or by regulation of the previous year's cap (coordinator), and
/// re-splits every citizen-year that uses it; each changed split becomes an adjustment.
#[utoipa::path(
    tag = "caps",
    security(("bearer" = [])),
    params(("year" = i32, Path, description = "Calendar year, 2019–2100")),
    request_body = SetCap,
    responses(
        (status = 200, description = "The cap now in force", body = CapView),
        ApiErrors, NotFound, Conflict, JsonBody,
        (status = 403, description = "Not a coordinator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Regulation needs the previous year's cap to be set", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid year, amount or percentage", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/caps/{year}")]
pub async fn set_cap(
    state: web::Data<AppState>,
    principal: Principal,
    year: web::Path<String>,
    body: Json<SetCap>,
) -> Result<web::Json<CapView>, ApiError> {
    principal.coordinator()?;
    // Any integer is a year, refused by range as 422 if it is not one the frikort covers.
    let year = path_year(&year).ok_or_else(|| ApiError::NotFound("a year is written as a whole number".into()))?;
    let cmd = NewCap::parse(year, body.amount.as_deref(), body.regulation_percent.as_deref())?;
    let cap = state.write(move |conn| Ok(service::set(conn, &principal, cmd)?)).await?;
    Ok(web::Json(view(cap)))
}
