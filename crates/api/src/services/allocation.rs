//! Re-running a citizen-year's allocation and recording what changed: the splits, an adjustment
//! per changed split, and the register entries that follow each payout's exempt part.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use smaajob_domain::{
    AdjustmentCause, AllocationInput, CapAmount, CapYear, CardEventKind, CardPeriod, CompanyId, Coverage,
    EmploymentSpan, Money, OutsideIncomeFacts, PayoutFacts, ResolvedCap, Split, YearTotals, active_periods, allocate,
    append_payout, resolve_cap, split_changes,
};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::accounting::{self, AdjustmentRow, CitizenYearOf, CitizenYearRow, PayoutRow};
use smaajob_persistence::repo::caps::CapRow;
use smaajob_persistence::repo::employer_totals::{self, EmployerTotalsRow};
use smaajob_persistence::repo::outside_income::{self, OutsideIncomeRow};
use smaajob_persistence::repo::{caps, employments, frikort, new_id, now};

use crate::services::error::ServiceError;
use crate::services::register_entries;

/// The outcome of a re-allocation.
#[derive(Debug)]
pub struct Reallocated {
    /// The saved totals.
    pub year: CitizenYearRow,
    /// Every payout's split after.
    pub splits: BTreeMap<String, Split>,
    /// Every outside income entry's split after (empty when the year was not re-run).
    pub outside_splits: BTreeMap<String, Split>,
    /// Adjustments recorded for payouts whose split changed.
    pub adjustments: Vec<AdjustmentRow>,
    /// The cap used.
    pub cap: ResolvedCap,
    /// The payout registered by this run, as inserted with its split.
    pub new_payout: Option<PayoutRow>,
    /// The saved totals as the allocation engine reads them.
    pub totals: YearTotals,
}

/// The cap in force for a year (provisional when unset), or 422 outside the frikort years.
pub fn cap_for(conn: &mut DbConn, year: i32) -> Result<ResolvedCap, ServiceError> {
    let y = CapYear::parse(year).map_err(|_| year_out_of_range())?;
    let set: BTreeMap<i32, CapAmount> =
        caps::list(conn)?.iter().map(|r| Ok((r.year, stored_amount(r)?))).collect::<Result<_, ServiceError>>()?;
    resolve_cap(y, &set).ok_or_else(|| ServiceError::internal(format!("no cap resolves for {year}")))
}

fn year_out_of_range() -> ServiceError {
    ServiceError::field("payment_date", "year_out_of_range", "the frikort covers the years 2019 to 2100")
}

/// A stored cap's amount: whole kroner above zero, else an error naming the year.
pub fn stored_amount(row: &CapRow) -> Result<CapAmount, ServiceError> {
    Some(row.amount.ore())
        .filter(|ore| ore % 100 == 0)
        .and_then(|ore| CapAmount::from_kroner(ore / 100))
        .ok_or_else(|| ServiceError::internal(format!("the stored cap of {} is not a valid amount", row.year)))
}

/// The citizen's card periods (empty without a card).
pub fn card_periods(conn: &mut DbConn, citizen_id: &str) -> Result<Vec<CardPeriod>, ServiceError> {
    let Some(card) = frikort::find_by_citizen(conn, citizen_id)? else {
        return Ok(Vec::new());
    };
    let events: Vec<(CardEventKind, NaiveDateTime)> =
        frikort::events(conn, &card.id)?.into_iter().map(|e| (e.kind, e.effective_at)).collect();
    Ok(active_periods(&events))
}

/// Employment spans of a citizen.
pub fn employment_spans(conn: &mut DbConn, citizen_id: &str) -> Result<Vec<EmploymentSpan>, ServiceError> {
    Ok(employments::of_citizen(conn, citizen_id)?
        .into_iter()
        .map(|e| EmploymentSpan { id: e.id.into(), start: e.start_date, end: e.end_date })
        .collect())
}

/// The facts the allocation engine needs from a stored payout.
pub fn facts(p: &PayoutRow, reversed: bool) -> PayoutFacts {
    PayoutFacts {
        id: p.id.to_string(),
        employment_id: p.employment_id.to_string(),
        sequence: p.sequence,
        payment_date: p.payment_date,
        worked_from: p.worked_from,
        worked_to: p.worked_to,
        gross: p.gross,
        reversed,
    }
}

/// The facts the allocation engine needs from stored outside income.
pub fn outside_facts(o: &OutsideIncomeRow) -> OutsideIncomeFacts {
    OutsideIncomeFacts {
        id: o.id.to_string(),
        sequence: o.sequence,
        payment_date: o.payment_date,
        amount: o.amount,
        withdrawn: o.withdrawn(),
    }
}

