//! Citizens: enrolment by a coordinator, the municipality's list and one citizen, changes (a new
//! municipality hands the citizen over), and the citizen's own view.

use chrono::{NaiveTime, Weekday};
use smaajob_domain::{
    AvailabilitySlot, Cpr, GeoPoint, MunicipalityCode, Name, Phone, Postcode, Skill, TransportMode, WeeklyAvailability,
    parse_skills,
};
use smaajob_persistence::DbConn;
use smaajob_persistence::crypto::DataKey;
use smaajob_persistence::repo::citizens::{self, CardFilter, CardSummary, CitizenRow};
use smaajob_persistence::repo::{Page, audit, new_id, now};

use crate::services::audit::{Audited, entry};
use crate::services::common::json;
use crate::services::error::{Code, Fields, OrNotFound, ServiceError, checked};
use crate::services::principal::Principal;
use crate::services::scope;

/// One weekly period as entered: a weekday code (`mon` … `sun`) and `HH:MM` times.
#[derive(Debug, Clone, Default)]
pub struct SlotInput {
    /// Day of the week, `mon` … `sun`.
    pub weekday: String,
    /// Start time, `HH:MM`.
    pub from: String,
    /// End time, `HH:MM`.
    pub to: String,
}

/// Weekly availability as entered.
#[derive(Debug, Clone, Default)]
pub struct AvailabilityInput {
    /// The periods.
    pub slots: Vec<SlotInput>,
    /// The most hours a week.
    pub max_hours_per_week: Option<u8>,
}

/// A home location as entered: coordinates and/or a postcode.
#[derive(Debug, Clone, Default)]
pub struct HomeInput {
    /// Latitude (with `lon`).
    pub lat: Option<f64>,
    /// Longitude (with `lat`).
    pub lon: Option<f64>,
    /// Danish postcode.
    pub postcode: Option<String>,
}

/// An enrolment as entered.
#[derive(Debug, Clone, Default)]
pub struct EnrolInput {
    /// CPR number, dash optional.
    pub cpr: String,
    /// Full name.
    pub name: String,
    /// Phone number.
    pub phone: Option<String>,
    /// The acting municipality's code; must be the coordinator's own.
    pub municipality: Option<String>,
    /// Skills.
    pub skills: Vec<String>,
    /// Weekly availability; none means no periods and no limit.
    pub availability: Option<AvailabilityInput>,
    /// Home location.
    pub home: Option<HomeInput>,
    /// Transport modes.
    pub transport_modes: Vec<String>,
}

/// Changes as entered: `None` keeps a field, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct UpdateInput {
    /// Full name.
    pub name: Option<String>,
    /// Phone number, or clear it.
    pub phone: Option<Option<String>>,
    /// A new acting municipality (a hand-over).
    pub municipality: Option<String>,
    /// Skills, replacing the list.
    pub skills: Option<Vec<String>>,
    /// Weekly availability, replacing it.
    pub availability: Option<AvailabilityInput>,
    /// Home location, or clear it.
    pub home: Option<Option<HomeInput>>,
    /// Transport modes, replacing the list.
    pub transport_modes: Option<Vec<String>>,
}

/// Where a citizen lives; both parts absent means unknown.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Home {
    /// Coordinates.
    pub point: Option<GeoPoint>,
    /// Postcode.
    pub postcode: Option<Postcode>,
}

/// Enrols a citizen.
#[derive(Debug, Clone)]
pub struct EnrolCitizen {
    /// The CPR number.
    pub cpr: Cpr,
    /// Full name.
    pub name: Name,
    /// Phone number.
    pub phone: Option<Phone>,
    /// The municipality asked for, if any; it must be the coordinator's own.
    pub municipality: Option<MunicipalityCode>,
    /// Skills, deduplicated and sorted.
    pub skills: Vec<Skill>,
    /// Weekly availability.
    pub availability: WeeklyAvailability,
    /// Home location.
    pub home: Home,
    /// Transport modes, deduplicated in the order given.
    pub transport_modes: Vec<TransportMode>,
}

