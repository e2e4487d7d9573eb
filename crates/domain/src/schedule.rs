//! When a task's shifts take place: a [`Schedule`] (one shift, or the same
//! shift on some weekdays of every week in a period), its concrete [`Shift`]s,
//! and why a schedule is refused ([`ScheduleError`]).
//!
//! Schedules are Danish local wall-clock dates and times; a shift never runs
//! past midnight. The pay a schedule is expected to earn is in [`crate::pay`].

use std::collections::BTreeMap;

use chrono::{Datelike, IsoWeek, NaiveDate, NaiveTime, Timelike, Weekday};
use serde::{Deserialize, Serialize};

use crate::caps::FIRST_CAP_YEAR;
use crate::citizen::{FieldError, parse_hh_mm, parse_weekday_code, weekday_code};

/// The first calendar year a schedule may fall in: the frikort scheme, and
/// with it every record this system keeps, starts on 1 January 2019.
pub const EARLIEST_SCHEDULE_YEAR: i32 = FIRST_CAP_YEAR;

/// The longest a weekly schedule may run, counting both its first and its
/// last day: a year, leap day included. Longer arrangements are re-planned
/// (and re-registered with the municipality) rather than scheduled once.
pub const MAX_WEEKLY_SPAN_DAYS: i64 = 366;

/// When a task's shifts take place, in Danish local wall-clock time.
///
/// A shift never runs past midnight (`end > start` on the same day) and its
/// times are whole minutes. Build one with [`Schedule::single`] or
/// [`Schedule::weekly`]; deserialization goes through the same checks.
///
/// In JSON:
/// `{"kind":"single","date":"2026-12-05","start":"08:00","end":"12:00"}` or
/// `{"kind":"weekly","weekdays":["sat","sun"],"start":"08:00","end":"12:00","from":"2026-12-01","to":"2027-02-28"}`.
///
/// The variants' fields are readable by pattern matching; construct values
/// only through the constructors, which are what guarantee the rules above.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawSchedule", into = "RawSchedule")]
pub enum Schedule {
    /// One shift on one day.
    Single {
        /// The day of the shift.
        date: NaiveDate,
        /// Start of the shift (inclusive).
        start: NaiveTime,
        /// End of the shift (exclusive), later than `start` on the same day.
        end: NaiveTime,
    },
    /// The same shift on the given weekdays of every week in `from..=to`.
    Weekly {
        /// The weekdays with a shift: non-empty, distinct, Monday first.
        weekdays: Vec<Weekday>,
        /// Start of each shift (inclusive).
        start: NaiveTime,
        /// End of each shift (exclusive), later than `start` on the same day.
        end: NaiveTime,
        /// First day of the period (inclusive); not necessarily a shift day.
        from: NaiveDate,
        /// Last day of the period (inclusive); not necessarily a shift day.
        to: NaiveDate,
    },
}

/// One concrete shift of a [`Schedule`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shift {
    /// The day of the shift.
    pub date: NaiveDate,
    /// Start (inclusive), local wall-clock time.
    pub start: NaiveTime,
    /// End (exclusive), local wall-clock time, later than `start`.
    pub end: NaiveTime,
}

/// Why a schedule is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ScheduleError {
    /// The end time is not later than the start time on the same day
    /// (overnight shifts are not supported).
    #[error("a shift must end after it starts, on the same day")]
    EndNotAfterStart,
    /// The weekly period ends before it starts.
    #[error("the schedule's \"to\" date must not be before its \"from\" date")]
    ToBeforeFrom,
    /// A weekly schedule without weekdays.
    #[error("a weekly schedule needs at least one weekday")]
    NoWeekdays,
    /// None of the weekdays occurs between `from` and `to`.
    #[error("none of the schedule's weekdays falls between its \"from\" and \"to\" dates")]
    NoShifts,
    /// The weekly period is longer than [`MAX_WEEKLY_SPAN_DAYS`].
    #[error("a weekly schedule may span at most 366 days")]
    TooLong,
    /// A date before [`EARLIEST_SCHEDULE_YEAR`].
    #[error("schedules start on 2019-01-01 or later")]
    TooEarly,
    /// A time that is not whole minutes, or not written `HH:MM`.
    #[error("times must be whole minutes written HH:MM, e.g. \"08:30\"")]
    TimeFormat,
    /// A weekday that is not one of the three-letter codes.
    #[error("weekdays must be among mon, tue, wed, thu, fri, sat, sun")]
    WeekdayFormat,
}