/// A fresh citizen-year row for locking.
pub fn fresh_year(citizen_id: &str, year: i32, cap: &ResolvedCap) -> CitizenYearRow {
    CitizenYearRow {
        citizen_id: citizen_id.to_owned(),
        year,
        cap: cap.amount.money(),
        cap_provisional: cap.provisional,
        gross: Money::ZERO,
        exempt: Money::ZERO,
        taxable: Money::ZERO,
        payout_count: 0,
        next_sequence: 1,
        updated_at: now(),
    }
}

/// Locks a citizen-year (creating it if needed) and only then reads the year's cap: a cap set by a
/// transaction that committed while this one waited for the lock is seen, not undone.
pub fn lock_year(
    conn: &mut DbConn,
    citizen_id: &str,
    year: i32,
) -> Result<(CitizenYearRow, ResolvedCap), ServiceError> {
    // The year out of range is refused before anything is locked.
    CapYear::parse(year).map_err(|_| year_out_of_range())?;
    let locked = match accounting::lock_existing_year(conn, citizen_id, year)? {
        Some(locked) => locked,
        // A new citizen-year is filled in with the cap as it reads now (a guess: a cap set
        // meanwhile is read below, after the lock, and the split follows that one).
        None => {
            let guess = cap_for(conn, year)?;
            accounting::lock_year(conn, &fresh_year(citizen_id, year, &guess))?
        }
    };
    let cap = cap_for(conn, year)?;
    Ok((locked, cap))
}

/// Re-runs the allocation of a locked citizen-year, stores every changed split, records an
/// adjustment for each payout whose split changed, and saves the totals. The caller holds the
/// citizen-year lock (see `lock_year`).
pub fn reallocate(
    conn: &mut DbConn,
    locked: CitizenYearRow,
    cap: ResolvedCap,
    cause: AdjustmentCause,
    cause_ref: Option<&str>,
) -> Result<Reallocated, ServiceError> {
    let periods = card_periods(conn, &locked.citizen_id)?;
    rerun(conn, locked, cap, cause, cause_ref, &periods, None)
}

/// The year's allocation run again from the stored payouts, plus `new_payout` when one is being
/// registered: that one is not stored yet, and is inserted once, with its split (it had no split
/// before, so it gets no adjustment).
fn rerun(
    conn: &mut DbConn,
    locked: CitizenYearRow,
    cap: ResolvedCap,
    cause: AdjustmentCause,
    cause_ref: Option<&str>,
    periods: &[CardPeriod],
    new_payout: Option<PayoutRow>,
) -> Result<Reallocated, ServiceError> {
    let rows = accounting::payouts_of_year(conn, &locked.citizen_id, locked.year)?;
    let outside: Vec<OutsideIncomeFacts> =
        outside_income::of_year(conn, &locked.citizen_id, locked.year)?.iter().map(outside_facts).collect();
    let spans = employment_spans(conn, &locked.citizen_id)?;
    let mut facts: Vec<PayoutFacts> = rows.iter().map(|(p, r)| facts(p, *r)).collect();
    facts.extend(new_payout.iter().map(|p| self::facts(p, false)));
    let allocation = allocate(&AllocationInput {
        cap: cap.amount.money(),
        card_periods: periods,
        employments: &spans,
        payouts: &facts,
        outside_income: &outside,
    });
    let before: BTreeMap<String, Split> = rows.iter().map(|(p, _)| (p.id.to_string(), stored_split(p))).collect();
    let t = now();
    let mut adjustments = Vec::new();
    for change in split_changes(&before, &allocation.splits) {
        let Some((p, _)) = rows.iter().find(|(p, _)| p.id.as_str() == change.payout_id) else { continue };
        let row = AdjustmentRow {
            id: new_id(),
            payout_id: p.id.clone(),
            citizen_id: p.citizen_id.clone(),
            company_id: p.company_id.clone(),
            employment_id: p.employment_id.clone(),
            year: p.year,
            old_exempt: change.old_exempt,
            old_taxable: change.old_taxable,
            new_exempt: change.new_exempt,
            new_taxable: change.new_taxable,
            cause,
            cause_ref: cause_ref.map(str::to_owned),
            created_at: t,
        };
        accounting::insert_adjustment(conn, &row)?;
        adjustments.push(row);
    }
    for (p, _) in &rows {
        let Some(split) = allocation.splits.get(p.id.as_str()) else { continue };
        if before.get(p.id.as_str()) != Some(split) {
            accounting::set_split(conn, &p.id, split.exempt, split.taxable, split.coverage)?;
            if p.exempt != split.exempt {
                let mut changed = p.clone();
                with_split(&mut changed, split);
                register_entries::follow_split(conn, &changed)?;
            }
        }
    }
    let new_payout = match new_payout {
        Some(mut payout) => {
            let split = *allocation
                .splits
                .get(payout.id.as_str())
                .ok_or_else(|| ServiceError::internal("the new payout was not allocated"))?;
            with_split(&mut payout, &split);
            accounting::insert_payout(conn, &payout)?;
            register_entries::follow_split(conn, &payout)?;
            Some(payout)
        }
        None => None,
    };
    let shares = employer_shares(
        rows.iter()
            .map(|(p, _)| p)
            .chain(new_payout.as_ref())
            .filter_map(|p| allocation.splits.get(p.id.as_str()).map(|s| (p, s))),
    )?;
    employer_totals::replace_year(conn, &locked.citizen_id, locked.year, &shares)?;
    let counted = allocation.splits.values().filter(|s| s.coverage != Coverage::Reversed).count();
    let year = CitizenYearRow {
        cap: cap.amount.money(),
        cap_provisional: cap.provisional,
        gross: allocation.gross,
        exempt: allocation.exempt,
        taxable: allocation.taxable,
        payout_count: i32::try_from(counted).map_err(|_| ServiceError::internal("payout count overflows"))?,
        updated_at: t,
        ..locked
    };
    accounting::save_year(conn, &year)?;
    let totals = year_totals(&year)?;
    Ok(Reallocated {
        year,
        splits: allocation.splits,
        outside_splits: allocation.outside_splits,
        adjustments,
        cap,
        new_payout,
        totals,
    })
}

