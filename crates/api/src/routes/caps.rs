//! `GET /caps`, `GET /caps/{year}`: the yearly frikort amounts, for every role;
//! `POST /caps/{year}/preview` and `PUT /caps/{year}`: the operator changes one, preview first.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::http::{PageQuery, Paged, path_cap_year, path_year, utc};
use crate::idempotency::{self, Idempotency, IdempotencyHeader, Reply};
use crate::json::Json;
use crate::responses::{ApiErrors, Conflict, Invalid, JsonBody, NotFound};
use crate::services::caps::{self as service, Cap, CapChange, Fingerprint, SetCap as NewCap};
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
    /// Why the operator set the amount; absent for the statutory amounts and when provisional.
    pub reason: Option<String>,
}

/// A change of a year's cap, as previewed: exactly one of `amount` or `regulation_percent`, and
/// why.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapChangeRequest {
    /// The amount in whole DKK, a decimal string (e.g. `"43500"` or `"43500.00"`).
    pub amount: Option<String>,
    /// The regulation percentage applied to the previous year's cap (e.g. `"2.9"`); the result
    /// is rounded to the nearest whole krone.
    pub regulation_percent: Option<String>,
    /// Why the statutory amount is changed (required; 1–500 characters, no control,
    /// bidirectional or zero-width characters), e.g. the act or announcement that sets it.
    #[schema(example = "Satsregulering 2026 (bekendtgørelse om satsreguleringsprocent)")]
    pub reason: Option<String>,
}

/// A change of a year's cap, confirmed: the body of the preview, and the preview's `confirm`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetCap {
    /// The amount in whole DKK, a decimal string (e.g. `"43500"` or `"43500.00"`).
    pub amount: Option<String>,
    /// The regulation percentage applied to the previous year's cap (e.g. `"2.9"`); the result
    /// is rounded to the nearest whole krone.
    pub regulation_percent: Option<String>,
    /// Why the statutory amount is changed (required; 1–500 characters, no control,
    /// bidirectional or zero-width characters).
    pub reason: Option<String>,
    /// The `confirm` value of the preview of this same change (required). When the change
    /// would now re-split anything other than what that preview showed, it is refused with 409
    /// `cap_preview_stale` and nothing changes.
    pub confirm: Option<String>,
}

/// What a cap change does in one municipality.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MunicipalityImpactView {
    /// The municipality code.
    pub municipality: String,
    /// Citizen-years of its citizens re-split.
    pub citizen_years: usize,
    /// Its citizens whose years are re-split.
    pub citizens: usize,
    /// Payouts of its citizens whose split changes.
    pub payouts: usize,
    /// The change of its citizens' exempt total in DKK, a signed decimal string.
    #[schema(example = "-2766.00")]
    pub exempt_change: String,
}

/// What a cap change re-splits.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CapImpactView {
    /// The income years re-split: the year changed, and later years that use its cap
    /// provisionally.
    pub years: Vec<i32>,
    /// Citizen-years re-split (their cap changes).
    pub citizen_years: usize,
    /// Citizens whose years are re-split.
    pub citizens: usize,
    /// Employers with a payout whose split changes: each gets an adjustment per payout and may
    /// have to correct its eIndkomst reports.
    pub companies: usize,
    /// Payouts whose split changes (one adjustment each).
    pub payouts: usize,
    /// The change of the exempt total over every citizen in DKK, a signed decimal string; the
    /// taxable total changes by as much the other way.
    #[schema(example = "-5532.00")]
    pub exempt_change: String,
    /// The same by municipality, in code order; only municipalities with a re-split year.
    pub municipalities: Vec<MunicipalityImpactView>,
}

/// A cap change: previewed (nothing changed yet) or applied.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CapChangeView {
    /// The cap as the change leaves it (as it would, in a preview).
    pub cap: CapView,
    /// The cap in force before the change (provisional when the year had none of its own).
    pub previous: CapView,
    /// What the change re-splits.
    pub impact: CapImpactView,
    /// The fingerprint of exactly this change: send it as `confirm` with `PUT /caps/{year}`.
    /// An applied change answers with the fingerprint it was confirmed with.
    #[schema(example = "9f2c…")]
    pub confirm: String,
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
        reason: cap.set.as_ref().and_then(|s| s.reason.clone()),
    }
}

