//! A pay run's arithmetic: the confirmed, unpaid shifts of a period become payout lines, one per
//! employment and run of consecutive shifts with the same card state, each paid on the run's
//! payment date.
//!
//! - A line's wage is the sum of its shifts' wages ([`pay_for`] per shift, so a shift pays the
//!   same whichever run pays it); its holiday pay is 12.5 % of that wage ([`holiday_pay`]), paid
//!   with it; hours pay carries no pension.
//! - Shifts are cut into a new line where the frikort's state changes between two of them, so a
//!   line never straddles a card decision (a payout may not: its work period is covered whole or
//!   not at all).
//! - The payment date decides the income year ([`income_year`]): a December shift paid in
//!   January is income of January's year.
//! - The run's totals are the sums of its lines ([`PayRunTotals::of`]).
//!
//! The exempt/taxable split of each line is not decided here: each line is registered as a
//! payout, and the citizen-year's allocation splits it.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use crate::money::Money;
use crate::pay::{WorkedTime, holiday_pay, pay_for};

/// How the money of a pay run reaches the citizens. Cash and MobilePay are legal wages, and
/// many citizens have no bank account or smartphone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentMethod {
    /// A bank transfer (NemKonto or the citizen's account).
    Bank,
    /// Cash, against a receipt.
    Cash,
    /// MobilePay.
    MobilePay,
}

crate::coded_enum!(PaymentMethod, "payment method" {
    Bank => "bank",
    Cash => "cash",
    MobilePay => "mobilepay",
});

/// The income year of money paid on `payment_date`: its calendar year, whenever the work was done.
pub fn income_year(payment_date: NaiveDate) -> i32 {
    payment_date.year()
}

/// One confirmed shift not paid yet. `E` names the employment, `R` the report of hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayableShift<E, R> {
    /// The employment it is paid on.
    pub employment: E,
    /// The report of its hours.
    pub report: R,
    /// The shift's date.
    pub date: NaiveDate,
    /// The time worked.
    pub worked: WorkedTime,
    /// The hourly wage of the task.
    pub hourly_wage: Money,
    /// Whether the citizen's frikort covered the shift's day.
    pub card_active: bool,
}

/// One payout a pay run registers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayLine<E, R> {
    /// The employment it is paid on.
    pub employment: E,
    /// The reports of hours it pays, by shift date.
    pub reports: Vec<R>,
    /// The first shift's date.
    pub worked_from: NaiveDate,
    /// The last shift's date.
    pub worked_to: NaiveDate,
    /// Minutes worked in all.
    pub minutes: u64,
    /// The sum of the shifts' wages.
    pub wage: Money,
    /// 12.5 % of the wage, paid with it.
    pub holiday_pay: Money,
    /// Pension paid out (none for hours pay).
    pub pension: Money,
    /// Wage + holiday pay + pension: what counts toward the cap.
    pub gross: Money,
    /// Whether the frikort covered every shift of the line (else none of them).
    pub card_active: bool,
}

/// Why shifts cannot be made into pay lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PayRunError {
    /// The sums do not fit the system's money range.
    #[error("the pay of the period is too large to compute")]
    TooLarge,
    /// An employment's shifts do not share one hourly wage.
    #[error("the shifts of one employment have different hourly wages")]
    MixedWages,
}

fn add(a: Money, b: Money) -> Result<Money, PayRunError> {
    a.checked_add(b).filter(|m| m.ore().abs() <= crate::money::MAX_ABS_ORE).ok_or(PayRunError::TooLarge)
}

