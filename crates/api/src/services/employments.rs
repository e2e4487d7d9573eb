//! Employments: the registration § 6 requires — period, expected hours and pay, and a
//! responsible contact person — made by the company itself or by a coordinator for it, and its end.

use chrono::NaiveDate;
use smaajob_domain::{CompanyId, Cpr, EmploymentId, FrikortNumber, Money, WeeklyHours};
use smaajob_persistence::DbConn;
use smaajob_persistence::RepoError;
use smaajob_persistence::crypto::DataKey;
use smaajob_persistence::repo::accounting;
use smaajob_persistence::repo::citizens::{self, CitizenRow};
use smaajob_persistence::repo::employments::{self, EmploymentRow, EmploymentScope};
use smaajob_persistence::repo::{Page, companies, now};
use smaajob_persistence::types::new_record_id;

use crate::services::audit::{self, Audited};
use crate::services::common::today_copenhagen;
use crate::services::error::{Code, ServiceError};
use crate::services::principal::Principal;
use crate::services::scope::{self, ScopedEmployment};

/// How the employee is named.
#[derive(Debug, Clone)]
pub enum Employee {
    /// By Småjob's id (coordinators).
    Id(String),
    /// By CPR number and frikort number, as a company knows the person.
    Card {
        /// The CPR number.
        cpr: Cpr,
        /// The 5-digit frikort number.
        number: FrikortNumber,
    },
}

/// The company's responsible contact person, checked.
#[derive(Debug, Clone)]
pub struct ContactPerson {
    /// The contact person's full name.
    pub name: String,
    /// Phone number.
    pub phone: Option<String>,
    /// Email address.
    pub email: Option<String>,
}

/// A new employment to register.
#[derive(Debug, Clone)]
pub struct NewEmployment {
    /// The employee.
    pub employee: Employee,
    /// The employer.
    pub company_id: CompanyId,
    /// First day of work.
    pub start_date: NaiveDate,
    /// Last day, if known.
    pub end_date: Option<NaiveDate>,
    /// Expected hours per week.
    pub expected_hours_per_week: Option<WeeklyHours>,
    /// Expected pay for the whole employment.
    pub expected_pay: Option<Money>,
    /// The company's responsible contact person.
    pub contact: ContactPerson,
}

/// An employment with the names of its two parties.
#[derive(Debug, Clone)]
pub struct Employment {
    /// The employment.
    pub employment: EmploymentRow,
    /// The employee's name.
    pub citizen_name: String,
    /// The employer's name.
    pub company_name: String,
}

impl From<ScopedEmployment> for Employment {
    fn from(s: ScopedEmployment) -> Employment {
        Employment { employment: s.employment, citizen_name: s.citizen_name, company_name: s.company_name }
    }
}

/// The employer a principal registers an employment for: a company for itself only, a
/// coordinator for the company it names (`None` while the name is missing: a field error the
/// caller reports with the others); citizens register none.
pub fn employer(principal: &Principal, named: Option<&str>) -> Result<Option<String>, ServiceError> {
    match (principal, named) {
        (Principal::Company { company_id, .. }, None) => Ok(Some(company_id.to_string())),
        (Principal::Company { company_id, .. }, Some(given)) if given == company_id.as_str() => {
            Ok(Some(company_id.to_string()))
        }
        (Principal::Company { .. }, Some(_)) => {
            Err(ServiceError::Forbidden("a company registers employments for itself only".into()))
        }
        (Principal::Coordinator { .. }, given) => Ok(given.map(str::to_owned)),
        (Principal::Citizen { .. }, _) => Err(ServiceError::Forbidden("citizens cannot register employments".into())),
        (Principal::NewCompany { .. }, _) => Err(ServiceError::Unregistered),
        (Principal::Operator { .. }, _) => Err(scope::no_personal_data()),
    }
}

fn not_matched() -> ServiceError {
    ServiceError::rule(Code::CitizenNotMatched, "no active frikort matches that CPR number and card number")
}

