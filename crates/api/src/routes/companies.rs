//! Companies (`/companies`): registered and verified by coordinators; a company reads itself.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use smaajob_domain::{Cvr, GeoPoint, Name, Postcode};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::companies::{self, CompanyRow};
use smaajob_persistence::repo::{audit, new_id, now};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, Problem};
use crate::http::{PageQuery, Paged, double_option, parse_id, utc};
use crate::services::audit as audit_log;
use crate::services::common::optional_text;
use crate::services::error::OrNotFound;
use crate::services::error::{Code, ServiceError};
use crate::services::error::{Fields, checked};
use crate::services::principal::Principal;
use crate::state::AppState;
use crate::views::{Contact, ContactRow, parse_contact};

/// A point on the map.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// Latitude in degrees (WGS84).
    pub lat: f64,
    /// Longitude in degrees (WGS84).
    pub lon: f64,
}

/// A company.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CompanyView {
    /// The company's id.
    pub id: String,
    /// The 8-digit CVR number.
    #[schema(example = "10150817")]
    pub cvr: String,
    /// Name.
    pub name: String,
    /// Street address.
    pub address: Option<String>,
    /// Postcode.
    pub postcode: Option<String>,
    /// Where the work happens, by default.
    pub location: Option<Location>,
    /// Contact person.
    pub contact: Contact,
    /// Whether a coordinator has verified the company.
    pub verified: bool,
    /// `unverified`, `verified` or `rejected`.
    pub verification: String,
    /// The coordinator's note on verification or rejection.
    pub verification_reason: Option<String>,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Registration of a company by a coordinator.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCompany {
    /// The 8-digit CVR number (modulus-11 checked).
    #[schema(example = "10150817")]
    pub cvr: String,
    /// Name.
    pub name: String,
    /// Street address.
    pub address: Option<String>,
    /// Postcode, 4 digits.
    pub postcode: Option<String>,
    /// Location.
    pub location: Option<Location>,
    /// Contact person.
    pub contact: Contact,
    /// Whether the coordinator has verified the company (default false).
    #[serde(default)]
    pub verified: bool,
}

/// Changes to a company; absent fields stay, `null` clears an optional one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCompany {
    /// Name.
    pub name: Option<String>,
    /// Street address; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub address: Option<Option<String>>,
    /// Postcode; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub postcode: Option<Option<String>>,
    /// Location; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Location>)]
    pub location: Option<Option<Location>>,
    /// Contact person; replaces it.
    pub contact: Option<Contact>,
    /// Verify (`true`) or reject (`false`) the company.
    pub verified: Option<bool>,
    /// Why — required when rejecting.
    pub verification_reason: Option<String>,
}

/// Filter of the company list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CompanyFilter {
    /// `unverified`, `verified` or `rejected`.
    pub verification: Option<String>,
}

fn parse_location(f: &mut Fields, l: &Location) -> Option<GeoPoint> {
    f.check("location", GeoPoint::new(l.lat, l.lon))
}

/// Builds the view of a stored company.
pub fn company_view(row: CompanyRow) -> CompanyView {
    CompanyView {
        verified: row.verification == "verified",
        location: row.lat.zip(row.lon).map(|(lat, lon)| Location { lat, lon }),
        contact: Contact { name: row.contact_name, phone: row.contact_phone, email: row.contact_email },
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
        id: row.id,
        cvr: row.cvr,
        name: row.name,
        address: row.address,
        postcode: row.postcode,
        verification: row.verification,
        verification_reason: row.verification_reason,
    }
}

/// A new company's profile, parsed.
struct Profile {
    name: Name,
    address: Option<String>,
    postcode: Option<Postcode>,
    location: Option<GeoPoint>,
    contact: ContactRow,
}

/// Parses a new company's profile, recording every field problem in `f`.
fn parse_profile(
    f: &mut Fields,
    name: &str,
    address: Option<&str>,
    postcode: Option<&str>,
    location: Option<&Location>,
    contact: &Contact,
) -> Option<Profile> {
    let name = f.check("name", Name::parse(name));
    let address = optional_text(f, "address", address, 300);
    let postcode = f.check_opt("postcode", postcode.map(Postcode::parse));
    let location = match location {
        Some(l) => parse_location(f, l).map(Some),
        None => Some(None),
    };
    let contact = parse_contact(f, contact);
    Some(Profile { name: name?, address, postcode: postcode?, location: location?, contact: contact? })
}

