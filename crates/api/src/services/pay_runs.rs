//! Pay runs: confirmed hours wait for a pay run, which pays them on a real payment date by bank,
//! cash or MobilePay. A coordinator runs pay for the municipality's citizens (or one company's
//! workers among them), a company for its own workers.
//!
//! A run is shown first ([`preview`], a dry run: the same work as the commit, in a savepoint that
//! is rolled back, so the lines, splits and income years it shows are those the commit makes
//! unless something changes meanwhile), then committed ([`commit`]) as one transaction. Each line
//! is registered through the one payout use case ([`payouts::record`]), so a line is split
//! exactly as any payout is. A shift is paid once: the reports are marked paid conditionally, so
//! the same run committed twice (or two runs racing) creates nothing the second time.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate};
use smaajob_domain::{
    CompanyId, CoveredDays, EmploymentId, Money, PayLine, PayRunTotals, PayableShift, PaymentMethod, PayoutId,
    ReportStatus, ShiftReportId, Split, WorkedTime, income_year, pay_lines,
};
use smaajob_persistence::repo::accounting::AdjustmentRow;
use smaajob_persistence::repo::pay_runs::{self, PayRunRow, PayRunScope};
use smaajob_persistence::repo::shift_reports::{self, PeriodReport, PeriodScope};
use smaajob_persistence::repo::{Page, companies, new_id, now};
use smaajob_persistence::{DbConn, rolled_back};

use crate::services::allocation::card_periods;
use crate::services::audit::{self, Audited};
use crate::services::common::{check_not_before_scheme, today_copenhagen};
use crate::services::error::{Code, Fields, Obstacle, OrNotFound, ServiceError, checked};
use crate::services::payouts::{self, Notice, PayoutAmounts, Work};
use crate::services::principal::Principal;
use crate::services::scope;

/// The longest period one run pays (a quarter: monthly, fortnightly and weekly pay all fit).
pub const MAX_PERIOD_DAYS: i64 = 92;
/// Money is paid when the run is made; a payment date may lie at most this far ahead.
const MAX_DAYS_AHEAD: i64 = 31;

/// A pay run as stated, before it is checked.
#[derive(Debug, Clone)]
pub struct PayRunInput<'a> {
    /// First shift date of the period.
    pub period_from: NaiveDate,
    /// Last shift date of the period.
    pub period_to: NaiveDate,
    /// The day the money is paid.
    pub payment_date: NaiveDate,
    /// `bank`, `cash` or `mobilepay`.
    pub payment_method: &'a str,
    /// A coordinator's run for one company's workers only.
    pub company_id: Option<CompanyId>,
}

/// A pay run, checked.
#[derive(Debug, Clone)]
pub struct PayRunCommand {
    period_from: NaiveDate,
    period_to: NaiveDate,
    payment_date: NaiveDate,
    method: PaymentMethod,
    company_id: Option<CompanyId>,
}

impl PayRunCommand {
    /// Checks a stated run; every invalid field is named.
    pub fn parse(input: &PayRunInput<'_>) -> Result<PayRunCommand, ServiceError> {
        let mut f = Fields::new();
        let method = PaymentMethod::parse(input.payment_method);
        if method.is_none() {
            f.push("payment_method", "unknown_payment_method", "the payment method is `bank`, `cash` or `mobilepay`");
        }
        if input.period_to < input.period_from {
            f.push("period_to", "before_period_from", "the period ends before it starts");
        } else if (input.period_to - input.period_from).num_days() >= MAX_PERIOD_DAYS {
            f.push("period_to", "period_too_long", format!("a pay run covers at most {MAX_PERIOD_DAYS} days"));
        }
        if input.payment_date < input.period_to {
            f.push("payment_date", "before_period_end", "pay is paid after the period it pays for");
        }
        if input.payment_date > today_copenhagen() + Duration::days(MAX_DAYS_AHEAD) {
            f.push(
                "payment_date",
                "too_far_ahead",
                format!("run pay when it is paid (at most {MAX_DAYS_AHEAD} days ahead)"),
            );
        }
        check_not_before_scheme(&mut f, "period_from", input.period_from);
        f.finish()?;
        Ok(PayRunCommand {
            period_from: input.period_from,
            period_to: input.period_to,
            payment_date: input.payment_date,
            method: checked(method)?,
            company_id: input.company_id.clone(),
        })
    }
}

