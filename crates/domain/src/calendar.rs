//! The calendar the law counts in: days in Europe/Copenhagen.
//!
//! Instants are stored as UTC (`NaiveDateTime` without a zone); every rule
//! about days (card coverage, income years, "today") asks which Copenhagen
//! calendar day an instant falls on, or when such a day starts. Those two
//! conversions live here, and nowhere else. This module reads no clock: the
//! caller passes the current instant in.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Copenhagen;

/// The Copenhagen calendar day of a UTC instant.
pub fn copenhagen_date(utc: NaiveDateTime) -> NaiveDate {
    Copenhagen.from_utc_datetime(&utc).date_naive()
}

/// Today's date in Copenhagen, given the current instant.
pub fn today_in_copenhagen(now_utc: DateTime<Utc>) -> NaiveDate {
    copenhagen_date(now_utc.naive_utc())
}

/// 00:00 of `day` in Copenhagen, as UTC: the start of the calendar day.
///
/// `earliest` because on a day whose midnight repeated, the day begins at the
/// first one. `None` for a midnight inside a DST gap, which Copenhagen
/// (switching at 02:00) never has, and for dates at the edge of chrono's range.
pub fn copenhagen_midnight_utc(day: NaiveDate) -> Option<NaiveDateTime> {
    Copenhagen.from_local_datetime(&day.and_time(NaiveTime::MIN)).earliest().map(|t| t.naive_utc())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use chrono::{Duration, NaiveDate};
    use proptest::prelude::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        day(y, mo, d).and_hms_opt(h, mi, 0).unwrap()
    }

    #[test]
    fn a_copenhagen_day_starts_an_hour_before_utc_in_winter_and_two_in_summer() {
        assert_eq!(copenhagen_date(utc(2024, 1, 15, 22, 59)), day(2024, 1, 15));
        assert_eq!(copenhagen_date(utc(2024, 1, 15, 23, 0)), day(2024, 1, 16));
        assert_eq!(copenhagen_date(utc(2024, 7, 15, 21, 59)), day(2024, 7, 15));
        assert_eq!(copenhagen_date(utc(2024, 7, 15, 22, 0)), day(2024, 7, 16));
        assert_eq!(copenhagen_midnight_utc(day(2024, 1, 16)), Some(utc(2024, 1, 15, 23, 0)));
        assert_eq!(copenhagen_midnight_utc(day(2024, 7, 16)), Some(utc(2024, 7, 15, 22, 0)));
    }

    #[test]
    fn new_years_eve_in_utc_can_already_be_new_year_in_copenhagen() {
        assert_eq!(copenhagen_date(utc(2024, 12, 31, 23, 30)), day(2025, 1, 1));
        let now = Utc.from_utc_datetime(&utc(2024, 12, 31, 23, 30));
        assert_eq!(today_in_copenhagen(now), day(2025, 1, 1));
        let earlier = Utc.from_utc_datetime(&utc(2024, 12, 31, 22, 59));
        assert_eq!(today_in_copenhagen(earlier), day(2024, 12, 31));
    }

    #[test]
    fn the_days_summer_time_starts_and_ends_are_23_and_25_hours_long() {
        let start = |d| copenhagen_midnight_utc(d).unwrap();
        assert_eq!(start(day(2024, 3, 31)), utc(2024, 3, 30, 23, 0));
        assert_eq!(start(day(2024, 4, 1)) - start(day(2024, 3, 31)), Duration::hours(23));
        assert_eq!(start(day(2024, 10, 27)), utc(2024, 10, 26, 22, 0));
        assert_eq!(start(day(2024, 10, 28)) - start(day(2024, 10, 27)), Duration::hours(25));
        // Both 02:30s of the repeated hour fall on 27 October.
        assert_eq!(copenhagen_date(utc(2024, 10, 27, 0, 30)), day(2024, 10, 27));
        assert_eq!(copenhagen_date(utc(2024, 10, 27, 1, 30)), day(2024, 10, 27));
    }

    proptest! {
        #[test]
        fn every_instant_lies_between_the_start_of_its_copenhagen_day_and_the_next(
            minutes in 0i64..(12 * 366 * 24 * 60),
        ) {
            let t = utc(2019, 1, 1, 0, 0) + Duration::minutes(minutes);
            let date = copenhagen_date(t);
            let start = copenhagen_midnight_utc(date).unwrap();
            let next = copenhagen_midnight_utc(date.succ_opt().unwrap()).unwrap();
            prop_assert!(start <= t && t < next, "{} on {}: {}..{}", t, date, start, next);
            prop_assert_eq!(copenhagen_date(start), date);
            prop_assert_eq!(today_in_copenhagen(Utc.from_utc_datetime(&t)), date);
        }
    }
}
