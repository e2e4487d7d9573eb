//! ATP (Arbejdsmarkedets Tillægspension) for casual workers (løsarbejdere): they owe ATP for
//! every hour paid, whatever their hours, at a rate per hour that changes by year and is split
//! into the employee's part (withheld from the wage) and the employer's part. The rates are data
//! the operator maintains, like the caps; a year without its own rate uses the latest earlier
//! year's rate provisionally. ATP falls due quarterly: the quarter's contributions on 1 May,
//! 1 August, 1 November and 1 February.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use crate::money::Money;

/// The highest rate part accepted per hour (a typo guard; the rates are a few kroner).
pub const MAX_ATP_ORE_PER_HOUR: i64 = 10_000;

/// A year's ATP rate per hour paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AtpRate {
    employee_per_hour: Money,
    employer_per_hour: Money,
}

/// A rate that cannot be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AtpRateError {
    /// A part below zero.
    #[error("an ATP rate part cannot be negative")]
    Negative,
    /// A part above [`MAX_ATP_ORE_PER_HOUR`].
    #[error("an ATP rate part above 100 kr per hour is refused as a typo")]
    TooLarge,
}

impl AtpRate {
    /// A rate of the employee's and the employer's part per hour.
    pub fn new(employee_per_hour: Money, employer_per_hour: Money) -> Result<AtpRate, AtpRateError> {
        for part in [employee_per_hour, employer_per_hour] {
            if part.ore() < 0 {
                return Err(AtpRateError::Negative);
            }
            if part.ore() > MAX_ATP_ORE_PER_HOUR {
                return Err(AtpRateError::TooLarge);
            }
        }
        Ok(AtpRate { employee_per_hour, employer_per_hour })
    }

    /// The employee's part per hour.
    pub fn employee_per_hour(self) -> Money {
        self.employee_per_hour
    }

    /// The employer's part per hour.
    pub fn employer_per_hour(self) -> Money {
        self.employer_per_hour
    }
}

/// The rate in force for a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedAtpRate {
    /// The rate.
    pub rate: AtpRate,
    /// The year whose rate it is.
    pub source_year: i32,
    /// The year has no rate of its own yet.
    pub provisional: bool,
}

/// The rate for `year` from the table: its own, else the latest earlier year's, provisionally;
/// `None` when no year up to it has a rate.
pub fn resolve_atp_rate(year: i32, table: &BTreeMap<i32, AtpRate>) -> Option<ResolvedAtpRate> {
    table.range(..=year).next_back().map(|(&source_year, &rate)| ResolvedAtpRate {
        rate,
        source_year,
        provisional: source_year != year,
    })
}

/// The ATP a payout period owes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Atp {
    /// The employee's part (withheld from the wage).
    pub employee: Money,
    /// The employer's part.
    pub employer: Money,
    /// The day it falls due.
    pub due_on: NaiveDate,
}

impl Atp {
    /// Both parts together.
    pub fn total(self) -> Money {
        Money::from_ore(self.employee.ore() + self.employer.ore())
    }
}

/// `per_hour × minutes / 60`, rounded to øre half away from zero (all in integers: no float).
fn for_minutes(per_hour: Money, minutes: u64) -> Money {
    let numerator = i128::from(per_hour.ore()) * i128::from(minutes);
    let ore = (numerator + 30) / 60;
    Money::from_ore(i64::try_from(ore).unwrap_or(i64::MAX))
}

/// The ATP owed for `minutes` paid on `payment_date` at `rate`: each part rounded on its own, so
/// the employee's part on the payslip and the employer's on the statement are the amounts paid.
pub fn atp_for(minutes: u64, payment_date: NaiveDate, rate: AtpRate) -> Atp {
    Atp {
        employee: for_minutes(rate.employee_per_hour, minutes),
        employer: for_minutes(rate.employer_per_hour, minutes),
        due_on: atp_due_date(payment_date),
    }
}

