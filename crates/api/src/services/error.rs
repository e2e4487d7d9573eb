//! What a use case can fail with, in the terms of the use case, not of HTTP.
//!
//! Policy: a use case answers with a [`ServiceError`]. Each variant names the kind of failure
//! (the record is missing or not visible, the caller may not, the state conflicts, a rule of the
//! domain refuses, an input field is invalid); [`Code`] is the one catalogue of stable machine
//! codes. The HTTP edge (`crate::error::ApiError`) maps the kinds to statuses and renders
//! problem+json; pages render the same errors as text. A database error is never turned into
//! "not found": only a repository's `NotFound` is, through [`OrNotFound`].

use smaajob_domain::FieldError;
use smaajob_persistence::RepoError;

/// The stable machine code of every problem the API can answer with; the last part of a
/// problem's `type` URI. Each variant's documentation is its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Code {
    MalformedJson,
    UnreadableBody,
    InvalidQuery,
    InvalidIdempotencyKey,
    MethodNotAllowed,
    PayloadTooLarge,
    UnsupportedMediaType,
    MissingToken,
    InvalidToken,
    Forbidden,
    NotFound,
    UnknownCompany,
    Validation,
    Conflict,
    ReferenceMissing,
    ConstraintViolated,
    Unavailable,
    WriteConflict,
    CprInUrl,
    TooManyGuesses,
    RateLimited,
    Internal,
    IdempotencyKeyReused,
    IdempotencyRace,
    CitizenExists,
    CitizenEnrolledElsewhere,
    AlreadyResponsible,
    NotEnrolled,
    CitizenNotMatched,
    Underage,
    CardExists,
    CardNumberTaken,
    CardNumbersExhausted,
    ConditionsNotMet,
    ControlInIssueYear,
    NoDecisionToCorrect,
    NoActiveCard,
    NoCard,
    CardAlreadyActive,
    CardAlreadyDeactivated,
    CardNotActive,
    PreviousCapNotSet,
    CapPreviewRequired,
    CapPreviewStale,
    EmploymentEnded,
    WorkPeriodStraddlesCardChange,
    PayoutAlreadyReversed,
    OutsideIncomeAlreadyWithdrawn,
    RegisterEntryNotPending,
    StatementFormatUnknown,
    StatementNotPending,
    StatementStale,
    CompanyExists,
    CompanyNotVerified,
    TaskNotEditable,
    TaskNotOpen,
    ScheduleInPast,
    IllegalTransition,
    PlacementExists,
    PlacementNotApproved,
    NoFreePosition,
    NoActiveCardForSchedule,
    OverlappingPlacement,
    WeeklyHoursExceeded,
    WouldExceedFrikort,
    HoursAlreadyReported,
    HoursAlreadyAnswered,
    UnconfirmedHours,
    NothingToPay,
    PaidMeanwhile,
    TaskWithoutLocation,
    InvalidGtfs,
    NotADeadLetter,
}

