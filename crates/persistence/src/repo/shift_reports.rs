//! Hours worked per shift, reported by one side and confirmed (or disputed) by the other.

use diesel::prelude::*;
use smaajob_domain::{Actor, PayoutId, ReportStatus, ShiftReportId};

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
