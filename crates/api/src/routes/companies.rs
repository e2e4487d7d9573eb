//! Companies (`/companies`): registered and verified by coordinators; a company reads itself.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, Problem};
use crate::http::{PageQuery, Paged, double_option, path_id, utc};
use crate::json::Json;
use crate::responses::{ApiErrors, Conflict, Invalid, JsonBody, NotFound};
use smaajob_domain::{CompanyId, Verification};
use smaajob_persistence::repo::companies::CompanyRow;

use crate::services::companies::{
    self, CompanyChanges, CompanyChangesInput, ContactInput, NewCompany, NewCompanyInput, ProfileInput,
    SelfRegistration, SelfRegistrationInput, verification_filter,
};
use crate::services::principal::Principal;
use crate::state::AppState;
use crate::views::Contact;

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
    /// The company's name.
    pub name: String,
    /// Street address.
    pub address: Option<String>,
    /// Postcode, 4 digits.
    pub postcode: Option<String>,
    /// Where the work happens, by default.
    pub location: Option<Location>,
    /// Contact person.
    pub contact: Contact,
    /// The municipality the company works in, e.g. `730`: its coordinators verify the company.
    pub municipality: Option<String>,
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
    /// The company's name.
    pub name: String,
    /// Street address.
    pub address: Option<String>,
    /// Postcode, 4 digits.
    pub postcode: Option<String>,
    /// Where the work happens by default.
    pub location: Option<Location>,
    /// Contact person.
    pub contact: Contact,
    /// The municipality the company works in, e.g. `730`; it defaults to, and must be, the coordinator's.
    pub municipality: Option<String>,
    /// Whether the coordinator has verified the company (default false).
    #[serde(default)]
    pub verified: bool,
}

/// Changes to a company; absent fields stay, `null` clears an optional one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCompany {
    /// A new name for the company.
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

/// Builds the view of a stored company.
pub fn company_view(row: CompanyRow) -> CompanyView {
    CompanyView {
        verified: row.verification == Verification::Verified,
        location: row.lat.zip(row.lon).map(|(lat, lon)| Location { lat, lon }),
        contact: Contact { name: row.contact_name, phone: row.contact_phone, email: row.contact_email },
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
        id: row.id.into(),
        cvr: row.cvr,
        name: row.name,
        address: row.address,
        postcode: row.postcode,
        municipality: row.municipality,
        verification: row.verification.as_str().to_owned(),
        verification_reason: row.verification_reason,
    }
}

fn contact_input(c: Contact) -> ContactInput {
    ContactInput { name: c.name, phone: c.phone, email: c.email }
}

fn created(view: CompanyView) -> HttpResponse {
    HttpResponse::Created().insert_header(("Location", format!("/api/v1/companies/{}", view.id))).json(view)
}

