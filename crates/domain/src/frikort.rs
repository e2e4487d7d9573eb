//! The *socialt frikort*: card numbers, card lifecycle, eligibility and
//! the municipality's periodic control.

use std::fmt;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::cpr::Cpr;

/// A frikort number: exactly five digits, leading zeros significant
/// (`"00042"`).
#[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FrikortNumber(String);

/// Why a string is not a frikort number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum FrikortNumberError {
    /// Not exactly five ASCII digits.
    #[error("frikort number must be exactly 5 digits, e.g. \"00042\"")]
    Format,
}

impl FrikortNumberError {
    /// Stable snake_case code for API error responses.
    pub fn code(self) -> &'static str {
        match self {
            FrikortNumberError::Format => "frikort_number_format",
        }
    }
}

impl FrikortNumber {
    /// Parses exactly five ASCII digits, ignoring surrounding whitespace.
    pub fn parse(s: &str) -> Result<FrikortNumber, FrikortNumberError> {
        let s = s.trim();
        if s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(FrikortNumber(s.to_owned()))
        } else {
            Err(FrikortNumberError::Format)
        }
    }

    /// The `n`th number, zero-padded (`42` → `"00042"`); `None` from 100000.
    pub fn from_index(n: u32) -> Option<FrikortNumber> {
        (n < 100_000).then(|| FrikortNumber(format!("{n:05}")))
    }

    /// The five digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FrikortNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for FrikortNumber {
    type Error = FrikortNumberError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        FrikortNumber::parse(&s)
    }
}

impl From<FrikortNumber> for String {
    fn from(n: FrikortNumber) -> String {
        n.0
    }
}

/// Whether a card can currently be used.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardStatus {
    /// The card is in force.
    Active,
    /// The card has been deactivated and may be reactivated.
    Deactivated,
}

crate::coded_enum!(CardStatus, "card status" {
    Active => "active",
    Deactivated => "deactivated",
});

/// Something that happened to a card; the card's status is derived from its
/// events.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardEventKind {
    /// The municipality issued the card.
    Issued,
    /// The card was deactivated.
    Deactivated,
    /// A deactivated card was reactivated.
    Reactivated,
    /// The municipality controlled that the citizen is still eligible.
    Controlled,
}

crate::coded_enum!(CardEventKind, "card event kind" {
    Issued => "issued",
    Deactivated => "deactivated",
    Reactivated => "reactivated",
    Controlled => "controlled",
});

/// Why an event cannot happen to a card in its current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum CardTransitionError {
    /// Only `Issued` can happen before a card exists.
    #[error("the citizen has no frikort; issue one first")]
    NoCard,
    /// A citizen has at most one card.
    #[error("the citizen already has a frikort; reactivate it instead of issuing a new one")]
    AlreadyIssued,
    /// Reactivating an active card.
    #[error("the frikort is already active")]
    AlreadyActive,
    /// Deactivating a deactivated card.
    #[error("the frikort is already deactivated")]
    AlreadyDeactivated,
    /// Controlling a deactivated card.
    #[error("a deactivated frikort cannot be controlled; reactivate it first")]
    NotActive,
}

impl CardTransitionError {
    /// Stable snake_case code for API error responses.
    pub fn code(self) -> &'static str {
        match self {
            CardTransitionError::NoCard => "no_card",
            CardTransitionError::AlreadyIssued => "card_already_issued",
            CardTransitionError::AlreadyActive => "card_already_active",
            CardTransitionError::AlreadyDeactivated => "card_already_deactivated",
            CardTransitionError::NotActive => "card_not_active",
        }
    }
}

/// The card status after `event`, given the current status (`None`: the
/// citizen has no card yet).
pub fn next_status(current: Option<CardStatus>, event: CardEventKind) -> Result<CardStatus, CardTransitionError> {
    use CardEventKind as E;
    use CardStatus as S;
    use CardTransitionError as T;
    match (current, event) {
        (None, E::Issued) => Ok(S::Active),
        (None, _) => Err(T::NoCard),
        (Some(_), E::Issued) => Err(T::AlreadyIssued),
        (Some(S::Active), E::Deactivated) => Ok(S::Deactivated),
        (Some(S::Deactivated), E::Deactivated) => Err(T::AlreadyDeactivated),
        (Some(S::Deactivated), E::Reactivated) => Ok(S::Active),
        (Some(S::Active), E::Reactivated) => Err(T::AlreadyActive),
        (Some(S::Active), E::Controlled) => Ok(S::Active),
        (Some(S::Deactivated), E::Controlled) => Err(T::NotActive),
    }
}

