//! Companies: employers identified by CVR number. A coordinator registers and verifies them; a
//! company may register itself and read itself. The municipality a company works in decides
//! whose coordinators vouch for it.

use smaajob_domain::{CompanyId, Cvr, Email, GeoPoint, MunicipalityCode, Name, Phone, Postcode, Verification};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::companies::{self, CompanyRow};
use smaajob_persistence::repo::{Page, now};
use smaajob_persistence::types::new_record_id;

use crate::services::audit::{self, Audited};
use crate::services::common::optional_text;
use crate::services::error::{Code, Fields, OrNotFound, ServiceError, checked};
use crate::services::principal::Principal;

/// The list filter on a company's verification: absent, or one of the three codes (a field error
/// otherwise).
pub fn verification_filter(raw: Option<&str>) -> Result<Option<Verification>, ServiceError> {
    raw.map(|v| {
        Verification::parse(v).ok_or_else(|| {
            ServiceError::field("verification", "verification_filter", "use unverified, verified or rejected")
        })
    })
    .transpose()
}

/// A contact person as stated.
#[derive(Debug, Clone)]
pub struct ContactInput {
    /// The contact person's full name, unchecked.
    pub name: String,
    /// Phone number.
    pub phone: Option<String>,
    /// Email address.
    pub email: Option<String>,
}

/// A contact person, checked.
#[derive(Debug, Clone)]
pub struct ContactPerson {
    /// The contact person's full name.
    pub name: Name,
    /// Phone number.
    pub phone: Option<Phone>,
    /// Email address.
    pub email: Option<Email>,
}

impl ContactPerson {
    /// The stored columns: name, phone and email.
    pub fn columns(&self) -> (String, Option<String>, Option<String>) {
        (
            self.name.as_str().to_owned(),
            self.phone.as_ref().map(|p| p.as_str().to_owned()),
            self.email.as_ref().map(|e| e.as_str().to_owned()),
        )
    }
}

/// The answer to a body that names a company that does not exist, or an id that names none (a
/// malformed one included): a broken rule of the request, not a missing page.
pub fn unknown_company() -> ServiceError {
    ServiceError::rule(Code::UnknownCompany, "no company with that id")
}

/// Checks a contact person, recording problems under `contact.*`.
pub fn parse_contact(f: &mut Fields, c: &ContactInput) -> Option<ContactPerson> {
    let name = f.check("contact.name", Name::parse(&c.name));
    let phone = f.check_opt("contact.phone", c.phone.as_deref().map(Phone::parse));
    let email = f.check_opt("contact.email", c.email.as_deref().map(Email::parse));
    Some(ContactPerson { name: name?, phone: phone?, email: email? })
}

/// A company's profile as stated.
#[derive(Debug, Clone)]
pub struct ProfileInput {
    /// The company's name, unchecked.
    pub name: String,
    /// Street address.
    pub address: Option<String>,
    /// The postcode, unchecked (4 digits when valid).
    pub postcode: Option<String>,
    /// Latitude and longitude.
    pub location: Option<(f64, f64)>,
    /// Contact person.
    pub contact: ContactInput,
}

/// A company's profile, checked.
#[derive(Debug, Clone)]
pub struct Profile {
    name: Name,
    address: Option<String>,
    postcode: Option<Postcode>,
    location: Option<GeoPoint>,
    contact: ContactPerson,
}

fn parse_location(f: &mut Fields, (lat, lon): (f64, f64)) -> Option<GeoPoint> {
    f.check("location", GeoPoint::new(lat, lon))
}

/// Checks a profile, recording every field problem in `f`.
fn parse_profile(f: &mut Fields, p: &ProfileInput) -> Option<Profile> {
    let name = f.check("name", Name::parse(&p.name));
    let address = optional_text(f, "address", p.address.as_deref(), 300);
    let postcode = f.check_opt("postcode", p.postcode.as_deref().map(Postcode::parse));
    let location = match p.location {
        Some(l) => parse_location(f, l).map(Some),
        None => Some(None),
    };
    let contact = parse_contact(f, &p.contact);
    Some(Profile { name: name?, address, postcode: postcode?, location: location?, contact: contact? })
}

