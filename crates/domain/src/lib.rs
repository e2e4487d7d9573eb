//! Domain rules for Småjob: Danish small jobs and the *socialt frikort*.
//!
//! This crate is pure: no I/O, no clocks, no randomness. Every value that
//! crosses a trust boundary has a newtype with a `parse` constructor, so once
//! a value exists it is known to be valid ("parse, don't validate").
//!
//! CPR numbers deserve special care: [`Cpr`] has no `Display` and no serde
//! support, its `Debug` shows only the masked form, and no error message in
//! this crate ever echoes the input of a CPR parse.

pub mod allocation;
pub mod atp;
pub mod calendar;
pub mod caps;
pub mod citizen;
pub mod coded;
pub mod company;
pub mod cpr;
pub mod cvr;
pub mod frikort;
pub mod guessing;
pub mod ids;
pub mod lifecycle;
pub mod matching;
pub mod money;
pub mod municipality;
pub mod notification;
pub mod pay;
pub mod pay_run;
pub mod register_entry;
pub mod register_statement;
pub mod schedule;
pub mod stats;

pub use allocation::{
    AdjustmentCause, Allocation, AllocationInput, Appended, CardCoverage, Coverage, CoveredDays, EmploymentSpan,
    OutsideIncomeFacts, PayoutFacts, Projection, Split, SplitChange, YearTotals, allocate, append_payout,
    card_coverage, project, split_changes, within_employment,
};
pub use atp::{
    Atp, AtpRate, AtpRateError, MAX_ATP_ORE_PER_HOUR, ResolvedAtpRate, atp_due_date, atp_for, resolve_atp_rate,
};
pub use calendar::{copenhagen_date, copenhagen_midnight_utc, today_in_copenhagen};
pub use caps::{
    CapAmount, CapError, CapYear, FIRST_CAP_YEAR, LAST_CAP_YEAR, RegulationPercent, ResolvedCap, regulate, resolve_cap,
    statutory_cap_set, statutory_caps,
};
pub use citizen::{
    AvailabilitySlot, Email, FieldError, GeoPoint, MAX_AVAILABILITY_SLOTS, MAX_SKILLS, Name, Phone, Postcode, Skill,
    TransportMode, WeeklyAvailability, is_hidden_formatting, parse_hh_mm, parse_skills, parse_weekday_code,
    weekday_code,
};
pub use company::Verification;
pub use cpr::{Cpr, CprError, age_on, mask_birth_date};
pub use cvr::{Cvr, CvrError, with_valid_checksum};
pub use frikort::{
    Attestations, CardEventKind, CardPeriod, CardStatus, CardTransitionError, EligibilityProblem, FrikortNumber,
    FrikortNumberError, MINIMUM_AGE, active_periods, check_eligibility, control_allowed_in, control_due_year,
    is_control_due, next_status,
};
pub use guessing::{Counted, FORGET_LOCKOUTS_AFTER, GuessCounter, GuessLimit, GuessLimitError, retry_after_seconds};
pub use ids::{
    CardId, CitizenId, CompanyId, EmploymentId, IdError, OutsideIncomeId, PayoutId, PlacementId, RecordId,
    RegisterStatementId, ShiftReportId, TaskId,
};
pub use lifecycle::{
    Actor, PlacementAction, PlacementState, ReportStatus, TaskAction, TaskStatus, TransitionError, has_free_position,
    placement_transition, task_transition,
};
pub use money::{MAX_ABS_ORE, Money, MoneyError, round_half_away_from_zero_to_ore};
pub use municipality::{MunicipalityCode, MunicipalityError, RANDERS};
pub use pay::{
    HOLIDAY_PAY_PERCENT, HoursError, MAX_WEEKLY_HOURS, MAX_WORKED_MINUTES, WeeklyHours, WeeklyHoursError, WorkedTime,
    estimated_pay, holiday_pay, pay_for,
};
pub use pay_run::{
    PaidAmounts, PayLine, PayRunError, PayRunTotals, PayableShift, PaymentMethod, income_year, pay_lines,
};
pub use register_entry::{
    ChainState, EntryAction, NationalReference, NationalReferenceError, PendingEntry, REGISTRATION_DEADLINE_DAY,
    RegisterEntryId, RegisterEntryKind, RegisterEntryStatus, is_overdue, plan as plan_register_entries,
    registration_due,
};
pub use register_statement::{
    Difference, DifferenceKind, KnownOutsideIncome, LineError, MAX_STATEMENT_LINES, Reconciliation, STATEMENT_HEADER,
    SmaajobRegistration, StatementError, StatementLine, StatementStatus, parse_statement, reconcile,
};
pub use schedule::{EARLIEST_SCHEDULE_YEAR, MAX_WEEKLY_SPAN_DAYS, Schedule, ScheduleError, Shift};
pub use stats::nearest_rank;
