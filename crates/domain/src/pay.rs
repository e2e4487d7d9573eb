//! How reported hours become pay: [`WorkedTime`] parsed from decimal hours
//! ([`HoursError`] when it cannot be), the wage for it ([`pay_for`]), the
//! wage a [`Schedule`] is expected to earn per year ([`estimated_pay`]), and
//! the holiday pay paid with a wage ([`holiday_pay`]).
//!
//! Everything is computed in integer øre and rounded half away from zero.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::citizen::FieldError;
use crate::money::{DecimalError, Money, parse_hundredths};
use crate::schedule::Schedule;

/// The most time one report may cover: a whole day.
pub const MAX_WORKED_MINUTES: u32 = 24 * 60;

/// Time worked, in whole minutes, from 1 minute to 24 hours.
///
/// Whole minutes because wages are computed exactly in øre from minutes; a
/// fraction of a minute cannot be represented and is refused, not rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkedTime(u32);

/// Why a string is not an acceptable number of hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum HoursError {
    /// Not a decimal number with at most two decimals.
    #[error("hours must be a decimal number with at most two decimals, e.g. \"4.5\"")]
    Format,
    /// Zero or negative.
    #[error("hours must be greater than zero")]
    NotPositive,
    /// Not a whole number of minutes (e.g. 4.01 hours is 4 h 0.6 min).
    #[error("hours must come to a whole number of minutes, e.g. \"4.25\" or \"0.75\"")]
    NotWholeMinutes,
    /// More than [`MAX_WORKED_MINUTES`].
    #[error("at most 24 hours can be reported at a time")]
    TooMany,
}

impl HoursError {
    /// Stable snake_case code for API error responses.
    pub fn code(self) -> &'static str {
        match self {
            HoursError::Format => "hours_format",
            HoursError::NotPositive => "hours_not_positive",
            HoursError::NotWholeMinutes => "hours_not_whole_minutes",
            HoursError::TooMany => "hours_too_many",
        }
    }
}

impl From<HoursError> for FieldError {
    fn from(e: HoursError) -> FieldError {
        FieldError::new(e.code(), e.to_string())
    }
}

impl WorkedTime {
    /// Parses decimal hours, `-?digits(.d|.dd)?`: `"4"`, `"4.5"`, `"4.25"`,
    /// `"0.75"`. Strict like [`Money::parse`]: no `+`, no whitespace, no
    /// exponent, no comma. The value must be above zero, at most 24 hours
    /// and a whole number of minutes.
    ///
    /// A leading `-` is read so that `"-1"` gets the more helpful
    /// [`HoursError::NotPositive`] rather than a format error.
    pub fn parse_hours(s: &str) -> Result<WorkedTime, HoursError> {
        let d = parse_hundredths(s).map_err(|e| match e {
            DecimalError::Format | DecimalError::TooPrecise => HoursError::Format,
            // A huge integer part: too many hours — unless negative, which is the better answer.
            DecimalError::TooLarge if s.starts_with('-') => HoursError::NotPositive,
            DecimalError::TooLarge => HoursError::TooMany,
        })?;
        if d.negative {
            return Err(HoursError::NotPositive);
        }
        let hundredths = d.hundredths;
        if hundredths == 0 {
            return Err(HoursError::NotPositive);
        }
        if hundredths > u64::from(MAX_WORKED_MINUTES) * 100 / 60 {
            return Err(HoursError::TooMany);
        }
        // One minute is 5/3 hundredths of an hour, so a whole number of
        // minutes is exactly a multiple of 0.05 h.
        if hundredths % 5 != 0 {
            return Err(HoursError::NotWholeMinutes);
        }
        let minutes = u32::try_from(hundredths * 3 / 5).map_err(|_| HoursError::TooMany)?;
        Ok(WorkedTime(minutes))
    }

    /// `minutes` of work, if within 1..=[`MAX_WORKED_MINUTES`].
    pub fn from_minutes(minutes: u32) -> Option<WorkedTime> {
        (1..=MAX_WORKED_MINUTES).contains(&minutes).then_some(WorkedTime(minutes))
    }

    /// The time in minutes.
    pub fn minutes(self) -> u32 {
        self.0
    }