impl EnrolCitizen {
    /// Parses an enrolment; every invalid field is named.
    pub fn parse(input: EnrolInput) -> Result<EnrolCitizen, ServiceError> {
        let mut f = Fields::new();
        let cpr = f.check("cpr", Cpr::parse(&input.cpr));
        let name = f.check("name", Name::parse(&input.name));
        let phone = f.check_opt("phone", input.phone.as_deref().map(Phone::parse));
        let municipality = f.check_opt("municipality", input.municipality.as_deref().map(MunicipalityCode::parse));
        let skills = f.check("skills", parse_skills(&input.skills));
        let availability = match &input.availability {
            Some(a) => parse_availability(&mut f, a),
            None => f.check("availability", WeeklyAvailability::new(Vec::new(), None)),
        };
        let home = match &input.home {
            Some(h) => parse_home(&mut f, h),
            None => Some(Home::default()),
        };
        let transport_modes = parse_transport(&mut f, &input.transport_modes);
        f.finish()?;
        Ok(EnrolCitizen {
            cpr: checked(cpr)?,
            name: checked(name)?,
            phone: checked(phone)?,
            municipality: checked(municipality)?,
            skills: checked(skills)?,
            availability: checked(availability)?,
            home: checked(home)?,
            transport_modes: checked(transport_modes)?,
        })
    }
}

/// Changes to a citizen; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct UpdateCitizen {
    /// Full name.
    pub name: Option<Name>,
    /// Phone number; `Some(None)` clears it.
    pub phone: Option<Option<Phone>>,
    /// The acting municipality; another than the coordinator's own hands the citizen over.
    pub municipality: Option<MunicipalityCode>,
    /// Skills.
    pub skills: Option<Vec<Skill>>,
    /// Weekly availability.
    pub availability: Option<WeeklyAvailability>,
    /// Home location; an empty [`Home`] clears it.
    pub home: Option<Home>,
    /// Transport modes.
    pub transport_modes: Option<Vec<TransportMode>>,
}

impl UpdateCitizen {
    /// Parses changes; every invalid field is named.
    pub fn parse(input: UpdateInput) -> Result<UpdateCitizen, ServiceError> {
        let mut f = Fields::new();
        let name = f.check_opt("name", input.name.as_deref().map(Name::parse));
        let phone = match &input.phone {
            Some(Some(p)) => f.check("phone", Phone::parse(p)).map(|p| Some(Some(p))),
            Some(None) => Some(Some(None)),
            None => Some(None),
        };
        let municipality = f.check_opt("municipality", input.municipality.as_deref().map(MunicipalityCode::parse));
        let skills = f.check_opt("skills", input.skills.as_deref().map(parse_skills));
        let availability = match &input.availability {
            Some(a) => parse_availability(&mut f, a).map(Some),
            None => Some(None),
        };
        let home = match &input.home {
            Some(Some(h)) => parse_home(&mut f, h).map(Some),
            Some(None) => Some(Some(Home::default())),
            None => Some(None),
        };
        let transport_modes = match &input.transport_modes {
            Some(t) => parse_transport(&mut f, t).map(Some),
            None => Some(None),
        };
        f.finish()?;
        Ok(UpdateCitizen {
            name: checked(name)?,
            phone: checked(phone)?,
            municipality: checked(municipality)?,
            skills: checked(skills)?,
            availability: checked(availability)?,
            home: checked(home)?,
            transport_modes: checked(transport_modes)?,
        })
    }
}

/// Lists a municipality's citizens.
#[derive(Debug, Clone, Copy)]
pub struct ListCitizens {
    /// Which citizens by their card.
    pub frikort: CardFilter,
    /// Which page.
    pub page: Page,
}

impl ListCitizens {
    /// Parses the card filter: `active`, `deactivated` or `none`; absent lists everyone.
    pub fn parse(frikort: Option<&str>, page: Page) -> Result<ListCitizens, ServiceError> {
        let frikort = match frikort {
            None => CardFilter::Any,
            Some("active") => CardFilter::Status("active"),
            Some("deactivated") => CardFilter::Status("deactivated"),
            Some("none") => CardFilter::NoCard,
            Some(_) => return Err(ServiceError::field("frikort", "frikort_filter", "use active, deactivated or none")),
        };
        Ok(ListCitizens { frikort, page })
    }
}

