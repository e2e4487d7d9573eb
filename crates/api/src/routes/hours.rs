//! Hours to pay (`/placements/{id}/hours`, `/hours/{id}/confirm|dispute`): the company (or a
//! coordinator for it) reports the hours worked per shift; the other side confirms or disputes;
//! confirmed hours become a payout — hours × wage plus holiday pay — and the company sees exactly
//! what to pay and which part, if any, is taxable.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use smaajob_domain::{Money, WorkedTime, pay_for};
use smaajob_persistence::repo::shift_reports::{self, ShiftReportRow};
use smaajob_persistence::repo::{accounting, audit, new_id, now};
use smaajob_persistence::{DbConn, RepoError};
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::http::{parse_id, utc};
use crate::routes::placements::{placement_in_scope, was_approved};
use crate::services::audit as audit_log;
use crate::services::common::{optional_text, today_copenhagen};
use crate::services::error::{Code, OrNotFound};
use crate::services::error::{Fields, checked};
use crate::services::payouts::{self, PayoutAmounts, Work};
use crate::services::principal::Principal;
use crate::services::scope;
use crate::services::tasks::stored_schedule;
use crate::state::AppState;
use crate::views::{PayoutReceipt, PayoutView, payout_view, receipt_view};

/// Hours worked on one shift.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportHours {
    /// The shift's date (a day of the task's schedule, not in the future).
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
    /// When.
    pub reported_at: DateTime<Utc>,
    /// Who confirmed or disputed.
    pub answered_by: Option<String>,
    /// When.
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

fn hours_text(minutes: i32) -> String {
    WorkedTime::from_minutes(u32::try_from(minutes).unwrap_or(0))
        .map_or_else(String::new, |w| w.to_hours_decimal().to_string())
}

