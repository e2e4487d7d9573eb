//! Payouts: every krone registered on an employment, split exactly into the exempt part and the
//! taxable excess, and reversals, which re-split the year. Adjustments list what changed.

use chrono::{Datelike, Duration, NaiveDate};
use smaajob_domain::{
    AdjustmentCause, CardCoverage, Coverage, EmploymentId, Money, PayoutId, Split, YearTotals, card_coverage,
    copenhagen_date, holiday_pay,
};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::accounting::{self, AdjustmentRow, AdjustmentScope, PayoutRow, ReversalRow};
use smaajob_persistence::repo::{Page, now};
use smaajob_persistence::types::new_record_id;

use crate::services::allocation::{Reallocated, card_periods, lock_year, reallocate, register};
use crate::services::audit::{self, Audited};
use crate::services::common::{check_not_before_scheme, today_copenhagen};
use crate::services::error::{Code, Fields, OrNotFound, ServiceError, checked};
use crate::services::notifications::events;
use crate::services::principal::Principal;
use crate::services::scope::{self, LockedEmployment};

/// The largest gross a single payout may have (a typo guard far above any small job).
const MAX_PAYOUT_KRONER: i64 = 1_000_000;
/// Payouts are registered when paid; a payment date may lie at most this far ahead.
const MAX_DAYS_AHEAD: i64 = 31;

/// When the work happened and when it is paid.
#[derive(Debug, Clone, Copy)]
pub struct Work {
    /// Payment date (its year is the income year).
    pub payment_date: NaiveDate,
    /// First day worked.
    pub worked_from: NaiveDate,
    /// Last day worked.
    pub worked_to: NaiveDate,
}

/// A payout's amounts, checked: what counts toward the cap is `gross`.
#[derive(Debug, Clone, Copy)]
pub struct PayoutAmounts {
    wage: Money,
    holiday_pay: Money,
    holiday_pay_separately: bool,
    pension: Money,
    gross: Money,
}

impl PayoutAmounts {
    /// Pay for confirmed hours: the wage, with 12.5 % holiday pay on top and no pension.
    pub fn wage_with_holiday_pay(wage: Money) -> Result<PayoutAmounts, ServiceError> {
        let holiday_pay = holiday_pay(wage);
        let gross = wage
            .checked_add(holiday_pay)
            .ok_or_else(|| ServiceError::field("hours", "too_large", "the pay is too large"))?;
        Ok(PayoutAmounts { wage, holiday_pay, holiday_pay_separately: false, pension: Money::ZERO, gross })
    }
}

/// A payout as a person or a program states it, before it is checked.
#[derive(Debug, Clone, Copy)]
pub struct PayoutInput<'a> {
    /// The day the money is paid.
    pub payment_date: NaiveDate,
    /// First day of the work paid for.
    pub worked_from: NaiveDate,
    /// Last day of the work paid for.
    pub worked_to: NaiveDate,
    /// The wage, a DKK decimal.
    pub wage: &'a str,
    /// Holiday pay; absent → 12.5 % of the wage; zero → paid separately later.
    pub holiday_pay: Option<&'a str>,
    /// Pension paid out to the citizen; absent → zero.
    pub pension: Option<&'a str>,
}

/// A new payout on an employment, checked.
#[derive(Debug, Clone, Copy)]
pub struct NewPayout {
    /// When the work happened and when it is paid.
    pub work: Work,
    /// What is paid.
    pub amounts: PayoutAmounts,
}

