//! Hours worked per shift, reported by one side and confirmed (or disputed) by the other.

use diesel::prelude::*;
use smaajob_domain::{Actor, CompanyId, EmploymentId, Money, PayoutId, ReportStatus, ShiftReportId};

use crate::db::{DbConn, MultiBackend};
use crate::error::RepoError;
use crate::repo::Page;
use crate::repo::accounting::PayoutRow;
use crate::schema::{citizens, payout_reversals, payouts, placements, shift_reports, tasks};
use crate::types::{Code, IdText, NullableIdText};

/// A report of the hours worked on one shift.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = shift_reports, check_for_backend(MultiBackend))]
#[diesel(treat_none_as_null = true)]
pub struct ShiftReportRow {
    /// Row id.
    #[diesel(serialize_as = IdText)]
    pub id: ShiftReportId,
    /// The placement.
    pub placement_id: String,
    /// The shift's date.
    pub shift_date: chrono::NaiveDate,
    /// Minutes worked.
    pub minutes: i32,
    /// Where the report stands.
    #[diesel(serialize_as = Code)]
    pub status: ReportStatus,
    /// Who reported.
    pub reported_by: String,
    /// The reporting role.
    #[diesel(serialize_as = Code)]
    pub reported_by_role: Actor,
    /// When (UTC).
    pub reported_at: chrono::NaiveDateTime,
    /// Who confirmed or disputed.
    pub answered_by: Option<String>,
    /// When (UTC).
    pub answered_at: Option<chrono::NaiveDateTime>,
    /// Why it was disputed.
    pub dispute_reason: Option<String>,
    /// The payout the confirmed hours became.
    #[diesel(serialize_as = NullableIdText)]
    pub payout_id: Option<PayoutId>,
}

/// A report with the payout its confirmed hours became, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportWithPayout {
    /// The report.
    pub report: ShiftReportRow,
    /// The payout, once the hours are confirmed.
    pub payout: Option<PayoutRow>,
    /// Whether that payout is reversed.
    pub payout_reversed: bool,
}

/// Inserts a report.
pub fn insert(conn: &mut DbConn, row: &ShiftReportRow) -> Result<(), RepoError> {
    diesel::insert_into(shift_reports::table).values(row.clone()).execute(conn)?;
    Ok(())
}

