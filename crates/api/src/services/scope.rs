//! Who may see which record, decided once for every adapter.
//!
//! Each function loads a record the principal may see, or answers [`ServiceError::NotFound`]
//! for a record that does not exist and for one the caller may not see alike, so ids of other
//! municipalities' or companies' records cannot be probed. Database errors stay errors.
//!
//! A coordinator's municipality is responsible for a citizen for a period (see
//! `repo::periods`); a move to another municipality ends it at the transfer time. The rule for a
//! municipality whose period has ended, here and nowhere else:
//! - it changes nothing of the citizen or their card any more ([`citizen`] answers 403, since it
//!   knows the citizen);
//! - it reads the citizen's record and card (with the card's history) as they stood when its
//!   period ended, and nothing recorded later ([`citizen_record`]);
//! - everything else about the citizen (balance, employments, payouts, adjustments, placements,
//!   hours, work queue, controls due) follows the citizen's current municipality only, so it is
//!   refused or not listed: those records change after the move (a re-split, an ended
//!   employment), and showing them as they are now would show the former municipality new data;
//! - its own audit log keeps every entry it made while it was responsible.

use chrono::{NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use smaajob_domain::{CardStatus, CompanyId, EmploymentId, MunicipalityCode, TaskStatus, Verification};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::citizens::{self, CardSummary, CitizenRow};
use smaajob_persistence::repo::employments::{self, EmploymentRow};
use smaajob_persistence::repo::frikort::{self, CardEventRow, CardRow};
use smaajob_persistence::repo::periods::{self, PeriodRow};
use smaajob_persistence::repo::placements::{self, PlacementRow};
use smaajob_persistence::repo::tasks::{self, TaskRow};

use crate::services::error::{OrNotFound, ServiceError};
use crate::services::principal::Principal;

/// The refusal for the operator wherever a citizen's, a company's or a small job's data would be
/// read or changed: the operator runs scheme-wide settings only (least privilege).
pub fn no_personal_data() -> ServiceError {
    ServiceError::Forbidden(
        "the operator role sets scheme-wide settings and may not read or change citizens', companies' or small jobs' data"
            .into(),
    )
}

/// A citizen of the coordinator's municipality, with a brief of their card.
#[derive(Debug)]
pub struct ScopedCitizen {
    /// The citizen.
    pub citizen: CitizenRow,
    /// Their card, if they have one.
    pub card: Option<CardSummary>,
}

/// Loads a citizen the coordinator's municipality is responsible for now: the access that
/// changes a citizen and reads what is recorded about them today. A municipality whose period
/// has ended gets 403 (it knows the citizen; [`citizen_record`] is what it may still read), any
/// other 404.
pub fn citizen(conn: &mut DbConn, municipality: MunicipalityCode, id: &str) -> Result<ScopedCitizen, ServiceError> {
    let (citizen, card) = citizens::find(conn, id).or_not_found("citizen")?;
    let own = municipality.to_string();
    if citizen.municipality == own {
        return Ok(ScopedCitizen { citizen, card });
    }
    match periods::latest_ended(conn, id, &own)? {
        Some(period) => Err(moved_away(&period)),
        None => Err(ServiceError::NotFound("citizen")),
    }
}

/// [`citizen`] for a change of the citizen's record or card: the citizen's row is locked for the
/// rest of the transaction first, so the change and a transfer of the citizen go one after the
/// other, and a change that waited for a transfer sees the new municipality and is refused.
pub fn citizen_for_change(
    conn: &mut DbConn,
    municipality: MunicipalityCode,
    id: &str,
) -> Result<ScopedCitizen, ServiceError> {
    citizens::lock(conn, id).or_not_found("citizen")?;
    citizen(conn, municipality, id)
}

/// The refusal of a change by a municipality whose responsibility has ended.
fn moved_away(period: &PeriodRow) -> ServiceError {
    let until = period.ended_at.map(|t| Utc.from_utc_datetime(&t).to_rfc3339()).unwrap_or_default();
    ServiceError::Forbidden(format!(
        "the citizen moved to another municipality, which took over at {until}; of their data you may only read \
         the record and the card as they stood then (GET /api/v1/citizens/{{id}} and its /frikort)"
    ))
}

/// The citizen's record and card, with the card's history, as they stood when a municipality's
/// period ended: what that municipality still reads. Stored as JSON with the ended period; the
/// citizen's CPR hash and ciphertext are never in it (they read back empty).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordAtEnd {
    /// The citizen's record.
    pub citizen: CitizenRow,
    /// Their card, if they had one.
    pub card: Option<CardRow>,
    /// The card's decisions, in effective-time order.
    pub card_history: Vec<CardEventRow>,
}