impl NewPayout {
    /// Checks a stated payout; every invalid field is named.
    pub fn parse(input: &PayoutInput<'_>) -> Result<NewPayout, ServiceError> {
        let mut f = Fields::new();
        let wage = f.check("wage", Money::parse_positive(input.wage));
        let holiday = f.check_opt("holiday_pay", input.holiday_pay.map(Money::parse_non_negative));
        let pension = f.check_opt("pension", input.pension.map(Money::parse_non_negative));
        if input.worked_to < input.worked_from {
            f.push("worked_to", "before_worked_from", "the work period ends before it starts");
        }
        if input.payment_date < input.worked_from {
            f.push("payment_date", "before_work", "the payment date is before the work started");
        }
        check_not_before_scheme(&mut f, "worked_from", input.worked_from);
        if input.payment_date > today_copenhagen() + Duration::days(MAX_DAYS_AHEAD) {
            f.push(
                "payment_date",
                "too_far_ahead",
                format!("register payouts when paid (at most {MAX_DAYS_AHEAD} days ahead)"),
            );
        }
        f.finish()?;
        let wage = checked(wage)?;
        let (holiday_pay, holiday_pay_separately) = match checked(holiday)? {
            None => (holiday_pay(wage), false),
            Some(h) => (h, h.is_zero()),
        };
        let pension = checked(pension)?.unwrap_or(Money::ZERO);
        let gross = wage
            .checked_add(holiday_pay)
            .and_then(|g| g.checked_add(pension))
            .filter(|g| *g <= Money::from_kroner(MAX_PAYOUT_KRONER))
            .ok_or_else(|| {
                ServiceError::field(
                    "wage",
                    "too_large",
                    format!("a payout above {MAX_PAYOUT_KRONER} kr is refused as a typo"),
                )
            })?;
        let work =
            Work { payment_date: input.payment_date, worked_from: input.worked_from, worked_to: input.worked_to };
        Ok(NewPayout { work, amounts: PayoutAmounts { wage, holiday_pay, holiday_pay_separately, pension, gross } })
    }
}

/// The citizen-year after a change, as far as the caller may see it: a company sees only the cap
/// and what is left of it, not the citizen's other income.
#[derive(Debug, Clone)]
pub struct YearBalance {
    /// Income year.
    pub year: i32,
    /// The cap.
    pub cap: Money,
    /// True while the year's cap is not set and the previous year's is used.
    pub cap_provisional: bool,
    /// What is left of the cap.
    pub remaining: Money,
    /// Gross, exempt and taxable so far, for coordinators and the citizen.
    pub totals: Option<YearTotals>,
}

impl YearBalance {
    /// The citizen-year after a re-allocation; with `details` the totals too (not for companies).
    pub fn after(r: &Reallocated, details: bool) -> YearBalance {
        YearBalance {
            year: r.year.year,
            cap: r.totals.cap,
            cap_provisional: r.year.cap_provisional,
            remaining: r.totals.remaining(),
            totals: details.then_some(r.totals),
        }
    }
}

smaajob_domain::coded_enum!(NoticeKind, "payout notice" {
    CapCrossed => "cap_crossed",
    CapNearlyReached => "cap_nearly_reached",
    NotCovered => "not_covered",
    LateRegistration => "late_registration",
    ProvisionalCap => "provisional_cap",
    SplitsChanged => "splits_changed",
    IncomeYearOfPayment => "income_year_of_payment",
});

/// Something the registering party should know or do after a payout or a reversal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // each variant is its code
pub enum NoticeKind {
    CapCrossed,
    CapNearlyReached,
    NotCovered,
    LateRegistration,
    ProvisionalCap,
    SplitsChanged,
    IncomeYearOfPayment,
}

/// A notice with its explanation for a person.
#[derive(Debug, Clone)]
pub struct Notice {
    /// What kind of notice.
    pub kind: NoticeKind,
    /// What it means and what to do.
    pub message: String,
}

/// What registering or reversing a payout returns.
#[derive(Debug, Clone)]
pub struct Receipt {
    /// The payout as stored.
    pub payout: PayoutRow,
    /// Its split now.
    pub split: Split,
    /// Whether it is reversed.
    pub reversed: bool,
    /// The citizen-year afterwards.
    pub balance: YearBalance,
    /// Things to act on.
    pub notices: Vec<Notice>,
    /// Other payouts whose split changed because of this one, as far as the caller may see them.
    pub adjustments: Vec<AdjustmentRow>,
}