/// The citizen a company names by CPR + card number: one generic refusal for every mismatch so
/// CPR numbers cannot be probed. A known CPR number with a wrong card number does the same work
/// as an unknown CPR number: the hash, one query, a comparison of every byte of the card number
/// (against a stand-in when there is no card) and of the card's status, and only then a branch.
fn citizen_by_card(
    conn: &mut DbConn,
    key: &DataKey,
    cpr: &Cpr,
    number: &FrikortNumber,
) -> Result<CitizenRow, ServiceError> {
    use subtle::ConstantTimeEq;
    let found = citizens::find_by_cpr_hash(conn, &key.lookup_hash(cpr.digits()))?;
    let card = found.as_ref().and_then(|(_, card)| card.as_ref());
    // A stand-in of the same length, which no parsed card number (digits only) can equal.
    let (stored, status) = card.map_or((NO_CARD, ""), |c| (c.number.as_str(), c.status.as_str()));
    let number_matches = stored.as_bytes().ct_eq(number.as_str().as_bytes());
    let active = status.as_bytes().ct_eq(smaajob_domain::CardStatus::Active.as_str().as_bytes());
    let exists = subtle::Choice::from(u8::from(found.is_some()));
    if bool::from(number_matches & active & exists) {
        found.map(|(citizen, _)| citizen).ok_or_else(not_matched)
    } else {
        Err(not_matched())
    }
}

/// The card number compared against when a CPR number has no card: as long as a real one.
const NO_CARD: &str = "-----";

/// Registers an employment. Runs in a write transaction.
pub fn register(
    conn: &mut DbConn,
    key: &DataKey,
    principal: &Principal,
    new: NewEmployment,
) -> Result<Employment, ServiceError> {
    let citizen = match (principal, &new.employee) {
        (Principal::Coordinator { municipality, .. }, Employee::Id(id)) => {
            let scoped = scope::citizen(conn, *municipality, id)?;
            if scoped.card.is_none_or(|c| c.status != smaajob_domain::CardStatus::Active) {
                return Err(ServiceError::rule(Code::NoActiveCard, "the citizen has no active frikort"));
            }
            scoped.citizen
        }
        (Principal::Coordinator { municipality, .. }, Employee::Card { cpr, number }) => {
            let c = citizen_by_card(conn, key, cpr, number)?;
            if c.municipality != municipality.to_string() {
                return Err(not_matched());
            }
            c
        }
        (_, Employee::Card { cpr, number }) => citizen_by_card(conn, key, cpr, number)?,
        (_, Employee::Id(_)) => {
            return Err(ServiceError::field(
                "citizen_id",
                "not_allowed",
                "companies name the citizen by CPR and frikort number",
            ));
        }
    };
    let company = companies::find(conn, &new.company_id).map_err(|e| match e {
        RepoError::NotFound => crate::services::companies::unknown_company(),
        other => other.into(),
    })?;
    let row = EmploymentRow {
        id: new_record_id(),
        citizen_id: citizen.id.clone(),
        company_id: company.id.clone(),
        start_date: new.start_date,
        end_date: new.end_date,
        expected_hours_per_week: new.expected_hours_per_week.map(WeeklyHours::as_f64),
        expected_pay: new.expected_pay,
        contact_name: new.contact.name,
        contact_phone: new.contact.phone,
        contact_email: new.contact.email,
        registered_at: now(),
        registered_by: principal.sub().to_owned(),
        registered_by_role: principal.actor().ok_or_else(scope::no_personal_data)?,
        ended_at: None,
        end_reason: None,
    };
    employments::insert(conn, &row)?;
    let details = serde_json::json!({ "company_id": company.id, "start_date": row.start_date });
    audit::record(
        conn,
        audit::entry(
            principal,
            "employment.registered",
            "employment",
            row.id.as_str(),
            Some(&citizen.municipality),
            Some(details),
        ),
    )?;
    Ok(Employment { employment: row, citizen_name: citizen.name, company_name: company.name })
}

