//! Small-job rules: when a task's shifts fall ([`Schedule`]), how reported
//! hours become pay ([`WorkedTime`], [`pay_for`]), and the task and placement
//! state machines ([`task_transition`], [`placement_transition`]).
//!
//! Everything here is pure. The state machines only answer "may this happen,
//! and what is the state afterwards"; storing the new state, and counting the
//! approved placements that [`has_free_position`] needs, is the caller's job
//! (inside one transaction, so two approvals cannot both take the last seat).

use std::collections::BTreeMap;

use chrono::{Datelike, IsoWeek, NaiveDate, NaiveTime, Timelike, Weekday};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::caps::FIRST_CAP_YEAR;
use crate::citizen::{FieldError, parse_hh_mm, parse_weekday_code, weekday_code};
use crate::money::{DecimalError, Money, parse_hundredths};

// ---------------------------------------------------------------------------
// Schedules
// ---------------------------------------------------------------------------

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
    fn dates(&self) -> impl Iterator<Item = NaiveDate> + '_ {
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

// ---------------------------------------------------------------------------
// Hours and pay
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Transitions
// ---------------------------------------------------------------------------

/// Why a state change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum TransitionError {
    /// The action is not possible from the current state, whoever asks.
    #[error("cannot {action} a {entity} that is {from}")]
    Illegal {
        /// What is being changed: `"task"` or `"placement"`.
        entity: &'static str,
        /// The current state's code, or `"none"` for a placement that does
        /// not exist yet.
        from: &'static str,
        /// The refused action's code.
        action: &'static str,
    },
    /// The action is possible from the current state, but not for this
    /// kind of user.
    #[error("your role may not {action} this placement")]
    WrongActor {
        /// The refused action's code.
        action: &'static str,
    },
}

impl TransitionError {
    /// Stable snake_case code for API error responses.
    pub fn code(self) -> &'static str {
        match self {
            TransitionError::Illegal { .. } => "illegal_transition",
            TransitionError::WrongActor { .. } => "wrong_actor",
        }
    }
}

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Being written by the company or coordinator; not visible to citizens.
    Draft,
    /// Published; citizens can show interest and be offered it.
    Open,
    /// Every position is taken; no new matching.
    Filled,
    /// The work is done.
    Completed,
    /// Called off.
    Cancelled,
}

crate::coded_enum!(TaskStatus, "task status" {
    Draft => "draft",
    Open => "open",
    Filled => "filled",
    Completed => "completed",
    Cancelled => "cancelled",
});

impl TaskStatus {
    /// True for the states no action leaves.
    pub fn is_terminal(self) -> bool {
        matches!(self, TaskStatus::Completed | TaskStatus::Cancelled)
    }
}

/// Something done to a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskAction {
    /// Publish a draft.
    Open,
    /// Mark an open task as fully staffed.
    Fill,
    /// Open a filled task again (e.g. after a placement was cancelled).
    Reopen,
    /// Mark the work as done.
    Complete,
    /// Call the task off.
    Cancel,
}

crate::coded_enum!(TaskAction, "task action" {
    Open => "open",
    Fill => "fill",
    Reopen => "reopen",
    Complete => "complete",
    Cancel => "cancel",
});

/// The status after `action`, or why it is refused:
/// draft →open→ open →fill→ filled →reopen→ open; open or filled →complete→
/// completed; draft, open or filled →cancel→ cancelled.
pub fn task_transition(status: TaskStatus, action: TaskAction) -> Result<TaskStatus, TransitionError> {
    use TaskAction as A;
    use TaskStatus as S;
    match (status, action) {
        (S::Draft, A::Open) => Ok(S::Open),
        (S::Open, A::Fill) => Ok(S::Filled),
        (S::Filled, A::Reopen) => Ok(S::Open),
        // A draft was never published, so there is nothing to complete.
        (S::Open | S::Filled, A::Complete) => Ok(S::Completed),
        (S::Draft | S::Open | S::Filled, A::Cancel) => Ok(S::Cancelled),
        _ => Err(TransitionError::Illegal { entity: "task", from: status.as_str(), action: action.as_str() }),
    }
}

