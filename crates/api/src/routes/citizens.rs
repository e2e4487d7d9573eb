//! Citizens (`/citizens`, `/me`): enrolment by a coordinator, the citizen's own view, and the
//! transfer to the new municipality when a citizen moves (`/citizens/transfers`).

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use smaajob_domain::{MunicipalityCode, WeeklyAvailability, mask_birth_date};

use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, Problem};
use crate::guess_guard;
use crate::http::{PageQuery, Paged, double_option, parse_id, utc};
use crate::json::Json;
use crate::responses::{ApiErrors, Conflict, Invalid, JsonBody, NotFound};
use crate::services::citizens::{
    self as service, AvailabilityInput, Citizen, EnrolCitizen, EnrolInput, HomeInput, ListCitizens, SlotInput,
    UpdateInput,
};
use crate::services::common::today_copenhagen;
use crate::services::error::Code;
use crate::services::guesses::GuessAttempt;
use crate::services::principal::Principal;
use crate::state::AppState;

/// A municipality: code and name.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MunicipalityView {
    /// The 3-digit municipality code (Randers = `730`).
    pub code: String,
    /// The municipality's name.
    pub name: String,
}

impl From<MunicipalityCode> for MunicipalityView {
    fn from(m: MunicipalityCode) -> Self {
        MunicipalityView { code: m.to_string(), name: m.name().to_owned() }
    }
}

/// One period a citizen can work in a week.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilitySlotDto {
    /// Day of the week: `mon`, `tue`, `wed`, `thu`, `fri`, `sat` or `sun`.
    #[schema(example = "sat")]
    pub weekday: String,
    /// Start time, `HH:MM`.
    #[schema(example = "08:00")]
    pub from: String,
    /// End time, `HH:MM`, after `from` on the same day.
    #[schema(example = "12:00")]
    pub to: String,
}

/// When a citizen can work, week by week.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityDto {
    /// The periods; periods of one day must not overlap.
    #[serde(default)]
    pub slots: Vec<AvailabilitySlotDto>,
    /// The most hours a week the citizen wants to (or may) work, 1–60.
    pub max_hours_per_week: Option<u8>,
}

/// Where a citizen lives, as coordinates and/or a postcode (for matching by distance).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HomeLocation {
    /// Latitude in degrees (WGS84); give with `lon`.
    pub lat: Option<f64>,
    /// Longitude in degrees (WGS84); give with `lat`.
    pub lon: Option<f64>,
    /// Danish postcode, 4 digits.
    #[schema(example = "8900")]
    pub postcode: Option<String>,
}

/// The card facts shown with a citizen.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CardBrief {
    /// The 5-digit card number.
    pub number: String,
    /// `active` or `deactivated`.
    pub status: String,
}

/// A citizen as coordinators (and the citizen themself) see them. The CPR is only ever shown masked.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CitizenView {
    /// The citizen's id.
    pub id: String,
    /// The CPR number masked as `DDMMYY-XXXX`.
    #[schema(example = "010190-XXXX")]
    pub cpr_masked: String,
    /// Birth date, from the CPR number.
    pub birth_date: NaiveDate,
    /// Age in whole years today.
    pub age: u32,
    /// Full name.
    pub name: String,
    /// Phone number.
    pub phone: Option<String>,
    /// The acting municipality (handlekommune).
    pub municipality: MunicipalityView,
    /// Skills, lower case.
    pub skills: Vec<String>,
    /// Weekly availability.
    pub availability: AvailabilityDto,
    /// Home location.
    pub home: Option<HomeLocation>,
    /// How the citizen can get to work: `walk`, `bicycle`, `public_transport`, `car`, `moped`.
    pub transport_modes: Vec<String>,
    /// The citizen's frikort, if they have one.
    pub frikort: Option<CardBrief>,
    /// When the citizen was enrolled.
    pub created_at: DateTime<Utc>,
    /// When the citizen's data last changed.
    pub updated_at: DateTime<Utc>,
    /// Only for a municipality the citizen has moved away from: when its responsibility ended
    /// (the transfer time). The record is shown as it stood then; the citizen's current data is
    /// the new municipality's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsible_until: Option<DateTime<Utc>>,
}