/// A registration by a coordinator, as stated.
#[derive(Debug, Clone)]
pub struct NewCompanyInput {
    /// The CVR number.
    pub cvr: String,
    /// The municipality the company works in; absent → the coordinator's.
    pub municipality: Option<String>,
    /// Whether the coordinator verifies it at once.
    pub verified: bool,
    /// The profile.
    pub profile: ProfileInput,
}

/// A registration by a coordinator, checked.
#[derive(Debug, Clone)]
pub struct NewCompany {
    cvr: Cvr,
    municipality: Option<MunicipalityCode>,
    verification: Verification,
    profile: Profile,
}

impl NewCompany {
    /// Checks a registration; every invalid field is named.
    pub fn parse(input: &NewCompanyInput) -> Result<NewCompany, ServiceError> {
        let mut f = Fields::new();
        let cvr = f.check("cvr", Cvr::parse(&input.cvr));
        let profile = parse_profile(&mut f, &input.profile);
        let municipality = f.check_opt("municipality", input.municipality.as_deref().map(MunicipalityCode::parse));
        f.finish()?;
        let verification = if input.verified { Verification::Verified } else { Verification::Unverified };
        Ok(NewCompany {
            cvr: checked(cvr)?,
            municipality: checked(municipality)?,
            verification,
            profile: checked(profile)?,
        })
    }
}

/// A company registering itself, as stated.
#[derive(Debug, Clone)]
pub struct SelfRegistrationInput {
    /// The CVR number; when given it must be the token's.
    pub cvr: Option<String>,
    /// The municipality the company mainly works in.
    pub municipality: String,
    /// The profile.
    pub profile: ProfileInput,
}

/// A company registering itself, checked against the CVR number its token asserts.
#[derive(Debug, Clone)]
pub struct SelfRegistration {
    cvr: Cvr,
    municipality: MunicipalityCode,
    profile: Profile,
}

impl SelfRegistration {
    /// Checks a self-registration by the company whose token asserts `cvr`: a CVR number in the
    /// body that differs from it is refused first, then every invalid field is named.
    pub fn parse(cvr: Cvr, input: &SelfRegistrationInput) -> Result<SelfRegistration, ServiceError> {
        let mut f = Fields::new();
        if let Some(given) = &input.cvr {
            match Cvr::parse(given) {
                Ok(c) if c == cvr => {}
                Ok(_) => {
                    return Err(ServiceError::Forbidden("the CVR number differs from the one in the token".into()));
                }
                Err(e) => {
                    f.check::<(), _>("cvr", Err(e));
                }
            }
        }
        let profile = parse_profile(&mut f, &input.profile);
        let municipality = f.check("municipality", MunicipalityCode::parse(&input.municipality));
        f.finish()?;
        Ok(SelfRegistration { cvr, municipality: checked(municipality)?, profile: checked(profile)? })
    }
}

/// Changes to a company as stated; absent fields stay, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct CompanyChangesInput {
    /// A new company name.
    pub name: Option<String>,
    /// Street address.
    pub address: Option<Option<String>>,
    /// A new postcode; `Some(None)` clears it.
    pub postcode: Option<Option<String>>,
    /// Latitude and longitude.
    pub location: Option<Option<(f64, f64)>>,
    /// Contact person.
    pub contact: Option<ContactInput>,
    /// Verify (`true`) or reject (`false`).
    pub verified: Option<bool>,
    /// Why; required when rejecting.
    pub verification_reason: Option<String>,
}

/// A coordinator's verdict on a company.
#[derive(Debug, Clone)]
struct Verdict {
    verification: Verification,
    reason: Option<String>,
}

/// Changes to a company, checked.
#[derive(Debug, Clone)]
pub struct CompanyChanges {
    name: Option<Name>,
    address: Option<Option<String>>,
    postcode: Option<Option<Postcode>>,
    location: Option<Option<GeoPoint>>,
    contact: Option<ContactPerson>,
    verdict: Option<Verdict>,
}

