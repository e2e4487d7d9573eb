//! Hours to pay: the company (or a coordinator for it) reports the hours worked per shift of an
//! approved placement; the other side confirms or disputes them; a pay run then pays confirmed
//! hours — hours × wage plus holiday pay — as a payout on the placement's employment.

use chrono::NaiveDate;
use smaajob_domain::{Actor, ReportStatus, ShiftReportId, WorkedTime};
use smaajob_persistence::repo::accounting::PayoutRow;
use smaajob_persistence::repo::shift_reports::{self, ReportWithPayout, ShiftReportRow};
use smaajob_persistence::repo::{Page, now};
use smaajob_persistence::types::new_record_id;
use smaajob_persistence::{DbConn, RepoError};

use crate::services::audit;
use crate::services::common::today_copenhagen;
use crate::services::error::{Code, Fields, OrNotFound, ServiceError, checked};
use crate::services::notifications::events;
use crate::services::placements::was_approved;
use crate::services::principal::Principal;
use crate::services::scope::{self, ScopedPlacement};

/// The payout a pay run made of confirmed hours.
#[derive(Debug, Clone)]
pub struct ReportPayout {
    /// The payout as stored, with its split as stored.
    pub row: PayoutRow,
    /// Whether it is reversed.
    pub reversed: bool,
}

/// A stored report of hours, read, with its payout.
#[derive(Debug, Clone)]
pub struct Report {
    /// The report as stored.
    pub row: ShiftReportRow,
    /// The time worked.
    pub worked: WorkedTime,
    /// The payout, once a pay run paid the confirmed hours.
    pub payout: Option<ReportPayout>,
}

impl Report {
    fn read(r: ReportWithPayout) -> Result<Report, ServiceError> {
        let row = r.report;
        Ok(Report {
            worked: stored_worked(&row)?,
            payout: r.payout.map(|p| ReportPayout { row: p, reversed: r.payout_reversed }),
            row,
        })
    }
}

fn stored_worked(r: &ShiftReportRow) -> Result<WorkedTime, ServiceError> {
    u32::try_from(r.minutes)
        .ok()
        .and_then(WorkedTime::from_minutes)
        .ok_or_else(|| ServiceError::internal(format!("stored minutes {} are not a time worked", r.minutes)))
}

fn already_reported() -> ServiceError {
    ServiceError::conflict(Code::HoursAlreadyReported, "hours are already reported for that shift")
}

fn answered_meanwhile() -> ServiceError {
    ServiceError::conflict(Code::HoursAlreadyAnswered, "the hours were answered meanwhile")
}

/// Whether the principal's role may report hours at all: the company or a coordinator reports,
/// the citizen confirms. Checked before anything else is read.
pub fn may_report(principal: &Principal) -> Result<(), ServiceError> {
    match principal {
        Principal::Citizen { .. } => {
            Err(ServiceError::Forbidden("the company or a coordinator reports hours; the citizen confirms them".into()))
        }
        Principal::Operator { .. } => Err(scope::no_personal_data()),
        Principal::Coordinator { .. } | Principal::Company { .. } | Principal::NewCompany { .. } => Ok(()),
    }
}

/// Hours worked on one shift, as stated.
#[derive(Debug, Clone)]
pub struct HoursInput {
    /// The shift's date.
    pub shift_date: NaiveDate,
    /// Hours worked, decimal.
    pub hours: String,
}

/// Hours worked on one shift, checked: a whole number of minutes, on a day already begun.
#[derive(Debug, Clone, Copy)]
pub struct HoursReport {
    shift_date: NaiveDate,
    worked: WorkedTime,
}

impl HoursReport {
    /// Checks a report; every invalid field is named.
    pub fn parse(input: &HoursInput) -> Result<HoursReport, ServiceError> {
        let mut f = Fields::new();
        let worked = f.check("hours", WorkedTime::parse_hours(&input.hours));
        if input.shift_date > today_copenhagen() {
            f.push("shift_date", "in_future", "hours are reported after the shift");
        }
        f.finish()?;
        Ok(HoursReport { shift_date: input.shift_date, worked: checked(worked)? })
    }
}