/// The caseworker's assessment of each eligibility condition. All four must
/// be true to issue a card; all four are required in JSON.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Attestations {
    /// The citizen is not in an education that qualifies for SU.
    pub no_su_eligible_education: bool,
    /// The citizen has had no taxable work income above 10,320 DKK (2024
    /// level) in the last 12 months.
    pub no_taxable_work_income_over_threshold: bool,
    /// The citizen has lived in Denmark for 9 of the last 10 years.
    pub residence_9_of_last_10_years: bool,
    /// The citizen is in the target group of Serviceloven afsnit V.
    pub in_target_group: bool,
}

impl Attestations {
    fn fields(&self) -> [(&'static str, bool); 4] {
        [
            ("no_su_eligible_education", self.no_su_eligible_education),
            ("no_taxable_work_income_over_threshold", self.no_taxable_work_income_over_threshold),
            ("residence_9_of_last_10_years", self.residence_9_of_last_10_years),
            ("in_target_group", self.in_target_group),
        ]
    }
}

/// The minimum age for a frikort.
pub const MINIMUM_AGE: u32 = 18;

/// One reason a citizen cannot get a frikort.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum EligibilityProblem {
    /// Younger than [`MINIMUM_AGE`] on the decision date.
    Underage {
        /// Completed years on the decision date.
        age: u32,
    },
    /// The named [`Attestations`] field is false.
    NotAttested(&'static str),
}

impl EligibilityProblem {
    /// Stable snake_case code for API error responses.
    pub fn code(&self) -> &'static str {
        match self {
            EligibilityProblem::Underage { .. } => "underage",
            EligibilityProblem::NotAttested(_) => "not_attested",
        }
    }
}

impl fmt::Display for EligibilityProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EligibilityProblem::Underage { age } => {
                write!(f, "the citizen is {age} years old; a frikort requires at least {MINIMUM_AGE}")
            }
            EligibilityProblem::NotAttested(field) => {
                let condition = match *field {
                    "no_su_eligible_education" => "the citizen is not in SU-eligible education",
                    "no_taxable_work_income_over_threshold" => {
                        "the citizen has had no taxable work income over the threshold in the last 12 months"
                    }
                    "residence_9_of_last_10_years" => "the citizen has lived in Denmark 9 of the last 10 years",
                    "in_target_group" => "the citizen is in the target group of Serviceloven afsnit V",
                    other => other,
                };
                write!(f, "not attested: {condition}")
            }
        }
    }
}

impl std::error::Error for EligibilityProblem {}

/// Checks that the citizen is at least [`MINIMUM_AGE`] on `on` and that every
/// attestation is true. Returns every problem, not just the first, so the
/// caseworker sees them all at once.
pub fn check_eligibility(cpr: &Cpr, on: NaiveDate, attestations: &Attestations) -> Result<(), Vec<EligibilityProblem>> {
    let mut problems = Vec::new();
    let age = cpr.age_on(on);
    if age < MINIMUM_AGE {
        problems.push(EligibilityProblem::Underage { age });
    }
    problems.extend(
        attestations.fields().into_iter().filter(|(_, ok)| !ok).map(|(name, _)| EligibilityProblem::NotAttested(name)),
    );
    if problems.is_empty() { Ok(()) } else { Err(problems) }
}

/// The calendar year by which the next control must have happened: two
/// years after the later of the year of issue and the last control.
pub fn control_due_year(issued_year: i32, last_control_year: Option<i32>) -> i32 {
    issued_year.max(last_control_year.unwrap_or(issued_year)) + 2
}

/// Whether a control may be registered in `year`; never in the year of
/// issue, since the issuing assessment already covers that year.
pub fn control_allowed_in(issued_year: i32, year: i32) -> bool {
    year > issued_year
}

/// Whether a control is due (or overdue) in `year`.
pub fn is_control_due(issued_year: i32, last_control_year: Option<i32>, year: i32) -> bool {
    year >= control_due_year(issued_year, last_control_year)
}