/// Enrolment of a citizen.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCitizen {
    /// CPR number, `DDMMYY-SSSS` (dash optional). Stored encrypted; never shown again in full.
    #[schema(example = "010190-1234")]
    pub cpr: String,
    /// Full name.
    #[schema(example = "Jens Hansen")]
    pub name: String,
    /// Phone number (8–15 digits, optional leading `+`).
    pub phone: Option<String>,
    /// The acting municipality's code; defaults to the coordinator's own and must equal it.
    #[schema(example = "730")]
    pub municipality: Option<String>,
    /// Skills (at most 30).
    #[serde(default)]
    pub skills: Vec<String>,
    /// Weekly availability.
    pub availability: Option<AvailabilityDto>,
    /// Home location.
    pub home: Option<HomeLocation>,
    /// Transport modes.
    #[serde(default)]
    pub transport_modes: Vec<String>,
}

/// Changes to a citizen; absent fields stay, `null` clears an optional field. A move to another
/// municipality is a transfer by the new municipality (`POST /api/v1/citizens/transfers`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCitizen {
    /// Full name.
    pub name: Option<String>,
    /// Phone number; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    /// Skills; replaces the list.
    pub skills: Option<Vec<String>>,
    /// Weekly availability; replaces it.
    pub availability: Option<AvailabilityDto>,
    /// Home location; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<HomeLocation>)]
    pub home: Option<Option<HomeLocation>>,
    /// Transport modes; replaces the list.
    pub transport_modes: Option<Vec<String>>,
}

/// Filter of the citizen list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CitizenFilter {
    /// `active`, `deactivated` (has a card in that state) or `none` (never had a card).
    pub frikort: Option<String>,
}

impl From<AvailabilityDto> for AvailabilityInput {
    fn from(a: AvailabilityDto) -> Self {
        AvailabilityInput {
            slots: a.slots.into_iter().map(|s| SlotInput { weekday: s.weekday, from: s.from, to: s.to }).collect(),
            max_hours_per_week: a.max_hours_per_week,
        }
    }
}

impl From<HomeLocation> for HomeInput {
    fn from(h: HomeLocation) -> Self {
        HomeInput { lat: h.lat, lon: h.lon, postcode: h.postcode }
    }
}

impl From<CreateCitizen> for EnrolInput {
    fn from(b: CreateCitizen) -> Self {
        EnrolInput {
            cpr: b.cpr,
            name: b.name,
            phone: b.phone,
            municipality: b.municipality,
            skills: b.skills,
            availability: b.availability.map(Into::into),
            home: b.home.map(Into::into),
            transport_modes: b.transport_modes,
        }
    }
}

impl From<UpdateCitizen> for UpdateInput {
    fn from(b: UpdateCitizen) -> Self {
        UpdateInput {
            name: b.name,
            phone: b.phone,
            skills: b.skills,
            availability: b.availability.map(Into::into),
            home: b.home.map(|h| h.map(Into::into)),
            transport_modes: b.transport_modes,
        }
    }
}

fn availability_dto(a: &WeeklyAvailability) -> AvailabilityDto {
    AvailabilityDto {
        slots: a
            .slots()
            .iter()
            .map(|s| AvailabilitySlotDto {
                weekday: s.weekday.to_string().to_lowercase(),
                from: s.from.format("%H:%M").to_string(),
                to: s.to.format("%H:%M").to_string(),
            })
            .collect(),
        max_hours_per_week: a.max_hours_per_week(),
    }
}

