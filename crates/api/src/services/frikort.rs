//! Frikort cards: issue, the decisions that deactivate or reactivate a card, the periodic control
//! of the conditions, the correction of a decision's time, and the controls that are due.
//!
//! Every decision that changes which days a card covered re-splits the citizen's payouts; each
//! split that changes becomes an adjustment the employer reports.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use smaajob_domain::{
    Attestations, CardEventKind, CardStatus, CardTransitionError, Cpr, EligibilityProblem, FrikortNumber,
    MunicipalityCode, check_eligibility, control_allowed_in, control_due_year, is_control_due, next_status,
};
use smaajob_persistence::DbConn;
use smaajob_persistence::crypto::DataKey;
use smaajob_persistence::repo::accounting::AdjustmentRow;
use smaajob_persistence::repo::citizens::CitizenRow;
use smaajob_persistence::repo::frikort::{self, CardEventRow, CardRow};
use smaajob_persistence::repo::{Page, audit, new_id, now, truncate_to_micros};
use smaajob_persistence::types::Json;
use smaajob_persistence::types::new_record_id;

use crate::services::allocation::reallocate_citizen;
use crate::services::audit::{Audited, entry};
use crate::services::common::{check_not_before_scheme, optional_text, start_of_day_utc, today_copenhagen};
use crate::services::error::{Code, Fields, ServiceError, checked};
use crate::services::principal::Principal;
use crate::services::scope;
use smaajob_domain::AdjustmentCause;

/// The longest reason or note, in characters.
const MAX_TEXT: usize = 2000;

/// A card with its history, oldest decision first.
#[derive(Debug, Clone)]
pub struct Card {
    /// The stored card.
    pub row: CardRow,
    /// The latest calendar year in which the conditions must be controlled again.
    pub control_due_year: i32,
    /// Every decision in effective-time order.
    pub history: Vec<CardEventRow>,
    /// Set when the reader's municipality is no longer responsible for the card holder: the card
    /// and its history are shown as they stood at this time (UTC), when the citizen moved on.
    pub responsible_until: Option<NaiveDateTime>,
}

/// Issues a card.
#[derive(Debug, Clone)]
pub struct IssueCard {
    /// The card number asked for; a free one is drawn when absent.
    pub number: Option<FrikortNumber>,
    /// The date the card covers work from.
    pub valid_from: NaiveDate,
    /// The date of issue (today in Europe/Copenhagen when parsed).
    pub issued_on: NaiveDate,
    /// The caseworker's assessment of the conditions.
    pub attestations: Attestations,
    /// A note on the decision.
    pub note: Option<String>,
}

impl IssueCard {
    /// Parses an issue: `valid_from` defaults to today, lies on or after the scheme's start and
    /// at most a year ahead.
    pub fn parse(
        number: Option<&str>,
        valid_from: Option<NaiveDate>,
        attestations: Attestations,
        note: Option<&str>,
    ) -> Result<IssueCard, ServiceError> {
        let mut f = Fields::new();
        let number = f.check_opt("number", number.map(FrikortNumber::parse));
        let note = optional_text(&mut f, "note", note, MAX_TEXT);
        let today = today_copenhagen();
        let valid_from = valid_from.unwrap_or(today);
        check_not_before_scheme(&mut f, "valid_from", valid_from);
        if valid_from > today + Duration::days(366) {
            f.push("valid_from", "too_far_ahead", "valid_from can be at most a year ahead");
        }
        f.finish()?;
        Ok(IssueCard { number: number.flatten(), valid_from, issued_on: today, attestations, note })
    }
}

/// What a decision does to a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The card stops covering work from the time of the decision.
    Deactivate,
    /// A deactivated card covers work again; the conditions are assessed anew.
    Reactivate {
        /// The renewed assessment.
        attestations: Attestations,
    },
}

impl Decision {
    /// The history event the decision records.
    pub fn kind(self) -> CardEventKind {
        match self {
            Decision::Deactivate => CardEventKind::Deactivated,
            Decision::Reactivate { .. } => CardEventKind::Reactivated,
        }
    }
}

