//! Signing in on the pages: who an identity provider's claims name in Småjob. A citizen is
//! found by the keyed hash of their CPR number (the number itself is neither stored nor
//! logged), a company by its CVR number; a coordinator needs no record here, as their
//! provider vouches for their municipality.
//!
//! There is no acting principal yet: this is how one comes about.

use smaajob_domain::{Cpr, Cvr, MunicipalityCode};
use smaajob_persistence::DbConn;
use smaajob_persistence::crypto::DataKey;
use smaajob_persistence::repo::{citizens, companies};

use crate::services::error::ServiceError;

/// Who asserted identity claims name, as the sign-in found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Member {
    /// An enrolled citizen.
    Citizen {
        /// Their id.
        citizen_id: String,
    },
    /// A registered company.
    Company {
        /// Its id.
        company_id: String,
        /// Its name, for the page's header.
        name: String,
    },
    /// A coordinator of a municipality.
    Coordinator {
        /// The municipality.
        municipality: MunicipalityCode,
    },
}

/// Why the claims name nobody here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotMember {
    /// No citizen with this CPR number is enrolled.
    UnknownCitizen,
    /// No company with this CVR number is registered.
    UnknownCompany,
}

/// The citizen with `cpr`, found by its keyed hash.
pub fn citizen_by_cpr(conn: &mut DbConn, key: &DataKey, cpr: &Cpr) -> Result<Result<Member, NotMember>, ServiceError> {
    let found = citizens::find_id_by_cpr_hash(conn, &key.lookup_hash(cpr.digits()))?;
    Ok(found.map(|citizen_id| Member::Citizen { citizen_id }).ok_or(NotMember::UnknownCitizen))
}

/// The company with `cvr`.
pub fn company_by_cvr(conn: &mut DbConn, cvr: &Cvr) -> Result<Result<Member, NotMember>, ServiceError> {
    let found = companies::find_by_cvr(conn, &cvr.to_string())?;
    Ok(found.map(|c| Member::Company { company_id: c.id, name: c.name }).ok_or(NotMember::UnknownCompany))
}