/// Whether the principal's role may register payouts at all (citizens may not); checked before
/// anything else is read.
pub fn may_register(principal: &Principal) -> Result<(), ServiceError> {
    match principal {
        Principal::Citizen { .. } => Err(ServiceError::Forbidden("citizens cannot register payouts".into())),
        Principal::Operator { .. } => Err(scope::no_personal_data()),
        Principal::Coordinator { .. } | Principal::Company { .. } | Principal::NewCompany { .. } => Ok(()),
    }
}

/// Whether the principal's role may reverse payouts at all (citizens may not).
pub fn may_reverse(principal: &Principal) -> Result<(), ServiceError> {
    match principal {
        Principal::Citizen { .. } => Err(ServiceError::Forbidden("citizens cannot reverse payouts".into())),
        Principal::Operator { .. } => Err(scope::no_personal_data()),
        Principal::Coordinator { .. } | Principal::Company { .. } | Principal::NewCompany { .. } => Ok(()),
    }
}

/// Registers a payout on an employment the caller may see (a company its own, a coordinator the
/// municipality's). Runs in a write transaction.
pub fn register_payout(
    conn: &mut DbConn,
    principal: &Principal,
    employment_id: &EmploymentId,
    payout: &NewPayout,
) -> Result<Receipt, ServiceError> {
    may_register(principal)?;
    let locked = scope::employment_for_update(conn, principal, employment_id)?;
    record(conn, principal, &locked, payout.work, &payout.amounts)
}

/// Records a payout on an employment locked by the caller (see
/// [`scope::employment_for_update`]): refuses an ended employment and a work period straddling a
/// card decision, splits it, inserts it once with its split, and audits it.
pub fn record(
    conn: &mut DbConn,
    principal: &Principal,
    locked: &LockedEmployment,
    work: Work,
    amounts: &PayoutAmounts,
) -> Result<Receipt, ServiceError> {
    let LockedEmployment { employment, citizen } = locked;
    if employment.ended_at.is_some() {
        return Err(ServiceError::conflict(
            Code::EmploymentEnded,
            "the employment has ended; register later work on a new employment",
        ));
    }
    let year = work.payment_date.year();
    // The cap and the card are read under the citizen-year lock, so a cap set or a card decision
    // committed meanwhile is seen (and not undone by a split computed from what was read before).
    let (mut year_row, cap) = lock_year(conn, &citizen.id, year)?;
    let periods = card_periods(conn, &citizen.id)?;
    if card_coverage(&periods, work.worked_from, work.worked_to) == CardCoverage::Partial {
        return Err(ServiceError::rule(
            Code::WorkPeriodStraddlesCardChange,
            "the frikort was active for only part of the work period; register two payouts, split where the card was deactivated or reactivated",
        ));
    }
    let exempt_before = year_row.exempt;
    let sequence = year_row.next_sequence;
    year_row.next_sequence += 1;
    let row = PayoutRow {
        id: new_record_id(),
        employment_id: employment.id.clone(),
        citizen_id: citizen.id.clone(),
        company_id: employment.company_id.clone(),
        year,
        sequence,
        payment_date: work.payment_date,
        worked_from: work.worked_from,
        worked_to: work.worked_to,
        wage: amounts.wage,
        holiday_pay: amounts.holiday_pay,
        holiday_pay_separate: amounts.holiday_pay_separately,
        pension: amounts.pension,
        gross: amounts.gross,
        // `register` computes the split before the row is written.
        exempt: Money::ZERO,
        taxable: amounts.gross,
        coverage: Coverage::Covered,
        late_registration: work.worked_from < copenhagen_date(employment.registered_at),
        registered_by: principal.sub().to_owned(),
        registered_by_role: principal.actor().ok_or_else(scope::no_personal_data)?,
        created_at: now(),
    };
    let mut r = register(conn, year_row, cap, row, &periods)?;
    let payout = r.new_payout.take().ok_or_else(|| ServiceError::internal("the new payout was not returned"))?;
    let split =
        *r.splits.get(payout.id.as_str()).ok_or_else(|| ServiceError::internal("the new payout was not allocated"))?;
    let details = serde_json::json!({
        "payout_id": payout.id, "employment_id": payout.employment_id, "gross": amounts.gross.to_string(),
        "exempt": split.exempt.to_string(), "taxable": split.taxable.to_string(), "adjustments": r.adjustments.len(),
    });
    audit::record(
        conn,
        audit::entry(
            principal,
            "payout.registered",
            "citizen",
            &citizen.id,
            Some(&citizen.municipality),
            Some(details),
        ),
    )?;
    events::payout_registered(conn, &payout, citizen, exempt_before, &r.totals)?;
    Ok(receipt(principal, payout, split, false, r))
}