/// Whether the principal's role may run pay at all: coordinators and companies do, citizens are
/// paid. Checked before anything else is read.
pub fn may_run(principal: &Principal) -> Result<(), ServiceError> {
    match principal {
        Principal::Citizen { .. } => {
            Err(ServiceError::Forbidden("citizens are paid by pay runs; they do not run them".into()))
        }
        Principal::Operator { .. } => Err(scope::no_personal_data()),
        Principal::NewCompany { .. } => Err(ServiceError::Unregistered),
        Principal::Coordinator { .. } | Principal::Company { .. } => Ok(()),
    }
}

/// One payout of a pay run: whom it pays, for which shifts, what, and how it is split.
#[derive(Debug, Clone)]
pub struct PayRunLine {
    /// The citizen paid.
    pub citizen_id: String,
    /// The citizen's name.
    pub citizen_name: String,
    /// The employment it is paid on.
    pub employment_id: EmploymentId,
    /// The employer.
    pub company_id: CompanyId,
    /// The task.
    pub task_title: String,
    /// The reports of hours it pays.
    pub reports: Vec<ShiftReportId>,
    /// First shift paid.
    pub worked_from: NaiveDate,
    /// Last shift paid.
    pub worked_to: NaiveDate,
    /// Time worked in all.
    pub minutes: u64,
    /// The wage.
    pub wage: Money,
    /// Holiday pay, 12.5 % of the wage.
    pub holiday_pay: Money,
    /// Pension (none for hours pay).
    pub pension: Money,
    /// What counts toward the cap.
    pub gross: Money,
    /// The exempt/taxable split it gets (or got, once committed).
    pub split: Split,
    /// The income year: the payment date's.
    pub income_year: i32,
    /// Things to act on (a crossed cap, no card, a provisional cap…).
    pub notices: Vec<Notice>,
    /// The payout, once committed.
    pub payout_id: Option<PayoutId>,
}

/// A pay run: its facts, its lines, and the earlier payouts of the citizens' years whose split
/// it changed (a payment date before theirs).
#[derive(Debug, Clone)]
pub struct PayRun {
    /// The run as stored (for a dry run: as it would be stored).
    pub row: PayRunRow,
    /// Whether it is committed.
    pub committed: bool,
    /// Its payouts.
    pub lines: Vec<PayRunLine>,
    /// Other payouts whose split changed, as far as the caller may see them.
    pub adjustments: Vec<AdjustmentRow>,
}

/// Shows what a run would pay (a dry run): every line, its split and income year, and what it
/// would change; nothing is kept but the audit entry of the read. Runs in a write transaction
/// (the dry run takes the commit's locks, then rolls back).
pub fn preview(conn: &mut DbConn, principal: &Principal, cmd: &PayRunCommand) -> Result<PayRun, ServiceError> {
    may_run(principal)?;
    let mut run = rolled_back(conn, |c| pay(c, principal, cmd))?;
    run.committed = false;
    for line in &mut run.lines {
        line.payout_id = None;
    }
    let municipality = own_municipality(principal);
    let entry = audit::entry(
        principal,
        "payrun.previewed",
        "pay_run",
        &run.row.id,
        municipality.as_deref(),
        Some(summary(&run)),
    );
    audit::record(conn, entry)?;
    Ok(run)
}

/// Commits a run: every line a payout on the payment date, in one transaction. Runs in a write
/// transaction.
pub fn commit(conn: &mut DbConn, principal: &Principal, cmd: &PayRunCommand) -> Result<PayRun, ServiceError> {
    may_run(principal)?;
    let run = pay(conn, principal, cmd)?;
    let municipality = own_municipality(principal);
    audit::record(
        conn,
        audit::entry(
            principal,
            "payrun.committed",
            "pay_run",
            &run.row.id,
            municipality.as_deref(),
            Some(summary(&run)),
        ),
    )?;
    Ok(run)
}