/// The row of a new company.
fn new_company(cvr: Cvr, p: Profile, verification: &str, municipality: String) -> CompanyRow {
    let t = now();
    let (contact_name, contact_phone, contact_email) = p.contact;
    CompanyRow {
        id: new_id(),
        cvr: cvr.to_string(),
        name: p.name.as_str().to_owned(),
        address: p.address,
        postcode: p.postcode.map(|p| p.to_string()),
        lat: p.location.map(|l| l.lat()),
        lon: p.location.map(|l| l.lon()),
        contact_name,
        contact_phone,
        contact_email,
        verification: verification.to_owned(),
        verification_reason: None,
        municipality: Some(municipality),
        created_at: t,
        updated_at: t,
    }
}

/// Inserts a new company, or 409 `company_exists` when its CVR number is registered (also by a
/// concurrent request).
fn insert_new(conn: &mut DbConn, row: &CompanyRow) -> Result<(), ApiError> {
    if companies::find_by_cvr(conn, &row.cvr)?.is_some() {
        return Err(company_exists());
    }
    companies::insert(conn, row).map_err(|e| if e.is_conflict_on("cvr") { company_exists() } else { e.into() })
}

fn company_exists() -> ApiError {
    ApiError::Conflict {
        code: Code::CompanyExists,
        detail: "a company with this CVR number is already registered".into(),
    }
}

/// Registers a company (coordinator).
#[utoipa::path(
    tag = "companies",
    security(("bearer" = [])),
    request_body = CreateCompany,
    responses(
        (status = 201, description = "Registered", body = CompanyView),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 409, description = "The CVR number is already registered", body = Problem, content_type = "application/problem+json"),
        (status = 415, response = Problem),
        (status = 422, response = Problem),
    )
)]
#[post("/companies")]
pub async fn create_company(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<CreateCompany>,
) -> Result<HttpResponse, ApiError> {
    let own = principal.coordinator()?;
    let b = body.into_inner();
    let mut f = Fields::new();
    let cvr = f.check("cvr", Cvr::parse(&b.cvr));
    let profile =
        parse_profile(&mut f, &b.name, b.address.as_deref(), b.postcode.as_deref(), b.location.as_ref(), &b.contact);
    f.finish()?;
    let verification = if b.verified { "verified" } else { "unverified" };
    let row = new_company(checked(cvr)?, checked(profile)?, verification, own.to_string());
    let view = state
        .write(move |conn| {
            insert_new(conn, &row)?;
            let details = serde_json::json!({ "cvr": row.cvr, "verification": row.verification });
            audit::append(
                conn,
                &[audit_log::entry(
                    &principal,
                    "company.created",
                    "company",
                    &row.id,
                    Some(&own.to_string()),
                    Some(details),
                )],
            )?;
            Ok(company_view(row))
        })
        .await?;
    Ok(HttpResponse::Created().insert_header(("Location", format!("/api/v1/companies/{}", view.id))).json(view))
}

/// Lists companies by name (coordinator).
#[utoipa::path(
    tag = "companies",
    security(("bearer" = [])),
    params(CompanyFilter, PageQuery),
    responses(
        (status = 200, body = Paged<CompanyView>),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 422, response = Problem),
    )
)]
#[get("/companies")]
pub async fn list_companies(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<CompanyFilter>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<CompanyView>>, ApiError> {
    principal.coordinator()?;
    let page = page.into_inner().page()?;
    let verification: Option<&'static str> = match filter.verification.as_deref() {
        None => None,
        Some("unverified") => Some("unverified"),
        Some("verified") => Some("verified"),
        Some("rejected") => Some("rejected"),
        Some(_) => {
            return Err(ApiError::field("verification", "verification_filter", "use unverified, verified or rejected"));
        }
    };
    let paged = state
        .read(move |conn| {
            let (rows, total) = companies::list(conn, verification, page)?;
            Ok(Paged {
                items: rows.into_iter().map(company_view).collect(),
                total,
                limit: page.limit,
                offset: page.offset,
            })
        })
        .await?;
    Ok(web::Json(paged))
}