/// Reverses a payout the caller may see: it stops counting, the year is re-split, and every
/// changed split is an adjustment. Runs in a write transaction.
pub fn reverse(
    conn: &mut DbConn,
    principal: &Principal,
    payout_id: &PayoutId,
    reason: String,
) -> Result<Receipt, ServiceError> {
    may_reverse(principal)?;
    let (payout, _) = accounting::find_payout(conn, payout_id).or_not_found("payout")?;
    let citizen = match scope::employment(conn, principal, &payout.employment_id) {
        Ok(scoped) => scoped.citizen,
        Err(ServiceError::NotFound(_)) => return Err(ServiceError::NotFound("payout")),
        Err(e) => return Err(e),
    };
    // Lock first, then look: a concurrent reversal of the same payout waits and then sees it,
    // and a cap set meanwhile is read after it committed.
    let (locked, cap) = lock_year(conn, &citizen.id, payout.year)?;
    if accounting::find_payout(conn, payout_id)?.1 {
        return Err(ServiceError::conflict(Code::PayoutAlreadyReversed, "the payout is already reversed"));
    }
    accounting::insert_reversal(
        conn,
        &ReversalRow {
            payout_id: payout.id.clone(),
            reason,
            reversed_by: principal.sub().to_owned(),
            reversed_by_role: principal.actor().ok_or_else(scope::no_personal_data)?,
            created_at: now(),
        },
    )?;
    let r = reallocate(conn, locked, cap, AdjustmentCause::Reversal, Some(payout.id.as_str()))?;
    let split =
        *r.splits.get(payout.id.as_str()).ok_or_else(|| ServiceError::internal("the payout was not allocated"))?;
    let details = serde_json::json!({ "payout_id": payout.id, "adjustments": r.adjustments.len() });
    audit::record(
        conn,
        audit::entry(principal, "payout.reversed", "citizen", &citizen.id, Some(&citizen.municipality), Some(details)),
    )?;
    let mut receipt = receipt(principal, payout, split, true, r);
    // Registration was late or not; a reversal changes nothing about that.
    receipt.notices.retain(|n| n.kind != NoticeKind::LateRegistration);
    Ok(receipt)
}

/// One page of an employment's payouts, newest first, each with whether it is reversed.
#[derive(Debug)]
pub struct PayoutPage {
    /// The payouts of the page.
    pub items: Vec<(PayoutRow, bool)>,
    /// How many payouts the employment has in all.
    pub total: i64,
}

/// The payouts of an employment the caller may see, newest first, each with whether it is
/// reversed. An audited read.
pub fn of_employment(
    conn: &mut DbConn,
    principal: &Principal,
    employment_id: &EmploymentId,
    page: Page,
) -> Result<Audited<PayoutPage>, ServiceError> {
    let scoped = scope::employment(conn, principal, employment_id)?;
    let (items, total) = accounting::page_of_payouts_of_employment(conn, employment_id, page)?;
    let rows = PayoutPage { items, total };
    let entry = audit::entry(
        principal,
        "payout.listed",
        "employment",
        employment_id.as_str(),
        Some(&scoped.citizen.municipality),
        None,
    );
    Ok(Audited::new(rows, vec![entry]))
}