/// Where a citizen's placement on a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlacementState {
    /// The citizen asked for the task.
    Interested,
    /// The coordinator offered the task to the citizen.
    Offered,
    /// The citizen accepted the offer; awaiting the coordinator's approval.
    Accepted,
    /// The citizen turned the offer down.
    Declined,
    /// The coordinator approved the placement; it holds a position.
    Approved,
    /// The coordinator did not approve the accepted placement.
    Rejected,
    /// Called off before the work was done.
    Cancelled,
    /// The citizen did not turn up.
    NoShow,
    /// The work was done.
    Completed,
}

crate::coded_enum!(PlacementState, "placement state" {
    Interested => "interested",
    Offered => "offered",
    Accepted => "accepted",
    Declined => "declined",
    Approved => "approved",
    Rejected => "rejected",
    Cancelled => "cancelled",
    NoShow => "no_show",
    Completed => "completed",
});

impl PlacementState {
    /// True if the placement takes one of the task's positions (only an
    /// approved placement does; accepting alone reserves nothing).
    pub fn holds_position(self) -> bool {
        self == PlacementState::Approved
    }

    /// True while the placement can still lead to work.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            PlacementState::Interested | PlacementState::Offered | PlacementState::Accepted | PlacementState::Approved
        )
    }

    /// True for the states no action leaves. A citizen who declined can be
    /// offered the task again only through a new placement, which keeps the
    /// history of the old one intact.
    pub fn is_terminal(self) -> bool {
        !self.is_live()
    }
}

/// Something done to a placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlacementAction {
    /// A citizen asks for a task.
    ShowInterest,
    /// The coordinator offers a task to a citizen.
    Offer,
    /// The citizen accepts an offer.
    Accept,
    /// The citizen turns an offer down.
    Decline,
    /// The coordinator approves an accepted placement.
    Approve,
    /// The coordinator refuses an accepted placement.
    Reject,
    /// Call the placement off.
    Cancel,
    /// Record that the citizen did not turn up.
    NoShow,
    /// Record that the work was done.
    Complete,
}

crate::coded_enum!(PlacementAction, "placement action" {
    ShowInterest => "show_interest",
    Offer => "offer",
    Accept => "accept",
    Decline => "decline",
    Approve => "approve",
    Reject => "reject",
    Cancel => "cancel",
    NoShow => "no_show",
    Complete => "complete",
});

/// The kind of user asking for a change (the JWT role).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// Municipality or NGO staff.
    Coordinator,
    /// The company that owns the task.
    Company,
    /// The citizen the placement is for.
    Citizen,
}

crate::coded_enum!(Actor, "actor" {
    Coordinator => "coordinator",
    Company => "company",
    Citizen => "citizen",
});