smaajob_domain::coded_enum!(Code, "problem code" {
    // Requests the edge could not read.
    MalformedJson => "malformed_json",
    UnreadableBody => "unreadable_body",
    InvalidQuery => "invalid_query",
    InvalidIdempotencyKey => "invalid_idempotency_key",
    MethodNotAllowed => "method_not_allowed",
    PayloadTooLarge => "payload_too_large",
    UnsupportedMediaType => "unsupported_media_type",
    // Credentials and access.
    MissingToken => "missing_token",
    InvalidToken => "invalid_token",
    Forbidden => "forbidden",
    NotFound => "not_found",
    UnknownCompany => "unknown_company",
    // Generic kinds.
    Validation => "validation",
    Conflict => "conflict",
    ReferenceMissing => "reference_missing",
    ConstraintViolated => "constraint_violated",
    Unavailable => "unavailable",
    WriteConflict => "write_conflict",
    CprInUrl => "cpr_in_url",
    TooManyGuesses => "too_many_guesses",
    RateLimited => "rate_limited",
    Internal => "internal",
    // Idempotency.
    IdempotencyKeyReused => "idempotency_key_reused",
    IdempotencyRace => "idempotency_race",
    // Citizens and cards.
    CitizenExists => "citizen_exists",
    CitizenEnrolledElsewhere => "citizen_enrolled_elsewhere",
    AlreadyResponsible => "already_responsible",
    NotEnrolled => "not_enrolled",
    CitizenNotMatched => "citizen_not_matched",
    Underage => "underage",
    CardExists => "card_exists",
    CardNumberTaken => "card_number_taken",
    CardNumbersExhausted => "card_numbers_exhausted",
    ConditionsNotMet => "conditions_not_met",
    ControlInIssueYear => "control_in_issue_year",
    NoDecisionToCorrect => "no_decision_to_correct",
    NoActiveCard => "no_active_card",
    NoCard => "no_card",
    CardAlreadyActive => "card_already_active",
    CardAlreadyDeactivated => "card_already_deactivated",
    CardNotActive => "card_not_active",
    // Caps, employments and payouts.
    PreviousCapNotSet => "previous_cap_not_set",
    CapPreviewRequired => "cap_preview_required",
    CapPreviewStale => "cap_preview_stale",
    EmploymentEnded => "employment_ended",
    WorkPeriodStraddlesCardChange => "work_period_straddles_card_change",
    PayoutAlreadyReversed => "payout_already_reversed",
    // Outside income and register statements.
    OutsideIncomeAlreadyWithdrawn => "outside_income_already_withdrawn",
    RegisterEntryNotPending => "register_entry_not_pending",
    StatementFormatUnknown => "statement_format_unknown",
    StatementNotPending => "statement_not_pending",
    StatementStale => "statement_stale",
    // Companies, tasks and placements.
    CompanyExists => "company_exists",
    CompanyNotVerified => "company_not_verified",
    TaskNotEditable => "task_not_editable",
    TaskNotOpen => "task_not_open",
    ScheduleInPast => "schedule_in_past",
    IllegalTransition => "illegal_transition",
    PlacementExists => "placement_exists",
    PlacementNotApproved => "placement_not_approved",
    NoFreePosition => "no_free_position",
    NoActiveCardForSchedule => "no_active_card_for_schedule",
    OverlappingPlacement => "overlapping_placement",
    WeeklyHoursExceeded => "weekly_hours_exceeded",
    WouldExceedFrikort => "would_exceed_frikort",
    // Hours.
    HoursAlreadyReported => "hours_already_reported",
    HoursAlreadyAnswered => "hours_already_answered",
    // Pay runs.
    UnconfirmedHours => "unconfirmed_hours",
    NothingToPay => "nothing_to_pay",
    PaidMeanwhile => "paid_meanwhile",
    // Matching.
    TaskWithoutLocation => "task_without_location",
    InvalidGtfs => "invalid_gtfs",
    // Notifications.
    NotADeadLetter => "not_a_dead_letter",
});

/// One invalid input field: its name in the command (the JSON path of the request body), a
/// stable machine code and a message for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldIssue {
    /// The field's path, e.g. `cpr` or `home.lat`.
    pub field: String,
    /// A stable machine code, e.g. `cpr_no_such_date`.
    pub code: String,
    /// What is wrong, for a person.
    pub message: String,
}

impl FieldIssue {
    /// A field issue.
    pub fn new(field: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> Self {
        FieldIssue { field: field.into(), code: code.into(), message: message.into() }
    }
}

/// A record that stands in the way of a request, named so the caller can act on it (e.g. the
/// unconfirmed hours that hold up a pay run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Obstacle {
    /// What kind of record, e.g. `shift_report` or `employment`.
    pub kind: &'static str,
    /// Its id.
    pub id: String,
    /// The day it concerns, if one.
    pub date: Option<chrono::NaiveDate>,
    /// What it is and what to do, for a person.
    pub message: String,
}