impl RecordAtEnd {
    /// The record and card of the citizen as they stand now, in the caller's transaction.
    pub fn now(conn: &mut DbConn, citizen: CitizenRow) -> Result<RecordAtEnd, ServiceError> {
        let card = frikort::find_by_citizen(conn, &citizen.id)?;
        let card_history = match &card {
            Some(c) => frikort::events(conn, &c.id)?,
            None => Vec::new(),
        };
        Ok(RecordAtEnd { citizen, card, card_history })
    }

    /// The brief of the card shown beside the citizen.
    pub fn card_summary(&self) -> Option<CardSummary> {
        self.card.as_ref().map(|c| CardSummary { number: c.number.clone(), status: c.status })
    }
}

/// What a coordinator may read of a citizen's record.
#[derive(Debug)]
pub enum CitizenRecord {
    /// Their municipality is responsible: everything, as it is now.
    Current(Box<ScopedCitizen>),
    /// Their municipality was responsible until `until`: the record as it stood then.
    Former {
        /// When the municipality's period ended (the transfer time, UTC).
        until: NaiveDateTime,
        /// The record and card as they stood then.
        record: Box<RecordAtEnd>,
    },
}

/// Loads what the coordinator's municipality may read of a citizen's record: the current record
/// while it is responsible, the record as it stood at the end of its latest period once the
/// citizen has moved on, else 404.
pub fn citizen_record(
    conn: &mut DbConn,
    municipality: MunicipalityCode,
    id: &str,
) -> Result<CitizenRecord, ServiceError> {
    let (citizen, card) = citizens::find(conn, id).or_not_found("citizen")?;
    let own = municipality.to_string();
    if citizen.municipality == own {
        return Ok(CitizenRecord::Current(Box::new(ScopedCitizen { citizen, card })));
    }
    let Some(period) = periods::latest_ended(conn, id, &own)? else {
        return Err(ServiceError::NotFound("citizen"));
    };
    let (Some(until), Some(stored)) = (period.ended_at, period.record_at_end.as_deref()) else {
        return Err(ServiceError::internal("an ended period without its end or its record"));
    };
    let record: RecordAtEnd = serde_json::from_str(stored)
        .map_err(|e| ServiceError::internal(format!("stored record of a period is corrupt: {e}")))?;
    Ok(CitizenRecord::Former { until, record: Box::new(record) })
}

/// An employment the caller may see, with its citizen and the two parties' names.
#[derive(Debug)]
pub struct ScopedEmployment {
    /// The employment.
    pub employment: EmploymentRow,
    /// The employee.
    pub citizen: CitizenRow,
    /// The employee's name (as the employment list shows it).
    pub citizen_name: String,
    /// The employer's name.
    pub company_name: String,
}

/// Whether `principal` may see an employment of `citizen` with `company_id`: the company its
/// own, a coordinator the municipality's, the citizen their own.
fn sees_employment(principal: &Principal, company_id: &CompanyId, citizen: &CitizenRow) -> Result<bool, ServiceError> {
    Ok(match principal {
        Principal::Company { company_id: own, .. } => own == company_id,
        Principal::Coordinator { municipality, .. } => citizen.municipality == municipality.to_string(),
        Principal::Citizen { citizen_id, .. } => *citizen_id == citizen.id,
        Principal::NewCompany { .. } => return Err(ServiceError::Unregistered),
        Principal::Operator { .. } => return Err(no_personal_data()),
    })
}