/// One page of adjustments: a company sees what it must correct in eIndkomst, a coordinator the
/// municipality's, a citizen their own.
pub fn adjustments(
    conn: &mut DbConn,
    principal: &Principal,
    year: Option<i32>,
    page: Page,
) -> Result<(Vec<AdjustmentRow>, i64), ServiceError> {
    let scope = match principal {
        Principal::Company { company_id, .. } => AdjustmentScope::Company(company_id.clone()),
        Principal::Coordinator { municipality, .. } => AdjustmentScope::Municipality(municipality.to_string()),
        Principal::Citizen { citizen_id, .. } => AdjustmentScope::Citizen(citizen_id.clone()),
        Principal::NewCompany { .. } => return Err(ServiceError::Unregistered),
        Principal::Operator { .. } => return Err(scope::no_personal_data()),
    };
    let (rows, total) = accounting::list_adjustments(conn, &scope, year, page)?;
    Ok((rows.into_iter().map(|(a, _)| a).collect(), total))
}

fn receipt(principal: &Principal, payout: PayoutRow, split: Split, reversed: bool, r: Reallocated) -> Receipt {
    let is_company = matches!(principal, Principal::Company { .. });
    // Another employer's amounts are not a company's business.
    let adjustments: Vec<AdjustmentRow> = r
        .adjustments
        .iter()
        .filter(|a| match principal {
            Principal::Company { company_id, .. } => a.company_id == *company_id,
            _ => true,
        })
        .cloned()
        .collect();
    let notices = notices(&payout, &split, &r, adjustments.len());
    let balance = YearBalance::after(&r, !is_company);
    Receipt { payout, split, reversed, balance, notices, adjustments }
}

/// What to tell the caller; `adjustments` counts the changed splits the caller may see.
fn notices(p: &PayoutRow, split: &Split, r: &Reallocated, adjustments: usize) -> Vec<Notice> {
    let mut w = Vec::new();
    let mut notice = |kind, message: String| w.push(Notice { kind, message });
    match split.coverage {
        Coverage::Covered if split.taxable.is_positive() => notice(
            NoticeKind::CapCrossed,
            format!(
                "{} kr of this payout is above the frikort amount: it is ordinary taxable A-income that must be reported to eIndkomst",
                split.taxable
            ),
        ),
        Coverage::CardInactive => notice(
            NoticeKind::NotCovered,
            "the frikort was not active during the work period: the whole payout is taxable and must be reported to eIndkomst".into(),
        ),
        Coverage::OutsideEmployment => notice(
            NoticeKind::NotCovered,
            "the work period lies outside the registered employment: the whole payout is taxable and must be reported to eIndkomst".into(),
        ),
        _ => {}
    }
    let remaining = r.totals.remaining();
    if remaining.is_positive() && remaining.ore() * 10 < r.totals.cap.ore() {
        notice(NoticeKind::CapNearlyReached, format!("only {remaining} kr of this year's frikort amount is left"));
    }
    if p.late_registration {
        notice(
            NoticeKind::LateRegistration,
            "work began before the employment was registered; § 6 requires registration before work starts".into(),
        );
    }
    if r.cap.provisional {
        notice(
            NoticeKind::ProvisionalCap,
            format!(
                "the {} cap is not set yet; {}'s amount is used until it is, and splits may change then",
                r.year.year, r.cap.source_year
            ),
        );
    }
    if adjustments > 0 {
        notice(
            NoticeKind::SplitsChanged,
            format!(
                "{adjustments} earlier payout(s) of the year changed split; see `adjustments` and correct eIndkomst"
            ),
        );
    }
    w
}