/// A citizen with their stored lists read, and a brief of their card.
#[derive(Debug, Clone)]
pub struct Citizen {
    /// The stored citizen.
    pub row: CitizenRow,
    /// The acting municipality.
    pub municipality: MunicipalityCode,
    /// Skills.
    pub skills: Vec<String>,
    /// Weekly availability.
    pub availability: WeeklyAvailability,
    /// Transport modes.
    pub transport_modes: Vec<TransportMode>,
    /// Their card, if they have one.
    pub card: Option<CardSummary>,
}

/// A page of citizens.
#[derive(Debug, Clone)]
pub struct CitizenList {
    /// The citizens of this page, by name.
    pub items: Vec<Citizen>,
    /// How many match in all.
    pub total: i64,
    /// The page.
    pub page: Page,
}

/// Reads a stored citizen; a stored value that does not read is an error.
pub fn read(row: CitizenRow, card: Option<CardSummary>) -> Result<Citizen, ServiceError> {
    let municipality = MunicipalityCode::parse(&row.municipality)
        .map_err(|_| ServiceError::internal(format!("stored municipality `{}` is invalid", row.municipality)))?;
    Ok(Citizen {
        municipality,
        skills: stored_json(&row.skills, "skills")?,
        availability: stored_json(&row.availability, "availability")?,
        transport_modes: stored_json(&row.transport_modes, "transport modes")?,
        row,
        card,
    })
}

fn stored_json<T: serde::de::DeserializeOwned>(s: &str, what: &str) -> Result<T, ServiceError> {
    serde_json::from_str(s).map_err(|e| ServiceError::internal(format!("stored {what} are corrupt: {e}")))
}

/// The calling citizen's id in canonical form: 403 for another role, 404 when it cannot name a
/// citizen.
pub fn own_id(principal: &Principal) -> Result<String, ServiceError> {
    let raw = principal.citizen()?;
    uuid::Uuid::parse_str(raw).map(|u| u.to_string()).map_err(|_| ServiceError::NotFound("citizen"))
}

/// Enrols a citizen in the coordinator's municipality; the CPR is stored only encrypted and
/// as a keyed hash, so one person is enrolled once.
pub fn enrol(
    conn: &mut DbConn,
    key: &DataKey,
    principal: &Principal,
    cmd: EnrolCitizen,
) -> Result<Citizen, ServiceError> {
    let own = principal.coordinator()?;
    if cmd.municipality.is_some_and(|m| m != own) {
        return Err(ServiceError::Forbidden("coordinators enrol citizens in their own municipality only".into()));
    }
    let id = new_id();
    let t = now();
    let row = CitizenRow {
        cpr_hash: key.lookup_hash(cmd.cpr.digits()),
        cpr_ciphertext: key.encrypt(&id, cmd.cpr.digits()),
        birth_date: cmd.cpr.birth_date(),
        name: cmd.name.as_str().to_owned(),
        phone: cmd.phone.map(|p| p.as_str().to_owned()),
        municipality: own.to_string(),
        skills: skills_json(&cmd.skills)?,
        availability: json(&cmd.availability)?,
        home_lat: cmd.home.point.map(|p| p.lat()),
        home_lon: cmd.home.point.map(|p| p.lon()),
        postcode: cmd.home.postcode.map(|p| p.to_string()),
        transport_modes: transport_json(&cmd.transport_modes)?,
        created_at: t,
        updated_at: t,
        id,
    };
    if citizens::find_id_by_cpr_hash(conn, &row.cpr_hash)?.is_some() {
        return Err(citizen_exists());
    }
    citizens::insert(conn, &row).map_err(|e| if e.is_conflict_on("cpr_hash") { citizen_exists() } else { e.into() })?;
    audit::append(conn, &[entry(principal, "citizen.created", "citizen", &row.id, Some(&row.municipality), None)])?;
    read(row, None)
}

fn citizen_exists() -> ServiceError {
    ServiceError::conflict(
        Code::CitizenExists,
        "a citizen with this CPR is already enrolled; if they live in another municipality, that municipality hands them over",
    )
}

/// One page of the coordinator's citizens by name; each citizen shown is logged.
pub fn list(conn: &mut DbConn, principal: &Principal, cmd: ListCitizens) -> Result<Audited<CitizenList>, ServiceError> {
    let own = principal.coordinator()?.to_string();
    let (rows, total) = citizens::list(conn, &own, cmd.frikort, cmd.page)?;
    let entries =
        rows.iter().map(|(r, _)| entry(principal, "citizen.listed", "citizen", &r.id, Some(&own), None)).collect();
    let items = rows.into_iter().map(|(r, c)| read(r, c)).collect::<Result<_, _>>()?;
    Ok(Audited::new(CitizenList { items, total, page: cmd.page }, entries))
}

