//! Cap accounting: how a citizen-year's payouts split into an exempt part
//! (under the frikort cap) and a taxable part.
//!
//! The allocation is a pure function of the year's facts. Every event that
//! could change an earlier payout's split (a reversal, a back-dated payout, a
//! cap change, a corrected deactivation) is handled by re-running
//! [`allocate`] over the whole year and diffing the result with
//! [`split_changes`].
//!
//! Income the national register holds from employers outside Småjob
//! ([`OutsideIncomeFacts`]) is one more kind of entry in the same order: it
//! takes headroom like a payout paid on its date, so a Småjob payout paid
//! after it splits with what it left, and recording it back-dated re-runs the
//! year like a back-dated payout.
//!
//! There is one shortcut. A new payout paid no earlier than every other
//! payout of its year, under the cap the stored totals were computed with,
//! comes last in the allocation order and so cannot change any earlier split:
//! [`append_payout`] allocates it from the stored [`YearTotals`] alone. Its
//! result is exactly that of re-running [`allocate`] over the whole year (a
//! property test checks this), so the stored totals cannot drift out of step.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Days, NaiveDate};
use rust_decimal::Decimal;

use crate::calendar::{copenhagen_date, copenhagen_midnight_utc};
use crate::frikort::CardPeriod;
use crate::money::{Money, round_half_away_from_zero_to_ore};

/// An employment's registered period.
///
/// Income is only covered for work inside the registered period (§ 6 of the
/// law: the employer registers the employment before work starts).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmploymentSpan {
    /// The employment's id, as referenced by [`PayoutFacts::employment_id`].
    pub id: String,
    /// First day of the employment (inclusive).
    pub start: NaiveDate,
    /// Last day of the employment (inclusive); `None` while open-ended.
    pub end: Option<NaiveDate>,
}

/// The immutable facts of one payout.
///
/// Nothing here is ever edited: a correction is a reversal (`reversed`) plus
/// a new payout, which keeps every earlier eIndkomst report traceable.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PayoutFacts {
    /// The payout's id; unique within the allocation input.
    pub id: String,
    /// The employment the work was done in.
    pub employment_id: String,
    /// Registration sequence within the citizen-year; unique. Orders payouts
    /// paid on the same day.
    pub sequence: i64,
    /// The day the money was paid; decides the income year and the order.
    pub payment_date: NaiveDate,
    /// First day worked (inclusive).
    pub worked_from: NaiveDate,
    /// Last day worked (inclusive).
    pub worked_to: NaiveDate,
    /// Wage + holiday pay + pension, everything that counts toward the cap;
    /// expected to be above zero.
    pub gross: Money,
    /// True once the payout has been reversed; it then no longer counts.
    pub reversed: bool,
}

/// Frikort income registered with the national register by an employer
/// outside Småjob, as a coordinator recorded it or a register statement
/// brought it in.
///
/// It counts toward the cap on its payment date like any payout. The national
/// register accepted it as frikort income, so it is always covered; Småjob
/// reports nothing for it (its employer does), so it gets no adjustment when
/// its own split changes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OutsideIncomeFacts {
    /// The entry's id; unique within the allocation input, and never equal
    /// to a payout's id.
    pub id: String,
    /// Registration sequence within the citizen-year, from the same counter
    /// as the payouts' (so payouts and outside income paid on one day keep
    /// the order they were recorded in).
    pub sequence: i64,
    /// The day the outside employer paid it.
    pub payment_date: NaiveDate,
    /// The amount the register holds; expected to be above zero.
    pub amount: Money,
    /// True once a coordinator withdrew it (recorded in error, or not on an
    /// accepted register statement); it then no longer counts.
    pub withdrawn: bool,
}

/// What changed a payout's split after it was first registered; an adjustment's cause tells the
/// employer which eIndkomst report to correct and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdjustmentCause {
    /// An earlier-paid payout was registered later (back-dated).
    BackdatedPayout,
    /// A payout was reversed.
    Reversal,
    /// The year's cap was set or changed.
    CapChanged,
    /// A card decision, or its time, changed which days are covered.
    CardChanged,
    /// Income from outside Småjob was recorded, withdrawn or reconciled with
    /// the national register.
    OutsideIncome,
}