fn own_municipality(principal: &Principal) -> Option<String> {
    match principal {
        Principal::Coordinator { municipality, .. } => Some(municipality.to_string()),
        _ => None,
    }
}

fn summary(run: &PayRun) -> serde_json::Value {
    serde_json::json!({
        "period_from": run.row.period_from, "period_to": run.row.period_to,
        "payment_date": run.row.payment_date, "payment_method": run.row.payment_method.as_str(),
        "lines": run.row.lines, "gross": run.row.gross.to_string(),
    })
}

/// Whose hours a run pays: a coordinator's municipality (or one company's workers in it), a
/// company's own workers.
fn period_scope(conn: &mut DbConn, principal: &Principal, cmd: &PayRunCommand) -> Result<PeriodScope, ServiceError> {
    match principal {
        Principal::Coordinator { municipality, .. } => {
            if let Some(company_id) = &cmd.company_id {
                companies::find(conn, company_id).or_not_found("company")?;
            }
            Ok(PeriodScope { municipality: Some(municipality.to_string()), company_id: cmd.company_id.clone() })
        }
        Principal::Company { company_id, .. } => {
            if cmd.company_id.as_ref().is_some_and(|c| c != company_id) {
                return Err(ServiceError::field(
                    "company_id",
                    "not_own_company",
                    "a company runs pay for its own workers",
                ));
            }
            Ok(PeriodScope { municipality: None, company_id: Some(company_id.clone()) })
        }
        Principal::NewCompany { .. } => Err(ServiceError::Unregistered),
        Principal::Citizen { .. } | Principal::Operator { .. } => Err(scope::no_personal_data()),
    }
}

fn obstacle_of(r: &PeriodReport) -> Result<Obstacle, ServiceError> {
    let worked = stored_worked(r.report.minutes)?;
    Ok(Obstacle {
        kind: "shift_report",
        id: r.report.id.to_string(),
        date: Some(r.report.shift_date),
        message: format!(
            "{} h for {} on “{}” reported by the {}, not confirmed yet: confirm or dispute it first",
            worked.to_hours_decimal(),
            r.citizen_name,
            r.task_title,
            r.report.reported_by_role
        ),
    })
}

fn stored_worked(minutes: i32) -> Result<WorkedTime, ServiceError> {
    u32::try_from(minutes)
        .ok()
        .and_then(WorkedTime::from_minutes)
        .ok_or_else(|| ServiceError::internal(format!("stored minutes {minutes} are not a time worked")))
}

/// Where a shift belongs: the employment, ordered by citizen so lines (and locks) come in one order.
type LineKey = (String, EmploymentId);

