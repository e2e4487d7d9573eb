//! Citizens (`/citizens`, `/me`): enrolment by a coordinator, the citizen's own view, and the
//! hand-over when a citizen moves to another municipality.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};
use smaajob_domain::{
    AvailabilitySlot, Cpr, GeoPoint, MunicipalityCode, Name, Phone, Postcode, TransportMode, WeeklyAvailability,
    mask_birth_date, parse_skills,
};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::citizens::{self, CardFilter, CardSummary, CitizenRow};
use smaajob_persistence::repo::{audit, new_id, now};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, Problem};
use crate::http::{PageQuery, Paged, double_option, parse_id, utc};
use crate::services::audit as audit_log;
use crate::services::common::{json, today_copenhagen};
use crate::services::error::{Code, OrNotFound};
use crate::services::error::{Fields, checked};
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

/// Changes to a citizen; absent fields stay, `null` clears an optional field. Changing
/// `municipality` hands the citizen (and their card) over to that municipality.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCitizen {
    /// Full name.
    pub name: Option<String>,
    /// Phone number; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    /// New acting municipality: hands the citizen over (§ 6); the current municipality loses access.
    pub municipality: Option<String>,
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

fn parse_availability(f: &mut Fields, a: &AvailabilityDto) -> Option<WeeklyAvailability> {
    let mut slots = Vec::with_capacity(a.slots.len());
    let mut ok = true;
    for (i, s) in a.slots.iter().enumerate() {
        let weekday = s.weekday.parse::<Weekday>().ok().filter(|_| s.weekday.len() == 3);
        let from = NaiveTime::parse_from_str(&s.from, "%H:%M").ok();
        let to = NaiveTime::parse_from_str(&s.to, "%H:%M").ok();
        if weekday.is_none() {
            f.push(&format!("availability.slots[{i}].weekday"), "weekday", "use mon, tue, wed, thu, fri, sat or sun");
        }
        if from.is_none() {
            f.push(&format!("availability.slots[{i}].from"), "time_format", "use HH:MM");
        }
        if to.is_none() {
            f.push(&format!("availability.slots[{i}].to"), "time_format", "use HH:MM");
        }
        match (weekday, from, to) {
            (Some(weekday), Some(from), Some(to)) => slots.push(AvailabilitySlot { weekday, from, to }),
            _ => ok = false,
        }
    }
    if !ok {
        return None;
    }
    f.check("availability", WeeklyAvailability::new(slots, a.max_hours_per_week))
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

/// Parsed home location: coordinates and postcode.
type Home = (Option<GeoPoint>, Option<Postcode>);

fn parse_home(f: &mut Fields, h: &HomeLocation) -> Option<Home> {
    let point = match (h.lat, h.lon) {
        (Some(lat), Some(lon)) => f.check("home", GeoPoint::new(lat, lon)).map(Some),
        (None, None) => Some(None),
        _ => {
            f.push("home", "lat_lon_pair", "give both `lat` and `lon`, or neither");
            None
        }
    };
    let postcode = f.check_opt("home.postcode", h.postcode.as_deref().map(Postcode::parse));
    if matches!((&point, &postcode), (Some(None), Some(None))) {
        f.push("home", "empty", "give coordinates, a postcode, or both (or send null to clear)");
        return None;
    }
    Some((point?, postcode?))
}

fn parse_transport(f: &mut Fields, modes: &[String]) -> Option<Vec<TransportMode>> {
    let mut out = Vec::new();
    for (i, m) in modes.iter().enumerate() {
        match TransportMode::parse(m) {
            Some(t) if !out.contains(&t) => out.push(t),
            Some(_) => {}
            None => {
                f.push(
                    &format!("transport_modes[{i}]"),
                    "transport_mode",
                    "use walk, bicycle, public_transport, car or moped",
                );
                return None;
            }
        }
    }
    Some(out)
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, ApiError> {
    serde_json::from_str(s).map_err(|e| ApiError::Internal(format!("stored JSON is corrupt: {e}")))
}

/// Builds the view of a stored citizen.
pub fn citizen_view(row: CitizenRow, card: Option<CardSummary>) -> Result<CitizenView, ApiError> {
    let municipality = MunicipalityCode::parse(&row.municipality)
        .map_err(|_| ApiError::Internal("stored municipality is invalid".into()))?;
    let availability: WeeklyAvailability = from_json(&row.availability)?;
    let home = (row.home_lat.is_some() || row.postcode.is_some()).then(|| HomeLocation {
        lat: row.home_lat,
        lon: row.home_lon,
        postcode: row.postcode.clone(),
    });
    Ok(CitizenView {
        cpr_masked: mask_birth_date(row.birth_date),
        age: smaajob_domain::age_on(row.birth_date, today_copenhagen()),
        birth_date: row.birth_date,
        name: row.name,
        phone: row.phone,
        municipality: municipality.into(),
        skills: from_json(&row.skills)?,
        availability: availability_dto(&availability),
        home,
        transport_modes: from_json(&row.transport_modes)?,
        frikort: card.map(|c| CardBrief { number: c.number, status: c.status }),
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
        id: row.id,
    })
}

/// Loads a citizen the coordinator may see (their own municipality); anything else is a 404 so
/// ids of other municipalities' citizens cannot be probed.
pub fn citizen_in_scope(
    conn: &mut DbConn,
    municipality: MunicipalityCode,
    id: &str,
) -> Result<(CitizenRow, Option<CardSummary>), ApiError> {
    match citizens::find(conn, id) {
        Ok((row, card)) if row.municipality == municipality.to_string() => Ok((row, card)),
        Ok(_) | Err(smaajob_persistence::RepoError::NotFound) => Err(ApiError::not_found("citizen")),
        Err(e) => Err(e.into()),
    }
}

/// Enrols a citizen in the coordinator's municipality.
#[utoipa::path(
    tag = "citizens",
    security(("bearer" = [])),
    request_body = CreateCitizen,
    responses(
        (status = 201, description = "Enrolled", body = CitizenView),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, description = "Not a coordinator, or another municipality", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A citizen with this CPR is already enrolled", body = Problem, content_type = "application/problem+json"),
        (status = 415, response = Problem),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/citizens")]
pub async fn create_citizen(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<CreateCitizen>,
) -> Result<HttpResponse, ApiError> {
    let own = principal.coordinator()?;
    let b = body.into_inner();
    let mut f = Fields::new();
    let cpr = f.check("cpr", Cpr::parse(&b.cpr));
    let name = f.check("name", Name::parse(&b.name));
    let phone = f.check_opt("phone", b.phone.as_deref().map(Phone::parse));
    let municipality = f.check_opt("municipality", b.municipality.as_deref().map(MunicipalityCode::parse));
    let skills = f.check("skills", parse_skills(&b.skills));
    let availability = match &b.availability {
        Some(a) => parse_availability(&mut f, a),
        None => f.check("availability", WeeklyAvailability::new(Vec::new(), None)),
    };
    let home = match &b.home {
        Some(h) => parse_home(&mut f, h),
        None => Some((None, None)),
    };
    let transport = parse_transport(&mut f, &b.transport_modes);
    f.finish()?;
    if let Some(Some(m)) = municipality
        && m != own
    {
        return Err(ApiError::Forbidden("coordinators enrol citizens in their own municipality only".into()));
    }
    let cpr = checked(cpr)?;
    let (point, postcode) = checked(home)?;
    let id = new_id();
    let t = now();
    let row = CitizenRow {
        cpr_hash: state.data_key.lookup_hash(cpr.digits()),
        cpr_ciphertext: state.data_key.encrypt(&id, cpr.digits()),
        birth_date: cpr.birth_date(),
        name: checked(name)?.as_str().to_owned(),
        phone: checked(phone)?.map(|p| p.as_str().to_owned()),
        municipality: own.to_string(),
        skills: json(&checked(skills)?.iter().map(|s| s.as_str()).collect::<Vec<_>>())?,
        availability: json(&checked(availability)?)?,
        home_lat: point.map(|p| p.lat()),
        home_lon: point.map(|p| p.lon()),
        postcode: postcode.map(|p| p.to_string()),
        transport_modes: json(&checked(transport)?.iter().map(|t| t.as_str()).collect::<Vec<_>>())?,
        created_at: t,
        updated_at: t,
        id,
    };
    let view = state
        .write(move |conn| {
            if citizens::find_id_by_cpr_hash(conn, &row.cpr_hash)?.is_some() {
                return Err(citizen_exists());
            }
            citizens::insert(conn, &row)
                .map_err(|e| if e.is_conflict_on("cpr_hash") { citizen_exists() } else { e.into() })?;
            audit::append(
                conn,
                &[audit_log::entry(&principal, "citizen.created", "citizen", &row.id, Some(&row.municipality), None)],
            )?;
            citizen_view(row, None)
        })
        .await?;
    Ok(HttpResponse::Created().insert_header(("Location", format!("/api/v1/citizens/{}", view.id))).json(view))
}

fn citizen_exists() -> ApiError {
    ApiError::Conflict {
        code: Code::CitizenExists,
        detail: "a citizen with this CPR is already enrolled; if they live in another municipality, that municipality hands them over".into(),
    }
}

/// Lists the coordinator's citizens by name, optionally by frikort status.
#[utoipa::path(
    tag = "citizens",
    security(("bearer" = [])),
    params(CitizenFilter, PageQuery),
    responses(
        (status = 200, body = Paged<CitizenView>),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 422, response = Problem),
    )
)]
#[get("/citizens")]
pub async fn list_citizens(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<CitizenFilter>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<CitizenView>>, ApiError> {
    let own = principal.coordinator()?;
    let page = page.into_inner().page()?;
    let card_filter = match filter.frikort.as_deref() {
        None => CardFilter::Any,
        Some("active") => CardFilter::Status("active"),
        Some("deactivated") => CardFilter::Status("deactivated"),
        Some("none") => CardFilter::NoCard,
        Some(_) => return Err(ApiError::field("frikort", "frikort_filter", "use active, deactivated or none")),
    };
    let paged = state
        .read_audited(move |conn| {
            let m = own.to_string();
            let (rows, total) = citizens::list(conn, &m, card_filter, page)?;
            let entries: Vec<_> = rows
                .iter()
                .map(|(r, _)| audit_log::entry(&principal, "citizen.listed", "citizen", &r.id, Some(&m), None))
                .collect();
            let audit_entries = entries;
            let items = rows.into_iter().map(|(r, c)| citizen_view(r, c)).collect::<Result<_, _>>()?;
            Ok((Paged { items, total, limit: page.limit, offset: page.offset }, audit_entries))
        })
        .await?;
    Ok(web::Json(paged))
}

/// One citizen of the coordinator's municipality.
#[utoipa::path(
    tag = "citizens",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Citizen id")),
    responses(
        (status = 200, body = CitizenView),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, description = "No such citizen in the coordinator's municipality", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/citizens/{id}")]
pub async fn get_citizen(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<CitizenView>, ApiError> {
    let own = principal.coordinator()?;
    let id = parse_id(&id, "citizen")?;
    let view = state
        .read_audited(move |conn| {
            let (row, card) = citizen_in_scope(conn, own, &id)?;
            let audit_entries =
                vec![audit_log::entry(&principal, "citizen.read", "citizen", &id, Some(&row.municipality), None)];
            Ok((citizen_view(row, card)?, audit_entries))
        })
        .await?;
    Ok(web::Json(view))
}

/// Changes a citizen; a new municipality hands the citizen over.
#[utoipa::path(
    tag = "citizens",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Citizen id")),
    request_body = UpdateCitizen,
    responses(
        (status = 200, body = CitizenView),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 415, response = Problem),
        (status = 422, response = Problem),
    )
)]
#[patch("/citizens/{id}")]
pub async fn update_citizen(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: web::Json<UpdateCitizen>,
) -> Result<web::Json<CitizenView>, ApiError> {
    let own = principal.coordinator()?;
    let id = parse_id(&id, "citizen")?;
    let b = body.into_inner();
    let mut f = Fields::new();
    let name = f.check_opt("name", b.name.as_deref().map(Name::parse));
    let phone = match &b.phone {
        Some(Some(p)) => f.check("phone", Phone::parse(p)).map(|p| Some(Some(p))),
        Some(None) => Some(Some(None)),
        None => Some(None),
    };
    let municipality = f.check_opt("municipality", b.municipality.as_deref().map(MunicipalityCode::parse));
    let skills = f.check_opt("skills", b.skills.as_deref().map(parse_skills));
    let availability = match &b.availability {
        Some(a) => parse_availability(&mut f, a).map(Some),
        None => Some(None),
    };
    let home = match &b.home {
        Some(Some(h)) => parse_home(&mut f, h).map(Some),
        Some(None) => Some(Some((None, None))),
        None => Some(None),
    };
    let transport = match &b.transport_modes {
        Some(t) => parse_transport(&mut f, t).map(Some),
        None => Some(None),
    };
    f.finish()?;
    let (name, phone, municipality, skills, availability, home, transport) = (
        checked(name)?,
        checked(phone)?,
        checked(municipality)?,
        checked(skills)?,
        checked(availability)?,
        checked(home)?,
        checked(transport)?,
    );
    let view = state
        .write(move |conn| {
            let (mut row, card) = citizen_in_scope(conn, own, &id)?;
            let mut changed: Vec<&str> = Vec::new();
            if let Some(n) = name {
                row.name = n.as_str().to_owned();
                changed.push("name");
            }
            if let Some(p) = phone {
                row.phone = p.map(|p| p.as_str().to_owned());
                changed.push("phone");
            }
            if let Some(s) = skills {
                row.skills = json(&s.iter().map(|s| s.as_str()).collect::<Vec<_>>())?;
                changed.push("skills");
            }
            if let Some(a) = availability {
                row.availability = json(&a)?;
                changed.push("availability");
            }
            if let Some((point, postcode)) = home {
                row.home_lat = point.map(|p| p.lat());
                row.home_lon = point.map(|p| p.lon());
                row.postcode = postcode.map(|p| p.to_string());
                changed.push("home");
            }
            if let Some(t) = transport {
                row.transport_modes = json(&t.iter().map(|t| t.as_str()).collect::<Vec<_>>())?;
                changed.push("transport_modes");
            }
            let mut entries = Vec::new();
            if !changed.is_empty() {
                entries.push(audit_log::entry(
                    &principal,
                    "citizen.updated",
                    "citizen",
                    &id,
                    Some(&row.municipality),
                    Some(serde_json::json!({ "fields": changed })),
                ));
            }
            if let Some(to) = municipality.filter(|m| *m != own) {
                let from = own.to_string();
                let details = serde_json::json!({ "from": from, "to": to.to_string() });
                entries.push(audit_log::entry(
                    &principal,
                    "citizen.moved_out",
                    "citizen",
                    &id,
                    Some(&from),
                    Some(details.clone()),
                ));
                entries.push(audit_log::entry(
                    &principal,
                    "citizen.moved_in",
                    "citizen",
                    &id,
                    Some(&to.to_string()),
                    Some(details),
                ));
                row.municipality = to.to_string();
            }
            row.updated_at = now();
            citizens::update(conn, &row)?;
            audit::append(conn, &entries)?;
            citizen_view(row, card)
        })
        .await?;
    Ok(web::Json(view))
}

/// The calling citizen's own data.
#[utoipa::path(
    tag = "citizens",
    security(("bearer" = [])),
    responses(
        (status = 200, body = CitizenView),
        (status = 401, response = Problem),
        (status = 403, description = "Not a citizen token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The token's citizen does not exist", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me")]
pub async fn get_me(state: web::Data<AppState>, principal: Principal) -> Result<web::Json<CitizenView>, ApiError> {
    let id = parse_id(principal.citizen()?, "citizen")?;
    let view = state
        .read_audited(move |conn| {
            let (row, card) = citizens::find(conn, &id).or_not_found("citizen")?;
            let audit_entries =
                vec![audit_log::entry(&principal, "citizen.read_self", "citizen", &id, Some(&row.municipality), None)];
            Ok((citizen_view(row, card)?, audit_entries))
        })
        .await?;
    Ok(web::Json(view))
}