/// Registers a company (coordinator).
#[utoipa::path(
    tag = "companies",
    security(("bearer" = [])),
    request_body = CreateCompany,
    responses(
        (status = 201, description = "Registered", body = CompanyView),
        ApiErrors, Conflict, JsonBody,
        (status = 403, description = "Not a coordinator, or another municipality than the coordinator's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The CVR number is already registered", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/companies")]
pub async fn create_company(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<CreateCompany>,
) -> Result<HttpResponse, ApiError> {
    principal.coordinator()?;
    let b = body.into_inner();
    let cmd = NewCompany::parse(&NewCompanyInput {
        cvr: b.cvr,
        municipality: b.municipality,
        verified: b.verified,
        profile: ProfileInput {
            name: b.name,
            address: b.address,
            postcode: b.postcode,
            location: b.location.map(|l| (l.lat, l.lon)),
            contact: contact_input(b.contact),
        },
    })?;
    let company = state.write(move |conn| Ok(companies::create(conn, &principal, cmd)?)).await?;
    Ok(created(company_view(company)))
}

/// Lists companies by name (coordinator).
#[utoipa::path(
    tag = "companies",
    security(("bearer" = [])),
    params(CompanyFilter, PageQuery),
    responses(
        (status = 200, body = Paged<CompanyView>),
        ApiErrors, Invalid,
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
    let verification = verification_filter(filter.verification.as_deref())?;
    let (rows, total) = state.read(move |conn| Ok(companies::list(conn, &principal, verification, page)?)).await?;
    Ok(web::Json(Paged {
        items: rows.into_iter().map(company_view).collect(),
        total,
        limit: page.limit,
        offset: page.offset,
    }))
}

/// One company: any coordinator, or the company itself.
#[utoipa::path(
    tag = "companies",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Company id")),
    responses(
        (status = 200, body = CompanyView),
        ApiErrors, NotFound,
        (status = 404, description = "No such company (or another company's)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/companies/{id}")]
pub async fn get_company(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<CompanyView>, ApiError> {
    let id = path_id::<CompanyId>(&id)?;
    let company = state
        .read_audited(move |conn| {
            let read = companies::get(conn, &principal, &id)?;
            Ok((read.value, read.entries))
        })
        .await?;
    Ok(web::Json(company_view(company)))
}

/// Changes a company, including verifying or rejecting it (coordinator).
#[utoipa::path(
    tag = "companies",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Company id")),
    request_body = UpdateCompany,
    responses(
        (status = 200, body = CompanyView),
        ApiErrors, NotFound, JsonBody,
    )
)]
#[patch("/companies/{id}")]
pub async fn update_company(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<UpdateCompany>,
) -> Result<web::Json<CompanyView>, ApiError> {
    principal.coordinator()?;
    let id = path_id::<CompanyId>(&id)?;
    let b = body.into_inner();
    let changes = CompanyChanges::parse(&CompanyChangesInput {
        name: b.name,
        address: b.address,
        postcode: b.postcode,
        location: b.location.map(|l| l.map(|l| (l.lat, l.lon))),
        contact: b.contact.map(contact_input),
        verified: b.verified,
        verification_reason: b.verification_reason,
    })?;
    let company = state.write(move |conn| Ok(companies::update(conn, &principal, &id, changes)?)).await?;
    Ok(web::Json(company_view(company)))
}

/// A company registering itself; the CVR number comes from its token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterSelf {
    /// The CVR number; optional, and when given it must equal the token's `cvr` claim.
    pub cvr: Option<String>,
    /// The company's name.
    pub name: String,
    /// The municipality the company mainly works in (its coordinators verify it), e.g. `730`.
    pub municipality: String,
    /// Street address.
    pub address: Option<String>,
    /// Postcode, 4 digits.
    pub postcode: Option<String>,
    /// Where the work happens by default.
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
        ApiErrors, Conflict, JsonBody,
        (status = 403, description = "Not a company token, or the CVR differs from the token's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The company is already registered", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/companies/self")]
pub async fn register_self(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<RegisterSelf>,
) -> Result<HttpResponse, ApiError> {
    let cvr = companies::self_registering_cvr(&principal)?;
    let b = body.into_inner();
    let cmd = SelfRegistration::parse(
        cvr,
        &SelfRegistrationInput {
            cvr: b.cvr,
            municipality: b.municipality,
            profile: ProfileInput {
                name: b.name,
                address: b.address,
                postcode: b.postcode,
                location: b.location.map(|l| (l.lat, l.lon)),
                contact: contact_input(b.contact),
            },
        },
    )?;
    let company = state.write(move |conn| Ok(companies::register_self(conn, &principal, cmd)?)).await?;
    Ok(created(company_view(company)))
}

/// The calling company's own record.
#[utoipa::path(
    tag = "companies",
    security(("bearer" = [])),
    responses(
        (status = 200, body = CompanyView),
        ApiErrors,
        (status = 403, description = "Not a company token, or the company is not registered yet", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/companies/self")]
pub async fn get_self(state: web::Data<AppState>, principal: Principal) -> Result<web::Json<CompanyView>, ApiError> {
    let company = state
        .read_audited(move |conn| {
            let read = companies::get_self(conn, &principal)?;
            Ok((read.value, read.entries))
        })
        .await?;
    Ok(web::Json(company_view(company)))
}