/// Deactivates or reactivates a card.
#[derive(Debug, Clone)]
pub struct Decide {
    /// Which decision.
    pub decision: Decision,
    /// When it takes effect; now when absent.
    pub decided_at: Option<DateTime<Utc>>,
    /// The caseworker's reason for the decision, kept in the card's history.
    pub reason: Option<String>,
}

impl Decide {
    /// A deactivation, which must give its reason.
    pub fn deactivation(decided_at: Option<DateTime<Utc>>, reason: &str) -> Result<Decide, ServiceError> {
        let mut f = Fields::new();
        let text = optional_text(&mut f, "reason", Some(reason), MAX_TEXT);
        if text.is_none() && reason.trim().is_empty() {
            f.push("reason", "required", "give the reason for the decision");
        }
        f.finish()?;
        Ok(Decide { decision: Decision::Deactivate, decided_at, reason: text })
    }

    /// A reactivation with the renewed assessment of the conditions.
    pub fn reactivation(
        decided_at: Option<DateTime<Utc>>,
        attestations: Attestations,
        reason: Option<&str>,
    ) -> Result<Decide, ServiceError> {
        let mut f = Fields::new();
        let reason = optional_text(&mut f, "reason", reason, MAX_TEXT);
        f.finish()?;
        Ok(Decide { decision: Decision::Reactivate { attestations }, decided_at, reason })
    }
}

/// Records the periodic control of the conditions.
#[derive(Debug, Clone)]
pub struct RecordControl {
    /// The date of the control.
    pub controlled_on: NaiveDate,
    /// The caseworker's assessment.
    pub attestations: Attestations,
    /// A note.
    pub note: Option<String>,
}

impl RecordControl {
    /// Parses a control: the date defaults to today and cannot be later.
    pub fn parse(
        controlled_on: Option<NaiveDate>,
        attestations: Attestations,
        note: Option<&str>,
    ) -> Result<RecordControl, ServiceError> {
        let mut f = Fields::new();
        let note = optional_text(&mut f, "note", note, MAX_TEXT);
        let today = today_copenhagen();
        let controlled_on = controlled_on.unwrap_or(today);
        if controlled_on > today {
            f.push("controlled_on", "in_future", "a control cannot be recorded ahead of time");
        }
        f.finish()?;
        Ok(RecordControl { controlled_on, attestations, note })
    }
}

/// Corrects the time of the card's latest deactivation or reactivation.
#[derive(Debug, Clone)]
pub struct CorrectDecision {
    /// The time the decision really took effect.
    pub decided_at: DateTime<Utc>,
    /// Why the recorded time was wrong.
    pub reason: String,
}

impl CorrectDecision {
    /// Parses a correction, which must give its reason.
    pub fn parse(decided_at: DateTime<Utc>, reason: &str) -> Result<CorrectDecision, ServiceError> {
        let mut f = Fields::new();
        let reason = optional_text(&mut f, "reason", Some(reason), MAX_TEXT);
        if reason.is_none() {
            f.push("reason", "required", "give the reason for the correction");
        }
        f.finish()?;
        Ok(CorrectDecision { decided_at, reason: checked(reason)? })
    }
}

/// The card after a corrected decision time, and the splits that changed because of it.
#[derive(Debug, Clone)]
pub struct Corrected {
    /// The card and its history.
    pub card: Card,
    /// Adjustments of payouts whose split changed.
    pub adjustments: Vec<AdjustmentRow>,
}

/// An active card whose control is due in the year asked about (or overdue).
#[derive(Debug, Clone)]
pub struct DueControl {
    /// The card.
    pub card: CardRow,
    /// The card holder's name.
    pub citizen_name: String,
    /// The year by which the control must happen.
    pub due_year: i32,
    /// True when the due year has passed without a control.
    pub overdue: bool,
}