/// Reports the hours worked on one shift of an approved placement (the company, or a coordinator
/// for it). A disputed shift is reported again the same way; any other shift is reported once.
pub fn report(
    conn: &mut DbConn,
    principal: &Principal,
    placement_id: &str,
    cmd: &HoursReport,
) -> Result<Report, ServiceError> {
    may_report(principal)?;
    let ScopedPlacement { placement, task, citizen } = scope::placement(conn, principal, placement_id)?;
    if !was_approved(&placement) {
        return Err(ServiceError::conflict(Code::PlacementNotApproved, "hours are reported on approved placements"));
    }
    let schedule = &task.schedule;
    if !schedule.has_shift_on(cmd.shift_date) {
        return Err(ServiceError::field("shift_date", "not_a_shift", "the task has no shift on that day"));
    }
    if cmd.worked.minutes() > schedule.shift_minutes() {
        return Err(ServiceError::field("hours", "hours_exceed_shift", "more hours than the shift is long"));
    }
    let minutes = i32::try_from(cmd.worked.minutes())
        .map_err(|_| ServiceError::internal("a time worked does not fit a stored integer"))?;
    let row = ShiftReportRow {
        id: new_record_id(),
        placement_id: placement.id.clone(),
        shift_date: cmd.shift_date,
        minutes,
        status: ReportStatus::Reported,
        reported_by: principal.sub().to_owned(),
        reported_by_role: principal.actor().ok_or_else(scope::no_personal_data)?,
        reported_at: now(),
        answered_by: None,
        answered_at: None,
        dispute_reason: None,
        payout_id: None,
    };
    let row = match shift_reports::for_shift(conn, &placement.id, cmd.shift_date)? {
        None => {
            shift_reports::insert(conn, &row).map_err(|e| match e {
                RepoError::Conflict { .. } => already_reported(),
                other => other.into(),
            })?;
            row
        }
        // A disputed report is settled by reporting the shift again; the dispute stays in the audit log.
        Some(existing) if existing.status == ReportStatus::Disputed => {
            let again = ShiftReportRow { id: existing.id, ..row };
            // Conditional: of two concurrent re-reports (or a re-report racing an answer) one wins.
            if !shift_reports::report_again(conn, &again)? {
                return Err(already_reported());
            }
            again
        }
        Some(_) => return Err(already_reported()),
    };
    let details =
        serde_json::json!({ "placement_id": placement.id, "shift_date": row.shift_date, "minutes": row.minutes });
    audit::record(
        conn,
        audit::entry(
            principal,
            "hours.reported",
            "placement",
            &placement.id,
            Some(&citizen.municipality),
            Some(details),
        ),
    )?;
    events::hours_reported(conn, &row, &task, &citizen)?;
    Ok(Report { row, worked: cmd.worked, payout: None })
}

/// One page of the hours reported on a placement the caller may see, by shift date, each with
/// the payout it became, and the total.
pub fn list(
    conn: &mut DbConn,
    principal: &Principal,
    placement_id: &str,
    page: Page,
) -> Result<(Vec<Report>, i64), ServiceError> {
    scope::placement(conn, principal, placement_id)?;
    let (rows, total) = shift_reports::page_of_placement(conn, placement_id, page)?;
    Ok((rows.into_iter().map(Report::read).collect::<Result<_, _>>()?, total))
}

/// A report the caller may answer, with its placement.
struct Answerable {
    report: ShiftReportRow,
    scoped: ScopedPlacement,
}

/// The report, checked to be in the caller's scope and answerable by them: the side that did
/// not report (the citizen, or a coordinator for a company's report, or the company for a
/// coordinator's report), never the reporter; and not answered yet.
fn answerable(conn: &mut DbConn, principal: &Principal, id: &ShiftReportId) -> Result<Answerable, ServiceError> {
    let report = shift_reports::find(conn, id).or_not_found("hours report")?;
    let scoped = match scope::placement(conn, principal, &report.placement_id) {
        Err(ServiceError::NotFound(_)) => return Err(ServiceError::NotFound("hours report")),
        other => other?,
    };
    let reporter = report.reported_by_role;
    let other_side = match principal {
        Principal::Citizen { .. } => true,
        Principal::Coordinator { .. } => reporter == Actor::Company,
        Principal::Company { .. } => reporter == Actor::Coordinator,
        Principal::NewCompany { .. } | Principal::Operator { .. } => false,
    };
    if !other_side || report.reported_by == principal.sub() {
        return Err(ServiceError::Forbidden(
            "hours are confirmed or disputed by the other side than the one that reported them".into(),
        ));
    }
    let status = report.status;
    if status != ReportStatus::Reported {
        return Err(ServiceError::conflict(Code::HoursAlreadyAnswered, format!("the hours are already {status}")));
    }
    Ok(Answerable { report, scoped })
}

/// Confirms reported hours. They are paid by the next pay run of their period (see
/// [`crate::services::pay_runs`]), on its payment date, not on the day of confirmation.
pub fn confirm(conn: &mut DbConn, principal: &Principal, id: &ShiftReportId) -> Result<Report, ServiceError> {
    let Answerable { report, scoped: ScopedPlacement { placement, citizen, .. } } = answerable(conn, principal, id)?;
    // Atomic: of two concurrent confirmations only one gets here.
    if !shift_reports::answer(conn, id, ReportStatus::Confirmed, principal.sub(), now(), None)? {
        return Err(answered_meanwhile());
    }
    let details = serde_json::json!({ "report_id": id, "shift_date": report.shift_date, "minutes": report.minutes });
    audit::record(
        conn,
        audit::entry(
            principal,
            "hours.confirmed",
            "placement",
            &placement.id,
            Some(&citizen.municipality),
            Some(details),
        ),
    )?;
    Report::read(shift_reports::find_with_payout(conn, id)?)
}

/// Disputes reported hours with a reason; the reporting side settles it by reporting the shift
/// again.
pub fn dispute(
    conn: &mut DbConn,
    principal: &Principal,
    id: &ShiftReportId,
    reason: &str,
) -> Result<Report, ServiceError> {
    let Answerable { report, scoped: ScopedPlacement { placement, citizen, task } } = answerable(conn, principal, id)?;
    if !shift_reports::answer(conn, id, ReportStatus::Disputed, principal.sub(), now(), Some(reason))? {
        return Err(answered_meanwhile());
    }
    let details = serde_json::json!({ "report_id": id, "reason": reason });
    audit::record(
        conn,
        audit::entry(
            principal,
            "hours.disputed",
            "placement",
            &placement.id,
            Some(&citizen.municipality),
            Some(details),
        ),
    )?;
    events::hours_disputed(conn, &report, &task, &citizen)?;
    Report::read(shift_reports::find_with_payout(conn, id)?)
}