impl CompanyChanges {
    /// Checks changes; every invalid field is named, and a rejection needs a reason.
    pub fn parse(input: &CompanyChangesInput) -> Result<CompanyChanges, ServiceError> {
        let mut f = Fields::new();
        let name = f.check_opt("name", input.name.as_deref().map(Name::parse));
        let address = input.address.as_ref().map(|a| optional_text(&mut f, "address", a.as_deref(), 300));
        let postcode = match &input.postcode {
            Some(Some(p)) => f.check("postcode", Postcode::parse(p)).map(|p| Some(Some(p))),
            Some(None) => Some(Some(None)),
            None => Some(None),
        };
        let location = match input.location {
            Some(Some(l)) => parse_location(&mut f, l).map(|l| Some(Some(l))),
            Some(None) => Some(Some(None)),
            None => Some(None),
        };
        let contact = match &input.contact {
            Some(c) => parse_contact(&mut f, c).map(Some),
            None => Some(None),
        };
        let reason = optional_text(&mut f, "verification_reason", input.verification_reason.as_deref(), 2000);
        if input.verified == Some(false) && reason.is_none() {
            f.push("verification_reason", "required", "give the reason for rejecting the company");
        }
        f.finish()?;
        let verdict = input
            .verified
            .map(|v| Verdict { verification: if v { Verification::Verified } else { Verification::Rejected }, reason });
        Ok(CompanyChanges {
            name: name.flatten(),
            address,
            postcode: checked(postcode)?,
            location: checked(location)?,
            contact: checked(contact)?,
            verdict,
        })
    }
}

/// The row of a new company.
fn new_row(cvr: Cvr, p: Profile, verification: Verification, municipality: MunicipalityCode) -> CompanyRow {
    let t = now();
    let (contact_name, contact_phone, contact_email) = p.contact.columns();
    CompanyRow {
        id: new_record_id(),
        cvr: cvr.to_string(),
        name: p.name.as_str().to_owned(),
        address: p.address,
        postcode: p.postcode.map(|p| p.to_string()),
        lat: p.location.map(|l| l.lat()),
        lon: p.location.map(|l| l.lon()),
        contact_name,
        contact_phone,
        contact_email,
        verification,
        verification_reason: None,
        municipality: Some(municipality.to_string()),
        created_at: t,
        updated_at: t,
    }
}

fn company_exists() -> ServiceError {
    ServiceError::conflict(Code::CompanyExists, "a company with this CVR number is already registered")
}

/// Inserts a new company, or `company_exists` when its CVR number is registered (also by a
/// concurrent request).
fn insert_new(conn: &mut DbConn, row: &CompanyRow) -> Result<(), ServiceError> {
    if companies::find_by_cvr(conn, &row.cvr)?.is_some() {
        return Err(company_exists());
    }
    companies::insert(conn, row).map_err(|e| if e.is_conflict_on("cvr") { company_exists() } else { e.into() })
}

/// Registers a company (coordinators), in the coordinator's own municipality unless the command
/// names it — and only there.
pub fn create(conn: &mut DbConn, principal: &Principal, cmd: NewCompany) -> Result<CompanyRow, ServiceError> {
    let own = principal.coordinator()?;
    let municipality = cmd.municipality.unwrap_or(own);
    if municipality != own {
        return Err(ServiceError::Forbidden("coordinators register companies in their own municipality only".into()));
    }
    let row = new_row(cmd.cvr, cmd.profile, cmd.verification, municipality);
    insert_new(conn, &row)?;
    let details = serde_json::json!({ "cvr": row.cvr, "verification": row.verification });
    audit::record(
        conn,
        audit::entry(principal, "company.created", "company", row.id.as_str(), Some(&own.to_string()), Some(details)),
    )?;
    Ok(row)
}

/// The CVR number a company registers itself under: its token's. A registered company is told
/// so (`company_exists`); other roles may not register companies this way.
pub fn self_registering_cvr(principal: &Principal) -> Result<Cvr, ServiceError> {
    match principal {
        Principal::NewCompany { cvr, .. } => Ok(*cvr),
        Principal::Company { .. } => Err(company_exists()),
        Principal::Operator { .. } | Principal::Coordinator { .. } | Principal::Citizen { .. } => {
            Err(ServiceError::Forbidden("only a company token with a `cvr` claim registers a company".into()))
        }
    }
}