/// One page of employments: a company its current and former frikort employees, a coordinator
/// the municipality's, a citizen their own. `active` filters on whether they have ended. An
/// audited read: one entry per employment shown, filed with its citizen's municipality.
pub fn list(
    conn: &mut DbConn,
    principal: &Principal,
    active: Option<bool>,
    page: Page,
) -> Result<Audited<(Vec<Employment>, i64)>, ServiceError> {
    let scope = match principal {
        Principal::Company { company_id, .. } => EmploymentScope::Company(company_id.clone()),
        Principal::Coordinator { municipality, .. } => EmploymentScope::Municipality(municipality.to_string()),
        Principal::Citizen { citizen_id, .. } => EmploymentScope::Citizen(citizen_id.clone()),
        Principal::NewCompany { .. } => return Err(ServiceError::Unregistered),
        Principal::Operator { .. } => return Err(scope::no_personal_data()),
    };
    let (rows, total) = employments::list(conn, &scope, active, page)?;
    let entries = rows
        .iter()
        .map(|(e, _, _, municipality)| {
            audit::entry(principal, "employment.listed", "employment", e.id.as_str(), Some(municipality), None)
        })
        .collect();
    let items = rows
        .into_iter()
        .map(|(employment, citizen_name, company_name, _)| Employment { employment, citizen_name, company_name })
        .collect();
    Ok(Audited::new((items, total), entries))
}

/// One employment the caller may see. An audited read.
pub fn get(conn: &mut DbConn, principal: &Principal, id: &EmploymentId) -> Result<Audited<Employment>, ServiceError> {
    let scoped = scope::employment(conn, principal, id)?;
    let entry =
        audit::entry(principal, "employment.read", "employment", id.as_str(), Some(&scoped.citizen.municipality), None);
    Ok(Audited::new(scoped.into(), vec![entry]))
}

/// Whether the principal's role may end employments at all (citizens may not).
pub fn may_end(principal: &Principal) -> Result<(), ServiceError> {
    match principal {
        Principal::Citizen { .. } => Err(ServiceError::Forbidden("citizens cannot end employments".into())),
        Principal::Operator { .. } => Err(scope::no_personal_data()),
        Principal::Coordinator { .. } | Principal::Company { .. } | Principal::NewCompany { .. } => Ok(()),
    }
}

/// Ends an employment: no further payouts can be registered on it. The end defaults to the
/// planned end or today, and may not fall before the start or before paid work. Runs in a
/// write transaction.
pub fn end(
    conn: &mut DbConn,
    principal: &Principal,
    id: &EmploymentId,
    end_date: Option<NaiveDate>,
    reason: Option<String>,
) -> Result<Employment, ServiceError> {
    may_end(principal)?;
    let scoped = scope::employment(conn, principal, id)?;
    // Locked, so a payout on it cannot slip in between the check below and the end.
    let mut e = employments::lock(conn, id)?;
    if e.ended_at.is_some() {
        return Err(ServiceError::conflict(Code::EmploymentEnded, "the employment has already ended"));
    }
    let end = end_date.or(e.end_date).unwrap_or_else(today_copenhagen);
    if end < e.start_date {
        return Err(ServiceError::field("end_date", "before_start", "the end date is before the start date"));
    }
    let last_worked = accounting::payouts_of_employment(conn, &e.id)?
        .into_iter()
        .filter(|(_, reversed)| !reversed)
        .map(|(p, _)| p.worked_to)
        .max();
    if let Some(last) = last_worked.filter(|l| *l > end) {
        return Err(ServiceError::field("end_date", "before_paid_work", format!("a payout covers work until {last}")));
    }
    e.end_date = Some(end);
    e.ended_at = Some(now());
    e.end_reason = reason;
    employments::update(conn, &e)?;
    let details = serde_json::json!({ "end_date": end });
    audit::record(
        conn,
        audit::entry(
            principal,
            "employment.ended",
            "employment",
            id.as_str(),
            Some(&scoped.citizen.municipality),
            Some(details),
        ),
    )?;
    Ok(Employment { employment: e, citizen_name: scoped.citizen_name, company_name: scoped.company_name })
}