/// The work of a run, in the caller's transaction: refuses a period with unconfirmed hours (listing
/// them), makes the lines, registers each as a payout, marks the reports paid and stores the run.
fn pay(conn: &mut DbConn, principal: &Principal, cmd: &PayRunCommand) -> Result<PayRun, ServiceError> {
    let period = period_scope(conn, principal, cmd)?;
    let reports = shift_reports::awaiting_pay(conn, &period, cmd.period_from, cmd.period_to)?;
    let (unconfirmed, confirmed): (Vec<_>, Vec<_>) =
        reports.into_iter().partition(|r| r.report.status == ReportStatus::Reported);
    if !unconfirmed.is_empty() {
        return Err(ServiceError::Blocked {
            code: Code::UnconfirmedHours,
            detail: format!(
                "{} shift(s) of the period have hours reported but not confirmed; they are listed in `obstacles`",
                unconfirmed.len()
            ),
            obstacles: unconfirmed.iter().map(obstacle_of).collect::<Result<_, _>>()?,
        });
    }
    if confirmed.is_empty() {
        return Err(ServiceError::conflict(
            Code::NothingToPay,
            "no confirmed hours of the period are waiting for pay (they are paid already, or none were confirmed)",
        ));
    }
    // The card's days, once per citizen.
    let mut cards: BTreeMap<String, CoveredDays> = BTreeMap::new();
    let mut facts: BTreeMap<LineKey, &PeriodReport> = BTreeMap::new();
    let mut shifts = Vec::with_capacity(confirmed.len());
    for r in &confirmed {
        let employment_id =
            r.employment_id.clone().ok_or_else(|| ServiceError::internal("approved placement without employment"))?;
        if !cards.contains_key(&r.citizen_id) {
            let periods = card_periods(conn, &r.citizen_id)?;
            cards.insert(r.citizen_id.clone(), CoveredDays::new(&periods));
        }
        let covered = &cards[&r.citizen_id];
        let key = (r.citizen_id.clone(), employment_id);
        facts.entry(key.clone()).or_insert(r);
        shifts.push(PayableShift {
            employment: key,
            report: r.report.id.clone(),
            date: r.report.shift_date,
            worked: stored_worked(r.report.minutes)?,
            hourly_wage: r.hourly_wage,
            card_active: covered.coverage(r.report.shift_date, r.report.shift_date)
                == smaajob_domain::CardCoverage::Whole,
        });
    }
    let lines = pay_lines(&shifts).map_err(|e| ServiceError::rule(Code::Conflict, e.to_string()))?;

    // Every employment is locked (in the lines' order) and checked before anything is paid, so a
    // refusal names every ended employment at once.
    let mut locked = BTreeMap::new();
    let mut ended = Vec::new();
    for line in &lines {
        let (_, employment_id) = &line.employment;
        if locked.contains_key(employment_id) {
            continue;
        }
        let employment = scope::employment_for_update(conn, principal, employment_id)?;
        if employment.employment.ended_at.is_some() {
            let f = facts[&line.employment];
            ended.push(Obstacle {
                kind: "employment",
                id: employment_id.to_string(),
                date: None,
                message: format!(
                    "the employment of {} on “{}” has ended; its confirmed hours cannot be paid as frikort work on it",
                    f.citizen_name, f.task_title
                ),
            });
        }
        locked.insert(employment_id.clone(), employment);
    }
    if !ended.is_empty() {
        return Err(ServiceError::Blocked {
            code: Code::EmploymentEnded,
            detail: "confirmed hours of the period are on employments that have ended; they are listed in `obstacles`"
                .into(),
            obstacles: ended,
        });
    }

    let mut paid = Vec::with_capacity(lines.len());
    let mut adjustments = Vec::new();
    for line in lines {
        let employment = &locked[&line.employment.1];
        paid.push(pay_line(conn, principal, cmd, employment, &line, facts[&line.employment], &mut adjustments)?);
    }
    let totals = PayRunTotals::of(paid.iter().map(|l| smaajob_domain::PaidAmounts {
        shifts: l.reports.len() as u64,
        wage: l.wage,
        holiday_pay: l.holiday_pay,
        pension: l.pension,
        gross: l.gross,
    }))
    .map_err(|e| ServiceError::rule(Code::Conflict, e.to_string()))?;
    let count = |n: u64| i32::try_from(n).map_err(|_| ServiceError::internal("a pay run's count does not fit"));
    let (municipality, company_id) = match principal {
        Principal::Coordinator { municipality, .. } => (Some(municipality.to_string()), cmd.company_id.clone()),
        _ => (None, period.company_id.clone()),
    };
    let row = PayRunRow {
        id: new_id(),
        municipality,
        company_id,
        period_from: cmd.period_from,
        period_to: cmd.period_to,
        payment_date: cmd.payment_date,
        payment_method: cmd.method,
        lines: count(totals.lines)?,
        shifts: count(totals.shifts)?,
        wage: totals.wage,
        holiday_pay: totals.holiday_pay,
        pension: totals.pension,
        gross: totals.gross,
        created_by: principal.sub().to_owned(),
        created_by_role: principal.role().as_str().to_owned(),
        created_at: now(),
    };
    let payout_ids: Vec<PayoutId> = paid.iter().filter_map(|l| l.payout_id.clone()).collect();
    pay_runs::insert(conn, &row, &payout_ids)?;
    Ok(PayRun { row, committed: true, lines: paid, adjustments })
}