crate::coded_enum!(AdjustmentCause, "adjustment cause" {
    BackdatedPayout => "backdated_payout",
    Reversal => "reversal",
    CapChanged => "cap_changed",
    CardChanged => "card_changed",
    OutsideIncome => "outside_income",
});

/// Why a payout is (or is not) covered by the frikort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Coverage {
    /// Covered: takes exempt headroom while any is left.
    Covered,
    /// The card was not active on every day worked: fully taxable.
    CardInactive,
    /// The work was not inside the registered employment: fully taxable.
    OutsideEmployment,
    /// The payout has been reversed: neither exempt nor taxable.
    Reversed,
}

crate::coded_enum!(Coverage, "coverage" {
    Covered => "covered",
    CardInactive => "card_inactive",
    OutsideEmployment => "outside_employment",
    Reversed => "reversed",
});

/// How one payout is split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    /// The part under the cap, not reported to eIndkomst.
    pub exempt: Money,
    /// The part the employer reports to eIndkomst as A-income.
    pub taxable: Money,
    /// Why the payout was split this way.
    pub coverage: Coverage,
}

/// Everything the allocation of one citizen-year depends on.
#[derive(Debug, Clone, Copy)]
pub struct AllocationInput<'a> {
    /// The year's cap (possibly provisional).
    pub cap: Money,
    /// The periods in which the citizen's card was active (see
    /// [`crate::active_periods`]).
    pub card_periods: &'a [CardPeriod],
    /// The citizen's employments referenced by the payouts.
    pub employments: &'a [EmploymentSpan],
    /// All payouts of the citizen-year, reversed ones included, in any order.
    pub payouts: &'a [PayoutFacts],
    /// The citizen-year's income from outside Småjob, withdrawn entries
    /// included, in any order.
    pub outside_income: &'a [OutsideIncomeFacts],
}

/// The result of allocating a citizen-year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    /// Each payout's split, by payout id.
    pub splits: BTreeMap<String, Split>,
    /// Each outside income entry's split, by entry id (a withdrawn entry's is
    /// [`Coverage::Reversed`]).
    pub outside_splits: BTreeMap<String, Split>,
    /// Σ gross of all income known: the payouts that are not reversed and
    /// the outside income that is not withdrawn.
    pub gross: Money,
    /// Σ of the outside income that is not withdrawn (part of `gross`).
    pub outside_gross: Money,
    /// Σ exempt; never above the cap.
    pub exempt: Money,
    /// Σ taxable; `exempt + taxable = gross`.
    pub taxable: Money,
}

/// One entry of the allocation order: a Småjob payout or outside income.
#[derive(Debug, Clone, Copy)]
enum Entry<'a> {
    Payout(&'a PayoutFacts),
    Outside(&'a OutsideIncomeFacts),
}

impl Entry<'_> {
    /// The allocation order: payment date, then sequence, then id.
    fn key(&self) -> (NaiveDate, i64, &str) {
        match self {
            Entry::Payout(p) => (p.payment_date, p.sequence, p.id.as_str()),
            Entry::Outside(o) => (o.payment_date, o.sequence, o.id.as_str()),
        }
    }
}