/// One company: any coordinator, or the company itself.
#[utoipa::path(
    tag = "companies",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Company id")),
    responses(
        (status = 200, body = CompanyView),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, description = "No such company (or another company's)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/companies/{id}")]
pub async fn get_company(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<CompanyView>, ApiError> {
    let id = parse_id(&id, "company")?;
    let log_municipality = match &principal {
        Principal::Coordinator { municipality, .. } => Some(municipality.to_string()),
        Principal::Company { company_id, .. } if *company_id == id => None,
        Principal::Company { .. } => return Err(ApiError::not_found("company")),
        Principal::Citizen { .. } => return Err(ApiError::Forbidden("citizens cannot read company records".into())),
        Principal::NewCompany { .. } => return Err(ServiceError::Unregistered.into()),
    };
    let view = state
        .read_audited(move |conn| {
            let row = companies::find(conn, &id).or_not_found("company")?;
            let m = log_municipality.or_else(|| row.municipality.clone());
            let audit_entries = vec![audit_log::entry(&principal, "company.read", "company", &id, m.as_deref(), None)];
            Ok((company_view(row), audit_entries))
        })
        .await?;
    Ok(web::Json(view))
}

/// Changes a company, including verifying or rejecting it (coordinator).
#[utoipa::path(
    tag = "companies",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Company id")),
    request_body = UpdateCompany,
    responses(
        (status = 200, body = CompanyView),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 415, response = Problem),
        (status = 422, response = Problem),
    )
)]
#[patch("/companies/{id}")]
pub async fn update_company(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: web::Json<UpdateCompany>,
) -> Result<web::Json<CompanyView>, ApiError> {
    let own = principal.coordinator()?;
    let id = parse_id(&id, "company")?;
    let b = body.into_inner();
    let mut f = Fields::new();
    let name = f.check_opt("name", b.name.as_deref().map(Name::parse));
    let address = b.address.as_ref().map(|a| optional_text(&mut f, "address", a.as_deref(), 300));
    let postcode = match &b.postcode {
        Some(Some(p)) => f.check("postcode", Postcode::parse(p)).map(|p| Some(Some(p))),
        Some(None) => Some(Some(None)),
        None => Some(None),
    };
    let location = match &b.location {
        Some(Some(l)) => parse_location(&mut f, l).map(|l| Some(Some(l))),
        Some(None) => Some(Some(None)),
        None => Some(None),
    };
    let contact = match &b.contact {
        Some(c) => parse_contact(&mut f, c).map(Some),
        None => Some(None),
    };
    let reason = optional_text(&mut f, "verification_reason", b.verification_reason.as_deref(), 2000);
    if b.verified == Some(false) && reason.is_none() {
        f.push("verification_reason", "required", "give the reason for rejecting the company");
    }
    f.finish()?;
    let (name, postcode, location, contact) =
        (name.flatten(), checked(postcode)?, checked(location)?, checked(contact)?);
    let view = state
        .write(move |conn| {
            let mut row = companies::find(conn, &id).or_not_found("company")?;
            let mut changed: Vec<&str> = Vec::new();
            if let Some(n) = name {
                row.name = n.as_str().to_owned();
                changed.push("name");
            }
            if let Some(a) = address {
                row.address = a;
                changed.push("address");
            }
            if let Some(p) = postcode {
                row.postcode = p.map(|p| p.to_string());
                changed.push("postcode");
            }
            if let Some(l) = location {
                row.lat = l.map(|l| l.lat());
                row.lon = l.map(|l| l.lon());
                changed.push("location");
            }
            if let Some((n, p, e)) = contact {
                (row.contact_name, row.contact_phone, row.contact_email) = (n, p, e);
                changed.push("contact");
            }
            if let Some(v) = b.verified {
                // A company is vouched for by the coordinators of the municipality it works in.
                if row.municipality.as_deref().is_some_and(|m| m != own.to_string()) {
                    return Err(ApiError::Forbidden(
                        "only coordinators of the company's municipality verify or reject it".into(),
                    ));
                }
                row.verification = if v { "verified" } else { "rejected" }.to_owned();
                row.verification_reason = reason;
                changed.push("verification");
            }
            row.updated_at = now();
            companies::update(conn, &row)?;
            let details = serde_json::json!({ "fields": changed, "verification": row.verification });
            audit::append(
                conn,
                &[audit_log::entry(
                    &principal,
                    "company.updated",
                    "company",
                    &id,
                    Some(&own.to_string()),
                    Some(details),
                )],
            )?;
            Ok(company_view(row))
        })
        .await?;
    Ok(web::Json(view))
}