/// Saves a changed report.
pub fn update(conn: &mut DbConn, row: &ShiftReportRow) -> Result<(), RepoError> {
    let n = diesel::update(shift_reports::table.find(row.id.as_str())).set(row.clone()).execute(conn)?;
    if n == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// One report.
pub fn find(conn: &mut DbConn, id: &ShiftReportId) -> Result<ShiftReportRow, RepoError> {
    Ok(shift_reports::table.find(id.as_str()).select(ShiftReportRow::as_select()).first(conn)?)
}

/// The reports of a placement by shift date.
pub fn of_placement(conn: &mut DbConn, placement_id: &str) -> Result<Vec<ShiftReportRow>, RepoError> {
    Ok(shift_reports::table
        .filter(shift_reports::placement_id.eq(placement_id))
        .order(shift_reports::shift_date.asc())
        .select(ShiftReportRow::as_select())
        .load(conn)?)
}

/// The report of a placement's shift, if any (there is at most one per shift).
pub fn for_shift(
    conn: &mut DbConn,
    placement_id: &str,
    shift_date: chrono::NaiveDate,
) -> Result<Option<ShiftReportRow>, RepoError> {
    Ok(shift_reports::table
        .filter(shift_reports::placement_id.eq(placement_id))
        .filter(shift_reports::shift_date.eq(shift_date))
        .select(ShiftReportRow::as_select())
        .first(conn)
        .optional()?)
}

/// The reports joined to their payouts and its reversal; filtered and ordered by the callers.
macro_rules! with_payouts {
    () => {
        shift_reports::table
            .left_join(payouts::table.on(shift_reports::payout_id.eq(payouts::id.nullable())))
            .left_join(payout_reversals::table.on(shift_reports::payout_id.eq(payout_reversals::payout_id.nullable())))
    };
}

type Joined = (ShiftReportRow, Option<PayoutRow>, Option<String>);

fn with_payout((report, payout, reversal): Joined) -> ReportWithPayout {
    ReportWithPayout { report, payout, payout_reversed: reversal.is_some() }
}

/// One page of a placement's reports by shift date, each with its payout (in the same query),
/// and the total.
pub fn page_of_placement(
    conn: &mut DbConn,
    placement_id: &str,
    page: Page,
) -> Result<(Vec<ReportWithPayout>, i64), RepoError> {
    let total: i64 =
        shift_reports::table.filter(shift_reports::placement_id.eq(placement_id)).count().get_result(conn)?;
    let rows: Vec<Joined> = with_payouts!()
        .filter(shift_reports::placement_id.eq(placement_id))
        .order((shift_reports::shift_date.asc(), shift_reports::id.asc()))
        .select((ShiftReportRow::as_select(), Option::<PayoutRow>::as_select(), payout_reversals::payout_id.nullable()))
        .limit(page.limit)
        .offset(page.offset)
        .load(conn)?;
    Ok((rows.into_iter().map(with_payout).collect(), total))
}

/// One report with its payout.
pub fn find_with_payout(conn: &mut DbConn, id: &ShiftReportId) -> Result<ReportWithPayout, RepoError> {
    let row: Joined = with_payouts!()
        .filter(shift_reports::id.eq(id.as_str()))
        .select((ShiftReportRow::as_select(), Option::<PayoutRow>::as_select(), payout_reversals::payout_id.nullable()))
        .first(conn)?;
    Ok(with_payout(row))
}

/// Reports of a municipality's citizens still awaiting an answer, oldest first.
pub fn unanswered_in(
    conn: &mut DbConn,
    municipality: &str,
) -> Result<Vec<(ShiftReportRow, String, String)>, RepoError> {
    Ok(shift_reports::table
        .inner_join(placements::table.inner_join(tasks::table).inner_join(citizens::table))
        .filter(citizens::municipality.eq(municipality))
        .filter(shift_reports::status.eq(Code::from(ReportStatus::Reported)))
        .order(shift_reports::reported_at.asc())
        .select((ShiftReportRow::as_select(), citizens::name, tasks::title))
        .load(conn)?)
}

/// Moves a report from reported to `status` (confirmed or disputed) unless someone else
/// answered it first; returns whether this call did. The conditional update is atomic on both
/// backends, so two concurrent confirmations cannot both become payouts.
pub fn answer(
    conn: &mut DbConn,
    id: &ShiftReportId,
    status: ReportStatus,
    answered_by: &str,
    at: chrono::NaiveDateTime,
    dispute_reason: Option<&str>,
) -> Result<bool, RepoError> {
    let n = diesel::update(
        shift_reports::table.find(id.as_str()).filter(shift_reports::status.eq(Code::from(ReportStatus::Reported))),
    )
    .set((
        shift_reports::status.eq(Code::from(status)),
        shift_reports::answered_by.eq(Some(answered_by)),
        shift_reports::answered_at.eq(Some(at)),
        shift_reports::dispute_reason.eq(dispute_reason),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Replaces a disputed report with new hours (back to `reported`), unless it is no longer
/// disputed; returns whether this call did. Atomic like [`answer`].
pub fn report_again(conn: &mut DbConn, row: &ShiftReportRow) -> Result<bool, RepoError> {
    let n = diesel::update(
        shift_reports::table.find(row.id.as_str()).filter(shift_reports::status.eq(Code::from(ReportStatus::Disputed))),
    )
    .set(row.clone())
    .execute(conn)?;
    Ok(n == 1)
}

/// Links a confirmed report to the payout it became.
pub fn set_payout(conn: &mut DbConn, id: &ShiftReportId, payout_id: &PayoutId) -> Result<(), RepoError> {
    diesel::update(shift_reports::table.find(id.as_str()))
        .set(shift_reports::payout_id.eq(Some(payout_id.as_str())))
        .execute(conn)?;
    Ok(())
}

/// A report of hours with what a pay run needs to know about its placement.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodReport {
    /// The report.
    pub report: ShiftReportRow,
    /// The placement's employment (set when it was approved).
    pub employment_id: Option<EmploymentId>,
    /// The citizen placed.
    pub citizen_id: String,
    /// The citizen's name.
    pub citizen_name: String,
    /// The task's company.
    pub company_id: CompanyId,
    /// The task's title.
    pub task_title: String,
    /// The task's hourly wage.
    pub hourly_wage: Money,
}

/// A report with its employment, citizen id and name, company, task title and wage, as read.
type PeriodRow = (ShiftReportRow, Option<EmploymentId>, String, String, CompanyId, String, Money);

/// Whose reports a pay run looks at: filters that apply when set.
#[derive(Debug, Clone, Default)]
pub struct PeriodScope {
    /// Only citizens of this municipality.
    pub municipality: Option<String>,
    /// Only tasks of this company.
    pub company_id: Option<CompanyId>,
}

/// The reports of shifts dated `from..=to` in `scope` that a pay run must pay or wait for: those
/// still awaiting an answer, and those confirmed and not paid yet. By citizen, placement and date.
pub fn awaiting_pay(
    conn: &mut DbConn,
    scope: &PeriodScope,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> Result<Vec<PeriodReport>, RepoError> {
    let mut q =
        shift_reports::table
            .inner_join(placements::table.inner_join(tasks::table).inner_join(citizens::table))
            .filter(shift_reports::shift_date.between(from, to))
            .filter(shift_reports::status.eq(Code::from(ReportStatus::Reported)).or(
                shift_reports::status.eq(Code::from(ReportStatus::Confirmed)).and(shift_reports::payout_id.is_null()),
            ))
            .into_boxed::<MultiBackend>();
    if let Some(m) = &scope.municipality {
        q = q.filter(citizens::municipality.eq(m.clone()));
    }
    if let Some(c) = &scope.company_id {
        q = q.filter(tasks::company_id.eq(c.as_str().to_owned()));
    }
    let rows: Vec<PeriodRow> = q
        .order((placements::citizen_id.asc(), shift_reports::placement_id.asc(), shift_reports::shift_date.asc()))
        .select((
            ShiftReportRow::as_select(),
            placements::employment_id,
            placements::citizen_id,
            citizens::name,
            tasks::company_id,
            tasks::title,
            tasks::hourly_wage_ore,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(report, employment_id, citizen_id, citizen_name, company_id, task_title, hourly_wage)| PeriodReport {
            report,
            employment_id,
            citizen_id,
            citizen_name,
            company_id,
            task_title,
            hourly_wage,
        })
        .collect())
}

/// Links confirmed, unpaid reports to the payout that pays them; returns how many this call
/// linked. Conditional like [`answer`]: of two runs paying the same report only one links it, so
/// the caller compares the count and rolls back when another run got there first.
pub fn mark_paid(conn: &mut DbConn, ids: &[ShiftReportId], payout_id: &PayoutId) -> Result<usize, RepoError> {
    let ids: Vec<&str> = ids.iter().map(ShiftReportId::as_str).collect();
    Ok(diesel::update(
        shift_reports::table
            .filter(shift_reports::id.eq_any(ids))
            .filter(shift_reports::status.eq(Code::from(ReportStatus::Confirmed)))
            .filter(shift_reports::payout_id.is_null()),
    )
    .set(shift_reports::payout_id.eq(Some(payout_id.as_str())))
    .execute(conn)?)
}