/// The day ATP on pay paid on `payment_date` falls due: the quarter's contributions on 1 May
/// (January–March), 1 August (April–June), 1 November (July–September) and 1 February of the
/// next year (October–December).
pub fn atp_due_date(payment_date: NaiveDate) -> NaiveDate {
    let year = payment_date.year();
    let (due_year, month) = match payment_date.month() {
        1..=3 => (year, 5),
        4..=6 => (year, 8),
        7..=9 => (year, 11),
        _ => (year + 1, 2),
    };
    NaiveDate::from_ymd_opt(due_year, month, 1).unwrap_or(payment_date)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn rate(employee: i64, employer: i64) -> AtpRate {
        AtpRate::new(Money::from_ore(employee), Money::from_ore(employer)).unwrap()
    }

    #[test]
    fn atp_falls_due_on_the_first_of_the_month_after_the_quarter_and_one() {
        assert_eq!(atp_due_date(d(2026, 1, 1)), d(2026, 5, 1));
        assert_eq!(atp_due_date(d(2026, 3, 31)), d(2026, 5, 1));
        assert_eq!(atp_due_date(d(2026, 4, 1)), d(2026, 8, 1));
        assert_eq!(atp_due_date(d(2026, 9, 30)), d(2026, 11, 1));
        assert_eq!(atp_due_date(d(2026, 10, 1)), d(2027, 2, 1));
        assert_eq!(atp_due_date(d(2026, 12, 31)), d(2027, 2, 1));
    }

    #[test]
    fn each_part_is_the_rate_for_the_minutes_rounded_to_ore() {
        // 7.5 hours at 0.53 and 1.06 kr per hour: 3.975 → 3.98 and 7.95.
        let atp = atp_for(450, d(2026, 3, 2), rate(53, 106));
        assert_eq!((atp.employee, atp.employer), (Money::from_ore(398), Money::from_ore(795)));
        assert_eq!(atp.total(), Money::from_ore(1193));
        assert_eq!(atp.due_on, d(2026, 5, 1));
        // One minute is owed for too: casual workers owe ATP whatever their hours.
        assert_eq!(atp_for(1, d(2026, 3, 2), rate(600, 600)).employee, Money::from_ore(10));
    }

    #[test]
    fn a_year_without_a_rate_uses_the_latest_earlier_one_provisionally() {
        let table = BTreeMap::from([(2024, rate(50, 100)), (2026, rate(53, 106))]);
        assert_eq!(resolve_atp_rate(2023, &table), None);
        assert_eq!(resolve_atp_rate(2024, &table).map(|r| (r.source_year, r.provisional)), Some((2024, false)));
        assert_eq!(resolve_atp_rate(2025, &table).map(|r| (r.source_year, r.provisional)), Some((2024, true)));
        assert_eq!(resolve_atp_rate(2030, &table).map(|r| r.rate), Some(rate(53, 106)));
    }

    #[test]
    fn a_rate_part_below_zero_or_above_100_kr_is_refused() {
        assert_eq!(AtpRate::new(Money::from_ore(-1), Money::ZERO), Err(AtpRateError::Negative));
        assert_eq!(AtpRate::new(Money::ZERO, Money::from_ore(10_001)), Err(AtpRateError::TooLarge));
    }

    proptest! {
        /// ATP never goes down with more minutes, is zero for none, and splitting the minutes
        /// into two payouts differs from paying them at once by at most one øre per part.
        #[test]
        fn atp_grows_with_the_minutes_and_adds_up_within_rounding(
            a in 0u64..100_000, b in 0u64..100_000, employee in 0i64..=MAX_ATP_ORE_PER_HOUR,
            employer in 0i64..=MAX_ATP_ORE_PER_HOUR, day in 0u32..365,
        ) {
            let paid = d(2026, 1, 1) + chrono::Days::new(u64::from(day));
            let r = rate(employee, employer);
            let whole = atp_for(a + b, paid, r);
            let (first, second) = (atp_for(a, paid, r), atp_for(b, paid, r));
            prop_assert_eq!(atp_for(0, paid, r).total(), Money::ZERO);
            prop_assert!(atp_for(a, paid, r).employee <= whole.employee);
            prop_assert!((first.employee.ore() + second.employee.ore() - whole.employee.ore()).abs() <= 1);
            prop_assert!((first.employer.ore() + second.employer.ore() - whole.employer.ore()).abs() <= 1);
            prop_assert_eq!(whole.total().ore(), whole.employee.ore() + whole.employer.ore());
            prop_assert!(whole.due_on > paid);
            prop_assert!(whole.due_on - paid <= chrono::Duration::days(123));
        }
    }
}