/// Issues a card to a citizen of the coordinator's municipality, who must be 18 on the day it
/// is valid from and meet every condition.
pub fn issue(
    conn: &mut DbConn,
    key: &DataKey,
    principal: &Principal,
    citizen_id: &str,
    cmd: IssueCard,
) -> Result<Card, ServiceError> {
    let own = principal.coordinator()?;
    let scoped = scope::citizen_for_change(conn, own, citizen_id)?;
    let existing = frikort::find_by_citizen(conn, citizen_id)?;
    let status = transition(existing.as_ref().map(|c| c.status), CardEventKind::Issued)?;
    // The card covers work from valid_from on: the citizen must be 18 on that day.
    let attestations = eligibility(key, &scoped.citizen, cmd.valid_from, cmd.attestations)?;
    let number = match cmd.number {
        Some(n) if frikort::number_taken(conn, n.as_str())? => return Err(number_taken()),
        Some(n) => n,
        None => free_number(conn)?,
    };
    let t = now();
    let card = CardRow {
        id: new_record_id(),
        citizen_id: citizen_id.to_owned(),
        number: number.as_str().to_owned(),
        status,
        valid_from: cmd.valid_from,
        issued_on: cmd.issued_on,
        last_control_on: None,
        status_changed_at: t,
        created_at: t,
        updated_at: t,
    };
    frikort::insert(conn, &card).map_err(|e| {
        if e.is_conflict_on("number") {
            number_taken()
        } else if e.is_conflict_on("citizen_id") {
            ServiceError::conflict(Code::CardExists, "the citizen already has a frikort")
        } else {
            e.into()
        }
    })?;
    let issued_at = start_of_day_utc(cmd.valid_from);
    let ev = event(&card, CardEventKind::Issued, issued_at, cmd.note, Some(attestations), principal, own);
    frikort::append_event(conn, &ev)?;
    let details = serde_json::json!({ "number": card.number, "valid_from": cmd.valid_from });
    log(conn, principal, "frikort.issued", &scoped.citizen, details)?;
    load(conn, card)
}

/// A citizen's card and its full history; for a municipality the citizen has moved away from,
/// the card and history as they stood when they moved.
pub fn get(conn: &mut DbConn, principal: &Principal, citizen_id: &str) -> Result<Audited<Card>, ServiceError> {
    let own = principal.coordinator()?;
    let (card, details) = match scope::citizen_record(conn, own, citizen_id)? {
        scope::CitizenRecord::Current(_) => {
            let row = card_of(conn, citizen_id)?;
            (load(conn, row)?, None)
        }
        scope::CitizenRecord::Former { until, record } => {
            let row = record.card.ok_or(ServiceError::NotFound("frikort"))?;
            let mut card = assemble(row, record.card_history);
            card.responsible_until = Some(until);
            (card, Some(serde_json::json!({ "as_of": utc(until) })))
        }
    };
    let logged = entry(principal, "frikort.read", "citizen", citizen_id, Some(&own.to_string()), details);
    Ok(Audited::new(card, vec![logged]))
}