    /// The time in hours, rounded half away from zero to 4 decimals (exact
    /// whenever the minutes are a multiple of 3, e.g. 270 min → 4.5).
    pub fn to_hours_decimal(self) -> Decimal {
        // Normalized so that 270 min is 4.5, not 4.50 or 4.5000.
        (Decimal::from(self.0) / Decimal::from(60))
            .round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
            .normalize()
    }
}

/// The most hours a week an employment may be registered with.
pub const MAX_WEEKLY_HOURS: u64 = 60;

/// The hours a week an employment is expected to take (§ 6 registration), in hundredths of an
/// hour: more than 0 and at most [`MAX_WEEKLY_HOURS`], written as decimal hours like every other
/// number of hours in the API (`"7.5"`, `"12.25"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WeeklyHours(u32);

/// Why a string is not an acceptable number of hours a week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum WeeklyHoursError {
    /// Not a decimal number with at most two decimals.
    #[error("hours must be a decimal number with at most two decimals, e.g. \"7.5\"")]
    Format,
    /// Zero, negative, or more than [`MAX_WEEKLY_HOURS`].
    #[error("between 0 and 60 hours")]
    OutOfRange,
}

impl WeeklyHoursError {
    /// Stable snake_case code for API error responses.
    pub fn code(self) -> &'static str {
        match self {
            WeeklyHoursError::Format => "hours_format",
            WeeklyHoursError::OutOfRange => "out_of_range",
        }
    }
}

impl From<WeeklyHoursError> for FieldError {
    fn from(e: WeeklyHoursError) -> FieldError {
        FieldError::new(e.code(), e.to_string())
    }
}

impl WeeklyHours {
    /// Parses decimal hours as [`WorkedTime::parse_hours`] does (`-?digits(.d|.dd)?`, strict).
    pub fn parse(s: &str) -> Result<WeeklyHours, WeeklyHoursError> {
        let d = parse_hundredths(s).map_err(|e| match e {
            DecimalError::Format | DecimalError::TooPrecise => WeeklyHoursError::Format,
            DecimalError::TooLarge => WeeklyHoursError::OutOfRange,
        })?;
        if d.negative || d.hundredths == 0 || d.hundredths > MAX_WEEKLY_HOURS * 100 {
            return Err(WeeklyHoursError::OutOfRange);
        }
        u32::try_from(d.hundredths).map(WeeklyHours).map_err(|_| WeeklyHoursError::OutOfRange)
    }

    /// Hours as stored (a floating-point column), read back to the nearest hundredth (half away
    /// from zero). An approval stores the hours of the task's schedule, which [`WeeklyHours::parse`]
    /// does not bound, so only a value no week can have (negative, not a number) is `None`.
    pub fn from_stored(hours: f64) -> Option<WeeklyHours> {
        let hundredths = (hours * 100.0).round();
        (hundredths >= 0.0 && hundredths <= f64::from(u32::MAX)).then_some(WeeklyHours(hundredths as u32))
    }

    /// The hours as stored.
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 100.0
    }

    /// Hundredths of an hour.
    pub fn hundredths(self) -> u32 {
        self.0
    }
}

/// Two decimals, as the API writes hours: `"7.50"`.
impl std::fmt::Display for WeeklyHours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// `minutes × wage / 60` in øre, rounded half away from zero, in exact
/// integer arithmetic; saturates at the `i64` bounds (never reached for
/// wages that went through [`Money::parse`]).
fn pay_for_minutes(minutes: u64, hourly_wage: Money) -> Money {
    let product = i128::from(minutes).saturating_mul(i128::from(hourly_wage.ore()));
    let magnitude = product.unsigned_abs();
    let rounded = magnitude / 60 + u128::from(magnitude % 60 >= 30);
    let ore = i64::try_from(rounded).unwrap_or(i64::MAX);
    Money::from_ore(if product < 0 { -ore } else { ore })
}

/// The wage for `worked` at `hourly_wage`: `minutes × wage / 60`, rounded to
/// øre half away from zero. Computed in integer øre, so e.g. 20 minutes at
/// 131.31 kr/h is exactly 43.77 kr and 30 minutes at 0.01 kr/h (0.5 øre)
/// rounds up to 0.01 kr.
pub fn pay_for(worked: WorkedTime, hourly_wage: Money) -> Money {
    pay_for_minutes(u64::from(worked.minutes()), hourly_wage)
}