/// A company registering itself; the CVR number comes from its token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterSelf {
    /// The CVR number; optional, and when given it must equal the token's `cvr` claim.
    pub cvr: Option<String>,
    /// Name.
    pub name: String,
    /// The municipality the company mainly works in (its coordinators verify it), e.g. `730`.
    pub municipality: String,
    /// Street address.
    pub address: Option<String>,
    /// Postcode, 4 digits.
    pub postcode: Option<String>,
    /// Location.
    pub location: Option<Location>,
    /// Contact person for small jobs.
    pub contact: Contact,
}

/// Registers the calling company (token with a `cvr` claim). It starts unverified: it can draft
/// tasks but not open them until a coordinator verifies it.
#[utoipa::path(
    tag = "companies",
    security(("bearer" = [])),
    request_body = RegisterSelf,
    responses(
        (status = 201, description = "Registered, unverified", body = CompanyView),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, description = "Not a company token, or the CVR differs from the token's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The company is already registered", body = Problem, content_type = "application/problem+json"),
        (status = 415, response = Problem),
        (status = 422, response = Problem),
    )
)]
#[post("/companies/self")]
pub async fn register_self(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<RegisterSelf>,
) -> Result<HttpResponse, ApiError> {
    let cvr = match &principal {
        Principal::NewCompany { cvr, .. } => *cvr,
        Principal::Company { .. } => return Err(company_exists()),
        _ => return Err(ApiError::Forbidden("only a company token with a `cvr` claim registers a company".into())),
    };
    let b = body.into_inner();
    let mut f = Fields::new();
    if let Some(given) = &b.cvr {
        match Cvr::parse(given) {
            Ok(c) if c == cvr => {}
            Ok(_) => return Err(ApiError::Forbidden("the CVR number differs from the one in the token".into())),
            Err(e) => {
                f.check::<(), _>("cvr", Err(e));
            }
        }
    }
    let profile =
        parse_profile(&mut f, &b.name, b.address.as_deref(), b.postcode.as_deref(), b.location.as_ref(), &b.contact);
    let municipality = f.check("municipality", smaajob_domain::MunicipalityCode::parse(&b.municipality));
    f.finish()?;
    let municipality = checked(municipality)?.to_string();
    let row = new_company(cvr, checked(profile)?, "unverified", municipality.clone());
    let view = state
        .write(move |conn| {
            insert_new(conn, &row)?;
            let details = serde_json::json!({ "cvr": row.cvr, "self_registered": true });
            audit::append(
                conn,
                &[audit_log::entry(
                    &principal,
                    "company.registered",
                    "company",
                    &row.id,
                    Some(&municipality),
                    Some(details),
                )],
            )?;
            Ok(company_view(row))
        })
        .await?;
    Ok(HttpResponse::Created().insert_header(("Location", format!("/api/v1/companies/{}", view.id))).json(view))
}

/// The calling company's own record.
#[utoipa::path(
    tag = "companies",
    security(("bearer" = [])),
    responses(
        (status = 200, body = CompanyView),
        (status = 401, response = Problem),
        (status = 403, description = "Not a company token, or the company is not registered yet", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/companies/self")]
pub async fn get_self(state: web::Data<AppState>, principal: Principal) -> Result<web::Json<CompanyView>, ApiError> {
    let id = principal.company()?.to_owned();
    let view = state
        .read_audited(move |conn| {
            let row = companies::find(conn, &id).or_not_found("company")?;
            let audit_entries =
                vec![audit_log::entry(&principal, "company.read", "company", &id, row.municipality.as_deref(), None)];
            Ok((company_view(row), audit_entries))
        })
        .await?;
    Ok(web::Json(view))
}