/// The payout lines for `shifts`: per employment (in the order of `E`), the shifts by date, cut
/// where the card's state changes. The input order does not matter.
pub fn pay_lines<E: Ord + Clone, R: Clone + Ord>(
    shifts: &[PayableShift<E, R>],
) -> Result<Vec<PayLine<E, R>>, PayRunError> {
    let mut by_employment: BTreeMap<&E, Vec<&PayableShift<E, R>>> = BTreeMap::new();
    for s in shifts {
        by_employment.entry(&s.employment).or_default().push(s);
    }
    let mut lines = Vec::new();
    for (employment, mut own) in by_employment {
        // The report breaks ties, so equal dates (which one employment never has) still order.
        own.sort_by(|a, b| (a.date, &a.report).cmp(&(b.date, &b.report)));
        let wage = own[0].hourly_wage;
        if own.iter().any(|s| s.hourly_wage != wage) {
            return Err(PayRunError::MixedWages);
        }
        let mut runs: Vec<Vec<&PayableShift<E, R>>> = Vec::new();
        for s in own {
            match runs.last_mut() {
                Some(run) if run[0].card_active == s.card_active => run.push(s),
                _ => runs.push(vec![s]),
            }
        }
        for run in runs {
            let mut line_wage = Money::ZERO;
            let mut minutes = 0u64;
            for s in &run {
                line_wage = add(line_wage, pay_for(s.worked, s.hourly_wage))?;
                minutes += u64::from(s.worked.minutes());
            }
            let holiday = holiday_pay(line_wage);
            let pension = Money::ZERO;
            let gross = add(add(line_wage, holiday)?, pension)?;
            lines.push(PayLine {
                employment: employment.clone(),
                reports: run.iter().map(|s| s.report.clone()).collect(),
                worked_from: run[0].date,
                worked_to: run[run.len() - 1].date,
                minutes,
                wage: line_wage,
                holiday_pay: holiday,
                pension,
                gross,
                card_active: run[0].card_active,
            });
        }
    }
    Ok(lines)
}

/// What a pay run pays in all: the sums of its lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PayRunTotals {
    /// How many payouts.
    pub lines: u64,
    /// How many shifts they pay.
    pub shifts: u64,
    /// Wages.
    pub wage: Money,
    /// Holiday pay.
    pub holiday_pay: Money,
    /// Pension.
    pub pension: Money,
    /// Wage + holiday pay + pension.
    pub gross: Money,
}

/// The amounts of one payout, as [`PayRunTotals::of`] adds them up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaidAmounts {
    /// How many shifts the payout pays.
    pub shifts: u64,
    /// Wage.
    pub wage: Money,
    /// Holiday pay.
    pub holiday_pay: Money,
    /// Pension.
    pub pension: Money,
    /// Gross.
    pub gross: Money,
}

impl<E, R> PayLine<E, R> {
    /// The line's amounts.
    pub fn amounts(&self) -> PaidAmounts {
        PaidAmounts {
            shifts: self.reports.len() as u64,
            wage: self.wage,
            holiday_pay: self.holiday_pay,
            pension: self.pension,
            gross: self.gross,
        }
    }
}