/// Everything a use case can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The record does not exist, or the caller may not see it (the two are not told apart).
    #[error("no {0} with that id")]
    NotFound(&'static str),
    /// The caller is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The caller is a company that has not registered itself yet.
    #[error("the company behind this CVR number is not registered yet: register it with POST /api/v1/companies/self")]
    Unregistered,
    /// The request conflicts with the current state (a retry after the state changes may work).
    #[error("{detail}")]
    Conflict {
        /// Machine code.
        code: Code,
        /// What conflicts, for a person.
        detail: String,
    },
    /// The request conflicts with the current state of the records listed (act on them first).
    #[error("{detail}")]
    Blocked {
        /// Machine code.
        code: Code,
        /// What conflicts, for a person.
        detail: String,
        /// The records in the way.
        obstacles: Vec<Obstacle>,
    },
    /// The request is well-formed but a rule refuses it.
    #[error("{detail}")]
    Rule {
        /// Machine code.
        code: Code,
        /// Which rule, for a person.
        detail: String,
    },
    /// One or more input fields are invalid.
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldIssue>),
    /// The caller has made too many attempts of this kind and must wait.
    #[error("{detail}")]
    Throttled {
        /// Machine code.
        code: Code,
        /// Why, and for how long, for a person.
        detail: String,
        /// Whole seconds until an attempt may be made again.
        retry_after_seconds: u64,
    },
    /// The database failed or refused in a way the use case does not handle itself.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// A bug or an unexpected state; the detail goes to the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    /// An invalid field.
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> ServiceError {
        ServiceError::Invalid(vec![FieldIssue::new(field, code, message)])
    }

    /// A conflict with the current state.
    pub fn conflict(code: Code, detail: impl Into<String>) -> ServiceError {
        ServiceError::Conflict { code, detail: detail.into() }
    }

    /// A refusal by a rule of the domain.
    pub fn rule(code: Code, detail: impl Into<String>) -> ServiceError {
        ServiceError::Rule { code, detail: detail.into() }
    }

    /// An unexpected state.
    pub fn internal(detail: impl Into<String>) -> ServiceError {
        ServiceError::Internal(detail.into())
    }
}

impl From<smaajob_persistence::DieselError> for ServiceError {
    fn from(e: smaajob_persistence::DieselError) -> Self {
        ServiceError::Repo(RepoError::from(e))
    }
}

/// Turns a repository's "no such row" into [`ServiceError::NotFound`]; other errors stay errors.
pub trait OrNotFound<T> {
    /// The value, "no `what` with that id", or the database error.
    fn or_not_found(self, what: &'static str) -> Result<T, ServiceError>;
}

impl<T> OrNotFound<T> for Result<T, RepoError> {
    fn or_not_found(self, what: &'static str) -> Result<T, ServiceError> {
        self.map_err(|e| match e {
            RepoError::NotFound => ServiceError::NotFound(what),
            other => other.into(),
        })
    }
}

/// Collects per-field issues so one answer lists every invalid field.
#[derive(Debug, Default)]
pub struct Fields {
    issues: Vec<FieldIssue>,
}

impl Fields {
    /// An empty collector.
    pub fn new() -> Fields {
        Fields::default()
    }

    /// Keeps the value, or records the error under `field`.
    pub fn check<T, E: Into<FieldError>>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                let e: FieldError = e.into();
                self.issues.push(FieldIssue::new(field, e.code, e.message));
                None
            }
        }
    }

    /// Like [`Fields::check`] for an optional input.
    pub fn check_opt<T, E: Into<FieldError>>(
        &mut self,
        field: &str,
        result: Option<Result<T, E>>,
    ) -> Option<Option<T>> {
        match result {
            None => Some(None),
            Some(r) => self.check(field, r).map(Some),
        }
    }

    /// Records an issue directly.
    pub fn push(&mut self, field: &str, code: &str, message: impl Into<String>) {
        self.issues.push(FieldIssue::new(field, code, message));
    }

    /// Ok when nothing was recorded, else one [`ServiceError::Invalid`] listing every issue.
    pub fn finish(self) -> Result<(), ServiceError> {
        if self.issues.is_empty() { Ok(()) } else { Err(ServiceError::Invalid(self.issues)) }
    }
}

/// Unwraps a value checked by [`Fields`] after [`Fields::finish`] succeeded.
pub fn checked<T>(value: Option<T>) -> Result<T, ServiceError> {
    value.ok_or_else(|| ServiceError::internal("a checked field was missing after validation"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_code_reads_back_and_no_two_share_a_code() {
        let mut seen = std::collections::BTreeSet::new();
        for code in Code::ALL {
            assert_eq!(Code::parse(code.as_str()), Some(code));
            assert!(seen.insert(code.as_str()), "{code} is listed twice");
        }
    }

    #[test]
    fn fields_collect_every_issue_before_failing() {
        let mut f = Fields::new();
        f.push("a", "required", "give a");
        f.push("b", "too_long", "shorter");
        let Err(ServiceError::Invalid(issues)) = f.finish() else { panic!("expected an invalid-fields error") };
        assert_eq!(issues.iter().map(|i| i.field.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    }
}