impl ScheduleError {
    /// Stable snake_case code for API error responses.
    pub fn code(self) -> &'static str {
        match self {
            ScheduleError::EndNotAfterStart => "schedule_end_not_after_start",
            ScheduleError::ToBeforeFrom => "schedule_to_before_from",
            ScheduleError::NoWeekdays => "schedule_no_weekdays",
            ScheduleError::NoShifts => "schedule_no_shifts",
            ScheduleError::TooLong => "schedule_too_long",
            ScheduleError::TooEarly => "schedule_too_early",
            ScheduleError::TimeFormat => "schedule_time_format",
            ScheduleError::WeekdayFormat => "schedule_weekday_format",
        }
    }
}

impl From<ScheduleError> for FieldError {
    fn from(e: ScheduleError) -> FieldError {
        FieldError::new(e.code(), e.to_string())
    }
}

fn check_times(start: NaiveTime, end: NaiveTime) -> Result<(), ScheduleError> {
    // Sub-minute times would not survive the HH:MM JSON form.
    let whole_minute = |t: NaiveTime| t.second() == 0 && t.nanosecond() == 0;
    if !whole_minute(start) || !whole_minute(end) {
        return Err(ScheduleError::TimeFormat);
    }
    if end <= start {
        return Err(ScheduleError::EndNotAfterStart);
    }
    Ok(())
}

fn check_not_too_early(date: NaiveDate) -> Result<(), ScheduleError> {
    if date.year() < EARLIEST_SCHEDULE_YEAR { Err(ScheduleError::TooEarly) } else { Ok(()) }
}

impl Schedule {
    /// One shift on `date` from `start` to `end`.
    pub fn single(date: NaiveDate, start: NaiveTime, end: NaiveTime) -> Result<Schedule, ScheduleError> {
        check_times(start, end)?;
        check_not_too_early(date)?;
        Ok(Schedule::Single { date, start, end })
    }

    /// A shift from `start` to `end` on each of `weekdays` between `from` and
    /// `to` (both inclusive). The weekdays are deduplicated and sorted
    /// Monday first; the period may span at most [`MAX_WEEKLY_SPAN_DAYS`]
    /// days and must contain at least one shift.
    pub fn weekly(
        mut weekdays: Vec<Weekday>,
        start: NaiveTime,
        end: NaiveTime,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Schedule, ScheduleError> {
        check_times(start, end)?;
        if weekdays.is_empty() {
            return Err(ScheduleError::NoWeekdays);
        }
        weekdays.sort_by_key(|d| d.num_days_from_monday());
        weekdays.dedup();
        if to < from {
            return Err(ScheduleError::ToBeforeFrom);
        }
        check_not_too_early(from)?;
        // Both ends count: 2024-01-01..=2024-12-31 is 366 days and allowed.
        if to.signed_duration_since(from).num_days() >= MAX_WEEKLY_SPAN_DAYS {
            return Err(ScheduleError::TooLong);
        }
        let schedule = Schedule::Weekly { weekdays, start, end, from, to };
        // A period shorter than a week can miss every chosen weekday; such a
        // schedule would describe a task with no work at all.
        if schedule.dates().next().is_none() {
            return Err(ScheduleError::NoShifts);
        }
        Ok(schedule)
    }

    /// Start and end time of every shift.
    fn times(&self) -> (NaiveTime, NaiveTime) {
        match self {
            Schedule::Single { start, end, .. } | Schedule::Weekly { start, end, .. } => (*start, *end),
        }
    }

    /// The dates of all shifts, in increasing order.
    pub(crate) fn dates(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        let (first, last) = match self {
            Schedule::Single { date, .. } => (*date, *date),
            Schedule::Weekly { from, to, .. } => (*from, *to),
        };
        first.iter_days().take_while(move |d| *d <= last).filter(move |d| self.has_shift_on(*d))
    }

    /// Every shift, in date order.
    pub fn shifts(&self) -> Vec<Shift> {
        let (start, end) = self.times();
        self.dates().map(|date| Shift { date, start, end }).collect()
    }

    /// The length of one shift in minutes (`end - start`, wall-clock time).
    ///
    /// On the nights daylight saving time changes the real duration of a
    /// shift spanning 02:00–03:00 differs by an hour; pay follows the hours
    /// actually reported, so this figure is only used for planning.
    pub fn shift_minutes(&self) -> u32 {
        let (start, end) = self.times();
        // Never negative for a schedule made by the constructors.
        u32::try_from((end - start).num_minutes()).unwrap_or(0)
    }

    /// The date of the first shift.
    pub fn first_date(&self) -> NaiveDate {
        match self {
            Schedule::Single { date, .. } => *date,
            // The constructors guarantee a shift; the fallback only serves
            // a value assembled by hand.
            Schedule::Weekly { from, .. } => self.dates().next().unwrap_or(*from),
        }
    }

    /// The date of the last shift.
    pub fn last_date(&self) -> NaiveDate {
        match self {
            Schedule::Single { date, .. } => *date,
            Schedule::Weekly { to, .. } => self.dates().last().unwrap_or(*to),
        }
    }

    /// True if one of the shifts is on `date`.
    pub fn has_shift_on(&self, date: NaiveDate) -> bool {
        match self {
            Schedule::Single { date: d, .. } => *d == date,
            Schedule::Weekly { weekdays, from, to, .. } => {
                *from <= date && date <= *to && weekdays.contains(&date.weekday())
            }
        }
    }

    /// True if some shift of `self` and some shift of `other` fall on the
    /// same date with overlapping times. Shifts that merely touch (one ends
    /// when the other starts) do not overlap: a citizen can do both.
    pub fn overlaps(&self, other: &Schedule) -> bool {
        // All shifts of one schedule share their times, so the time test is
        // done once and only a common date remains to be found.
        let (a_start, a_end) = self.times();
        let (b_start, b_end) = other.times();
        a_start < b_end && b_start < a_end && self.dates().any(|d| other.has_shift_on(d))
    }

    /// The most minutes of work in any one ISO week (Monday to Sunday), when
    /// each shift counts `minutes_per_shift`. ISO weeks, not calendar weeks
    /// of a year, so a week straddling New Year is counted whole. Saturates
    /// at `u32::MAX`.
    pub fn max_minutes_in_a_week(&self, minutes_per_shift: u32) -> u32 {
        let mut per_week: BTreeMap<IsoWeek, u32> = BTreeMap::new();
        for date in self.dates() {
            *per_week.entry(date.iso_week()).or_default() += 1;
        }
        per_week.values().max().copied().unwrap_or(0).saturating_mul(minutes_per_shift)
    }
}

/// The JSON form of a [`Schedule`], before validation.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum RawSchedule {
    Single { date: NaiveDate, start: String, end: String },
    Weekly { weekdays: Vec<String>, start: String, end: String, from: NaiveDate, to: NaiveDate },
}