fn change_view(change: CapChange) -> CapChangeView {
    let i = change.impact;
    CapChangeView {
        cap: view(change.cap),
        previous: view(change.previous),
        impact: CapImpactView {
            years: i.years,
            citizen_years: i.citizen_years,
            citizens: i.citizens,
            companies: i.companies,
            payouts: i.payouts,
            exempt_change: i.exempt_change.to_string(),
            municipalities: i
                .municipalities
                .into_iter()
                .map(|m| MunicipalityImpactView {
                    municipality: m.municipality,
                    citizen_years: m.citizen_years,
                    citizens: m.citizens,
                    payouts: m.payouts,
                    exempt_change: m.exempt_change.to_string(),
                })
                .collect(),
        },
        confirm: change.fingerprint.as_str().to_owned(),
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
    let year = path_cap_year(&year)?;
    let cap = state.read(move |conn| Ok(service::get(conn, &principal, year)?)).await?;
    Ok(web::Json(view(cap)))
}

/// Previews a change of a year's cap (the operator): runs the change and the re-split of every
/// citizen-year that uses the cap, reports what it would do, and rolls it all back. Nothing is
/// changed or audited. Send the answer's `confirm` with `PUT /caps/{year}` to apply it.
#[utoipa::path(
    tag = "caps",
    security(("bearer" = [])),
    params(("year" = i32, Path, description = "Calendar year, 2019–2100")),
    request_body = CapChangeRequest,
    responses(
        (status = 200, description = "What the change would do; nothing was changed", body = CapChangeView),
        ApiErrors, NotFound, Conflict, JsonBody,
        (status = 403, description = "Not the operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The year is not a whole number", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Regulation needs the previous year's cap to be set", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid year, amount, percentage or reason", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/caps/{year}/preview")]
pub async fn preview_cap(
    state: web::Data<AppState>,
    principal: Principal,
    year: web::Path<String>,
    body: Json<CapChangeRequest>,
) -> Result<web::Json<CapChangeView>, ApiError> {
    principal.operator()?;
    let b = body.into_inner();
    let cmd =
        NewCap::parse(cap_year(&year)?, b.amount.as_deref(), b.regulation_percent.as_deref(), b.reason.as_deref())?;
    let change = state.write(move |conn| Ok(service::preview(conn, &principal, &cmd)?)).await?;
    Ok(web::Json(change_view(change)))
}

/// Changes a year's cap by amount or by regulation of the previous year's cap (the operator),
/// with a reason and the `confirm` of a preview of the same change; re-splits every
/// citizen-year that uses it (each changed split becomes an adjustment) and audits the change
/// scheme-wide and in every municipality whose citizens' years were re-split.
#[utoipa::path(
    tag = "caps",
    security(("bearer" = [])),
    params(
        ("year" = i32, Path, description = "Calendar year, 2019–2100"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first response"),
    ),
    request_body = SetCap,
    responses(
        (status = 200, description = "The change as applied: the cap now in force and what was re-split", body = CapChangeView),
        ApiErrors, NotFound, Conflict, JsonBody,
        (status = 403, description = "Not the operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The year is not a whole number", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No `confirm` (`cap_preview_required`), a `confirm` that no longer matches what the change would do (`cap_preview_stale`), or a regulation without the previous year's cap (`previous_cap_not_set`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid year, amount, percentage or reason, or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/caps/{year}")]
pub async fn set_cap(
    state: web::Data<AppState>,
    principal: Principal,
    key: IdempotencyHeader,
    req: HttpRequest,
    year: web::Path<String>,
    body: Json<SetCap>,
) -> Result<HttpResponse, ApiError> {
    principal.operator()?;
    let b = body.into_inner();
    let idem = Idempotency::new(&principal, key, &req, &b);
    let cmd =
        NewCap::parse(cap_year(&year)?, b.amount.as_deref(), b.regulation_percent.as_deref(), b.reason.as_deref())?;
    let confirm = b.confirm.as_deref().map(Fingerprint::given);
    idempotency::run(&state, idem, move |conn| {
        let change = service::set(conn, &principal, &cmd, confirm.as_ref())?;
        Reply::new(StatusCode::OK, &change_view(change))
    })
    .await
}

/// Any integer is a year, refused by range as 422 if it is not one the frikort covers; only a
/// path that is not a whole number names nothing.
fn cap_year(raw: &str) -> Result<i32, ApiError> {
    path_year(raw).ok_or_else(|| ApiError::NotFound("a year is written as a whole number".into()))
}