/// The expected wage per calendar year (of the shift date) for the shifts of
/// `schedule` dated `from` or later, paying `paid_minutes_per_shift` minutes
/// per shift (a shift may include an unpaid break). Wage only: holiday pay
/// and pension are added when the payout is registered.
///
/// Each year's minutes are summed and rounded once, since this is an
/// estimate of a total, not a payslip. Years without such shifts are absent.
pub fn estimated_pay(
    schedule: &Schedule,
    paid_minutes_per_shift: u32,
    hourly_wage: Money,
    from: NaiveDate,
) -> BTreeMap<i32, Money> {
    let mut minutes_per_year: BTreeMap<i32, u64> = BTreeMap::new();
    for date in schedule.dates().filter(|d| *d >= from) {
        *minutes_per_year.entry(date.year()).or_default() += u64::from(paid_minutes_per_shift);
    }
    minutes_per_year.into_iter().map(|(year, minutes)| (year, pay_for_minutes(minutes, hourly_wage))).collect()
}

/// Holiday pay (feriebetaling) paid with the wage, in percent of the wage.
pub const HOLIDAY_PAY_PERCENT: &str = "12.5";

/// [`HOLIDAY_PAY_PERCENT`] as a decimal; a test keeps the two in step.
/// (`Decimal::from_str` is not `const`, and parsing on every call would need
/// an `unwrap` on a path that handles money.)
const HOLIDAY_PAY_RATE: Decimal = Decimal::from_parts(125, 0, 0, false, 1);