/// Deactivates or reactivates a card from the time of the decision. A back-dated decision can
/// change which work was covered, so the citizen's payouts are re-split.
pub fn decide(
    conn: &mut DbConn,
    key: &DataKey,
    principal: &Principal,
    citizen_id: &str,
    cmd: Decide,
) -> Result<Card, ServiceError> {
    let own = principal.coordinator()?;
    let scoped = scope::citizen_for_change(conn, own, citizen_id)?;
    let mut card = card_of(conn, citizen_id)?;
    let kind = cmd.decision.kind();
    let status = transition(Some(card.status), kind)?;
    let not_before = match cmd.decision {
        // The previous decision counts from when it took effect: a card taken over with an
        // earlier valid-from date can be deactivated from a date between the two.
        Decision::Deactivate => {
            let last_effective = frikort::events(conn, &card.id)?
                .iter()
                .rev()
                .find(|e| e.kind != CardEventKind::Controlled)
                .map_or(card.status_changed_at, |e| e.effective_at);
            card.status_changed_at.min(last_effective)
        }
        Decision::Reactivate { .. } => card.status_changed_at,
    };
    let mut at = decision_time(cmd.decided_at, not_before)?;
    let attestations = match cmd.decision {
        Decision::Deactivate => {
            // A card deactivated before its valid-from date never becomes active: the decision
            // takes effect when the card would have, which keeps the history in order.
            at = at.max(start_of_day_utc(card.valid_from));
            None
        }
        Decision::Reactivate { attestations } => {
            Some(eligibility(key, &scoped.citizen, today_copenhagen(), attestations)?)
        }
    };
    card.status = status;
    card.status_changed_at = at;
    card.updated_at = now();
    frikort::update(conn, &card)?;
    let ev = event(&card, kind, at, cmd.reason, attestations, principal, own);
    frikort::append_event(conn, &ev)?;
    let adjusted = reallocate_citizen(conn, citizen_id, AdjustmentCause::CardChanged, &ev.id)?.len();
    let details = serde_json::json!({ "number": card.number, "decided_at": utc(at), "adjustments": adjusted });
    let action = match cmd.decision {
        Decision::Deactivate => "frikort.deactivated",
        Decision::Reactivate { .. } => "frikort.reactivated",
    };
    log(conn, principal, action, &scoped.citizen, details)?;
    load(conn, card)
}

/// Records that the conditions were controlled and still hold; if one fails, the card is to be
/// deactivated instead.
pub fn control(
    conn: &mut DbConn,
    key: &DataKey,
    principal: &Principal,
    citizen_id: &str,
    cmd: RecordControl,
) -> Result<Card, ServiceError> {
    let own = principal.coordinator()?;
    let scoped = scope::citizen_for_change(conn, own, citizen_id)?;
    let mut card = card_of(conn, citizen_id)?;
    transition(Some(card.status), CardEventKind::Controlled)?;
    let on = cmd.controlled_on;
    if !control_allowed_in(card.issued_on.year(), on.year()) {
        return Err(ServiceError::rule(
            Code::ControlInIssueYear,
            "the control of the conditions happens from the calendar year after the year of issue",
        ));
    }
    if card.last_control_on.is_some_and(|last| on < last) {
        return Err(ServiceError::field("controlled_on", "before_last_control", "a later control is already recorded"));
    }
    let attestations = eligibility(key, &scoped.citizen, on, cmd.attestations).map_err(|e| match e {
        ServiceError::Invalid(issues) => ServiceError::rule(
            Code::ConditionsNotMet,
            format!(
                "conditions not met ({}); deactivate the card instead",
                issues.iter().map(|i| i.field.trim_start_matches("attestations.")).collect::<Vec<_>>().join(", ")
            ),
        ),
        other => other,
    })?;
    card.last_control_on = Some(on);
    card.updated_at = now();
    frikort::update(conn, &card)?;
    let ev =
        event(&card, CardEventKind::Controlled, start_of_day_utc(on), cmd.note, Some(attestations), principal, own);
    frikort::append_event(conn, &ev)?;
    let details = serde_json::json!({ "number": card.number, "controlled_on": on });
    log(conn, principal, "frikort.controlled", &scoped.citizen, details)?;
    load(conn, card)
}