fn with_split(payout: &mut PayoutRow, split: &Split) {
    payout.exempt = split.exempt;
    payout.taxable = split.taxable;
    payout.coverage = split.coverage;
}

/// Registers a new payout in its locked citizen-year: its split is computed first and the payout
/// is inserted once, with it. A payout paid no earlier than every other payout and every outside
/// income entry of the year cannot change any earlier split (it comes last in the order), so it
/// takes the headroom left by the stored totals (outside income included) without re-reading the
/// year; otherwise, or when the stored totals were computed with another cap, the year is re-run. `periods` are the citizen's card periods, read under the lock.
pub fn register(
    conn: &mut DbConn,
    locked: CitizenYearRow,
    cap: ResolvedCap,
    mut payout: PayoutRow,
    periods: &[CardPeriod],
) -> Result<Reallocated, ServiceError> {
    let same_cap = locked.cap == cap.amount.money() && locked.cap_provisional == cap.provisional;
    // Ties are fine: the new payout gets the highest sequence, so it still comes last.
    let last = accounting::latest_payment_date(conn, &locked.citizen_id, locked.year)?
        .max(outside_income::latest_payment_date(conn, &locked.citizen_id, locked.year)?);
    if !same_cap || last.is_some_and(|d| d > payout.payment_date) {
        let cause_ref = payout.id.to_string();
        return rerun(conn, locked, cap, AdjustmentCause::BackdatedPayout, Some(&cause_ref), periods, Some(payout));
    }
    let spans = employment_spans(conn, &locked.citizen_id)?;
    let totals = year_totals(&locked)?;
    let appended = append_payout(totals, periods, &spans, &facts(&payout, false));
    with_split(&mut payout, &appended.split);
    accounting::insert_payout(conn, &payout)?;
    register_entries::follow_split(conn, &payout)?;
    employer_totals::add(conn, &share_of(&payout, &appended.split)?)?;
    let year = CitizenYearRow {
        gross: appended.totals.gross,
        exempt: appended.totals.exempt,
        taxable: appended.totals.taxable,
        payout_count: i32::try_from(appended.totals.payouts)
            .map_err(|_| ServiceError::internal("payout count overflows"))?,
        updated_at: now(),
        ..locked
    };
    let splits = BTreeMap::from([(payout.id.to_string(), appended.split)]);
    accounting::save_year(conn, &year)?;
    Ok(Reallocated {
        year,
        splits,
        outside_splits: BTreeMap::new(),
        adjustments: Vec::new(),
        cap,
        new_payout: Some(payout),
        totals: appended.totals,
    })
}