/// Holiday pay on `wage`: 12.5 % rounded to øre half away from zero, e.g.
/// 0.04 kr → 0.005 → 0.01 kr.
pub fn holiday_pay(wage: Money) -> Money {
    // `percent` refuses results beyond the system's money limit; 12.5 % is
    // exactly one eighth, so the same rounding is done in integers for the
    // (absurd) wages where that happens, keeping this function total.
    wage.percent(HOLIDAY_PAY_RATE).unwrap_or_else(|| {
        let ore = wage.ore();
        let (quotient, remainder) = (ore / 8, ore % 8);
        Money::from_ore(if remainder.abs() >= 4 { quotient + ore.signum() } else { quotient })
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::money::{MAX_ABS_ORE, round_half_away_from_zero_to_ore};
    use crate::schedule::tests::{d, date_strategy, dates, single, valid_schedule, weekly};
    use chrono::Weekday::{Sat, Sun};
    use proptest::prelude::*;
    use std::collections::BTreeSet;
    use std::str::FromStr;

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    // --- hours --------------------------------------------------------------------

    fn hours(s: &str) -> u32 {
        WorkedTime::parse_hours(s).unwrap().minutes()
    }

    #[test]
    fn decimal_hours_parse_to_whole_minutes() {
        assert_eq!(hours("4"), 240);
        assert_eq!(hours("4.5"), 270);
        assert_eq!(hours("4.50"), 270);
        assert_eq!(hours("4.25"), 255);
        assert_eq!(hours("0.75"), 45);
        assert_eq!(hours("0.05"), 3);
        assert_eq!(hours("0.1"), 6);
        assert_eq!(hours("007.5"), 450);
        assert_eq!(hours("24"), 1440);
        assert_eq!(hours("24.00"), 1440);
    }

    #[test]
    fn malformed_hours_are_format_errors() {
        for bad in [
            "", "4,5", ".5", "4.", "-.5", "+4", " 4", "4 ", "1e2", "four", "4.5.0", "--1", "4.125", "4.500", "-",
            "4:30", "٤",
        ] {
            assert_eq!(WorkedTime::parse_hours(bad), Err(HoursError::Format), "{bad:?}");
        }
    }

    #[test]
    fn zero_and_negative_hours_are_not_positive() {
        for bad in ["0", "0.00", "000", "-0", "-1", "-0.5", "-99999999999999999999"] {
            assert_eq!(WorkedTime::parse_hours(bad), Err(HoursError::NotPositive), "{bad:?}");
        }
    }

    #[test]
    fn hours_must_come_to_whole_minutes() {
        for bad in ["4.01", "0.01", "0.33", "0.66", "23.99"] {
            assert_eq!(WorkedTime::parse_hours(bad), Err(HoursError::NotWholeMinutes), "{bad:?}");
        }
    }

    #[test]
    fn more_than_24_hours_are_too_many() {
        for bad in ["24.05", "24.01", "25", "99999999999999999999", "18446744073709551616"] {
            assert_eq!(WorkedTime::parse_hours(bad), Err(HoursError::TooMany), "{bad:?}");
        }
    }

    #[test]
    fn worked_time_from_minutes_is_one_minute_to_a_day() {
        assert_eq!(WorkedTime::from_minutes(0), None);
        assert_eq!(WorkedTime::from_minutes(1).map(WorkedTime::minutes), Some(1));
        assert_eq!(WorkedTime::from_minutes(1440).map(WorkedTime::minutes), Some(1440));
        assert_eq!(WorkedTime::from_minutes(1441), None);
    }

    #[test]
    fn worked_time_converts_to_decimal_hours_rounded_to_four_places() {
        let h = |min: u32| WorkedTime::from_minutes(min).unwrap().to_hours_decimal().to_string();
        assert_eq!(h(270), "4.5");
        assert_eq!(h(255), "4.25");
        assert_eq!(h(20), "0.3333");
        assert_eq!(h(40), "0.6667");
        assert_eq!(h(1), "0.0167");
        assert_eq!(h(1440), "24");
    }

    #[test]
    fn hours_errors_have_stable_codes_and_become_field_errors() {
        for (e, code) in [
            (HoursError::Format, "hours_format"),
            (HoursError::NotPositive, "hours_not_positive"),
            (HoursError::NotWholeMinutes, "hours_not_whole_minutes"),
            (HoursError::TooMany, "hours_too_many"),
        ] {
            assert_eq!(e.code(), code);
            let f: FieldError = e.into();
            assert_eq!((f.code, f.message), (code, e.to_string()));
        }
    }

    // --- pay ----------------------------------------------------------------------

    fn pay(minutes: u32, wage: &str) -> Money {
        pay_for(WorkedTime::from_minutes(minutes).unwrap(), m(wage))
    }

    #[test]
    fn pay_is_minutes_times_the_hourly_wage_in_exact_ore() {
        assert_eq!(pay(20, "131.31"), m("43.77"));
        assert_eq!(pay(270, "130.00"), m("585.00"));
        // Beyond what Money::parse accepts as an amount; the API bounds wages.
        assert_eq!(pay(1440, "1000000000.00"), Money::from_ore(2_400_000_000_000));
        assert_eq!(pay(60, "0.00"), Money::ZERO);
    }

    #[test]
    fn pay_rounds_to_ore_half_away_from_zero() {
        // 1 min at 0.03 kr/h is 0.0005 kr: well below half an øre.
        assert_eq!(pay(1, "0.03"), m("0.00"));
        // Exactly half an øre rounds up (banker's rounding would give 0.00).
        assert_eq!(pay(30, "0.01"), m("0.01"));
        assert_eq!(pay(1, "0.30"), m("0.01"));
        // 15 min at 130.02 kr/h is 32.505 kr → 32.51; 90 min at 0.05 is 0.075 → 0.08.
        assert_eq!(pay(15, "130.02"), m("32.51"));
        assert_eq!(pay(90, "0.05"), m("0.08"));
        // Just below half rounds down: 29 min at 0.01 kr/h is 0.483 øre.
        assert_eq!(pay(29, "0.01"), m("0.00"));
        // Away from zero also below zero (a negative correction wage).
        assert_eq!(pay(30, "-0.01"), m("-0.01"));
        assert_eq!(pay(15, "-130.02"), m("-32.51"));
    }

    // --- estimated pay ----------------------------------------------------------------

    fn winter_weekends() -> Schedule {
        weekly(&[Sat, Sun], "08:00", "12:00", "2026-12-01", "2027-02-28")
    }

    #[test]
    fn estimated_pay_is_split_by_the_calendar_year_of_each_shift() {
        let est = estimated_pay(&winter_weekends(), 240, m("130.00"), d("2026-01-01"));
        // 8 shifts in 2026 and 18 in 2027, 520.00 kr each.
        assert_eq!(est, BTreeMap::from([(2026, m("4160.00")), (2027, m("9360.00"))]));
    }

    #[test]
    fn estimated_pay_leaves_out_shifts_before_the_from_date() {
        let s = winter_weekends();
        // Sunday 20 December counts; 5, 6, 12, 13 and 19 December do not.
        let est = estimated_pay(&s, 240, m("130.00"), d("2026-12-20"));
        assert_eq!(est, BTreeMap::from([(2026, m("1560.00")), (2027, m("9360.00"))]));
        let est = estimated_pay(&s, 240, m("130.00"), d("2027-01-01"));
        assert_eq!(est, BTreeMap::from([(2027, m("9360.00"))]));
        assert!(estimated_pay(&s, 240, m("130.00"), d("2027-03-01")).is_empty());
    }

    #[test]
    fn estimated_pay_uses_the_paid_minutes_and_rounds_each_year_once() {
        let s = winter_weekends();
        // A 30-minute unpaid break: 210 paid minutes at 131.31 kr/h = 459.585.
        let est = estimated_pay(&s, 210, m("131.31"), d("2027-02-28"));
        assert_eq!(est, BTreeMap::from([(2027, m("459.59"))]));
        // Three shifts of half an øre each: 1.5 øre → 0.02 (not 3 × 0.01).
        let est = estimated_pay(&s, 1, m("0.30"), d("2026-12-20"));
        assert_eq!(est.get(&2026), Some(&m("0.02")));
        assert_eq!(
            estimated_pay(&single("2026-12-05", "08:00", "12:00"), 0, m("130"), d("2026-01-01"))[&2026],
            Money::ZERO
        );
    }

    // --- holiday pay ----------------------------------------------------------------------

    #[test]
    fn holiday_pay_is_12_5_percent_rounded_half_away_from_zero_to_ore() {
        assert_eq!(holiday_pay(m("1000.00")), m("125.00"));
        assert_eq!(holiday_pay(m("100.01")), m("12.50")); // 12.50125
        assert_eq!(holiday_pay(m("0.04")), m("0.01")); // 0.005: banker's rounding would give 0.00
        assert_eq!(holiday_pay(m("0.20")), m("0.03")); // 0.025: banker's rounding would give 0.02
        assert_eq!(holiday_pay(m("33.33")), m("4.17")); // 4.16625
        assert_eq!(holiday_pay(m("0.03")), m("0.00")); // 0.00375
        assert_eq!(holiday_pay(Money::ZERO), Money::ZERO);
        assert_eq!(holiday_pay(m("-0.04")), m("-0.01"));
    }

    #[test]
    fn the_holiday_pay_constant_and_the_rate_used_agree() {
        assert_eq!(Decimal::from_str(HOLIDAY_PAY_PERCENT).unwrap(), HOLIDAY_PAY_RATE);
    }

    #[test]
    fn holiday_pay_stays_exact_for_wages_beyond_the_money_limit() {
        // 12.5 % of these exceeds MAX_ABS_ORE, where `Money::percent` gives up.
        assert_eq!(holiday_pay(Money::from_ore(i64::MAX)), Money::from_ore(i64::MAX / 8 + 1));
        assert_eq!(holiday_pay(Money::from_ore(i64::MIN)), Money::from_ore(i64::MIN / 8));
        assert_eq!(holiday_pay(Money::from_ore(8 * MAX_ABS_ORE + 4)), Money::from_ore(MAX_ABS_ORE + 1));
    }

    // --- property tests -------------------------------------------------------------------

    proptest! {
        #[test]
        fn estimated_pay_adds_up_to_the_pay_for_all_paid_minutes(
            a in valid_schedule(),
            paid in 0u32..=600,
            wage_ore in 0i64..=100_000,
            from in date_strategy(),
        ) {
            let wage = Money::from_ore(wage_ore);
            let est = estimated_pay(&a, paid, wage, from);
            let counted: Vec<NaiveDate> = dates(&a).into_iter().filter(|x| *x >= from).collect();
            let years: BTreeSet<i32> = counted.iter().map(|x| x.year()).collect();
            prop_assert_eq!(est.keys().copied().collect::<BTreeSet<_>>(), years);
            for (year, amount) in est {
                let shifts = counted.iter().filter(|x| x.year() == year).count() as u64;
                prop_assert_eq!(amount, pay_for_minutes(shifts * u64::from(paid), wage));
            }
        }

        #[test]
        fn pay_agrees_with_decimal_rounding_half_away_from_zero(
            minutes in 1u32..=MAX_WORKED_MINUTES,
            ore in -crate::money::MAX_ABS_ORE..=crate::money::MAX_ABS_ORE,
        ) {
            let exact = Decimal::new(ore, 2) * Decimal::from(minutes) / Decimal::from(60);
            let rounded = exact.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero) * Decimal::ONE_HUNDRED;
            let got = pay_for(WorkedTime::from_minutes(minutes).unwrap(), Money::from_ore(ore));
            prop_assert_eq!(Decimal::from(got.ore()), rounded);
            // Where the result is a valid amount, the crate's rounding helper agrees.
            if let Some(expected) = round_half_away_from_zero_to_ore(exact) {
                prop_assert_eq!(got, expected);
            }
        }

        #[test]
        fn every_whole_number_of_minutes_written_as_exact_hours_parses_back(minutes in 1u32..=MAX_WORKED_MINUTES) {
            // Exact with two decimals iff the minutes are a multiple of 3.
            let hundredths = minutes * 5 / 3;
            let text = format!("{}.{:02}", hundredths / 100, hundredths % 100);
            let parsed = WorkedTime::parse_hours(&text);
            if minutes % 3 == 0 {
                prop_assert_eq!(parsed.map(WorkedTime::minutes), Ok(minutes));
            } else {
                prop_assert_eq!(parsed, Err(HoursError::NotWholeMinutes));
            }
        }

        #[test]
        fn parsing_hours_never_panics(input in any::<String>(), near in "-?[0-9]{0,4}(\\.[0-9]{0,3})?") {
            let _ = WorkedTime::parse_hours(&input);
            if let Ok(w) = WorkedTime::parse_hours(&near) {
                prop_assert!((1..=MAX_WORKED_MINUTES).contains(&w.minutes()));
            }
        }


        #[test]
        fn holiday_pay_is_the_exact_eighth_rounded_half_away_from_zero(ore in -MAX_ABS_ORE..=MAX_ABS_ORE) {
            // Twice the distance to the exact value, in sixteenths of an øre.
            let got = holiday_pay(Money::from_ore(ore)).ore();
            let error = i128::from(got) * 8 - i128::from(ore);
            prop_assert!(error.abs() <= 4);
            if error.abs() == 4 {
                prop_assert_eq!(got.signum(), ore.signum(), "a half øre rounds away from zero");
                prop_assert!(i128::from(got).abs() * 8 > i128::from(ore).abs());
            }
        }
    }

    #[test]
    fn weekly_hours_are_decimal_hours_above_zero_and_at_most_sixty() {
        assert_eq!(WeeklyHours::parse("7.5").map(|h| h.to_string()), Ok("7.50".to_owned()));
        assert_eq!(WeeklyHours::parse("60").map(|h| h.hundredths()), Ok(6000));
        assert_eq!(WeeklyHours::parse("0.01").map(|h| h.as_f64()), Ok(0.01));
        for out in ["0", "0.00", "-1", "60.01", "99999999999999999999"] {
            assert_eq!(WeeklyHours::parse(out), Err(WeeklyHoursError::OutOfRange), "{out}");
        }
        for bad in ["7,5", "7.555", "", " 7", "+7", "1e1", "NaN", "seven"] {
            assert_eq!(WeeklyHours::parse(bad), Err(WeeklyHoursError::Format), "{bad}");
        }
    }

    #[test]
    fn stored_weekly_hours_read_back_to_the_hundredth() {
        assert_eq!(WeeklyHours::from_stored(7.5).map(|h| h.to_string()), Some("7.50".to_owned()));
        assert_eq!(WeeklyHours::from_stored(10.0 / 6.0).map(|h| h.to_string()), Some("1.67".to_owned()));
        assert_eq!(WeeklyHours::from_stored(61.0).map(|h| h.to_string()), Some("61.00".to_owned()));
        assert_eq!(WeeklyHours::from_stored(-1.0), None);
        assert_eq!(WeeklyHours::from_stored(f64::NAN), None);
        for s in ["0.01", "7.25", "12.5", "60"] {
            let h = WeeklyHours::parse(s).unwrap();
            assert_eq!(WeeklyHours::from_stored(h.as_f64()), Some(h), "{s}");
        }
    }
}
