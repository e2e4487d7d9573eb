//! Re-running a citizen-year's allocation and recording what changed.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use smaajob_domain::{
    AllocationInput, CapAmount, CapYear, CardEventKind, CardPeriod, Coverage, EmploymentSpan, Money, PayoutFacts,
    ResolvedCap, Split, active_periods, allocate, resolve_cap, split_changes,
};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::accounting::{self, AdjustmentRow, CitizenYearRow, PayoutRow};
use smaajob_persistence::repo::{caps, employments, frikort, new_id, now};

use crate::error::ApiError;

/// Why a citizen-year is re-allocated; becomes an adjustment's `cause`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// A new payout (changes to other payouts mean it was back-dated).
    Payout,
    /// A payout was reversed.
    Reversal,
    /// The year's cap was set or changed.
    CapChanged,
    /// A card decision's time was corrected.
    CardChanged,
}

impl Cause {
    fn as_str(self) -> &'static str {
        match self {
            Cause::Payout => "backdated_payout",
            Cause::Reversal => "reversal",
            Cause::CapChanged => "cap_changed",
            Cause::CardChanged => "card_changed",
        }
    }
}

/// The outcome of a re-allocation.
#[derive(Debug)]
pub struct Reallocated {
    /// The saved totals.
    pub year: CitizenYearRow,
    /// Every payout's split after.
    pub splits: BTreeMap<String, Split>,
    /// Adjustments recorded for payouts whose split changed.
    pub adjustments: Vec<AdjustmentRow>,
    /// The cap used.
    pub cap: ResolvedCap,
}

/// The cap in force for a year (provisional when unset), or 422 outside the frikort years.
pub fn cap_for(conn: &mut DbConn, year: i32) -> Result<ResolvedCap, ApiError> {
    let y = CapYear::parse(year).map_err(|_| {
        ApiError::field("payment_date", "year_out_of_range", "the frikort covers the years 2019 to 2100")
    })?;
    let set: BTreeMap<i32, CapAmount> = caps::list(conn)?
        .into_iter()
        .filter_map(|r| CapAmount::from_kroner(r.amount_ore / 100).map(|a| (r.year, a)))
        .collect();
    resolve_cap(y, &set).ok_or_else(|| ApiError::Internal(format!("no cap resolves for {year}")))
}

/// The citizen's card periods (empty without a card).
pub fn card_periods(conn: &mut DbConn, citizen_id: &str) -> Result<Vec<CardPeriod>, ApiError> {
    let Some(card) = frikort::find_by_citizen(conn, citizen_id)? else {
        return Ok(Vec::new());
    };
    let events: Vec<(CardEventKind, NaiveDateTime)> = frikort::events(conn, &card.id)?
        .into_iter()
        .filter_map(|e| CardEventKind::parse(&e.kind).map(|k| (k, e.effective_at)))
        .collect();
    Ok(active_periods(&events))
}

/// Employment spans of a citizen.
pub fn employment_spans(conn: &mut DbConn, citizen_id: &str) -> Result<Vec<EmploymentSpan>, ApiError> {
    Ok(employments::of_citizen(conn, citizen_id)?
        .into_iter()
        .map(|e| EmploymentSpan { id: e.id, start: e.start_date, end: e.end_date })
        .collect())
}

/// The facts the allocation engine needs from a stored payout.
pub fn facts(p: &PayoutRow, reversed: bool) -> PayoutFacts {
    PayoutFacts {
        id: p.id.clone(),
        employment_id: p.employment_id.clone(),
        sequence: p.sequence,
        payment_date: p.payment_date,
        worked_from: p.worked_from,
        worked_to: p.worked_to,
        gross: Money::from_ore(p.gross_ore),
        reversed,
    }
}

/// A fresh citizen-year row for locking.
pub fn fresh_year(citizen_id: &str, year: i32, cap: &ResolvedCap) -> CitizenYearRow {
    CitizenYearRow {
        citizen_id: citizen_id.to_owned(),
        year,
        cap_ore: cap.amount.money().ore(),
        cap_provisional: cap.provisional,
        gross_ore: 0,
        exempt_ore: 0,
        taxable_ore: 0,
        payout_count: 0,
        next_sequence: 1,
        updated_at: now(),
    }
}