/// The state after `actor` does `action` to a placement in `state` (`None`
/// for a placement that does not exist yet), or why it is refused.
///
/// | from | action | by | to |
/// |---|---|---|---|
/// | none | show_interest | citizen | interested |
/// | none, interested | offer | coordinator | offered |
/// | interested | cancel | citizen, coordinator | cancelled |
/// | offered | accept / decline | citizen | accepted / declined |
/// | offered | cancel | coordinator | cancelled |
/// | accepted | approve / reject | coordinator | approved / rejected |
/// | accepted | cancel | coordinator, citizen | cancelled |
/// | approved | cancel / no_show / complete | coordinator, company | cancelled / no_show / completed |
///
/// Anything else is [`TransitionError::Illegal`]; a row above asked for by
/// someone not in its "by" column is [`TransitionError::WrongActor`]. This
/// function does not check positions: before approving, the caller must
/// check [`has_free_position`] in the same transaction.
pub fn placement_transition(
    state: Option<PlacementState>,
    action: PlacementAction,
    actor: Actor,
) -> Result<PlacementState, TransitionError> {
    use Actor::{Citizen, Company, Coordinator};
    use PlacementAction as A;
    use PlacementState as S;
    let (next, allowed): (PlacementState, &[Actor]) = match (state, action) {
        (None, A::ShowInterest) => (S::Interested, &[Citizen]),
        (None | Some(S::Interested), A::Offer) => (S::Offered, &[Coordinator]),
        // A citizen withdraws interest, or the coordinator closes it.
        (Some(S::Interested), A::Cancel) => (S::Cancelled, &[Citizen, Coordinator]),
        (Some(S::Offered), A::Accept) => (S::Accepted, &[Citizen]),
        (Some(S::Offered), A::Decline) => (S::Declined, &[Citizen]),
        // The citizen answers an offer by declining, not cancelling.
        (Some(S::Offered), A::Cancel) => (S::Cancelled, &[Coordinator]),
        (Some(S::Accepted), A::Approve) => (S::Approved, &[Coordinator]),
        (Some(S::Accepted), A::Reject) => (S::Rejected, &[Coordinator]),
        (Some(S::Accepted), A::Cancel) => (S::Cancelled, &[Coordinator, Citizen]),
        // Once approved, the employment is between company and coordinator.
        (Some(S::Approved), A::Cancel) => (S::Cancelled, &[Coordinator, Company]),
        (Some(S::Approved), A::NoShow) => (S::NoShow, &[Coordinator, Company]),
        (Some(S::Approved), A::Complete) => (S::Completed, &[Coordinator, Company]),
        _ => {
            return Err(TransitionError::Illegal {
                entity: "placement",
                from: state.map_or("none", PlacementState::as_str),
                action: action.as_str(),
            });
        }
    };
    if allowed.contains(&actor) { Ok(next) } else { Err(TransitionError::WrongActor { action: action.as_str() }) }
}