fn report_view(conn: &mut DbConn, r: ShiftReportRow) -> Result<ShiftReportView, ApiError> {
    let payout = match &r.payout_id {
        Some(id) => {
            let (p, reversed) = accounting::find_payout(conn, id)?;
            Some(payout_view(&p, reversed, None))
        }
        None => None,
    };
    Ok(ShiftReportView {
        hours: hours_text(r.minutes),
        reported_at: utc(r.reported_at),
        answered_at: r.answered_at.map(utc),
        id: r.id,
        placement_id: r.placement_id,
        shift_date: r.shift_date,
        status: r.status,
        reported_by: r.reported_by,
        reported_by_role: r.reported_by_role,
        answered_by: r.answered_by,
        dispute_reason: r.dispute_reason,
        payout,
    })
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
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 409, description = "Not an approved placement, or hours already reported for the shift", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a shift of the schedule, in the future, or more hours than the shift is long", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/placements/{id}/hours")]
pub async fn report_hours(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: web::Json<ReportHours>,
) -> Result<HttpResponse, ApiError> {
    if let Principal::Citizen { .. } = principal {
        return Err(ApiError::Forbidden(
            "the company or a coordinator reports hours; the citizen confirms them".into(),
        ));
    }
    let id = parse_id(&id, "placement")?;
    let b = body.into_inner();
    let mut f = Fields::new();
    let worked = f.check("hours", WorkedTime::parse_hours(&b.hours));
    if b.shift_date > today_copenhagen() {
        f.push("shift_date", "in_future", "hours are reported after the shift");
    }
    f.finish()?;
    let worked = checked(worked)?;
    let view = state
        .write(move |conn| {
            let (p, task, citizen) = placement_in_scope(conn, &principal, &id)?;
            if !was_approved(&p) {
                return Err(ApiError::Conflict {
                    code: Code::PlacementNotApproved,
                    detail: "hours are reported on approved placements".into(),
                });
            }
            let schedule = stored_schedule(&task)?;
            if !schedule.has_shift_on(b.shift_date) {
                return Err(ApiError::field("shift_date", "not_a_shift", "the task has no shift on that day"));
            }
            if worked.minutes() > schedule.shift_minutes() {
                return Err(ApiError::field("hours", "hours_exceed_shift", "more hours than the shift is long"));
            }
            let row = ShiftReportRow {
                id: new_id(),
                placement_id: p.id.clone(),
                shift_date: b.shift_date,
                minutes: i32::try_from(worked.minutes()).unwrap_or(i32::MAX),
                status: "reported".into(),
                reported_by: principal.sub().to_owned(),
                reported_by_role: principal.role().as_str().to_owned(),
                reported_at: now(),
                answered_by: None,
                answered_at: None,
                dispute_reason: None,
                payout_id: None,
            };
            let existing =
                shift_reports::of_placement(conn, &p.id)?.into_iter().find(|r| r.shift_date == row.shift_date);
            let row = match existing {
                // A disputed report is settled by reporting the shift again; the dispute stays in the audit log.
                Some(disputed) if disputed.status == "disputed" => {
                    let again = ShiftReportRow { id: disputed.id, ..row };
                    // Conditional: of two concurrent re-reports (or a re-report racing an answer) one wins.
                    if !shift_reports::report_again(conn, &again)? {
                        return Err(ApiError::Conflict {
                            code: Code::HoursAlreadyReported,
                            detail: "hours are already reported for that shift".into(),
                        });
                    }
                    again
                }
                Some(_) => {
                    return Err(ApiError::Conflict {
                        code: Code::HoursAlreadyReported,
                        detail: "hours are already reported for that shift".into(),
                    });
                }
                None => {
                    shift_reports::insert(conn, &row).map_err(|e| match e {
                        RepoError::Conflict { .. } => ApiError::Conflict {
                            code: Code::HoursAlreadyReported,
                            detail: "hours are already reported for that shift".into(),
                        },
                        other => other.into(),
                    })?;
                    row
                }
            };
            let details =
                serde_json::json!({ "placement_id": p.id, "shift_date": row.shift_date, "minutes": row.minutes });
            audit::append(
                conn,
                &[audit_log::entry(
                    &principal,
                    "hours.reported",
                    "placement",
                    &p.id,
                    Some(&citizen.municipality),
                    Some(details),
                )],
            )?;
            report_view(conn, row)
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// The hours reported on a placement, with what was paid for them.
#[utoipa::path(
    tag = "hours",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Placement id")),
    responses(
        (status = 200, body = Vec<ShiftReportView>),
        (status = 401, response = Problem),
        (status = 404, response = Problem),
    )
)]
#[get("/placements/{id}/hours")]
pub async fn list_hours(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<Vec<ShiftReportView>>, ApiError> {
    let id = parse_id(&id, "placement")?;
    let views = state
        .read(move |conn| {
            placement_in_scope(conn, &principal, &id)?;
            shift_reports::of_placement(conn, &id)?.into_iter().map(|r| report_view(conn, r)).collect()
        })
        .await?;
    Ok(web::Json(views))
}

/// The report, checked to be in the caller's scope and answerable by them: the side that did
/// not report (the citizen, or a coordinator for a company's report, or the company for a
/// coordinator's report), never the reporter.
fn answerable(
    conn: &mut DbConn,
    principal: &Principal,
    id: &str,
) -> Result<(ShiftReportRow, crate::routes::placements::ScopedPlacement), ApiError> {
    let report = shift_reports::find(conn, id).or_not_found("hours report")?;
    let scoped = placement_in_scope(conn, principal, &report.placement_id)
        .map_err(|e| if matches!(e, ApiError::NotFound(_)) { ApiError::not_found("hours report") } else { e })?;
    let other_side = match principal {
        Principal::Citizen { .. } => true,
        Principal::Coordinator { .. } => report.reported_by_role == "company",
        Principal::Company { .. } => report.reported_by_role == "coordinator",
        Principal::NewCompany { .. } => false,
    };
    if !other_side || report.reported_by == principal.sub() {
        return Err(ApiError::Forbidden(
            "hours are confirmed or disputed by the other side than the one that reported them".into(),
        ));
    }
    if report.status != "reported" {
        return Err(ApiError::Conflict {
            code: Code::HoursAlreadyAnswered,
            detail: format!("the hours are already {}", report.status),
        });
    }
    Ok((report, scoped))
}

/// Confirms reported hours; they become a payout on the placement's employment: hours × wage
/// plus 12.5 % holiday pay, paid today.
#[utoipa::path(
    tag = "hours",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Hours report id")),
    responses(
        (status = 201, description = "Confirmed and registered as a payout", body = ConfirmationView),
        (status = 401, response = Problem),
        (status = 403, description = "Not the other side", body = Problem, content_type = "application/problem+json"),
        (status = 404, response = Problem),
        (status = 409, description = "Already confirmed or disputed, or the employment has ended", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = Problem),
    )
)]
#[post("/hours/{id}/confirm")]
pub async fn confirm_hours(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id, "hours report")?;
    let view = state
        .write(move |conn| {
            let (report, (p, task, citizen)) = answerable(conn, &principal, &id)?;
            // Atomic: of two concurrent confirmations only one gets here, so one payout.
            if !shift_reports::answer(conn, &id, "confirmed", principal.sub(), now(), None)? {
                return Err(ApiError::Conflict {
                    code: Code::HoursAlreadyAnswered,
                    detail: "the hours were answered meanwhile".into(),
                });
            }
            let employment_id = p
                .employment_id
                .clone()
                .ok_or_else(|| ApiError::Internal("approved placement without employment".into()))?;
            let locked = scope::employment_for_update(conn, &principal, &employment_id)?;
            let worked = WorkedTime::from_minutes(u32::try_from(report.minutes).unwrap_or(0))
                .ok_or_else(|| ApiError::Internal("stored minutes are invalid".into()))?;
            let wage = pay_for(worked, Money::from_ore(task.hourly_wage_ore));
            let amounts = PayoutAmounts::wage_with_holiday_pay(wage)?;
            let work =
                Work { payment_date: today_copenhagen(), worked_from: report.shift_date, worked_to: report.shift_date };
            let receipt = receipt_view(&payouts::record(conn, &principal, &locked, work, &amounts)?);
            shift_reports::set_payout(conn, &id, &receipt.payout.id)?;
            let details =
                serde_json::json!({ "report_id": id, "payout_id": receipt.payout.id, "gross": receipt.payout.gross });
            audit::append(
                conn,
                &[audit_log::entry(
                    &principal,
                    "hours.confirmed",
                    "placement",
                    &p.id,
                    Some(&citizen.municipality),
                    Some(details),
                )],
            )?;
            let report = shift_reports::find(conn, &id)?;
            Ok(ConfirmationView { report: report_view(conn, report)?, receipt })
        })
        .await?;
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
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 409, response = Problem),
        (status = 422, response = Problem),
    )
)]
#[post("/hours/{id}/dispute")]
pub async fn dispute_hours(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: web::Json<Dispute>,
) -> Result<web::Json<ShiftReportView>, ApiError> {
    let id = parse_id(&id, "hours report")?;
    let mut f = Fields::new();
    let reason = optional_text(&mut f, "reason", Some(&body.reason), 2000);
    if reason.is_none() {
        f.push("reason", "required", "say what is wrong with the hours");
    }
    f.finish()?;
    let view = state
        .write(move |conn| {
            let (_, (p, _, citizen)) = answerable(conn, &principal, &id)?;
            if !shift_reports::answer(conn, &id, "disputed", principal.sub(), now(), reason.as_deref())? {
                return Err(ApiError::Conflict {
                    code: Code::HoursAlreadyAnswered,
                    detail: "the hours were answered meanwhile".into(),
                });
            }
            let details = serde_json::json!({ "report_id": id, "reason": reason });
            audit::append(
                conn,
                &[audit_log::entry(
                    &principal,
                    "hours.disputed",
                    "placement",
                    &p.id,
                    Some(&citizen.municipality),
                    Some(details),
                )],
            )?;
            let report = shift_reports::find(conn, &id)?;
            report_view(conn, report)
        })
        .await?;
    Ok(web::Json(view))
}