/// Registers the calling company, unverified: it can draft tasks but not open them until a
/// coordinator of its municipality verifies it.
pub fn register_self(
    conn: &mut DbConn,
    principal: &Principal,
    cmd: SelfRegistration,
) -> Result<CompanyRow, ServiceError> {
    if self_registering_cvr(principal)? != cmd.cvr {
        return Err(ServiceError::Forbidden("the CVR number differs from the one in the token".into()));
    }
    let row = new_row(cmd.cvr, cmd.profile, Verification::Unverified, cmd.municipality);
    insert_new(conn, &row)?;
    let details = serde_json::json!({ "cvr": row.cvr, "self_registered": true });
    audit::record(
        conn,
        audit::entry(
            principal,
            "company.registered",
            "company",
            row.id.as_str(),
            Some(&cmd.municipality.to_string()),
            Some(details),
        ),
    )?;
    Ok(row)
}

/// The calling company's own record. An audited read.
pub fn get_self(conn: &mut DbConn, principal: &Principal) -> Result<Audited<CompanyRow>, ServiceError> {
    let id = principal.company()?;
    let row = companies::find(conn, id).or_not_found("company")?;
    let entry = audit::entry(principal, "company.read", "company", id.as_str(), row.municipality.as_deref(), None);
    Ok(Audited::new(row, vec![entry]))
}

/// One company: any coordinator (the read is filed in their municipality's log), or the company
/// itself. An audited read.
pub fn get(conn: &mut DbConn, principal: &Principal, id: &CompanyId) -> Result<Audited<CompanyRow>, ServiceError> {
    let log_municipality = match principal {
        Principal::Coordinator { municipality, .. } => Some(municipality.to_string()),
        Principal::Company { company_id, .. } if company_id == id => None,
        Principal::Company { .. } => return Err(ServiceError::NotFound("company")),
        Principal::Citizen { .. } => {
            return Err(ServiceError::Forbidden("citizens cannot read company records".into()));
        }
        Principal::NewCompany { .. } => return Err(ServiceError::Unregistered),
        Principal::Operator { .. } => return Err(crate::services::scope::no_personal_data()),
    };
    let row = companies::find(conn, id).or_not_found("company")?;
    let m = log_municipality.or_else(|| row.municipality.clone());
    let entry = audit::entry(principal, "company.read", "company", id.as_str(), m.as_deref(), None);
    Ok(Audited::new(row, vec![entry]))
}

/// One page of companies by name, optionally with one verification (coordinators; companies are
/// shared by every municipality), and the total.
pub fn list(
    conn: &mut DbConn,
    principal: &Principal,
    verification: Option<Verification>,
    page: Page,
) -> Result<(Vec<CompanyRow>, i64), ServiceError> {
    principal.coordinator()?;
    let (rows, total) = companies::list(conn, verification, page)?;
    Ok((rows, total))
}

/// Changes a company (coordinators). Only coordinators of the company's municipality verify or
/// reject it: they vouch for the companies working there.
pub fn update(
    conn: &mut DbConn,
    principal: &Principal,
    id: &CompanyId,
    changes: CompanyChanges,
) -> Result<CompanyRow, ServiceError> {
    let own = principal.coordinator()?;
    let mut row = companies::find(conn, id).or_not_found("company")?;
    let mut changed: Vec<&str> = Vec::new();
    if let Some(n) = changes.name {
        row.name = n.as_str().to_owned();
        changed.push("name");
    }
    if let Some(a) = changes.address {
        row.address = a;
        changed.push("address");
    }
    if let Some(p) = changes.postcode {
        row.postcode = p.map(|p| p.to_string());
        changed.push("postcode");
    }
    if let Some(l) = changes.location {
        row.lat = l.map(|l| l.lat());
        row.lon = l.map(|l| l.lon());
        changed.push("location");
    }
    if let Some(c) = changes.contact {
        (row.contact_name, row.contact_phone, row.contact_email) = c.columns();
        changed.push("contact");
    }
    if let Some(v) = changes.verdict {
        if row.municipality.as_deref().is_some_and(|m| m != own.to_string()) {
            return Err(ServiceError::Forbidden(
                "only coordinators of the company's municipality verify or reject it".into(),
            ));
        }
        row.verification = v.verification;
        row.verification_reason = v.reason;
        changed.push("verification");
    }
    row.updated_at = now();
    companies::update(conn, &row)?;
    let details = serde_json::json!({ "fields": changed, "verification": row.verification });
    audit::record(
        conn,
        audit::entry(principal, "company.updated", "company", id.as_str(), Some(&own.to_string()), Some(details)),
    )?;
    Ok(row)
}