/// One citizen of the coordinator's municipality.
pub fn get(conn: &mut DbConn, principal: &Principal, id: &str) -> Result<Audited<Citizen>, ServiceError> {
    let own = principal.coordinator()?;
    let scoped = scope::citizen(conn, own, id)?;
    let logged = entry(principal, "citizen.read", "citizen", id, Some(&scoped.citizen.municipality), None);
    Ok(Audited::new(read(scoped.citizen, scoped.card)?, vec![logged]))
}

/// Changes a citizen of the coordinator's municipality. A new municipality hands the citizen
/// (and their card) over: the move is logged in both municipalities' logs, and the current one
/// loses access.
pub fn update(conn: &mut DbConn, principal: &Principal, id: &str, cmd: UpdateCitizen) -> Result<Citizen, ServiceError> {
    let own = principal.coordinator()?;
    let scope::ScopedCitizen { citizen: mut row, card } = scope::citizen(conn, own, id)?;
    let mut changed: Vec<&str> = Vec::new();
    if let Some(n) = cmd.name {
        row.name = n.as_str().to_owned();
        changed.push("name");
    }
    if let Some(p) = cmd.phone {
        row.phone = p.map(|p| p.as_str().to_owned());
        changed.push("phone");
    }
    if let Some(s) = cmd.skills {
        row.skills = skills_json(&s)?;
        changed.push("skills");
    }
    if let Some(a) = cmd.availability {
        row.availability = json(&a)?;
        changed.push("availability");
    }
    if let Some(home) = cmd.home {
        row.home_lat = home.point.map(|p| p.lat());
        row.home_lon = home.point.map(|p| p.lon());
        row.postcode = home.postcode.map(|p| p.to_string());
        changed.push("home");
    }
    if let Some(t) = cmd.transport_modes {
        row.transport_modes = transport_json(&t)?;
        changed.push("transport_modes");
    }
    let mut entries = Vec::new();
    if !changed.is_empty() {
        let details = serde_json::json!({ "fields": changed });
        entries.push(entry(principal, "citizen.updated", "citizen", id, Some(&row.municipality), Some(details)));
    }
    if let Some(to) = cmd.municipality.filter(|m| *m != own) {
        let (from, to) = (own.to_string(), to.to_string());
        let details = serde_json::json!({ "from": from, "to": to });
        entries.push(entry(principal, "citizen.moved_out", "citizen", id, Some(&from), Some(details.clone())));
        entries.push(entry(principal, "citizen.moved_in", "citizen", id, Some(&to), Some(details)));
        row.municipality = to;
    }
    row.updated_at = now();
    citizens::update(conn, &row)?;
    audit::append(conn, &entries)?;
    read(row, card)
}

/// The calling citizen's own data.
pub fn me(conn: &mut DbConn, principal: &Principal) -> Result<Audited<Citizen>, ServiceError> {
    let id = own_id(principal)?;
    let (row, card) = citizens::find(conn, &id).or_not_found("citizen")?;
    let logged = entry(principal, "citizen.read_self", "citizen", &id, Some(&row.municipality), None);
    Ok(Audited::new(read(row, card)?, vec![logged]))
}

fn skills_json(skills: &[Skill]) -> Result<String, ServiceError> {
    json(&skills.iter().map(|s| s.as_str()).collect::<Vec<_>>())
}

fn transport_json(modes: &[TransportMode]) -> Result<String, ServiceError> {
    json(&modes.iter().map(|t| t.as_str()).collect::<Vec<_>>())
}

/// Parses weekly availability, recording problems under `availability.*`.
pub fn parse_availability(f: &mut Fields, a: &AvailabilityInput) -> Option<WeeklyAvailability> {
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

/// Parses a home location, recording problems under `home.*`.
pub fn parse_home(f: &mut Fields, h: &HomeInput) -> Option<Home> {
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
    Some(Home { point: point?, postcode: postcode? })
}

/// Parses transport modes (duplicates dropped), recording the first unknown one.
pub fn parse_transport(f: &mut Fields, modes: &[String]) -> Option<Vec<TransportMode>> {
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