fn parse_time(s: &str) -> Result<NaiveTime, ScheduleError> {
    parse_hh_mm(s).ok_or(ScheduleError::TimeFormat)
}

fn format_time(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

impl TryFrom<RawSchedule> for Schedule {
    type Error = ScheduleError;

    fn try_from(raw: RawSchedule) -> Result<Schedule, ScheduleError> {
        match raw {
            RawSchedule::Single { date, start, end } => Schedule::single(date, parse_time(&start)?, parse_time(&end)?),
            RawSchedule::Weekly { weekdays, start, end, from, to } => {
                let weekdays = weekdays
                    .iter()
                    .map(|w| parse_weekday_code(w).ok_or(ScheduleError::WeekdayFormat))
                    .collect::<Result<Vec<_>, _>>()?;
                Schedule::weekly(weekdays, parse_time(&start)?, parse_time(&end)?, from, to)
            }
        }
    }
}

impl From<Schedule> for RawSchedule {
    fn from(s: Schedule) -> RawSchedule {
        match s {
            Schedule::Single { date, start, end } => {
                RawSchedule::Single { date, start: format_time(start), end: format_time(end) }
            }
            Schedule::Weekly { weekdays, start, end, from, to } => RawSchedule::Weekly {
                weekdays: weekdays.into_iter().map(|d| weekday_code(d).to_owned()).collect(),
                start: format_time(start),
                end: format_time(end),
                from,
                to,
            },
        }
    }
}

/// Test helpers shared with the tests of [`crate::pay`], which price schedules.
#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, from_value, json, to_value};

    pub(crate) fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    pub(crate) fn t(s: &str) -> NaiveTime {
        parse_hh_mm(s).unwrap()
    }

    pub(crate) fn single(date: &str, start: &str, end: &str) -> Schedule {
        Schedule::single(d(date), t(start), t(end)).unwrap()
    }

    pub(crate) fn weekly(days: &[Weekday], start: &str, end: &str, from: &str, to: &str) -> Schedule {
        Schedule::weekly(days.to_vec(), t(start), t(end), d(from), d(to)).unwrap()
    }

    fn weekly_err(days: &[Weekday], start: &str, end: &str, from: &str, to: &str) -> ScheduleError {
        Schedule::weekly(days.to_vec(), t(start), t(end), d(from), d(to)).unwrap_err()
    }

    pub(crate) fn dates(s: &Schedule) -> Vec<NaiveDate> {
        s.shifts().into_iter().map(|sh| sh.date).collect()
    }

    use Weekday::{Fri, Mon, Sat, Sun, Thu, Tue, Wed};

    // --- schedule rules -----------------------------------------------------

    #[test]
    fn a_single_schedule_has_one_shift_on_its_date() {
        let s = single("2026-12-05", "08:00", "12:00");
        assert_eq!(s.shifts(), vec![Shift { date: d("2026-12-05"), start: t("08:00"), end: t("12:00") }]);
        assert_eq!(s.shift_minutes(), 240);
        assert_eq!((s.first_date(), s.last_date()), (d("2026-12-05"), d("2026-12-05")));
        assert!(s.has_shift_on(d("2026-12-05")));
        assert!(!s.has_shift_on(d("2026-12-06")));
    }

    #[test]
    fn a_shift_must_end_after_it_starts_on_the_same_day() {
        for (start, end) in [("08:00", "08:00"), ("12:00", "08:00"), ("22:00", "02:00")] {
            assert_eq!(Schedule::single(d("2026-12-05"), t(start), t(end)), Err(ScheduleError::EndNotAfterStart));
            assert_eq!(weekly_err(&[Sat], start, end, "2026-12-01", "2026-12-31"), ScheduleError::EndNotAfterStart);
        }
        assert_eq!(single("2026-12-05", "00:00", "23:59").shift_minutes(), 23 * 60 + 59);
        assert_eq!(single("2026-12-05", "08:00", "08:01").shift_minutes(), 1);
    }

    #[test]
    fn schedule_times_must_be_whole_minutes() {
        let half_past = NaiveTime::from_hms_opt(8, 0, 30).unwrap();
        let nanos = NaiveTime::from_hms_nano_opt(12, 0, 0, 1).unwrap();
        assert_eq!(Schedule::single(d("2026-12-05"), half_past, t("12:00")), Err(ScheduleError::TimeFormat));
        assert_eq!(Schedule::single(d("2026-12-05"), t("08:00"), nanos), Err(ScheduleError::TimeFormat));
        assert_eq!(
            Schedule::weekly(vec![Sat], half_past, t("12:00"), d("2026-12-01"), d("2026-12-31")),
            Err(ScheduleError::TimeFormat)
        );
    }

    #[test]
    fn weekly_weekdays_are_deduplicated_and_sorted_monday_first() {
        let s = weekly(&[Sun, Wed, Mon, Sun, Wed], "08:00", "12:00", "2026-12-01", "2026-12-31");
        let Schedule::Weekly { weekdays, .. } = &s else { panic!("weekly expected") };
        assert_eq!(weekdays, &[Mon, Wed, Sun]);
    }

    #[test]
    fn a_weekly_schedule_needs_at_least_one_weekday() {
        assert_eq!(weekly_err(&[], "08:00", "12:00", "2026-12-01", "2026-12-31"), ScheduleError::NoWeekdays);
    }

    #[test]
    fn a_weekly_period_must_not_end_before_it_starts() {
        assert_eq!(weekly_err(&[Sat], "08:00", "12:00", "2026-12-31", "2026-12-01"), ScheduleError::ToBeforeFrom);
        let one_day = weekly(&[Sat], "08:00", "12:00", "2026-12-05", "2026-12-05");
        assert_eq!(dates(&one_day), [d("2026-12-05")]);
    }

    #[test]
    fn a_weekly_period_spans_at_most_366_days_counting_both_ends() {
        let every_day = [Mon, Tue, Wed, Thu, Fri, Sat, Sun];
        let leap_year = weekly(&every_day, "08:00", "09:00", "2024-01-01", "2024-12-31");
        assert_eq!(leap_year.shifts().len(), 366);
        let year_and_a_day = weekly(&every_day, "08:00", "09:00", "2025-01-01", "2026-01-01");
        assert_eq!(year_and_a_day.shifts().len(), 366);
        assert_eq!(weekly_err(&every_day, "08:00", "09:00", "2025-01-01", "2026-01-02"), ScheduleError::TooLong);
        assert_eq!(weekly_err(&[Mon], "08:00", "09:00", "2019-01-01", "2030-01-01"), ScheduleError::TooLong);
    }

    #[test]
    fn a_weekly_period_with_none_of_its_weekdays_has_no_shifts() {
        // Tuesday 1 to Friday 4 December 2026 has no weekend day.
        assert_eq!(weekly_err(&[Sat, Sun], "08:00", "12:00", "2026-12-01", "2026-12-04"), ScheduleError::NoShifts);
        assert_eq!(weekly_err(&[Mon], "08:00", "12:00", "2026-12-05", "2026-12-05"), ScheduleError::NoShifts);
        assert!(Schedule::weekly(vec![Fri], t("08:00"), t("12:00"), d("2026-12-01"), d("2026-12-04")).is_ok());
    }

    #[test]
    fn schedules_start_on_1_january_2019_or_later() {
        assert_eq!(Schedule::single(d("2018-12-31"), t("08:00"), t("12:00")), Err(ScheduleError::TooEarly));
        assert!(Schedule::single(d("2019-01-01"), t("08:00"), t("12:00")).is_ok());
        assert_eq!(weekly_err(&[Mon], "08:00", "12:00", "2018-12-31", "2019-01-31"), ScheduleError::TooEarly);
        assert_eq!(
            dates(&weekly(&[Mon], "08:00", "12:00", "2019-01-01", "2019-01-14")),
            [d("2019-01-07"), d("2019-01-14")]
        );
    }

    #[test]
    fn weekly_shifts_run_across_the_year_boundary() {
        let s = weekly(&[Sat, Sun], "08:00", "12:00", "2026-12-01", "2027-02-28");
        let all = dates(&s);
        // December 2026: 8 weekend days, January 2027: 10, February 2027: 8.
        assert_eq!(all.len(), 26);
        assert_eq!(all.iter().filter(|x| x.year() == 2026).count(), 8);
        assert_eq!((s.first_date(), s.last_date()), (d("2026-12-05"), d("2027-02-28")));
        for around_new_year in ["2026-12-26", "2026-12-27", "2027-01-02", "2027-01-03"] {
            assert!(all.contains(&d(around_new_year)), "{around_new_year}");
        }
        assert!(!s.has_shift_on(d("2027-01-01")));
        assert!(s.shifts().iter().all(|sh| sh.start == t("08:00") && sh.end == t("12:00")));
    }

    #[test]
    fn weekly_shifts_keep_their_wall_clock_times_across_daylight_saving_changes() {
        // Denmark moves to summer time on 29 March 2026 and back on 25 October
        // 2026, both Sundays. Schedules are local wall-clock dates and times,
        // so those Sundays are ordinary shift days of the same length.
        let s = weekly(&[Sun], "01:30", "03:30", "2026-03-01", "2026-11-29");
        let all = s.shifts();
        for dst_day in ["2026-03-29", "2026-10-25"] {
            let shift = all.iter().find(|sh| sh.date == d(dst_day)).unwrap();
            assert_eq!((shift.start, shift.end), (t("01:30"), t("03:30")));
        }
        assert_eq!(s.shift_minutes(), 120);
        assert_eq!(all.len(), 40);
        assert!(all.windows(2).all(|w| w[1].date - w[0].date == chrono::TimeDelta::days(7)));
    }

    #[test]
    fn first_and_last_date_are_those_of_the_first_and_last_shift_not_of_the_period() {
        let s = weekly(&[Wed, Sat], "08:00", "12:00", "2026-12-01", "2026-12-31");
        assert_eq!(s.first_date(), d("2026-12-02"));
        assert_eq!(s.last_date(), d("2026-12-30"));
        assert!(!s.has_shift_on(d("2026-12-01")));
        assert!(s.has_shift_on(d("2026-12-05")));
        assert!(!s.has_shift_on(d("2026-11-28")));
        assert!(!s.has_shift_on(d("2027-01-02")));
    }

    // --- overlaps -------------------------------------------------------------

    #[test]
    fn shifts_on_the_same_day_with_overlapping_times_overlap() {
        let a = single("2026-12-05", "08:00", "12:00");
        assert!(a.overlaps(&single("2026-12-05", "11:59", "14:00")));
        assert!(a.overlaps(&single("2026-12-05", "09:00", "10:00")));
        assert!(a.overlaps(&single("2026-12-05", "07:00", "08:01")));
        assert!(a.overlaps(&a.clone()));
    }

    #[test]
    fn shifts_that_only_touch_do_not_overlap() {
        let a = single("2026-12-05", "08:00", "12:00");
        assert!(!a.overlaps(&single("2026-12-05", "12:00", "16:00")));
        assert!(!a.overlaps(&single("2026-12-05", "06:00", "08:00")));
    }

    #[test]
    fn shifts_on_different_days_do_not_overlap() {
        let a = single("2026-12-05", "08:00", "12:00");
        assert!(!a.overlaps(&single("2026-12-06", "08:00", "12:00")));
        let weekdays = weekly(&[Mon, Tue, Wed, Thu, Fri], "08:00", "12:00", "2026-12-01", "2026-12-31");
        let weekends = weekly(&[Sat, Sun], "08:00", "12:00", "2026-12-01", "2026-12-31");
        assert!(!weekdays.overlaps(&weekends));
    }

    #[test]
    fn a_single_shift_overlaps_a_weekly_schedule_only_on_one_of_its_days() {
        let w = weekly(&[Sat], "08:00", "12:00", "2026-12-01", "2026-12-31");
        assert!(single("2026-12-12", "10:00", "11:00").overlaps(&w));
        assert!(w.overlaps(&single("2026-12-12", "10:00", "11:00")));
        assert!(!single("2026-12-12", "12:00", "13:00").overlaps(&w));
        assert!(!single("2026-12-13", "10:00", "11:00").overlaps(&w));
        // A Saturday after the period ends.
        assert!(!single("2027-01-02", "10:00", "11:00").overlaps(&w));
    }

    #[test]
    fn weekly_schedules_overlap_only_when_their_periods_share_a_shift_day() {
        let december = weekly(&[Sat], "08:00", "12:00", "2026-12-01", "2026-12-31");
        let january = weekly(&[Sat], "08:00", "12:00", "2027-01-01", "2027-01-31");
        assert!(!december.overlaps(&january));
        let last_week = weekly(&[Wed, Sat], "11:00", "13:00", "2026-12-24", "2027-01-10");
        assert!(december.overlaps(&last_week));
        let wednesdays = weekly(&[Wed], "11:00", "13:00", "2026-12-01", "2026-12-31");
        assert!(!december.overlaps(&wednesdays));
    }

    // --- weekly maximum ---------------------------------------------------------

    #[test]
    fn the_busiest_iso_week_decides_the_weekly_maximum() {
        // Starting on Wednesday 2 December: that week has Wed and Fri only;
        // the following full weeks have Mon, Wed and Fri.
        let s = weekly(&[Mon, Wed, Fri], "08:00", "12:00", "2026-12-02", "2026-12-31");
        assert_eq!(s.max_minutes_in_a_week(240), 3 * 240);
        let short = weekly(&[Mon, Wed, Fri], "08:00", "12:00", "2026-12-02", "2026-12-06");
        assert_eq!(short.max_minutes_in_a_week(240), 2 * 240);
        assert_eq!(single("2026-12-05", "08:00", "12:00").max_minutes_in_a_week(210), 210);
        assert_eq!(s.max_minutes_in_a_week(0), 0);
        assert_eq!(s.max_minutes_in_a_week(u32::MAX), u32::MAX);
    }

    #[test]
    fn an_iso_week_straddling_new_year_counts_as_one_week() {
        // ISO week 2026-W53 runs Monday 28 December 2026 to Sunday 3 January
        // 2027. Daily shifts from Wednesday 30 December to Tuesday 5 January:
        // five in W53 (two in 2026, three in 2027), two in 2027-W01.
        let every_day = [Mon, Tue, Wed, Thu, Fri, Sat, Sun];
        let s = weekly(&every_day, "08:00", "10:00", "2026-12-30", "2027-01-05");
        assert_eq!(s.max_minutes_in_a_week(120), 5 * 120);
    }

    // --- serde ------------------------------------------------------------------

    fn single_json() -> Value {
        json!({"kind": "single", "date": "2026-12-05", "start": "08:00", "end": "12:00"})
    }

    fn weekly_json(weekdays: &[&str], start: &str, end: &str, from: &str, to: &str) -> Value {
        json!({"kind": "weekly", "weekdays": weekdays, "start": start, "end": end, "from": from, "to": to})
    }

    #[test]
    fn schedules_have_the_documented_json_shape() {
        let one = single("2026-12-05", "08:00", "12:00");
        assert_eq!(to_value(&one).unwrap(), single_json());
        assert_eq!(from_value::<Schedule>(single_json()).unwrap(), one);

        let json = weekly_json(&["sat", "sun"], "08:00", "12:00", "2026-12-01", "2027-02-28");
        let w = weekly(&[Sat, Sun], "08:00", "12:00", "2026-12-01", "2027-02-28");
        assert_eq!(to_value(&w).unwrap(), json);
        assert_eq!(from_value::<Schedule>(json).unwrap(), w);
    }

    #[test]
    fn deserializing_a_schedule_runs_the_constructors() {
        let unsorted = weekly_json(&["sun", "sat", "sun"], "08:00", "12:00", "2026-12-01", "2027-02-28");
        let w: Schedule = from_value(unsorted).unwrap();
        assert_eq!(to_value(&w).unwrap(), weekly_json(&["sat", "sun"], "08:00", "12:00", "2026-12-01", "2027-02-28"));

        let cases = [
            (weekly_json(&["sat"], "12:00", "08:00", "2026-12-01", "2026-12-31"), ScheduleError::EndNotAfterStart),
            (weekly_json(&["sat"], "08:00", "12:00", "2026-12-31", "2026-12-01"), ScheduleError::ToBeforeFrom),
            (weekly_json(&[], "08:00", "12:00", "2026-12-01", "2026-12-31"), ScheduleError::NoWeekdays),
            (weekly_json(&["sat"], "08:00", "12:00", "2026-12-01", "2026-12-04"), ScheduleError::NoShifts),
            (weekly_json(&["sat"], "08:00", "12:00", "2026-01-01", "2027-01-02"), ScheduleError::TooLong),
            (weekly_json(&["sat"], "08:00", "12:00", "2018-12-01", "2019-01-31"), ScheduleError::TooEarly),
            (weekly_json(&["sat"], "8:00", "12:00", "2026-12-01", "2026-12-31"), ScheduleError::TimeFormat),
            (weekly_json(&["sat"], "08:00", "24:00", "2026-12-01", "2026-12-31"), ScheduleError::TimeFormat),
            (weekly_json(&["saturday"], "08:00", "12:00", "2026-12-01", "2026-12-31"), ScheduleError::WeekdayFormat),
        ];
        for (json, expected) in cases {
            let err = from_value::<Schedule>(json.clone()).unwrap_err();
            assert_eq!(err.to_string(), expected.to_string(), "{json:?}");
        }
    }

    #[test]
    fn schedule_json_with_unknown_kinds_fields_or_dates_is_refused() {
        let mut unknown_kind = single_json();
        unknown_kind["kind"] = json!("monthly");
        assert!(from_value::<Schedule>(unknown_kind).is_err());

        let mut extra = single_json();
        extra["positions"] = json!(2);
        assert!(from_value::<Schedule>(extra).is_err());

        let bad_date = json!({"kind": "single", "date": "2026-02-30", "start": "08:00", "end": "12:00"});
        assert!(from_value::<Schedule>(bad_date).is_err());
        let no_kind = json!({"date": "2026-12-05", "start": "08:00", "end": "12:00"});
        assert!(from_value::<Schedule>(no_kind).is_err());
    }

    #[test]
    fn schedule_errors_have_stable_codes_and_become_field_errors() {
        let all = [
            (ScheduleError::EndNotAfterStart, "schedule_end_not_after_start"),
            (ScheduleError::ToBeforeFrom, "schedule_to_before_from"),
            (ScheduleError::NoWeekdays, "schedule_no_weekdays"),
            (ScheduleError::NoShifts, "schedule_no_shifts"),
            (ScheduleError::TooLong, "schedule_too_long"),
            (ScheduleError::TooEarly, "schedule_too_early"),
            (ScheduleError::TimeFormat, "schedule_time_format"),
            (ScheduleError::WeekdayFormat, "schedule_weekday_format"),
        ];
        for (e, code) in all {
            assert_eq!(e.code(), code);
            let f: FieldError = e.into();
            assert_eq!(f.code, code);
            assert_eq!(f.message, e.to_string());
        }
    }

    // --- property tests -------------------------------------------------------------------

    fn weekday_strategy() -> impl Strategy<Value = Vec<Weekday>> {
        prop::collection::vec((0u8..7).prop_map(|i| Weekday::try_from(i).unwrap()), 0..9)
    }

    pub(crate) fn date_strategy() -> impl Strategy<Value = NaiveDate> {
        // 2018-12-01 .. about 2031: includes a few refused early dates.
        (0u64..4_500).prop_map(|n| d("2018-12-01") + chrono::Days::new(n))
    }

    fn time_strategy() -> impl Strategy<Value = NaiveTime> {
        (0u32..24 * 60).prop_map(|m| NaiveTime::from_hms_opt(m / 60, m % 60, 0).unwrap())
    }

    /// Raw constructor inputs: weekdays empty for a single schedule.
    fn schedule_input() -> impl Strategy<Value = (Vec<Weekday>, NaiveTime, NaiveTime, NaiveDate, i64)> {
        (weekday_strategy(), time_strategy(), time_strategy(), date_strategy(), -5i64..400)
    }

    fn build(input: &(Vec<Weekday>, NaiveTime, NaiveTime, NaiveDate, i64)) -> Result<Schedule, ScheduleError> {
        let (days, start, end, from, span) = input.clone();
        if days.is_empty() {
            Schedule::single(from, start, end)
        } else {
            Schedule::weekly(days, start, end, from, from + chrono::TimeDelta::days(span))
        }
    }

    pub(crate) fn valid_schedule() -> impl Strategy<Value = Schedule> {
        schedule_input().prop_filter_map("invalid schedule", |i| build(&i).ok())
    }

    proptest! {
        #[test]
        fn weekly_shifts_are_increasing_and_lie_on_the_weekdays_within_the_period(input in schedule_input()) {
            let (days, start, end, from, span) = input.clone();
            let to = from + chrono::TimeDelta::days(span);
            match build(&input) {
                Ok(schedule @ Schedule::Weekly { .. }) => {
                    let shifts = schedule.shifts();
                    prop_assert!(!shifts.is_empty());
                    prop_assert!(shifts.windows(2).all(|w| w[0].date < w[1].date));
                    for sh in &shifts {
                        prop_assert!(from <= sh.date && sh.date <= to);
                        prop_assert!(days.contains(&sh.date.weekday()));
                        prop_assert_eq!((sh.start, sh.end), (start, end));
                    }
                    // Nothing is missed: every matching day in the period is a shift.
                    let expected: Vec<NaiveDate> = from
                        .iter_days()
                        .take_while(|x| *x <= to)
                        .filter(|x| days.contains(&x.weekday()))
                        .collect();
                    prop_assert_eq!(dates(&schedule), expected);
                    prop_assert_eq!(schedule.first_date(), shifts[0].date);
                    prop_assert_eq!(schedule.last_date(), shifts[shifts.len() - 1].date);
                    let mut unique = days.clone();
                    unique.sort_by_key(|x| x.num_days_from_monday());
                    unique.dedup();
                    let Schedule::Weekly { weekdays, .. } = &schedule else { unreachable!() };
                    prop_assert_eq!(weekdays, &unique);
                }
                Ok(Schedule::Single { date, .. }) => prop_assert_eq!(date, from),
                Err(ScheduleError::NoShifts) => {
                    prop_assert!(!from.iter_days().take_while(|x| *x <= to).any(|x| days.contains(&x.weekday())));
                }
                Err(ScheduleError::TooLong) => prop_assert!(span >= MAX_WEEKLY_SPAN_DAYS),
                Err(ScheduleError::ToBeforeFrom) => prop_assert!(span < 0),
                Err(ScheduleError::EndNotAfterStart) => prop_assert!(end <= start),
                Err(ScheduleError::TooEarly) => prop_assert!(from.year() < EARLIEST_SCHEDULE_YEAR),
                Err(other) => prop_assert!(false, "unexpected {:?}", other),
            }
        }

        #[test]
        fn overlaps_is_symmetric_and_agrees_with_comparing_every_pair_of_shifts(
            a in valid_schedule(),
            b in valid_schedule(),
        ) {
            prop_assert_eq!(a.overlaps(&b), b.overlaps(&a));
            let brute = a.shifts().iter().any(|x| {
                b.shifts().iter().any(|y| x.date == y.date && x.start < y.end && y.start < x.end)
            });
            prop_assert_eq!(a.overlaps(&b), brute);
            prop_assert!(a.overlaps(&a));
        }

        #[test]
        fn the_weekly_maximum_bounds_every_iso_week_and_is_reached(a in valid_schedule(), per_shift in 0u32..600) {
            let mut weeks: BTreeMap<IsoWeek, u32> = BTreeMap::new();
            for sh in a.shifts() {
                *weeks.entry(sh.date.iso_week()).or_default() += per_shift;
            }
            prop_assert_eq!(a.max_minutes_in_a_week(per_shift), weeks.values().copied().max().unwrap_or(0));
        }

        #[test]
        fn valid_schedules_survive_a_serde_round_trip(a in valid_schedule()) {
            prop_assert_eq!(from_value::<Schedule>(to_value(&a).unwrap()).unwrap(), a);
        }
    }
}