/// Splits a citizen-year's payouts into exempt and taxable parts.
///
/// Payouts and outside income are taken together in (payment date, sequence)
/// order (id breaks ties, so the result never depends on the order of the
/// input). Each [`Coverage::Covered`] payout, and each outside income entry,
/// takes `min(gross, cap − exempt so far)` as exempt and the rest is taxable;
/// any other payout is fully taxable, except a reversed payout or a withdrawn
/// entry, which counts for nothing.
///
/// Total for any input: a cap below zero counts as zero and a gross below
/// zero is never exempt. Payout ids must be unique (they are primary keys);
/// a duplicate would overwrite the other's entry in `splits`.
pub fn allocate(input: &AllocationInput<'_>) -> Allocation {
    let covered_days = CoveredDays::new(input.card_periods);
    let employments = employments_by_id(input.employments);

    let mut order: Vec<Entry<'_>> = input.payouts.iter().map(Entry::Payout).collect();
    order.extend(input.outside_income.iter().map(Entry::Outside));
    order.sort_by(|a, b| a.key().cmp(&b.key()));

    let mut tally = Tally::new(input.cap);
    let mut splits = BTreeMap::new();
    let mut outside_splits = BTreeMap::new();
    for entry in order {
        match entry {
            Entry::Payout(payout) => {
                let split = tally.take(coverage_of(payout, &employments, &covered_days), payout.gross);
                let previous = splits.insert(payout.id.clone(), split);
                debug_assert!(previous.is_none(), "payout ids must be unique within a citizen-year");
            }
            Entry::Outside(income) => {
                let coverage = if income.withdrawn { Coverage::Reversed } else { Coverage::Covered };
                let split = tally.take_outside(coverage, income.amount);
                let previous = outside_splits.insert(income.id.clone(), split);
                debug_assert!(previous.is_none(), "outside income ids must be unique within a citizen-year");
            }
        }
    }
    Allocation {
        splits,
        outside_splits,
        gross: Money::from_ore(tally.gross),
        outside_gross: Money::from_ore(tally.outside),
        exempt: Money::from_ore(tally.exempt),
        taxable: Money::from_ore(tally.taxable),
    }
}

/// The employments by id. The first employment with an id wins, so a
/// duplicated id cannot make the result depend on anything but the input
/// order of employments.
fn employments_by_id(employments: &[EmploymentSpan]) -> HashMap<&str, &EmploymentSpan> {
    let mut by_id: HashMap<&str, &EmploymentSpan> = HashMap::with_capacity(employments.len());
    for span in employments {
        by_id.entry(span.id.as_str()).or_insert(span);
    }
    by_id
}

/// The running sums of [`allocate`], in øre, after the payouts taken so far.
///
/// Sums saturate: real amounts are bounded far below `i64::MAX`, and
/// saturating keeps the allocation total instead of overflowing in the code
/// that decides people's taxes.
#[derive(Debug, Clone, Copy)]
struct Tally {
    /// The cap, never below zero.
    cap: i64,
    gross: i64,
    exempt: i64,
    taxable: i64,
    /// Σ of the outside income taken that is not withdrawn (part of `gross`).
    outside: i64,
    /// Payouts taken that are not reversed.
    payouts: u32,
}

impl Tally {
    fn new(cap: Money) -> Tally {
        Tally { cap: cap.ore().max(0), gross: 0, exempt: 0, taxable: 0, outside: 0, payouts: 0 }
    }

    /// Headroom left under the cap, never below zero.
    fn headroom(&self) -> i64 {
        self.cap.saturating_sub(self.exempt).max(0)
    }

    /// Takes the next payout in allocation order and returns its split.
    fn take(&mut self, coverage: Coverage, gross: Money) -> Split {
        if coverage != Coverage::Reversed {
            self.payouts = self.payouts.saturating_add(1);
        }
        self.take_income(coverage, gross)
    }

    /// Takes the next outside income entry in allocation order and returns its split.
    fn take_outside(&mut self, coverage: Coverage, amount: Money) -> Split {
        if coverage != Coverage::Reversed {
            self.outside = self.outside.saturating_add(amount.ore());
        }
        self.take_income(coverage, amount)
    }

    /// Takes the next income of either kind: its part of the headroom, and its gross.
    fn take_income(&mut self, coverage: Coverage, gross: Money) -> Split {
        let amount = gross.ore();
        let (exempt, taxable) = match coverage {
            Coverage::Reversed => (0, 0),
            Coverage::Covered => {
                let exempt = amount.max(0).min(self.headroom());
                (exempt, amount.saturating_sub(exempt))
            }
            Coverage::CardInactive | Coverage::OutsideEmployment => (0, amount),
        };
        if coverage != Coverage::Reversed {
            self.gross = self.gross.saturating_add(amount);
        }
        self.exempt = self.exempt.saturating_add(exempt);
        self.taxable = self.taxable.saturating_add(taxable);
        Split { exempt: Money::from_ore(exempt), taxable: Money::from_ore(taxable), coverage }
    }
}

