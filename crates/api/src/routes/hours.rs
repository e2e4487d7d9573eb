//! Hours to pay (`/placements/{id}/hours`, `/hours/{id}/confirm|dispute`): the company (or a
//! coordinator for it) reports the hours worked per shift; the other side confirms or disputes;
//! confirmed hours become a payout — hours × wage plus holiday pay — and the company sees exactly
//! what to pay and which part, if any, is taxable.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::http::{PageQuery, Paged, parse_id, path_id, utc};
use crate::json::Json;
use crate::responses::{ApiErrors, Conflict, Invalid, JsonBody, NotFound};
use crate::services::common::optional_text;
use crate::services::error::{Fields, checked};
use crate::services::hours::{self, HoursInput, HoursReport, Report};
use crate::services::principal::Principal;
use crate::state::AppState;
use crate::views::{PayoutReceipt, PayoutView, payout_view, receipt_view};
use smaajob_domain::ShiftReportId;

/// Hours worked on one shift.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportHours {
    /// The shift's date (a day of the task's schedule, not in the future).
    #[serde(deserialize_with = "crate::http::strict_date::required")]
    pub shift_date: NaiveDate,
    /// Hours worked, decimal (`"3.75"`), at most the shift's length.
    #[schema(example = "3.75")]
    pub hours: String,
}

/// A dispute of reported hours.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Dispute {
    /// What is wrong with the reported hours.
    pub reason: String,
}

/// Reported hours and, once confirmed, the payout they became.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ShiftReportView {
    /// The report's id.
    pub id: String,
    /// The placement.
    pub placement_id: String,
    /// The shift's date.
    pub shift_date: NaiveDate,
    /// Hours worked, decimal.
    pub hours: String,
    /// `reported`, `confirmed` or `disputed`.
    pub status: String,
    /// Who reported.
    pub reported_by: String,
    /// The reporting role.
    pub reported_by_role: String,
    /// When the hours were reported.
    pub reported_at: DateTime<Utc>,
    /// Who confirmed or disputed.
    pub answered_by: Option<String>,
    /// When the other side confirmed or disputed them; absent while open.
    pub answered_at: Option<DateTime<Utc>>,
    /// Why it was disputed.
    pub dispute_reason: Option<String>,
    /// What to pay: the payout the confirmed hours became (wage, holiday pay, exempt, taxable).
    pub payout: Option<PayoutView>,
}

/// A confirmation: the report and the payout receipt (what to pay, what is taxable).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConfirmationView {
    /// The confirmed report.
    pub report: ShiftReportView,
    /// The payout registered for it.
    pub receipt: PayoutReceipt,
}

/// Builds the view of a report.
fn report_view(r: Report) -> ShiftReportView {
    let row = r.row;
    ShiftReportView {
        hours: r.worked.to_hours_decimal().to_string(),
        reported_at: utc(row.reported_at),
        answered_at: row.answered_at.map(utc),
        id: row.id.into(),
        placement_id: row.placement_id,
        shift_date: row.shift_date,
        status: row.status.as_str().to_owned(),
        reported_by: row.reported_by,
        reported_by_role: row.reported_by_role.as_str().to_owned(),
        answered_by: row.answered_by,
        dispute_reason: row.dispute_reason,
        payout: r.payout.map(|p| payout_view(&p.row, p.reversed, None)),
    }
}

/// Reports the hours worked on one shift (the company, or a coordinator for it). A disputed
/// shift is reported again the same way.
#[utoipa::path(
    tag = "hours",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Placement id")),
    request_body = ReportHours,
    responses(
        (status = 201, body = ShiftReportView),
        ApiErrors, NotFound, Conflict, JsonBody,
        (status = 409, description = "Not an approved placement, or hours already reported for the shift", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a shift of the schedule, in the future, or more hours than the shift is long", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/placements/{id}/hours")]
pub async fn report_hours(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<ReportHours>,
) -> Result<HttpResponse, ApiError> {
    hours::may_report(&principal)?;
    let id = parse_id(&id, "placement")?;
    let b = body.into_inner();
    let cmd = HoursReport::parse(&HoursInput { shift_date: b.shift_date, hours: b.hours })?;
    let report = state.write(move |conn| Ok(hours::report(conn, &principal, &id, &cmd)?)).await?;
    Ok(HttpResponse::Created().json(report_view(report)))
}

/// The hours reported on a placement, with what was paid for them.
#[utoipa::path(
    tag = "hours",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Placement id"), PageQuery),
    responses(
        (status = 200, body = Paged<ShiftReportView>),
        ApiErrors, NotFound, Invalid,
    )
)]
#[get("/placements/{id}/hours")]
pub async fn list_hours(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<ShiftReportView>>, ApiError> {
    let id = parse_id(&id, "placement")?;
    let page = page.into_inner().page()?;
    let (rows, total) = state.read(move |conn| Ok(hours::list(conn, &principal, &id, page)?)).await?;
    Ok(web::Json(Paged {
        items: rows.into_iter().map(report_view).collect(),
        total,
        limit: page.limit,
        offset: page.offset,
    }))
}

/// Confirms reported hours; they become a payout on the placement's employment: hours × wage
/// plus 12.5 % holiday pay, paid today.
#[utoipa::path(
    tag = "hours",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Hours report id")),
    responses(
        (status = 201, description = "Confirmed and registered as a payout", body = ConfirmationView),
        ApiErrors, NotFound, Conflict, Invalid,
        (status = 403, description = "Not the other side", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already confirmed or disputed, or the employment has ended", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/hours/{id}/confirm")]
pub async fn confirm_hours(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id::<ShiftReportId>(&id)?;
    let c = state.write(move |conn| Ok(hours::confirm(conn, &principal, &id)?)).await?;
    let view = ConfirmationView { receipt: receipt_view(&c.receipt), report: report_view(c.report) };
    Ok(HttpResponse::Created().json(view))
}

/// Disputes reported hours; the reporting side settles it and reports the shift again.
#[utoipa::path(
    tag = "hours",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Hours report id")),
    request_body = Dispute,
    responses(
        (status = 200, body = ShiftReportView),
        ApiErrors, NotFound, Conflict, JsonBody,
    )
)]
#[post("/hours/{id}/dispute")]
pub async fn dispute_hours(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<Dispute>,
) -> Result<web::Json<ShiftReportView>, ApiError> {
    let id = path_id::<ShiftReportId>(&id)?;
    let mut f = Fields::new();
    let reason = optional_text(&mut f, "reason", Some(&body.reason), 2000);
    if reason.is_none() {
        f.push("reason", "required", "say what is wrong with the hours");
    }
    f.finish()?;
    let reason = checked(reason)?;
    let report = state.write(move |conn| Ok(hours::dispute(conn, &principal, &id, &reason)?)).await?;
    Ok(web::Json(report_view(report)))
}