/// Registers one line as a payout and marks its reports paid.
fn pay_line(
    conn: &mut DbConn,
    principal: &Principal,
    cmd: &PayRunCommand,
    employment: &scope::LockedEmployment,
    line: &PayLine<LineKey, ShiftReportId>,
    f: &PeriodReport,
    adjustments: &mut Vec<AdjustmentRow>,
) -> Result<PayRunLine, ServiceError> {
    let amounts = PayoutAmounts::wage_with_holiday_pay(line.wage)?;
    let work = Work { payment_date: cmd.payment_date, worked_from: line.worked_from, worked_to: line.worked_to };
    let receipt = payouts::record(conn, principal, employment, work, &amounts)?;
    if receipt.payout.gross != line.gross {
        return Err(ServiceError::internal("a pay line and its payout disagree on the gross"));
    }
    let marked = shift_reports::mark_paid(conn, &line.reports, &receipt.payout.id)?;
    if marked != line.reports.len() {
        // Another run paid some of these shifts since they were read: this one pays nothing.
        return Err(ServiceError::conflict(
            Code::PaidMeanwhile,
            "some of the period's hours were paid by another pay run meanwhile; nothing was paid, look again",
        ));
    }
    adjustments.extend(receipt.adjustments.iter().cloned());
    let mut notices = receipt.notices;
    if line.worked_from.year() != income_year(cmd.payment_date) {
        notices.push(Notice {
            kind: payouts::NoticeKind::IncomeYearOfPayment,
            message: format!(
                "work done in {} is paid on {}: it is income of {}, and counts toward {}'s frikort amount",
                line.worked_from.year(),
                cmd.payment_date,
                income_year(cmd.payment_date),
                income_year(cmd.payment_date)
            ),
        });
    }
    Ok(PayRunLine {
        citizen_id: line.employment.0.clone(),
        citizen_name: f.citizen_name.clone(),
        employment_id: line.employment.1.clone(),
        company_id: f.company_id.clone(),
        task_title: f.task_title.clone(),
        reports: line.reports.clone(),
        worked_from: line.worked_from,
        worked_to: line.worked_to,
        minutes: line.minutes,
        wage: line.wage,
        holiday_pay: line.holiday_pay,
        pension: line.pension,
        gross: line.gross,
        split: receipt.split,
        income_year: income_year(cmd.payment_date),
        notices,
        payout_id: Some(receipt.payout.id),
    })
}

fn list_scope(principal: &Principal) -> Result<PayRunScope, ServiceError> {
    match principal {
        Principal::Coordinator { municipality, .. } => Ok(PayRunScope::Municipality(municipality.to_string())),
        Principal::Company { company_id, .. } => Ok(PayRunScope::Company(company_id.clone())),
        other => may_run(other).and(Err(scope::no_personal_data())),
    }
}

/// One page of the pay runs the caller may see (a coordinator the municipality's, a company those
/// that paid its workers), newest first, and the total.
pub fn list(conn: &mut DbConn, principal: &Principal, page: Page) -> Result<(Vec<PayRunRow>, i64), ServiceError> {
    let scope = list_scope(principal)?;
    Ok(pay_runs::page(conn, &scope, page)?)
}

/// A committed pay run with the payouts it registered, as they stand now (a payout reversed
/// since is marked so).
#[derive(Debug, Clone)]
pub struct StoredPayRun {
    /// The run.
    pub row: PayRunRow,
    /// Its payouts, with whether each is reversed.
    pub payouts: Vec<(smaajob_persistence::repo::accounting::PayoutRow, bool)>,
}

/// One pay run the caller may see. An audited read.
pub fn find(conn: &mut DbConn, principal: &Principal, id: &str) -> Result<Audited<StoredPayRun>, ServiceError> {
    let scope = list_scope(principal)?;
    let row = pay_runs::find(conn, id).or_not_found("pay run")?;
    let visible = match &scope {
        PayRunScope::Municipality(m) => row.municipality.as_deref() == Some(m.as_str()),
        PayRunScope::Company(c) => row.company_id.as_ref() == Some(c),
    };
    if !visible {
        return Err(ServiceError::NotFound("pay run"));
    }
    let payouts = pay_runs::payouts_of(conn, id)?;
    let entry = audit::entry(principal, "payrun.read", "pay_run", id, own_municipality(principal).as_deref(), None);
    Ok(Audited::new(StoredPayRun { row, payouts }, vec![entry]))
}
