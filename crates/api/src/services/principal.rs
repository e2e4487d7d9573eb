//! Who is acting: the authenticated caller and the scope their role carries. Every use case
//! takes one; how it was authenticated (a bearer token, a session) is the adapter's business.

use serde::{Deserialize, Serialize};
use smaajob_domain::{Actor, CompanyId, Cvr, MunicipalityCode};
use utoipa::ToSchema;

use crate::services::error::ServiceError;

/// Who a token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the scheme-wide settings (the statutory caps); sees no citizen's or company's data.
    Operator,
    /// Municipal or NGO staff, scoped to one municipality.
    Coordinator,
    /// An employer, scoped to one company.
    Company,
    /// A card holder, scoped to themself.
    Citizen,
}

impl Role {
    /// The claim value.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Coordinator => "coordinator",
            Role::Company => "company",
            Role::Citizen => "citizen",
        }
    }
}

/// The authenticated caller, with the scope their role carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The operator of the scheme: sets the statutory caps and reads their audit trail, and
    /// nothing of any citizen or company.
    Operator {
        /// The token's subject: who acts, as the identity provider names them.
        sub: String,
    },
    /// A coordinator of one municipality.
    Coordinator {
        /// The token's subject: who acts, as the identity provider names them.
        sub: String,
        /// The municipality they act for.
        municipality: MunicipalityCode,
    },
    /// A registered company.
    Company {
        /// The token's subject: who acts, as the identity provider names them.
        sub: String,
        /// The company's id.
        company_id: CompanyId,
    },
    /// A company whose token names a CVR number that is not registered here yet: it may only
    /// register itself (`POST /companies/self`).
    NewCompany {
        /// The token's subject: who acts, as the identity provider names them.
        sub: String,
        /// The CVR number the token asserts.
        cvr: Cvr,
    },
    /// A citizen.
    Citizen {
        /// The token's subject: who acts, as the identity provider names them.
        sub: String,
        /// The citizen's id.
        citizen_id: String,
    },
}

impl Principal {
    /// The subject.
    pub fn sub(&self) -> &str {
        match self {
            Principal::Operator { sub }
            | Principal::Coordinator { sub, .. }
            | Principal::Company { sub, .. }
            | Principal::NewCompany { sub, .. }
            | Principal::Citizen { sub, .. } => sub,
        }
    }

    /// The role.
    pub fn role(&self) -> Role {
        match self {
            Principal::Operator { .. } => Role::Operator,
            Principal::Coordinator { .. } => Role::Coordinator,
            Principal::Company { .. } | Principal::NewCompany { .. } => Role::Company,
            Principal::Citizen { .. } => Role::Citizen,
        }
    }

    /// The kind of user acting on a small job, as it is stored beside what they registered or
    /// reported; `None` for the operator, who acts on no citizen's or company's data.
    pub fn actor(&self) -> Option<Actor> {
        match self {
            Principal::Coordinator { .. } => Some(Actor::Coordinator),
            Principal::Company { .. } | Principal::NewCompany { .. } => Some(Actor::Company),
            Principal::Citizen { .. } => Some(Actor::Citizen),
            Principal::Operator { .. } => None,
        }
    }

    /// Ok for the operator, 403 for any other role.
    pub fn operator(&self) -> Result<(), ServiceError> {
        match self {
            Principal::Operator { .. } => Ok(()),
            _ => Err(ServiceError::Forbidden(format!(
                "this operation is for the operator of the scheme, not the {} role",
                self.role().as_str()
            ))),
        }
    }

    /// The coordinator's municipality, or 403 for any other role.
    pub fn coordinator(&self) -> Result<MunicipalityCode, ServiceError> {
        match self {
            Principal::Coordinator { municipality, .. } => Ok(*municipality),
            _ => Err(ServiceError::Forbidden(format!(
                "this operation is for coordinators, not the {} role",
                self.role().as_str()
            ))),
        }
    }

    /// The citizen's id, or 403 for any other role.
    pub fn citizen(&self) -> Result<&str, ServiceError> {
        match self {
            Principal::Citizen { citizen_id, .. } => Ok(citizen_id),
            _ => Err(ServiceError::Forbidden(format!(
                "this operation is for citizens, not the {} role",
                self.role().as_str()
            ))),
        }
    }

    /// The registered company's id; 403 for an unregistered company and other roles.
    pub fn company(&self) -> Result<&CompanyId, ServiceError> {
        match self {
            Principal::Company { company_id, .. } => Ok(company_id),
            Principal::NewCompany { .. } => Err(ServiceError::Unregistered),
            _ => Err(ServiceError::Forbidden(format!(
                "this operation is for companies, not the {} role",
                self.role().as_str()
            ))),
        }
    }
}