/// Builds the view of a citizen.
fn citizen_view(c: Citizen) -> CitizenView {
    let row = c.row;
    let home = (row.home_lat.is_some() || row.postcode.is_some()).then(|| HomeLocation {
        lat: row.home_lat,
        lon: row.home_lon,
        postcode: row.postcode.clone(),
    });
    CitizenView {
        cpr_masked: mask_birth_date(row.birth_date),
        age: smaajob_domain::age_on(row.birth_date, today_copenhagen()),
        birth_date: row.birth_date,
        name: row.name,
        phone: row.phone,
        municipality: c.municipality.into(),
        skills: row.skills.0,
        availability: availability_dto(&row.availability),
        home,
        transport_modes: row.transport_modes.iter().map(|t| t.as_str().to_owned()).collect(),
        frikort: c.card.map(|c| CardBrief { number: c.number, status: c.status.as_str().to_owned() }),
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
        responsible_until: c.responsible_until.map(utc),
        id: row.id,
    }
}

/// A transfer of a citizen who moved to the coordinator's municipality.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    /// The citizen's CPR number, `DDMMYY-SSSS` (dash optional); only ever in the body.
    #[schema(example = "010190-1234")]
    pub cpr: String,
    /// Why the citizen is taken over (e.g. the move and its date); at most 2,000 characters.
    /// Logged in both municipalities.
    #[schema(example = "Flyttet til kommunen 1. december")]
    pub reason: String,
}

/// Enrols a citizen in the coordinator's municipality.
#[utoipa::path(
    tag = "citizens",
    security(("bearer" = [])),
    request_body = CreateCitizen,
    responses(
        (status = 201, description = "Enrolled", body = CitizenView),
        ApiErrors, Conflict, JsonBody,
        (status = 403, description = "Not a coordinator, or another municipality", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A citizen with this CPR is already enrolled: `citizen_exists` in your municipality, `citizen_enrolled_elsewhere` in another (take them over with a transfer; logged in both municipalities)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many enrolments of already enrolled CPR numbers from this coordinator or address (`too_many_guesses`), or too many requests from this address (`rate_limited`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    )
)]
#[post("/citizens", wrap = "actix_web::middleware::from_fn(crate::guess_guard::limit_source)")]
pub async fn create_citizen(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: Json<CreateCitizen>,
) -> Result<HttpResponse, ApiError> {
    // The role before the body, so a caller who may not enrol learns that first.
    principal.coordinator()?;
    let cmd = EnrolCitizen::parse(body.into_inner().into())?;
    let key = state.data_key.clone();
    // An enrolment that finds the CPR number enrolled already (here or in another
    // municipality) tells that the person is: such answers count against the coordinator and the
    // address like wrong guesses.
    let guess = GuessAttempt::new(&principal, req.peer_addr().map(|a| a.ip()), None, &key);
    let answer = async {
        let attempt = state.write(move |conn| Ok(service::enrol(conn, &key, &principal, cmd)?)).await?;
        let view = citizen_view(attempt.into_result()?);
        Ok(HttpResponse::Created().insert_header(("Location", format!("/api/v1/citizens/{}", view.id))).json(view))
    };
    guess_guard::guarded(&state, guess, reveals_enrolment, answer).await
}

/// Whether a refused enrolment told the caller that the CPR number is enrolled somewhere.
fn reveals_enrolment(e: &ApiError) -> bool {
    matches!(e.code(), Code::CitizenExists | Code::CitizenEnrolledElsewhere)
}

