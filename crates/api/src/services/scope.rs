//! Who may see which record, decided once for every adapter.
//!
//! Each function loads a record the principal may see, or answers [`ServiceError::NotFound`]
//! for a record that does not exist and for one the caller may not see alike, so ids of other
//! municipalities' or companies' records cannot be probed. Database errors stay errors.

use smaajob_domain::{MunicipalityCode, TaskStatus};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::citizens::{self, CardSummary, CitizenRow};
use smaajob_persistence::repo::employments::{self, EmploymentRow};
use smaajob_persistence::repo::frikort;
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

/// Loads a citizen the coordinator may see (their own municipality).
pub fn citizen(conn: &mut DbConn, municipality: MunicipalityCode, id: &str) -> Result<ScopedCitizen, ServiceError> {
    let (citizen, card) = citizens::find(conn, id).or_not_found("citizen")?;
    if citizen.municipality != municipality.to_string() {
        return Err(ServiceError::NotFound("citizen"));
    }
    Ok(ScopedCitizen { citizen, card })
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
fn sees_employment(principal: &Principal, company_id: &str, citizen: &CitizenRow) -> Result<bool, ServiceError> {
    Ok(match principal {
        Principal::Company { company_id: own, .. } => own == company_id,
        Principal::Coordinator { municipality, .. } => citizen.municipality == municipality.to_string(),
        Principal::Citizen { citizen_id, .. } => *citizen_id == citizen.id,
        Principal::NewCompany { .. } => return Err(ServiceError::Unregistered),
        Principal::Operator { .. } => return Err(no_personal_data()),
    })
}

/// Loads an employment the caller may see.
pub fn employment(conn: &mut DbConn, principal: &Principal, id: &str) -> Result<ScopedEmployment, ServiceError> {
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
    id: &str,
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
    pub company_verification: String,
}

/// Loads a task the caller may see: a company its own, a coordinator the municipality's, a
/// citizen the open tasks of their municipality (frikort-only ones only with an active card).
pub fn task(conn: &mut DbConn, principal: &Principal, id: &str) -> Result<ScopedTask, ServiceError> {
    let (task, company_name, company_verification) = tasks::find(conn, id).or_not_found("task")?;
    let visible = match principal {
        Principal::Company { company_id, .. } => *company_id == task.company_id,
        Principal::Coordinator { municipality, .. } => task.municipality == municipality.to_string(),
        Principal::Citizen { citizen_id, .. } => {
            task.status == TaskStatus::Open.as_str()
                && citizens::find(conn, citizen_id)?.0.municipality == task.municipality
                && (!task.frikort_only
                    || frikort::find_by_citizen(conn, citizen_id)?.is_some_and(|c| c.status == "active"))
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