/// A citizen-year's totals as stored beside its payouts: the sums of an
/// [`Allocation`] (outside income included) and the cap it was made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YearTotals {
    /// The cap the totals were allocated under.
    pub cap: Money,
    /// Σ gross of all income known: the payouts that are not reversed and
    /// the outside income that is not withdrawn.
    pub gross: Money,
    /// Σ exempt; never above the cap.
    pub exempt: Money,
    /// Σ taxable; `exempt + taxable = gross`.
    pub taxable: Money,
    /// How many Småjob payouts count, i.e. are not reversed (outside income
    /// is not counted here).
    pub payouts: u32,
}

impl YearTotals {
    /// The totals of a year without payouts.
    pub fn empty(cap: Money) -> YearTotals {
        YearTotals { cap, gross: Money::ZERO, exempt: Money::ZERO, taxable: Money::ZERO, payouts: 0 }
    }

    /// The totals of `allocation`, which was made with `cap`.
    pub fn of(cap: Money, allocation: &Allocation) -> YearTotals {
        let counted = allocation.splits.values().filter(|s| s.coverage != Coverage::Reversed).count();
        YearTotals {
            cap,
            gross: allocation.gross,
            exempt: allocation.exempt,
            taxable: allocation.taxable,
            payouts: u32::try_from(counted).unwrap_or(u32::MAX),
        }
    }

    /// The exempt headroom left: `cap − exempt`, never below zero.
    pub fn remaining(&self) -> Money {
        Money::from_ore(self.cap.ore().saturating_sub(self.exempt.ore()).max(0))
    }
}

/// A payout allocated by [`append_payout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// The payout's split.
    pub split: Split,
    /// The year's totals with the payout counted.
    pub totals: YearTotals,
}

/// Allocates a payout that comes after every other payout of its
/// citizen-year, from the year's stored totals alone.
///
/// The result (the payout's split, and the totals with it) is exactly what
/// [`allocate`] over the whole year would give, provided that:
///
/// - `totals` are [`YearTotals::of`] the allocation of every other payout of
///   the year, made with `totals.cap`, and `totals.cap` is still the cap in
///   force (a changed cap, or a provisional cap that became final, needs a
///   full re-allocation);
/// - `payout` comes last in allocation order: paid no earlier than every
///   other payout and every outside income entry of the year and, if paid
///   the same day as some, with a
///   higher sequence than theirs (a new registration gets the year's next
///   sequence, so being paid no earlier is enough);
/// - `card_periods` and `employments` are those [`allocate`] would be given.
///
/// The earlier payouts' splits are then unchanged, so they need not be read:
/// a payout's coverage depends only on its own facts, the card periods and
/// the employments, and allocation takes payouts in order, so this payout
/// takes `min(gross, totals.remaining())` of the headroom they left.
pub fn append_payout(
    totals: YearTotals,
    card_periods: &[CardPeriod],
    employments: &[EmploymentSpan],
    payout: &PayoutFacts,
) -> Appended {
    let coverage = coverage_of(payout, &employments_by_id(employments), &CoveredDays::new(card_periods));
    let mut tally = Tally {
        cap: totals.cap.ore().max(0),
        gross: totals.gross.ore(),
        exempt: totals.exempt.ore(),
        taxable: totals.taxable.ore(),
        // Not carried in the totals, and not needed: the appended payout is no outside income.
        outside: 0,
        payouts: totals.payouts,
    };
    let split = tally.take(coverage, payout.gross);
    let totals = YearTotals {
        cap: totals.cap,
        gross: Money::from_ore(tally.gross),
        exempt: Money::from_ore(tally.exempt),
        taxable: Money::from_ore(tally.taxable),
        payouts: tally.payouts,
    };
    Appended { split, totals }
}

/// The coverage rules, in the order that decides which reason is reported.
fn coverage_of(
    payout: &PayoutFacts,
    employments: &HashMap<&str, &EmploymentSpan>,
    covered_days: &CoveredDays,
) -> Coverage {
    if payout.reversed {
        return Coverage::Reversed;
    }
    let inside = employments
        .get(payout.employment_id.as_str())
        .is_some_and(|span| within_employment(span, payout.worked_from, payout.worked_to));
    if !inside {
        return Coverage::OutsideEmployment;
    }
    match covered_days.coverage(payout.worked_from, payout.worked_to) {
        CardCoverage::Whole => Coverage::Covered,
        // The API refuses Partial payouts (asking for one payout per side of
        // the change), but allocation must be total; the conservative choice
        // is to exempt nothing rather than guess which days the money is for.
        CardCoverage::Partial | CardCoverage::None => Coverage::CardInactive,
    }
}