/// One payout's share of its employer's totals, split as `split` says.
fn share_of(p: &PayoutRow, split: &Split) -> Result<EmployerTotalsRow, ServiceError> {
    Ok(EmployerTotalsRow {
        citizen_id: p.citizen_id.clone(),
        year: p.year,
        company_id: p.company_id.clone(),
        gross: p.gross,
        exempt: split.exempt,
        taxable: split.taxable,
        covered_gross: if split.coverage == Coverage::Covered { p.gross } else { Money::ZERO },
        payout_count: 1,
    })
}

/// Each employer's totals of a year from its payouts and their splits, by employer id; a
/// reversed payout counts for nobody (as in the year's totals).
fn employer_shares<'a>(
    payouts: impl Iterator<Item = (&'a PayoutRow, &'a Split)>,
) -> Result<Vec<EmployerTotalsRow>, ServiceError> {
    let overflow = || ServiceError::internal("an employer's totals overflow");
    let mut shares: BTreeMap<CompanyId, EmployerTotalsRow> = BTreeMap::new();
    for (p, split) in payouts.filter(|(_, s)| s.coverage != Coverage::Reversed) {
        let share = share_of(p, split)?;
        match shares.get_mut(&p.company_id) {
            None => {
                shares.insert(p.company_id.clone(), share);
            }
            Some(sum) => {
                sum.gross = sum.gross.checked_add(share.gross).ok_or_else(overflow)?;
                sum.exempt = sum.exempt.checked_add(share.exempt).ok_or_else(overflow)?;
                sum.taxable = sum.taxable.checked_add(share.taxable).ok_or_else(overflow)?;
                sum.covered_gross = sum.covered_gross.checked_add(share.covered_gross).ok_or_else(overflow)?;
                sum.payout_count = sum.payout_count.checked_add(1).ok_or_else(overflow)?;
            }
        }
    }
    Ok(shares.into_values().collect())
}

/// A locked citizen-year's stored totals, as the allocation engine reads them.
pub fn year_totals(row: &CitizenYearRow) -> Result<YearTotals, ServiceError> {
    Ok(YearTotals {
        cap: row.cap,
        gross: row.gross,
        exempt: row.exempt,
        taxable: row.taxable,
        payouts: u32::try_from(row.payout_count)
            .map_err(|_| ServiceError::internal("stored payout count is negative"))?,
    })
}

/// The split stored with a payout.
fn stored_split(p: &PayoutRow) -> Split {
    Split { exempt: p.exempt, taxable: p.taxable, coverage: p.coverage }
}

/// What a cap change re-split: each citizen-year whose cap changed, and the adjustments of the
/// payouts whose split changed with it.
#[derive(Debug, Default)]
pub struct CapResplit {
    /// The citizen-years re-split, with the citizen's municipality, in year then citizen order.
    pub years: Vec<CitizenYearOf>,
    /// One adjustment per payout whose split changed.
    pub adjustments: Vec<AdjustmentRow>,
}

/// Re-allocates every citizen-year from `year` on whose cap changed (a later year without its
/// own cap uses this one provisionally), and returns what it re-split.
pub fn reallocate_after_cap_change(conn: &mut DbConn, year: i32) -> Result<CapResplit, ServiceError> {
    let mut resplit = CapResplit::default();
    let cause_ref = year.to_string();
    for of in accounting::years_from(conn, year)? {
        let (locked, cap) = lock_year(conn, &of.citizen_id, of.year)?;
        if locked.cap == cap.amount.money() && locked.cap_provisional == cap.provisional {
            continue;
        }
        resplit
            .adjustments
            .extend(reallocate(conn, locked, cap, AdjustmentCause::CapChanged, Some(&cause_ref))?.adjustments);
        resplit.years.push(of);
    }
    Ok(resplit)
}

/// Re-allocates every year of a citizen with payouts (after a card decision or its correction
/// changed which days are covered). Returns the adjustments recorded.
pub fn reallocate_citizen(
    conn: &mut DbConn,
    citizen_id: &str,
    cause: AdjustmentCause,
    cause_ref: &str,
) -> Result<Vec<AdjustmentRow>, ServiceError> {
    let mut adjustments = Vec::new();
    // Ascending year order: every writer takes citizen-year locks in the same order.
    for year in accounting::years_of_citizen(conn, citizen_id)? {
        let (locked, cap) = lock_year(conn, citizen_id, year)?;
        adjustments.extend(reallocate(conn, locked, cap, cause, Some(cause_ref))?.adjustments);
    }
    Ok(adjustments)
}