/// Locks a citizen-year (creating it if needed) and only then reads the year's cap: a cap set by a
/// transaction that committed while this one waited for the lock is seen, not undone.
pub fn lock_year(conn: &mut DbConn, citizen_id: &str, year: i32) -> Result<(CitizenYearRow, ResolvedCap), ApiError> {
    let guess = cap_for(conn, year)?;
    let locked = accounting::lock_year(conn, &fresh_year(citizen_id, year, &guess))?;
    let cap = cap_for(conn, year)?;
    Ok((locked, cap))
}

/// Re-runs the allocation of a locked citizen-year, stores every changed split, records an
/// adjustment for each payout whose split changed (except `new_payout`, which had none before),
/// and saves the totals. The caller holds the citizen-year lock (see `lock_year`).
pub fn reallocate(
    conn: &mut DbConn,
    locked: CitizenYearRow,
    cap: ResolvedCap,
    cause: Cause,
    cause_ref: Option<&str>,
    new_payout: Option<&str>,
) -> Result<Reallocated, ApiError> {
    let rows = accounting::payouts_of_year(conn, &locked.citizen_id, locked.year)?;
    let periods = card_periods(conn, &locked.citizen_id)?;
    let spans = employment_spans(conn, &locked.citizen_id)?;
    let facts: Vec<PayoutFacts> = rows.iter().map(|(p, r)| facts(p, *r)).collect();
    let allocation = allocate(&AllocationInput {
        cap: cap.amount.money(),
        card_periods: &periods,
        employments: &spans,
        payouts: &facts,
    });
    let before: BTreeMap<String, Split> = rows
        .iter()
        .filter(|(p, _)| Some(p.id.as_str()) != new_payout)
        .map(|(p, _)| {
            let coverage = coverage_of(&p.coverage)?;
            Ok((
                p.id.clone(),
                Split { exempt: Money::from_ore(p.exempt_ore), taxable: Money::from_ore(p.taxable_ore), coverage },
            ))
        })
        .collect::<Result<_, ApiError>>()?;
    let t = now();
    let mut adjustments = Vec::new();
    for change in split_changes(&before, &allocation.splits) {
        let Some((p, _)) = rows.iter().find(|(p, _)| p.id == change.payout_id) else { continue };
        let row = AdjustmentRow {
            id: new_id(),
            payout_id: p.id.clone(),
            citizen_id: p.citizen_id.clone(),
            company_id: p.company_id.clone(),
            employment_id: p.employment_id.clone(),
            year: p.year,
            old_exempt_ore: change.old_exempt.ore(),
            old_taxable_ore: change.old_taxable.ore(),
            new_exempt_ore: change.new_exempt.ore(),
            new_taxable_ore: change.new_taxable.ore(),
            cause: cause.as_str().to_owned(),
            cause_ref: cause_ref.map(str::to_owned),
            created_at: t,
        };
        accounting::insert_adjustment(conn, &row)?;
        adjustments.push(row);
    }
    for (p, _) in &rows {
        let Some(split) = allocation.splits.get(&p.id) else { continue };
        let stored = (p.exempt_ore, p.taxable_ore, p.coverage.as_str());
        if stored != (split.exempt.ore(), split.taxable.ore(), split.coverage.as_str()) {
            accounting::set_split(conn, &p.id, split.exempt.ore(), split.taxable.ore(), split.coverage.as_str())?;
        }
    }
    let counted = allocation.splits.values().filter(|s| s.coverage != Coverage::Reversed).count();
    let year = CitizenYearRow {
        cap_ore: cap.amount.money().ore(),
        cap_provisional: cap.provisional,
        gross_ore: allocation.gross.ore(),
        exempt_ore: allocation.exempt.ore(),
        taxable_ore: allocation.taxable.ore(),
        payout_count: i32::try_from(counted).unwrap_or(i32::MAX),
        updated_at: t,
        ..locked
    };
    accounting::save_year(conn, &year)?;
    Ok(Reallocated { year, splits: allocation.splits, adjustments, cap })
}