/// A span during which a card was active; `to` is `None` while still active.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct CardPeriod {
    /// When the card became active (inclusive).
    pub from: NaiveDateTime,
    /// When it was deactivated (exclusive), if it has been.
    pub to: Option<NaiveDateTime>,
}

impl CardPeriod {
    /// Whether the card was active at `t` (`from <= t < to`).
    pub fn contains(&self, t: NaiveDateTime) -> bool {
        self.from <= t && self.to.is_none_or(|to| t < to)
    }
}

/// The periods in which a card was active, given its events in
/// effective-time order. `Issued` and `Reactivated` open a period,
/// `Deactivated` closes it, `Controlled` changes nothing.
///
/// Events that [`next_status`] would have refused (opening an open period,
/// closing a closed one) are ignored rather than trusted, so a damaged
/// history cannot produce overlapping periods.
pub fn active_periods(events: &[(CardEventKind, NaiveDateTime)]) -> Vec<CardPeriod> {
    let mut periods = Vec::new();
    let mut open: Option<NaiveDateTime> = None;
    for &(kind, at) in events {
        match kind {
            CardEventKind::Issued | CardEventKind::Reactivated => {
                open.get_or_insert(at);
            }
            CardEventKind::Deactivated => {
                if let Some(from) = open.take() {
                    periods.push(CardPeriod { from, to: Some(at) });
                }
            }
            CardEventKind::Controlled => {}
        }
    }
    if let Some(from) = open {
        periods.push(CardPeriod { from, to: None });
    }
    periods
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, from_value, json, to_value};

    fn at(y: i32, m: u32, d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(12, 0, 0).unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    const ALL_TRUE: Attestations = Attestations {
        no_su_eligible_education: true,
        no_taxable_work_income_over_threshold: true,
        residence_9_of_last_10_years: true,
        in_target_group: true,
    };

    #[test]
    fn frikort_numbers_are_exactly_five_digits() {
        assert_eq!(FrikortNumber::parse("00042").unwrap().as_str(), "00042");
        assert_eq!(FrikortNumber::parse(" 12345 ").unwrap().to_string(), "12345");
        for s in ["", "4242", "123456", "0004a", "-0042", "+0042", "00 42", "１２３４５"] {
            assert_eq!(FrikortNumber::parse(s), Err(FrikortNumberError::Format), "{s:?}");
        }
    }

    #[test]
    fn frikort_numbers_from_an_index_are_zero_padded() {
        assert_eq!(FrikortNumber::from_index(42).unwrap().as_str(), "00042");
        assert_eq!(FrikortNumber::from_index(0).unwrap().as_str(), "00000");
        assert_eq!(FrikortNumber::from_index(99_999).unwrap().as_str(), "99999");
        assert_eq!(FrikortNumber::from_index(100_000), None);
    }

    #[test]
    fn frikort_numbers_are_json_strings_validated_on_the_way_in() {
        let n = FrikortNumber::from_index(7).unwrap();
        assert_eq!(to_value(&n).unwrap(), json!("00007"));
        assert_eq!(from_value::<FrikortNumber>(json!("00007")).unwrap(), n);
        assert!(from_value::<FrikortNumber>(json!("7")).is_err());
        assert!(from_value::<FrikortNumber>(json!(7)).is_err());
    }

    #[test]
    fn status_and_event_names_round_trip_as_snake_case() {
        for status in [CardStatus::Active, CardStatus::Deactivated] {
            assert_eq!(CardStatus::parse(status.as_str()), Some(status));
            assert_eq!(to_value(status).unwrap(), json!(status.as_str()));
            assert_eq!(from_value::<CardStatus>(json!(status.as_str())).unwrap(), status);
        }
        for kind in CardEventKind::ALL {
            assert_eq!(CardEventKind::parse(kind.as_str()), Some(kind));
            assert_eq!(to_value(kind).unwrap(), json!(kind.as_str()));
            assert_eq!(from_value::<CardEventKind>(json!(kind.as_str())).unwrap(), kind);
        }
        assert_eq!(CardStatus::parse("Active"), None);
        assert_eq!(CardEventKind::parse("issue"), None);
        assert_eq!(CardEventKind::Controlled.to_string(), "controlled");
    }

    #[test]
    fn the_transition_table_is_exactly_as_specified() {
        use CardEventKind::*;
        use CardTransitionError as E;
        let active = Some(CardStatus::Active);
        let deactivated = Some(CardStatus::Deactivated);
        let table = [
            (None, Issued, Ok(CardStatus::Active)),
            (None, Deactivated, Err(E::NoCard)),
            (None, Reactivated, Err(E::NoCard)),
            (None, Controlled, Err(E::NoCard)),
            (active, Issued, Err(E::AlreadyIssued)),
            (active, Deactivated, Ok(CardStatus::Deactivated)),
            (active, Reactivated, Err(E::AlreadyActive)),
            (active, Controlled, Ok(CardStatus::Active)),
            (deactivated, Issued, Err(E::AlreadyIssued)),
            (deactivated, Deactivated, Err(E::AlreadyDeactivated)),
            (deactivated, Reactivated, Ok(CardStatus::Active)),
            (deactivated, Controlled, Err(E::NotActive)),
        ];
        assert_eq!(table.len(), 3 * CardEventKind::ALL.len());
        for (current, event, expected) in table {
            assert_eq!(next_status(current, event), expected, "{current:?} + {event:?}");
        }
    }

    #[test]
    fn issuing_twice_tells_the_caseworker_to_reactivate() {
        let e = next_status(Some(CardStatus::Deactivated), CardEventKind::Issued).unwrap_err();
        assert_eq!(e.to_string(), "the citizen already has a frikort; reactivate it instead of issuing a new one");
        assert_eq!(e.code(), "card_already_issued");
    }

    #[test]
    fn an_adult_with_all_attestations_is_eligible() {
        let cpr = Cpr::parse("010106-4321").unwrap(); // 1 Jan 2006
        assert_eq!(check_eligibility(&cpr, day(2024, 1, 1), &ALL_TRUE), Ok(()));
    }

    #[test]
    fn someone_under_18_on_the_decision_date_is_not_eligible() {
        let cpr = Cpr::parse("020106-4321").unwrap(); // 2 Jan 2006
        assert_eq!(
            check_eligibility(&cpr, day(2024, 1, 1), &ALL_TRUE),
            Err(vec![EligibilityProblem::Underage { age: 17 }])
        );
        assert_eq!(check_eligibility(&cpr, day(2024, 1, 2), &ALL_TRUE), Ok(()));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let cpr = Cpr::parse("010110-4321").unwrap(); // 2010
        let none = Attestations {
            no_su_eligible_education: false,
            no_taxable_work_income_over_threshold: false,
            residence_9_of_last_10_years: false,
            in_target_group: false,
        };
        let problems = check_eligibility(&cpr, day(2024, 6, 1), &none).unwrap_err();
        assert_eq!(
            problems,
            vec![
                EligibilityProblem::Underage { age: 14 },
                EligibilityProblem::NotAttested("no_su_eligible_education"),
                EligibilityProblem::NotAttested("no_taxable_work_income_over_threshold"),
                EligibilityProblem::NotAttested("residence_9_of_last_10_years"),
                EligibilityProblem::NotAttested("in_target_group"),
            ]
        );
        for p in &problems {
            assert!(!p.to_string().is_empty());
        }
        assert!(problems[0].to_string().contains("18"));
        assert_eq!(problems[0].code(), "underage");
        assert_eq!(problems[1].code(), "not_attested");
    }

    #[test]
    fn each_missing_attestation_is_named_by_its_json_field() {
        let mut a = ALL_TRUE;
        a.residence_9_of_last_10_years = false;
        let cpr = Cpr::parse("010180-1234").unwrap();
        assert_eq!(
            check_eligibility(&cpr, day(2024, 1, 1), &a),
            Err(vec![EligibilityProblem::NotAttested("residence_9_of_last_10_years")])
        );
        let Value::Object(fields) = to_value(a).unwrap() else { panic!("attestations serialize as an object") };
        assert!(fields.contains_key("residence_9_of_last_10_years"));
    }

    #[test]
    fn attestations_require_all_four_fields() {
        let full = json!({
            "no_su_eligible_education": true,
            "no_taxable_work_income_over_threshold": true,
            "residence_9_of_last_10_years": true,
            "in_target_group": true,
        });
        assert_eq!(from_value::<Attestations>(full).unwrap(), ALL_TRUE);
        let partial = json!({
            "no_su_eligible_education": true,
            "no_taxable_work_income_over_threshold": true,
            "residence_9_of_last_10_years": true,
        });
        let err = from_value::<Attestations>(partial).unwrap_err();
        assert!(err.to_string().contains("in_target_group"), "{err}");
    }

    #[test]
    fn a_card_issued_in_2024_and_never_controlled_is_due_in_2026() {
        assert_eq!(control_due_year(2024, None), 2026);
        assert!(!is_control_due(2024, None, 2024));
        assert!(!is_control_due(2024, None, 2025));
        assert!(is_control_due(2024, None, 2026));
        assert!(is_control_due(2024, None, 2027));
    }

    #[test]
    fn a_control_in_2025_moves_the_due_year_to_2027() {
        assert_eq!(control_due_year(2024, Some(2025)), 2027);
        assert!(!is_control_due(2024, Some(2025), 2026));
        assert!(is_control_due(2024, Some(2025), 2027));
        // A stray earlier control year cannot pull the due year before issue + 2.
        assert_eq!(control_due_year(2024, Some(2020)), 2026);
    }

    #[test]
    fn a_control_is_not_allowed_in_the_year_of_issue() {
        assert!(!control_allowed_in(2024, 2024));
        assert!(!control_allowed_in(2024, 2023));
        assert!(control_allowed_in(2024, 2025));
    }

    #[test]
    fn a_card_never_deactivated_has_one_open_period() {
        let events = [(CardEventKind::Issued, at(2024, 1, 1)), (CardEventKind::Controlled, at(2025, 3, 1))];
        assert_eq!(active_periods(&events), vec![CardPeriod { from: at(2024, 1, 1), to: None }]);
    }

    #[test]
    fn deactivation_and_reactivation_split_the_periods() {
        let events = [
            (CardEventKind::Issued, at(2024, 1, 1)),
            (CardEventKind::Deactivated, at(2024, 3, 1)),
            (CardEventKind::Reactivated, at(2024, 6, 1)),
            (CardEventKind::Controlled, at(2025, 2, 1)),
            (CardEventKind::Deactivated, at(2025, 4, 1)),
        ];
        let periods = active_periods(&events);
        assert_eq!(
            periods,
            vec![
                CardPeriod { from: at(2024, 1, 1), to: Some(at(2024, 3, 1)) },
                CardPeriod { from: at(2024, 6, 1), to: Some(at(2025, 4, 1)) },
            ]
        );
        assert!(periods[0].contains(at(2024, 1, 1)));
        assert!(periods[0].contains(at(2024, 2, 28)));
        assert!(!periods[0].contains(at(2024, 3, 1)));
        assert!(!periods[0].contains(at(2023, 12, 31)));
        assert!(active_periods(&[]).is_empty());
    }

    #[test]
    fn impossible_events_in_a_history_do_not_create_overlapping_periods() {
        let events = [
            (CardEventKind::Deactivated, at(2023, 1, 1)),
            (CardEventKind::Issued, at(2024, 1, 1)),
            (CardEventKind::Reactivated, at(2024, 2, 1)),
            (CardEventKind::Deactivated, at(2024, 3, 1)),
            (CardEventKind::Deactivated, at(2024, 4, 1)),
        ];
        assert_eq!(active_periods(&events), vec![CardPeriod { from: at(2024, 1, 1), to: Some(at(2024, 3, 1)) }]);
        let open = CardPeriod { from: at(2024, 1, 1), to: None };
        assert!(open.contains(at(2099, 1, 1)));
    }

    fn kind() -> impl Strategy<Value = CardEventKind> {
        prop::sample::select(CardEventKind::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn periods_follow_the_status_machine_for_valid_histories(kinds in prop::collection::vec(kind(), 0..20)) {
            // Keep only the events the state machine accepts, at increasing times.
            let mut status = None;
            let mut events = Vec::new();
            for (i, k) in kinds.into_iter().enumerate() {
                if let Ok(next) = next_status(status, k) {
                    status = Some(next);
                    events.push((k, at(2020, 1, 1) + chrono::Duration::days(i as i64)));
                }
            }
            let periods = active_periods(&events);
            // Periods are ordered, disjoint and only the last may be open.
            for w in periods.windows(2) {
                prop_assert!(w[0].to.is_some_and(|to| to <= w[1].from));
            }
            prop_assert_eq!(
                periods.last().is_some_and(|p| p.to.is_none()),
                status == Some(CardStatus::Active)
            );
        }
    }
}