/// Corrects when the latest deactivation or reactivation took effect; every year with payouts
/// is re-split and each changed split becomes an adjustment.
pub fn correct_decision_time(
    conn: &mut DbConn,
    principal: &Principal,
    citizen_id: &str,
    cmd: CorrectDecision,
) -> Result<Corrected, ServiceError> {
    let own = principal.coordinator()?;
    let scoped = scope::citizen_for_change(conn, own, citizen_id)?;
    let mut card = card_of(conn, citizen_id)?;
    let history = frikort::events(conn, &card.id)?;
    let decisions: Vec<&CardEventRow> = history.iter().filter(|e| e.kind != CardEventKind::Controlled).collect();
    let Some((last, earlier)) = decisions.split_last() else {
        return Err(ServiceError::internal("a card without an issue event"));
    };
    if last.kind == CardEventKind::Issued {
        return Err(ServiceError::conflict(
            Code::NoDecisionToCorrect,
            "the card has no deactivation or reactivation to correct",
        ));
    }
    let previous = earlier.last().map_or(NaiveDateTime::MIN, |e| e.effective_at);
    let at = decision_time(Some(cmd.decided_at), previous)?;
    frikort::correct_event_time(conn, last, at)?;
    card.status_changed_at = at;
    card.updated_at = now();
    frikort::update(conn, &card)?;
    let adjustments = reallocate_citizen(conn, citizen_id, AdjustmentCause::CardChanged, &last.id)?;
    let details = serde_json::json!({
        "event_id": last.id, "kind": last.kind.as_str(), "from": utc(last.effective_at), "to": utc(at),
        "reason": cmd.reason, "adjustments": adjustments.len(),
    });
    log(conn, principal, "frikort.decision_corrected", &scoped.citizen, details)?;
    Ok(Corrected { card: load(conn, card)?, adjustments })
}

/// Active cards of the coordinator's municipality whose control is due in `year` (a frikort
/// year) or overdue; each card holder listed is logged.
pub fn controls_due(
    conn: &mut DbConn,
    principal: &Principal,
    year: i32,
    page: Page,
) -> Result<Audited<(Vec<DueControl>, i64)>, ServiceError> {
    let m = principal.coordinator()?.to_string();
    // Which cards are due is the domain's rule, so the page is cut after it is applied; the
    // municipality's active cards are read whole either way.
    let mut due: Vec<DueControl> = frikort::active_cards_in(conn, &m)?
        .into_iter()
        .filter(|(c, _)| is_control_due(c.issued_on.year(), c.last_control_on.map(|d| d.year()), year))
        .map(|(card, citizen_name)| {
            let due_year = control_due_year(card.issued_on.year(), card.last_control_on.map(|d| d.year()));
            DueControl { card, citizen_name, due_year, overdue: due_year < year }
        })
        .collect();
    let total = i64::try_from(due.len()).unwrap_or(i64::MAX);
    let skip = usize::try_from(page.offset).unwrap_or(usize::MAX);
    let take = usize::try_from(page.limit).unwrap_or(0);
    let due: Vec<DueControl> = due.drain(..).skip(skip).take(take).collect();
    // Only the citizens on this page are read.
    let entries = due
        .iter()
        .map(|d| entry(principal, "frikort.control_listed", "citizen", &d.card.citizen_id, Some(&m), None))
        .collect();
    Ok(Audited::new((due, total), entries))
}

/// Reads a card's history and puts the card together.
fn load(conn: &mut DbConn, row: CardRow) -> Result<Card, ServiceError> {
    let events = frikort::events(conn, &row.id)?;
    Ok(assemble(row, events))
}

/// Puts a card together from its stored row and decisions.
fn assemble(row: CardRow, history: Vec<CardEventRow>) -> Card {
    Card {
        control_due_year: control_due_year(row.issued_on.year(), row.last_control_on.map(|d| d.year())),
        history,
        row,
        responsible_until: None,
    }
}

fn card_of(conn: &mut DbConn, citizen_id: &str) -> Result<CardRow, ServiceError> {
    frikort::find_by_citizen(conn, citizen_id)?.ok_or(ServiceError::NotFound("frikort"))
}

fn transition(current: Option<CardStatus>, event: CardEventKind) -> Result<CardStatus, ServiceError> {
    next_status(current, event).map_err(|e| {
        let code = match e {
            CardTransitionError::NoCard => Code::NoCard,
            CardTransitionError::AlreadyIssued => Code::CardExists,
            CardTransitionError::AlreadyActive => Code::CardAlreadyActive,
            CardTransitionError::AlreadyDeactivated => Code::CardAlreadyDeactivated,
            CardTransitionError::NotActive => Code::CardNotActive,
        };
        ServiceError::conflict(code, e.to_string())
    })
}