/// True if a task with `positions` positions, `approved` of them taken by
/// approved placements, can take one more approval.
pub fn has_free_position(approved: u32, positions: u32) -> bool {
    approved < positions
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::money::round_half_away_from_zero_to_ore;
    use proptest::prelude::*;
    use serde_json::{Value, from_value, json, to_value};
    use std::collections::BTreeSet;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn t(s: &str) -> NaiveTime {
        parse_hh_mm(s).unwrap()
    }

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    fn single(date: &str, start: &str, end: &str) -> Schedule {
        Schedule::single(d(date), t(start), t(end)).unwrap()
    }

    fn weekly(days: &[Weekday], start: &str, end: &str, from: &str, to: &str) -> Schedule {
        Schedule::weekly(days.to_vec(), t(start), t(end), d(from), d(to)).unwrap()
    }

    fn weekly_err(days: &[Weekday], start: &str, end: &str, from: &str, to: &str) -> ScheduleError {
        Schedule::weekly(days.to_vec(), t(start), t(end), d(from), d(to)).unwrap_err()
    }

    fn dates(s: &Schedule) -> Vec<NaiveDate> {
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

    // --- task transitions ---------------------------------------------------------------

    #[test]
    fn the_task_transition_table_is_exactly_as_documented() {
        use TaskAction as A;
        use TaskStatus as S;
        let table = [
            (S::Draft, A::Open, S::Open),
            (S::Open, A::Fill, S::Filled),
            (S::Filled, A::Reopen, S::Open),
            (S::Open, A::Complete, S::Completed),
            (S::Filled, A::Complete, S::Completed),
            (S::Draft, A::Cancel, S::Cancelled),
            (S::Open, A::Cancel, S::Cancelled),
            (S::Filled, A::Cancel, S::Cancelled),
        ];
        for status in TaskStatus::ALL {
            for action in TaskAction::ALL {
                let expected =
                    table.iter().find(|(f, a, _)| *f == status && *a == action).map(|(_, _, to)| *to).ok_or(
                        TransitionError::Illegal { entity: "task", from: status.as_str(), action: action.as_str() },
                    );
                assert_eq!(task_transition(status, action), expected, "{status} + {action}");
            }
        }
        for status in TaskStatus::ALL.into_iter().filter(|s| s.is_terminal()) {
            assert!(TaskAction::ALL.into_iter().all(|a| task_transition(status, a).is_err()));
        }
    }

    #[test]
    fn refused_task_transitions_say_what_was_refused() {
        let err = task_transition(TaskStatus::Completed, TaskAction::Reopen).unwrap_err();
        assert_eq!(err.to_string(), "cannot reopen a task that is completed");
        assert_eq!(err.code(), "illegal_transition");
    }

    #[test]
    fn task_statuses_and_actions_round_trip_as_snake_case() {
        for st in TaskStatus::ALL {
            assert_eq!(TaskStatus::parse(st.as_str()), Some(st));
            assert_eq!(to_value(st).unwrap(), json!(st.as_str()));
            assert_eq!(from_value::<TaskStatus>(json!(st.as_str())).unwrap(), st);
        }
        for a in TaskAction::ALL {
            assert_eq!(TaskAction::parse(a.as_str()), Some(a));
        }
        assert_eq!(TaskStatus::parse("Open"), None);
        assert_eq!(TaskStatus::ALL.len(), 5);
        assert_eq!(TaskAction::ALL.len(), 5);
    }

    // --- placement transitions ------------------------------------------------------------

    use Actor::{Citizen, Company, Coordinator};
    use PlacementAction as PA;
    use PlacementState as PS;

    /// The placement table as specified, written out independently of the
    /// implementation so that each checks the other.
    const PLACEMENT_TABLE: &[(Option<PlacementState>, PlacementAction, PlacementState, &[Actor])] = &[
        (None, PA::ShowInterest, PS::Interested, &[Citizen]),
        (None, PA::Offer, PS::Offered, &[Coordinator]),
        (Some(PS::Interested), PA::Offer, PS::Offered, &[Coordinator]),
        (Some(PS::Interested), PA::Cancel, PS::Cancelled, &[Citizen, Coordinator]),
        (Some(PS::Offered), PA::Accept, PS::Accepted, &[Citizen]),
        (Some(PS::Offered), PA::Decline, PS::Declined, &[Citizen]),
        (Some(PS::Offered), PA::Cancel, PS::Cancelled, &[Coordinator]),
        (Some(PS::Accepted), PA::Approve, PS::Approved, &[Coordinator]),
        (Some(PS::Accepted), PA::Reject, PS::Rejected, &[Coordinator]),
        (Some(PS::Accepted), PA::Cancel, PS::Cancelled, &[Coordinator, Citizen]),
        (Some(PS::Approved), PA::Cancel, PS::Cancelled, &[Coordinator, Company]),
        (Some(PS::Approved), PA::NoShow, PS::NoShow, &[Coordinator, Company]),
        (Some(PS::Approved), PA::Complete, PS::Completed, &[Coordinator, Company]),
    ];

    fn table_row(state: Option<PlacementState>, action: PlacementAction) -> Option<(PlacementState, &'static [Actor])> {
        PLACEMENT_TABLE.iter().find(|(f, a, _, _)| *f == state && *a == action).map(|(_, _, to, by)| (*to, *by))
    }

    fn all_placement_states() -> Vec<Option<PlacementState>> {
        std::iter::once(None).chain(PlacementState::ALL.map(Some)).collect()
    }

    #[test]
    fn the_placement_transition_table_is_exactly_as_documented_for_every_actor() {
        let mut permitted = 0;
        let mut cases = 0;
        for state in all_placement_states() {
            for action in PlacementAction::ALL {
                for actor in Actor::ALL {
                    cases += 1;
                    let expected = match table_row(state, action) {
                        Some((to, by)) if by.contains(&actor) => Ok(to),
                        Some(_) => Err(TransitionError::WrongActor { action: action.as_str() }),
                        None => Err(TransitionError::Illegal {
                            entity: "placement",
                            from: state.map_or("none", PlacementState::as_str),
                            action: action.as_str(),
                        }),
                    };
                    permitted += usize::from(expected.is_ok());
                    assert_eq!(placement_transition(state, action, actor), expected, "{state:?} + {action} by {actor}");
                }
            }
        }
        assert_eq!(cases, 10 * 9 * 3);
        assert_eq!(permitted, 18);
    }

    #[test]
    fn terminal_placements_accept_no_action_from_anyone() {
        let terminal: Vec<_> = PlacementState::ALL.into_iter().filter(|s| s.is_terminal()).collect();
        assert_eq!(terminal, [PS::Declined, PS::Rejected, PS::Cancelled, PS::NoShow, PS::Completed]);
        for state in terminal {
            for action in PlacementAction::ALL {
                for actor in Actor::ALL {
                    let err = placement_transition(Some(state), action, actor).unwrap_err();
                    assert_eq!(err.code(), "illegal_transition");
                }
            }
        }
    }

    #[test]
    fn only_an_approved_placement_holds_a_position() {
        let holding: Vec<_> = PlacementState::ALL.into_iter().filter(|s| s.holds_position()).collect();
        assert_eq!(holding, [PS::Approved]);
        let live: Vec<_> = PlacementState::ALL.into_iter().filter(|s| s.is_live()).collect();
        assert_eq!(live, [PS::Interested, PS::Offered, PS::Accepted, PS::Approved]);
    }

    #[test]
    fn refused_placement_transitions_say_what_was_refused() {
        let err = placement_transition(None, PA::Accept, Citizen).unwrap_err();
        assert_eq!(err.to_string(), "cannot accept a placement that is none");
        let err = placement_transition(Some(PS::Declined), PA::NoShow, Company).unwrap_err();
        assert_eq!(err.to_string(), "cannot no_show a placement that is declined");
        let err = placement_transition(Some(PS::Offered), PA::Accept, Company).unwrap_err();
        assert_eq!(err, TransitionError::WrongActor { action: "accept" });
        assert_eq!(err.code(), "wrong_actor");
        assert_eq!(err.to_string(), "your role may not accept this placement");
    }

    #[test]
    fn placement_codes_round_trip_as_snake_case() {
        for st in PlacementState::ALL {
            assert_eq!(PlacementState::parse(st.as_str()), Some(st));
            assert_eq!(to_value(st).unwrap(), json!(st.as_str()));
            assert_eq!(from_value::<PlacementState>(json!(st.as_str())).unwrap(), st);
        }
        for a in PlacementAction::ALL {
            assert_eq!(PlacementAction::parse(a.as_str()), Some(a));
            assert_eq!(to_value(a).unwrap(), json!(a.as_str()));
        }
        for a in Actor::ALL {
            assert_eq!(Actor::parse(a.as_str()), Some(a));
            assert_eq!(from_value::<Actor>(json!(a.as_str())).unwrap(), a);
        }
        assert_eq!(PS::NoShow.as_str(), "no_show");
        assert_eq!(PA::ShowInterest.to_string(), "show_interest");
        assert_eq!(PlacementState::parse("none"), None);
    }

    #[test]
    fn positions_are_free_while_fewer_are_approved_than_there_are() {
        assert!(has_free_position(0, 1));
        assert!(has_free_position(2, 3));
        assert!(!has_free_position(3, 3));
        assert!(!has_free_position(0, 0));
        assert!(!has_free_position(4, 3));
    }

    // --- property tests -------------------------------------------------------------------

    fn weekday_strategy() -> impl Strategy<Value = Vec<Weekday>> {
        prop::collection::vec((0u8..7).prop_map(|i| Weekday::try_from(i).unwrap()), 0..9)
    }

    fn date_strategy() -> impl Strategy<Value = NaiveDate> {
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

    fn valid_schedule() -> impl Strategy<Value = Schedule> {
        schedule_input().prop_filter_map("invalid schedule", |i| build(&i).ok())
    }

    /// One step of the placement model: which placement, what, by whom.
    /// `None` as actor means "someone the table permits", so that random
    /// runs get past the first steps often enough to fill every position.
    type Op = (usize, PlacementAction, Option<Actor>);

    fn op_strategy(placements: usize) -> impl Strategy<Value = Op> {
        let action = prop_oneof![
            2 => Just(PA::ShowInterest),
            3 => Just(PA::Offer),
            4 => Just(PA::Accept),
            1 => Just(PA::Decline),
            5 => Just(PA::Approve),
            1 => Just(PA::Reject),
            2 => Just(PA::Cancel),
            1 => Just(PA::NoShow),
            1 => Just(PA::Complete),
        ];
        let actor = prop_oneof![2 => Just(None), 1 => prop::sample::select(Actor::ALL.to_vec()).prop_map(Some)];
        (0..placements, action, actor)
    }

    fn approved_count(states: &[Option<PlacementState>]) -> u32 {
        states.iter().filter(|s| s.is_some_and(PlacementState::holds_position)).count() as u32
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
        fn random_placement_operations_never_overfill_a_task_or_leave_the_table(
            positions in 1u32..=3,
            ops in (1usize..=6).prop_flat_map(|n| prop::collection::vec(op_strategy(n), 0..200).prop_map(move |o| (n, o))),
        ) {
            let (n, ops) = ops;
            let mut states: Vec<Option<PlacementState>> = vec![None; n];
            for (i, action, actor) in ops {
                let before = states[i];
                let approved = approved_count(&states);
                let actor = actor.unwrap_or_else(|| {
                    table_row(before, action).map_or(Coordinator, |(_, by)| by[0])
                });
                // The API's rule: an approval needs a free position, checked
                // in the same transaction as the transition.
                if action == PA::Approve && !has_free_position(approved, positions) {
                    prop_assert_eq!(approved, positions);
                    continue;
                }
                match placement_transition(before, action, actor) {
                    Ok(next) => {
                        prop_assert!(!before.is_some_and(PlacementState::is_terminal), "{:?} left a terminal state", before);
                        let row = table_row(before, action);
                        prop_assert_eq!(row.map(|(to, _)| to), Some(next));
                        prop_assert!(row.is_some_and(|(_, by)| by.contains(&actor)));
                        states[i] = Some(next);
                        let after = approved_count(&states);
                        // Leaving Approved by cancel or no-show frees exactly one position.
                        if before == Some(PS::Approved) {
                            prop_assert_eq!(after + 1, approved);
                            prop_assert!(has_free_position(after, positions));
                        }
                    }
                    Err(_) => prop_assert_eq!(states[i], before),
                }
                prop_assert!(approved_count(&states) <= positions);
            }
        }

        #[test]
        fn cancelling_or_no_show_of_an_approved_placement_lets_a_waiting_one_be_approved(
            positions in 1u32..=4,
            release in prop::sample::select(vec![(PA::Cancel, Coordinator), (PA::Cancel, Company), (PA::NoShow, Coordinator), (PA::NoShow, Company)]),
            which in any::<prop::sample::Index>(),
        ) {
            let n = positions as usize + 1;
            let mut states: Vec<Option<PlacementState>> = vec![None; n];
            for st in &mut states {
                let offered = placement_transition(None, PA::Offer, Coordinator).unwrap();
                *st = Some(placement_transition(Some(offered), PA::Accept, Citizen).unwrap());
            }
            for i in 0..positions as usize {
                prop_assert!(has_free_position(approved_count(&states), positions));
                states[i] = Some(placement_transition(states[i], PA::Approve, Coordinator).unwrap());
            }
            let waiting = n - 1;
            prop_assert!(!has_free_position(approved_count(&states), positions));
            let victim = which.index(positions as usize);
            let (action, actor) = release;
            states[victim] = Some(placement_transition(states[victim], action, actor).unwrap());
            prop_assert!(has_free_position(approved_count(&states), positions));
            states[waiting] = Some(placement_transition(states[waiting], PA::Approve, Coordinator).unwrap());
            prop_assert_eq!(approved_count(&states), positions);
            // The released placement stays released.
            prop_assert!(placement_transition(states[victim], PA::Approve, Coordinator).is_err());
        }
    }
}