/// Takes over a citizen who moved to the coordinator's municipality from another one: the
/// citizen keeps the card, and the card, its history, the employments and payouts come along.
/// The old municipality can change nothing from the transfer time on and reads the record and
/// card as they stood then. Logged in both municipalities, with the reason; a refused attempt is
/// logged too.
#[utoipa::path(
    tag = "citizens",
    security(("bearer" = [])),
    request_body = TransferBody,
    responses(
        (status = 200, description = "Taken over: the citizen as the new municipality sees them", body = CitizenView),
        ApiErrors, Conflict, JsonBody,
        (status = 409, description = "`already_responsible`: the citizen is enrolled in your municipality already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or `not_enrolled`: no municipality has enrolled this CPR (enrol them instead)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many transfers of CPR numbers nobody enrolled from this coordinator or address (`too_many_guesses`), or too many requests from this address (`rate_limited`)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    )
)]
#[post("/citizens/transfers", wrap = "actix_web::middleware::from_fn(crate::guess_guard::limit_source)")]
pub async fn transfer_citizen(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: Json<TransferBody>,
) -> Result<HttpResponse, ApiError> {
    principal.coordinator()?;
    let body = body.into_inner();
    let cmd = service::TransferCitizen::parse(&body.cpr, &body.reason)?;
    let key = state.data_key.clone();
    // A transfer of a CPR number nobody enrolled tells that much: such answers count against the
    // coordinator and the address like wrong guesses, so the transfer is no free enrolment probe.
    let guess = GuessAttempt::new(&principal, req.peer_addr().map(|a| a.ip()), None, &key);
    let answer = async {
        let attempt = state.write(move |conn| Ok(service::transfer(conn, &key, &principal, cmd)?)).await?;
        Ok(HttpResponse::Ok().json(citizen_view(attempt.into_result()?)))
    };
    guess_guard::guarded(&state, guess, |e| e.code() == Code::NotEnrolled, answer).await
}

/// Lists the coordinator's citizens by name, optionally by frikort status.
#[utoipa::path(
    tag = "citizens",
    security(("bearer" = [])),
    params(CitizenFilter, PageQuery),
    responses(
        (status = 200, body = Paged<CitizenView>),
        ApiErrors, Invalid,
    )
)]
#[get("/citizens")]
pub async fn list_citizens(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<CitizenFilter>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<CitizenView>>, ApiError> {
    principal.coordinator()?;
    let page = page.into_inner().page()?;
    let cmd = ListCitizens::parse(filter.frikort.as_deref(), page)?;
    let list = state.read_audited(move |conn| Ok(service::list(conn, &principal, cmd)?.into_parts())).await?;
    let items = list.items.into_iter().map(citizen_view).collect();
    Ok(web::Json(Paged { items, total: list.total, limit: list.page.limit, offset: list.page.offset }))
}

/// One citizen of the coordinator's municipality.
#[utoipa::path(
    tag = "citizens",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Citizen id")),
    responses(
        (status = 200, description = "The citizen; for a municipality they moved away from, the record as it stood then (`responsible_until`)", body = CitizenView),
        ApiErrors, NotFound,
        (status = 404, description = "No such citizen in the coordinator's municipality, now or before", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/citizens/{id}")]
pub async fn get_citizen(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<CitizenView>, ApiError> {
    principal.coordinator()?;
    let id = parse_id(&id, "citizen")?;
    let citizen = state.read_audited(move |conn| Ok(service::get(conn, &principal, &id)?.into_parts())).await?;
    Ok(web::Json(citizen_view(citizen)))
}

/// Changes a citizen of the coordinator's municipality (a move is a transfer, not a change).
#[utoipa::path(
    tag = "citizens",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Citizen id")),
    request_body = UpdateCitizen,
    responses(
        (status = 200, body = CitizenView),
        ApiErrors, NotFound, JsonBody,
    )
)]
#[patch("/citizens/{id}")]
pub async fn update_citizen(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<UpdateCitizen>,
) -> Result<web::Json<CitizenView>, ApiError> {
    principal.coordinator()?;
    let id = parse_id(&id, "citizen")?;
    let cmd = service::UpdateCitizen::parse(body.into_inner().into())?;
    let citizen = state.write(move |conn| Ok(service::update(conn, &principal, &id, cmd)?)).await?;
    Ok(web::Json(citizen_view(citizen)))
}

/// The calling citizen's own data.
#[utoipa::path(
    tag = "citizens",
    security(("bearer" = [])),
    responses(
        (status = 200, body = CitizenView),
        ApiErrors, NotFound,
        (status = 403, description = "Not a citizen token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The token's citizen does not exist", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me")]
pub async fn get_me(state: web::Data<AppState>, principal: Principal) -> Result<web::Json<CitizenView>, ApiError> {
    let citizen = state.read_audited(move |conn| Ok(service::me(conn, &principal)?.into_parts())).await?;
    Ok(web::Json(citizen_view(citizen)))
}