/// Checks age (from the CPR) and every attestation; the attestations as stored.
fn eligibility(
    key: &DataKey,
    citizen: &CitizenRow,
    on: NaiveDate,
    attestations: Attestations,
) -> Result<Json<Attestations>, ServiceError> {
    let digits = key.decrypt(&citizen.id, &citizen.cpr_ciphertext)?;
    let cpr = Cpr::parse(&digits).map_err(|_| ServiceError::internal("stored CPR does not parse"))?;
    if let Err(problems) = check_eligibility(&cpr, on, &attestations) {
        let mut f = Fields::new();
        for p in problems {
            match p {
                EligibilityProblem::Underage { age } => {
                    return Err(ServiceError::rule(
                        Code::Underage,
                        format!("the CPR number says the citizen is {age} on {on}; a frikort requires age 18"),
                    ));
                }
                EligibilityProblem::NotAttested(field) => f.push(
                    &format!("attestations.{field}"),
                    "condition_not_met",
                    "this eligibility condition must be met",
                ),
            }
        }
        f.finish()?;
    }
    Ok(Json(attestations))
}

/// When a decision takes effect: now when not given, never in the future, never before the
/// card's previous decision.
fn decision_time(decided_at: Option<DateTime<Utc>>, not_before: NaiveDateTime) -> Result<NaiveDateTime, ServiceError> {
    let now = now();
    let t = decided_at.map(|d| truncate_to_micros(d.naive_utc())).unwrap_or(now);
    if t > now + Duration::minutes(5) {
        return Err(ServiceError::field("decided_at", "in_future", "a decision cannot take effect in the future"));
    }
    if t < not_before {
        return Err(ServiceError::field(
            "decided_at",
            "before_last_decision",
            "the decision cannot precede the card's previous decision",
        ));
    }
    Ok(t)
}

fn event(
    card: &CardRow,
    kind: CardEventKind,
    effective_at: NaiveDateTime,
    reason: Option<String>,
    attestations: Option<Json<Attestations>>,
    principal: &Principal,
    m: MunicipalityCode,
) -> CardEventRow {
    CardEventRow {
        id: new_id(),
        card_id: card.id.clone(),
        kind,
        effective_at,
        corrected_from: None,
        reason,
        attestations,
        actor: principal.sub().to_owned(),
        municipality: m.to_string(),
        recorded_at: now(),
    }
}

/// Files a card decision in the citizen's municipality's log.
fn log(
    conn: &mut DbConn,
    principal: &Principal,
    action: &str,
    citizen: &CitizenRow,
    details: serde_json::Value,
) -> Result<(), ServiceError> {
    let logged = entry(principal, action, "citizen", &citizen.id, Some(&citizen.municipality), Some(details));
    Ok(audit::append(conn, &[logged])?)
}

fn number_taken() -> ServiceError {
    ServiceError::conflict(Code::CardNumberTaken, "that card number is already in use")
}

const NUMBER_ATTEMPTS: usize = 50;

/// A card number no card has, drawn at random over the whole 5-digit space so that a number
/// tells nothing about its holder or municipality.
pub fn free_number(conn: &mut DbConn) -> Result<FrikortNumber, ServiceError> {
    for _ in 0..NUMBER_ATTEMPTS {
        let candidate = FrikortNumber::from_index(rand::random_range(0..100_000))
            .ok_or_else(|| ServiceError::internal("card number out of range"))?;
        if !frikort::number_taken(conn, candidate.as_str())? {
            return Ok(candidate);
        }
    }
    Err(ServiceError::conflict(Code::CardNumbersExhausted, "no free card number was found; give one explicitly"))
}

/// A stored UTC time as the audit details show it.
fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    Utc.from_utc_datetime(&t)
}