/// How much of a range of days an active card covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardCoverage {
    /// Every day is covered.
    Whole,
    /// No day is covered.
    None,
    /// Some days are covered and some are not.
    Partial,
}

/// How much of the days `from..=to` (Copenhagen calendar days) the card
/// periods cover.
///
/// Day D is covered iff one period starts at or before 00:00 of D and lasts
/// at least until 00:00 of D+1, both in Europe/Copenhagen. A deactivation
/// takes effect from the time of the decision, so the day of a decision at
/// 14:00 is not covered: work that day cannot be told apart by hour, and
/// exempting it could exempt work done after the decision. A card valid from
/// D (a period starting 00:00 D local) covers D.
///
/// An empty range (`from > to`) has no day to cover and is [`CardCoverage::None`],
/// so a malformed work period can never make income exempt.
pub fn card_coverage(periods: &[CardPeriod], from: NaiveDate, to: NaiveDate) -> CardCoverage {
    CoveredDays::new(periods).coverage(from, to)
}

/// Whether the work days `from..=to` lie inside the employment's registered
/// period (`start ≤ from` and, when the employment has ended, `to ≤ end`).
pub fn within_employment(span: &EmploymentSpan, from: NaiveDate, to: NaiveDate) -> bool {
    span.start <= from && span.end.is_none_or(|end| to <= end)
}

/// A run of covered days; `last` is `None` when the card is still active.
#[derive(Debug, Clone, Copy)]
struct DayRange {
    first: NaiveDate,
    last: Option<NaiveDate>,
}

/// The covered days of a set of card periods, as sorted, disjoint,
/// non-adjacent runs, so a range is covered wholly iff one run contains it.
///
/// Converting each period to days once (two time-zone conversions per
/// period) instead of testing every worked day against every period keeps
/// [`allocate`] linear in the number of payouts, and lets matching weigh many citizens' cards
/// without a time-zone conversion per citizen and task.
#[derive(Debug, Clone, Default)]
pub struct CoveredDays(Vec<DayRange>);

impl CoveredDays {
    /// The days the periods cover.
    pub fn new(periods: &[CardPeriod]) -> CoveredDays {
        let mut runs: Vec<DayRange> = periods.iter().filter_map(covered_run).collect();
        runs.sort_by_key(|r| r.first);
        let mut merged: Vec<DayRange> = Vec::with_capacity(runs.len());
        for run in runs {
            match merged.last_mut() {
                Some(prev) if touches(prev, &run) => {
                    prev.last = match (prev.last, run.last) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        _ => None,
                    };
                }
                _ => merged.push(run),
            }
        }
        CoveredDays(merged)
    }

    /// How much of the days `from..=to` is covered (see [`card_coverage`]).
    pub fn coverage(&self, from: NaiveDate, to: NaiveDate) -> CardCoverage {
        if from > to {
            return CardCoverage::None;
        }
        // Runs are disjoint and sorted, so their ends are sorted too: the
        // first run ending on or after `from` is the only one that can
        // contain `from`, and if it starts after `to` no run meets the range.
        let i = self.0.partition_point(|r| r.last.is_some_and(|last| last < from));
        match self.0.get(i) {
            None => CardCoverage::None,
            Some(run) if run.first > to => CardCoverage::None,
            Some(run) if run.first <= from && run.last.is_none_or(|last| to <= last) => CardCoverage::Whole,
            // Merged runs never touch, so a range that meets a run without
            // lying inside it has an uncovered day.
            Some(_) => CardCoverage::Partial,
        }
    }
}

/// Whether `next` (starting no earlier than `prev`) overlaps `prev` or
/// starts the day after it ends.
fn touches(prev: &DayRange, next: &DayRange) -> bool {
    match prev.last {
        None => true,
        Some(last) => next.first <= last || last.succ_opt() == Some(next.first),
    }
}