/// Loads an employment the caller may see.
pub fn employment(
    conn: &mut DbConn,
    principal: &Principal,
    id: &EmploymentId,
) -> Result<ScopedEmployment, ServiceError> {
    let (employment, citizen_name, company_name) = employments::find(conn, id).or_not_found("employment")?;
    let (citizen, _) = citizens::find(conn, &employment.citizen_id)?;
    if !sees_employment(principal, &employment.company_id, &citizen)? {
        return Err(ServiceError::NotFound("employment"));
    }
    Ok(ScopedEmployment { employment, citizen, citizen_name, company_name })
}

/// An employment locked for the rest of the transaction, with its citizen.
#[derive(Debug)]
pub struct LockedEmployment {
    /// The employment, as read under the lock.
    pub employment: EmploymentRow,
    /// The employee.
    pub citizen: CitizenRow,
}

/// Locks an employment the caller may see and reads it once, under the lock: ending it and
/// paying on it must not interleave.
pub fn employment_for_update(
    conn: &mut DbConn,
    principal: &Principal,
    id: &EmploymentId,
) -> Result<LockedEmployment, ServiceError> {
    let employment = employments::lock(conn, id).or_not_found("employment")?;
    let (citizen, _) = citizens::find(conn, &employment.citizen_id)?;
    if !sees_employment(principal, &employment.company_id, &citizen)? {
        return Err(ServiceError::NotFound("employment"));
    }
    Ok(LockedEmployment { employment, citizen })
}

/// A task the caller may see, with its company's name and verification state.
#[derive(Debug)]
pub struct ScopedTask {
    /// The task.
    pub task: TaskRow,
    /// The company's name.
    pub company_name: String,
    /// The company's verification state.
    pub company_verification: Verification,
}

/// Loads a task the caller may see: a company its own, a coordinator the municipality's, a
/// citizen the open tasks of their municipality (frikort-only ones only with an active card).
pub fn task(conn: &mut DbConn, principal: &Principal, id: &str) -> Result<ScopedTask, ServiceError> {
    let (task, company_name, company_verification) = tasks::find(conn, id).or_not_found("task")?;
    let visible = match principal {
        Principal::Company { company_id, .. } => *company_id == task.company_id,
        Principal::Coordinator { municipality, .. } => task.municipality == municipality.to_string(),
        Principal::Citizen { citizen_id, .. } => {
            task.status == TaskStatus::Open
                && citizens::find(conn, citizen_id)?.0.municipality == task.municipality
                && (!task.frikort_only
                    || frikort::find_by_citizen(conn, citizen_id)?.is_some_and(|c| c.status == CardStatus::Active))
        }
        Principal::NewCompany { .. } => return Err(ServiceError::Unregistered),
        Principal::Operator { .. } => return Err(no_personal_data()),
    };
    if !visible {
        return Err(ServiceError::NotFound("task"));
    }
    Ok(ScopedTask { task, company_name, company_verification })
}

/// A placement the caller may see, with its task and citizen.
#[derive(Debug)]
pub struct ScopedPlacement {
    /// The placement.
    pub placement: PlacementRow,
    /// Its task.
    pub task: TaskRow,
    /// The citizen placed.
    pub citizen: CitizenRow,
}

/// Loads a placement the caller may see: a coordinator the municipality's citizens', a company
/// those approved on its tasks, a citizen their own.
pub fn placement(conn: &mut DbConn, principal: &Principal, id: &str) -> Result<ScopedPlacement, ServiceError> {
    let (placement, task, _) = placements::find(conn, id).or_not_found("placement")?;
    let (citizen, _) = citizens::find(conn, &placement.citizen_id)?;
    let visible = match principal {
        Principal::Coordinator { municipality, .. } => citizen.municipality == municipality.to_string(),
        // An employer sees the citizens placed with it, not who else was offered or interested.
        Principal::Company { company_id, .. } => *company_id == task.company_id && placement.approved_at.is_some(),
        Principal::Citizen { citizen_id, .. } => *citizen_id == placement.citizen_id,
        Principal::NewCompany { .. } => return Err(ServiceError::Unregistered),
        Principal::Operator { .. } => return Err(no_personal_data()),
    };
    if !visible {
        return Err(ServiceError::NotFound("placement"));
    }
    Ok(ScopedPlacement { placement, task, citizen })
}
