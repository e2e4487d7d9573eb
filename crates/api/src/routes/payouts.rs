//! Payouts (`/employments/{id}/payouts`, `/payouts/{id}/reversal`) and adjustments
//! (`/adjustments`): every krone registered, split exactly into the exempt part and the taxable
//! excess, re-split whenever anything the split depends on changes.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use smaajob_domain::{EmploymentId, PayoutId};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, Problem};
use crate::http::{PageQuery, Paged, path_id};
use crate::idempotency::{self, Idempotency, IdempotencyHeader, Reply};
use crate::json::Json;
use crate::responses::{ApiErrors, Conflict, Invalid, JsonBody, NotFound};
use crate::services::common::{frikort_year, optional_text};
use crate::services::error::{Fields, checked};
use crate::services::payouts::{self, NewPayout, PayoutInput};
use crate::services::principal::Principal;
use crate::state::AppState;
use crate::views::{AdjustmentView, PayoutReceipt, PayoutView, adjustment_view, payout_view, receipt_view};

/// A payout to register.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterPayout {
    /// The day the money is paid; its calendar year is the income year.
    #[serde(deserialize_with = "crate::http::strict_date::required")]
    pub payment_date: NaiveDate,
    /// First day of the work paid for.
    #[serde(deserialize_with = "crate::http::strict_date::required")]
    pub worked_from: NaiveDate,
    /// Last day of the work paid for.
    #[serde(deserialize_with = "crate::http::strict_date::required")]
    pub worked_to: NaiveDate,
    /// The wage, DKK decimal string, positive.
    #[schema(example = "1250.00")]
    pub wage: String,
    /// Holiday pay paid with the wage; omitted → 12.5 % of the wage; `"0.00"` → paid separately later.
    pub holiday_pay: Option<String>,
    /// Pension paid out to the citizen, default `"0.00"`.
    pub pension: Option<String>,
}

/// A reversal (correction) of a payout; the payout itself stays, marked reversed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReversePayout {
    /// Why the payout is reversed.
    pub reason: String,
}

/// Filter of the adjustment list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdjustmentFilter {
    /// Only this income year.
    #[serde(default, deserialize_with = "crate::http::saturating::optional_i32")]
    pub year: Option<i32>,
}

/// Registers a payout on an employment and returns its split, the new balance and warnings.
#[utoipa::path(
    tag = "payouts",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Employment id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first response"),
    ),
    request_body = RegisterPayout,
    responses(
        (status = 201, description = "Registered", body = PayoutReceipt),
        ApiErrors, NotFound, Conflict, JsonBody,
        (status = 409, description = "The employment has ended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid amounts or dates, a work period straddling a card decision, or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/employments/{id}/payouts")]
pub async fn register_payout(
    state: web::Data<AppState>,
    principal: Principal,
    key: IdempotencyHeader,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<RegisterPayout>,
) -> Result<HttpResponse, ApiError> {
    payouts::may_register(&principal)?;
    let employment_id = path_id::<EmploymentId>(&id)?;
    let b = body.into_inner();
    let idem = Idempotency::new(&principal, key, &req, &b);
    let payout = NewPayout::parse(&PayoutInput {
        payment_date: b.payment_date,
        worked_from: b.worked_from,
        worked_to: b.worked_to,
        wage: &b.wage,
        holiday_pay: b.holiday_pay.as_deref(),
        pension: b.pension.as_deref(),
    })?;
    idempotency::run(&state, idem, move |conn| {
        let receipt = payouts::register_payout(conn, &principal, &employment_id, &payout)?;
        Reply::new(StatusCode::CREATED, &receipt_view(&receipt))
    })
    .await
}

/// Reverses a payout: it stops counting, the year is re-split, and every changed split is an adjustment.
#[utoipa::path(
    tag = "payouts",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Payout id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first response"),
    ),
    request_body = ReversePayout,
    responses(
        (status = 201, description = "Reversed", body = PayoutReceipt),
        ApiErrors, NotFound, Conflict, JsonBody,
        (status = 409, description = "Already reversed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/payouts/{id}/reversal")]
pub async fn reverse_payout(
    state: web::Data<AppState>,
    principal: Principal,
    key: IdempotencyHeader,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<ReversePayout>,
) -> Result<HttpResponse, ApiError> {
    payouts::may_reverse(&principal)?;
    let payout_id = path_id::<PayoutId>(&id)?;
    let b = body.into_inner();
    let idem = Idempotency::new(&principal, key, &req, &b);
    let mut f = Fields::new();
    let reason = optional_text(&mut f, "reason", Some(&b.reason), 2000);
    if reason.is_none() {
        f.push("reason", "required", "give the reason for the reversal");
    }
    f.finish()?;
    let reason = checked(reason)?;
    idempotency::run(&state, idem, move |conn| {
        let receipt = payouts::reverse(conn, &principal, &payout_id, reason)?;
        Reply::new(StatusCode::CREATED, &receipt_view(&receipt))
    })
    .await
}

/// The payouts of an employment, newest first, one page at a time.
#[utoipa::path(
    tag = "payouts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Employment id"), PageQuery),
    responses(
        (status = 200, body = Paged<PayoutView>),
        ApiErrors, NotFound, Invalid,
    )
)]
#[get("/employments/{id}/payouts")]
pub async fn list_payouts(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<PayoutView>>, ApiError> {
    let employment_id = path_id::<EmploymentId>(&id)?;
    let page = page.into_inner().page()?;
    let listed = state
        .read_audited(move |conn| {
            let read = payouts::of_employment(conn, &principal, &employment_id, page)?;
            Ok((read.value, read.entries))
        })
        .await?;
    let items = listed.items.iter().map(|(p, reversed)| payout_view(p, *reversed, None)).collect();
    Ok(web::Json(Paged { items, total: listed.total, limit: page.limit, offset: page.offset }))
}

/// Adjustments: a company sees what it must correct in eIndkomst; a coordinator sees the
/// municipality's; a citizen their own.
#[utoipa::path(
    tag = "payouts",
    security(("bearer" = [])),
    params(AdjustmentFilter, PageQuery),
    responses(
        (status = 200, body = Paged<AdjustmentView>),
        ApiErrors, Invalid,
    )
)]
#[get("/adjustments")]
pub async fn list_adjustments(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<AdjustmentFilter>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<AdjustmentView>>, ApiError> {
    let page = page.into_inner().page()?;
    let year = filter.year.map(|y| frikort_year("year", y)).transpose()?;
    let (rows, total) = state.read(move |conn| Ok(payouts::adjustments(conn, &principal, year, page)?)).await?;
    Ok(web::Json(Paged {
        items: rows.iter().map(adjustment_view).collect(),
        total,
        limit: page.limit,
        offset: page.offset,
    }))
}