/// The days one period covers wholly, `None` if it covers no whole day.
fn covered_run(period: &CardPeriod) -> Option<DayRange> {
    let start_day = copenhagen_date(period.from);
    // The first whole day is the period's own start day only if the period
    // starts exactly at its local midnight.
    let first =
        if copenhagen_midnight_utc(start_day) == Some(period.from) { start_day } else { start_day.succ_opt()? };
    // A period ending at `to` covers day D iff 00:00 of D+1 ≤ `to`; the
    // latest such D+1 is the local day `to` falls on (its midnight is ≤ `to`
    // and the next midnight is after it).
    let last = match period.to {
        None => None,
        Some(to) => Some(copenhagen_date(to).pred_opt()?),
    };
    if last.is_some_and(|last| last < first) {
        return None;
    }
    Some(DayRange { first, last })
}

/// A payout whose split changed between two allocations: the employer must
/// correct the eIndkomst report for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitChange {
    /// The payout's id.
    pub payout_id: String,
    /// Exempt before.
    pub old_exempt: Money,
    /// Taxable before.
    pub old_taxable: Money,
    /// Exempt after.
    pub new_exempt: Money,
    /// Taxable after.
    pub new_taxable: Money,
}

/// The payouts present in both allocations whose exempt or taxable amount
/// differs, in id order.
///
/// A change of coverage alone (e.g. `CardInactive` → `OutsideEmployment`)
/// is not listed: nothing reported to eIndkomst changes. Payouts only in
/// `after` are new registrations with their own report, not adjustments.
pub fn split_changes(before: &BTreeMap<String, Split>, after: &BTreeMap<String, Split>) -> Vec<SplitChange> {
    before
        .iter()
        .filter_map(|(id, old)| {
            let new = after.get(id)?;
            (old.exempt != new.exempt || old.taxable != new.taxable).then(|| SplitChange {
                payout_id: id.clone(),
                old_exempt: old.exempt,
                old_taxable: old.taxable,
                new_exempt: new.exempt,
                new_taxable: new.taxable,
            })
        })
        .collect()
}

/// At what pace a citizen earns, and when the cap would be reached at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Projection {
    /// Exempt-eligible gross per week so far this year, rounded to øre.
    pub weekly_pace: Money,
    /// The day the cap would be reached at that pace; `None` if it is
    /// already reached, the pace is zero, or it would be after 31 December.
    pub cap_reached_on: Option<NaiveDate>,
}

/// Projects the pace of this year's exempt-eligible earnings and the day
/// the remaining headroom would run out.
///
/// `None` unless `today` is in `year`: a pace is only meaningful for the
/// year in progress. The weeks elapsed are the days from 1 January through
/// `today` inclusive divided by 7, at least one week so the first days of
/// January do not extrapolate a single payout into an absurd pace.
pub fn project(
    year: i32,
    today: NaiveDate,
    exempt_eligible_gross_so_far: Money,
    remaining: Money,
) -> Option<Projection> {
    if today.year() != year {
        return None;
    }
    let days_elapsed = i64::from(today.ordinal()).max(7);
    // gross / (days / 7) computed as gross × 7 / days: one division, so an
    // exact half øre is seen exactly and rounds away from zero.
    let pace = exempt_eligible_gross_so_far
        .to_decimal_kroner()
        .checked_mul(Decimal::from(7))?
        .checked_div(Decimal::from(days_elapsed))?;
    let weekly_pace = round_half_away_from_zero_to_ore(pace)?;
    let cap_reached_on = if remaining.is_positive() && weekly_pace.is_positive() {
        // ceil(remaining / pace × 7) days, exactly, in integer øre.
        let numerator = i128::from(remaining.ore()) * 7;
        let pace_ore = i128::from(weekly_pace.ore());
        let days = (numerator + pace_ore - 1) / pace_ore;
        let year_end = NaiveDate::from_ymd_opt(year, 12, 31)?;
        u64::try_from(days).ok().and_then(|days| today.checked_add_days(Days::new(days))).filter(|day| *day <= year_end)
    } else {
        None
    };
    Some(Projection { weekly_pace, cap_reached_on })
}

#[cfg(test)]
mod tests;