/// Registers the split of a payout paid no earlier than every other payout of its locked
/// citizen-year. Such a payout cannot change any earlier split (it comes last in the order), so
/// it takes the headroom left by the stored totals — the allocation engine run on just this
/// payout with the remaining cap, in O(1) instead of re-reading the year. Falls back to a full
/// re-allocation when the stored totals were computed with another cap or the payout is back-dated.
pub fn register(
    conn: &mut DbConn,
    locked: CitizenYearRow,
    cap: ResolvedCap,
    payout: &PayoutRow,
    periods: &[CardPeriod],
) -> Result<Reallocated, ApiError> {
    let cap_ore = cap.amount.money().ore();
    let same_cap = locked.cap_ore == cap_ore && locked.cap_provisional == cap.provisional;
    let last = accounting::latest_payment_date(conn, &locked.citizen_id, locked.year)?;
    // `last` includes this payout, already inserted; ties are fine (it has the highest sequence).
    if !same_cap || last.is_some_and(|d| d > payout.payment_date) {
        return reallocate(conn, locked, cap, Cause::Payout, Some(&payout.id), Some(&payout.id));
    }
    let spans = employment_spans(conn, &locked.citizen_id)?;
    let facts = [facts(payout, false)];
    let headroom = Money::from_ore((cap_ore - locked.exempt_ore).max(0));
    let allocation =
        allocate(&AllocationInput { cap: headroom, card_periods: periods, employments: &spans, payouts: &facts });
    let split = *allocation.splits.get(&payout.id).ok_or_else(|| ApiError::Internal("payout not allocated".into()))?;
    accounting::set_split(conn, &payout.id, split.exempt.ore(), split.taxable.ore(), split.coverage.as_str())?;
    let year = CitizenYearRow {
        gross_ore: locked.gross_ore + payout.gross_ore,
        exempt_ore: locked.exempt_ore + split.exempt.ore(),
        taxable_ore: locked.taxable_ore + split.taxable.ore(),
        payout_count: locked.payout_count + 1,
        updated_at: now(),
        ..locked
    };
    accounting::save_year(conn, &year)?;
    Ok(Reallocated { year, splits: allocation.splits, adjustments: Vec::new(), cap })
}

fn coverage_of(s: &str) -> Result<Coverage, ApiError> {
    Ok(match s {
        "covered" => Coverage::Covered,
        "card_inactive" => Coverage::CardInactive,
        "outside_employment" => Coverage::OutsideEmployment,
        "reversed" => Coverage::Reversed,
        other => return Err(ApiError::Internal(format!("stored coverage `{other}` is unknown"))),
    })
}

/// Re-allocates every citizen-year from `year` on whose cap changed (a later year without its
/// own cap uses this one provisionally). Returns how many adjustments were recorded.
pub fn reallocate_after_cap_change(conn: &mut DbConn, year: i32) -> Result<usize, ApiError> {
    let mut adjusted = 0;
    for (citizen_id, y) in accounting::years_from(conn, year)? {
        let (locked, cap) = lock_year(conn, &citizen_id, y)?;
        if locked.cap_ore == cap.amount.money().ore() && locked.cap_provisional == cap.provisional {
            continue;
        }
        let cause_ref = year.to_string();
        adjusted += reallocate(conn, locked, cap, Cause::CapChanged, Some(&cause_ref), None)?.adjustments.len();
    }
    Ok(adjusted)
}

/// Re-allocates every year of a citizen with payouts (after a card decision or its correction
/// changed which days are covered). Returns the adjustments recorded.
pub fn reallocate_citizen(
    conn: &mut DbConn,
    citizen_id: &str,
    cause: Cause,
    cause_ref: &str,
) -> Result<Vec<AdjustmentRow>, ApiError> {
    let mut adjustments = Vec::new();
    // Ascending year order: every writer takes citizen-year locks in the same order.
    for year in accounting::years_of_citizen(conn, citizen_id)? {
        let (locked, cap) = lock_year(conn, citizen_id, year)?;
        adjustments.extend(reallocate(conn, locked, cap, cause, Some(cause_ref), None)?.adjustments);
    }
    Ok(adjustments)
}