impl PayRunTotals {
    /// The sums of `amounts` (of the lines, or of the payouts a run registered).
    pub fn of(amounts: impl IntoIterator<Item = PaidAmounts>) -> Result<PayRunTotals, PayRunError> {
        let mut t = PayRunTotals::default();
        for a in amounts {
            t.lines += 1;
            t.shifts += a.shifts;
            t.wage = add(t.wage, a.wage)?;
            t.holiday_pay = add(t.holiday_pay, a.holiday_pay)?;
            t.pension = add(t.pension, a.pension)?;
            t.gross = add(t.gross, a.gross)?;
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    fn day(n: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 1).unwrap() + chrono::Duration::days(n)
    }

    fn shift(employment: u8, report: u32, date: i64, minutes: u32, card: bool) -> PayableShift<u8, u32> {
        PayableShift {
            employment,
            report,
            date: day(date),
            worked: WorkedTime::from_minutes(minutes).unwrap(),
            hourly_wage: Money::from_ore(14_000),
            card_active: card,
        }
    }

    #[test]
    fn a_december_shift_paid_in_january_is_income_of_january_s_year() {
        let paid = NaiveDate::from_ymd_opt(2027, 1, 5).unwrap();
        assert_eq!(income_year(paid), 2027);
        assert_eq!(income_year(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()), 2026);
    }

    #[test]
    fn an_employment_s_shifts_make_one_line_until_the_card_changes() {
        let shifts = [
            shift(1, 10, 3, 210, true),
            shift(1, 11, 1, 210, true),
            shift(1, 12, 5, 60, false),
            shift(1, 13, 7, 60, true),
            shift(2, 20, 2, 30, true),
        ];
        let lines = pay_lines(&shifts).unwrap();
        let summary: Vec<_> = lines.iter().map(|l| (l.employment, l.reports.clone(), l.card_active)).collect();
        assert_eq!(summary, [(1, vec![11, 10], true), (1, vec![12], false), (1, vec![13], true), (2, vec![20], true)]);
        // 7 h at 140 kr = 980 kr, 122.50 kr holiday pay.
        assert_eq!((lines[0].worked_from, lines[0].worked_to), (day(1), day(3)));
        assert_eq!(
            (lines[0].wage, lines[0].holiday_pay, lines[0].gross),
            (Money::from_ore(98_000), Money::from_ore(12_250), Money::from_ore(110_250))
        );
        assert_eq!(lines[0].minutes, 420);
    }

    #[test]
    fn shifts_of_one_employment_at_different_wages_are_refused() {
        let mut other = shift(1, 11, 2, 60, true);
        other.hourly_wage = Money::from_ore(15_000);
        assert_eq!(pay_lines(&[shift(1, 10, 1, 60, true), other]), Err(PayRunError::MixedWages));
    }

    fn shifts_strategy() -> impl Strategy<Value = Vec<PayableShift<u8, u32>>> {
        // Distinct (employment, date) pairs, as one employment has one report per shift.
        prop::collection::btree_map((0u8..4, 0i64..40), (1u32..=480, any::<bool>()), 0..40).prop_map(|m| {
            m.into_iter()
                .enumerate()
                .map(|(i, ((employment, date), (minutes, card)))| PayableShift {
                    employment,
                    report: u32::try_from(i).unwrap(),
                    date: day(date),
                    worked: WorkedTime::from_minutes(minutes).unwrap(),
                    // One wage per employment.
                    hourly_wage: Money::from_ore(10_000 + i64::from(employment) * 731),
                    card_active: card,
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn the_totals_are_the_sums_of_the_lines_and_every_shift_is_paid_exactly_once(
            shifts in shifts_strategy()
        ) {
            let lines = pay_lines(&shifts).unwrap();
            let totals = PayRunTotals::of(lines.iter().map(PayLine::amounts)).unwrap();
            let mut paid: Vec<u32> = lines.iter().flat_map(|l| l.reports.clone()).collect();
            paid.sort_unstable();
            let mut all: Vec<u32> = shifts.iter().map(|s| s.report).collect();
            all.sort_unstable();
            prop_assert_eq!(paid, all);
            prop_assert_eq!(totals.lines, lines.len() as u64);
            prop_assert_eq!(totals.shifts, shifts.len() as u64);
            let sum = |f: fn(&PayLine<u8, u32>) -> Money| lines.iter().map(|l| f(l).ore()).sum::<i64>();
            prop_assert_eq!(totals.wage.ore(), sum(|l| l.wage));
            prop_assert_eq!(totals.holiday_pay.ore(), sum(|l| l.holiday_pay));
            prop_assert_eq!(totals.gross.ore(), sum(|l| l.gross));
            prop_assert_eq!(totals.gross.ore(), totals.wage.ore() + totals.holiday_pay.ore() + totals.pension.ore());
            // Each shift pays exactly what it pays on its own.
            let wages: i64 = shifts.iter().map(|s| pay_for(s.worked, s.hourly_wage).ore()).sum();
            prop_assert_eq!(totals.wage.ore(), wages);
        }

        #[test]
        fn a_line_never_straddles_a_card_change_and_its_period_holds_only_its_own_shifts(
            shifts in shifts_strategy()
        ) {
            for line in pay_lines(&shifts).unwrap() {
                prop_assert_eq!(line.holiday_pay, holiday_pay(line.wage));
                prop_assert_eq!(line.gross.ore(), line.wage.ore() + line.holiday_pay.ore());
                for s in shifts.iter().filter(|s| s.employment == line.employment) {
                    let inside = line.worked_from <= s.date && s.date <= line.worked_to;
                    prop_assert_eq!(inside, line.reports.contains(&s.report));
                    if inside {
                        prop_assert_eq!(s.card_active, line.card_active);
                    }
                }
            }
        }

        #[test]
        fn the_lines_do_not_depend_on_the_order_the_shifts_come_in(
            shifts in shifts_strategy(), seed in any::<u64>()
        ) {
            let mut shuffled = shifts.clone();
            // A deterministic shuffle from the seed.
            let n = shuffled.len();
            for i in (1..n).rev() {
                let j = usize::try_from((seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) % (i as u64 + 1)).unwrap();
                shuffled.swap(i, j);
            }
            prop_assert_eq!(pay_lines(&shifts).unwrap(), pay_lines(&shuffled).unwrap());
        }
    }
}
