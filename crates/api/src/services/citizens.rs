//! Citizens: enrolment by a coordinator, the municipality's list and one citizen, changes, the
//! transfer to a new municipality when a citizen moves, and the citizen's own view.

use chrono::{NaiveTime, Weekday};
use smaajob_domain::{
    AvailabilitySlot, CardStatus, Cpr, GeoPoint, MunicipalityCode, Name, Phone, Postcode, Skill, TransportMode,
    WeeklyAvailability, parse_skills,
};
use smaajob_persistence::crypto::DataKey;
use smaajob_persistence::repo::citizens::{self, CardFilter, CardSummary, CitizenRow};
use smaajob_persistence::repo::periods::{self, PeriodRow};
use smaajob_persistence::repo::{Page, audit, new_id, now};
use smaajob_persistence::types::Json;
use smaajob_persistence::{DbConn, RepoError};

use crate::services::audit::{Attempt, Audited, entry};
use crate::services::common::optional_text;
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
    /// What the citizen can do or wants to do, as free words, unchecked.
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
    /// Where the citizen lives or stays; absent for a citizen without an address.
    pub point: Option<GeoPoint>,
    /// The postcode, when the citizen has one.
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
    /// A new list of skills; replaces the old one whole.
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
            skills: checked(skills)?,
            availability: checked(availability)?,
            home: checked(home)?,
            transport_modes: checked(transport_modes)?,
        })
    }
}

/// The longest transfer reason, in characters.
const MAX_REASON: usize = 2000;

/// Takes over a citizen who moved here from another municipality.
#[derive(Debug, Clone)]
pub struct TransferCitizen {
    /// The citizen's CPR number.
    pub cpr: Cpr,
    /// Why (e.g. the move and its date), for both municipalities' logs.
    pub reason: String,
}

impl TransferCitizen {
    /// Parses a transfer; the reason is required free text.
    pub fn parse(cpr: &str, reason: &str) -> Result<TransferCitizen, ServiceError> {
        let mut f = Fields::new();
        let cpr = f.check("cpr", Cpr::parse(cpr));
        let text = optional_text(&mut f, "reason", Some(reason), MAX_REASON);
        if text.is_none() && reason.trim().is_empty() {
            f.push("reason", "required", "give the reason for the transfer");
        }
        f.finish()?;
        Ok(TransferCitizen { cpr: checked(cpr)?, reason: checked(text)? })
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
            Some("active") => CardFilter::Status(CardStatus::Active),
            Some("deactivated") => CardFilter::Status(CardStatus::Deactivated),
            Some("none") => CardFilter::NoCard,
            Some(_) => return Err(ServiceError::field("frikort", "frikort_filter", "use active, deactivated or none")),
        };
        Ok(ListCitizens { frikort, page })
    }
}

/// A citizen with their municipality read, and a brief of their card.
#[derive(Debug, Clone)]
pub struct Citizen {
    /// The stored citizen.
    pub row: CitizenRow,
    /// The acting municipality.
    pub municipality: MunicipalityCode,
    /// Their card, if they have one.
    pub card: Option<CardSummary>,
    /// Set when the reader's municipality is no longer responsible: the record is shown as it
    /// stood at this time (UTC), when the citizen moved on.
    pub responsible_until: Option<chrono::NaiveDateTime>,
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
    Ok(Citizen { municipality, row, card, responsible_until: None })
}

/// The calling citizen's id in canonical form: 403 for another role, 404 when it cannot name a
/// citizen.
pub fn own_id(principal: &Principal) -> Result<String, ServiceError> {
    let raw = principal.citizen()?;
    uuid::Uuid::parse_str(raw).map(|u| u.to_string()).map_err(|_| ServiceError::NotFound("citizen"))
}

/// Enrols a citizen in the coordinator's municipality; the CPR is stored only encrypted and
/// as a keyed hash, so one person is enrolled once. A person enrolled in another municipality is
/// not enrolled again (they moved: [`transfer`] takes them over): the refusal points to the
/// transfer without naming the other municipality, and is logged in both municipalities, so the
/// one responsible learns that someone looked for its citizen.
pub fn enrol(
    conn: &mut DbConn,
    key: &DataKey,
    principal: &Principal,
    cmd: EnrolCitizen,
) -> Result<Attempt<Citizen>, ServiceError> {
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
        skills: skills_json(&cmd.skills),
        availability: Json(cmd.availability.clone()),
        home_lat: cmd.home.point.map(|p| p.lat()),
        home_lon: cmd.home.point.map(|p| p.lon()),
        postcode: cmd.home.postcode.map(|p| p.to_string()),
        transport_modes: Json(cmd.transport_modes.clone()),
        created_at: t,
        updated_at: t,
        id,
    };
    if let Some(existing) = citizens::find_id_by_cpr_hash(conn, &row.cpr_hash)? {
        let (other, _) = citizens::find(conn, &existing)?;
        if other.municipality == row.municipality {
            return Err(citizen_exists());
        }
        // The attempt's id ties the two entries together without telling the caller the id of
        // another municipality's citizen.
        let attempt = new_id();
        let code = Code::CitizenEnrolledElsewhere.as_str();
        let entries = [
            entry(
                principal,
                "citizen.enrolment_refused",
                "enrolment",
                &attempt,
                Some(&row.municipality),
                Some(serde_json::json!({ "code": code })),
            ),
            entry(
                principal,
                "citizen.enrolment_attempted",
                "citizen",
                &other.id,
                Some(&other.municipality),
                Some(serde_json::json!({ "attempt": attempt, "by_municipality": row.municipality, "code": code })),
            ),
        ];
        audit::append(conn, &entries)?;
        return Ok(Attempt::Refused(ServiceError::conflict(
            Code::CitizenEnrolledElsewhere,
            "a citizen with this CPR is enrolled in another municipality; if they have moved here, take them over \
             with POST /api/v1/citizens/transfers (the CPR and a reason in the body); this attempt is logged in both \
             municipalities",
        )));
    }
    citizens::insert(conn, &row).map_err(|e| if e.is_conflict_on("cpr_hash") { citizen_exists() } else { e.into() })?;
    audit::append(conn, &[entry(principal, "citizen.created", "citizen", &row.id, Some(&row.municipality), None)])?;
    Ok(Attempt::Done(read(row, None)?))
}

fn citizen_exists() -> ServiceError {
    ServiceError::conflict(Code::CitizenExists, "a citizen with this CPR is already enrolled in your municipality")
}

/// Takes over a citizen who moved to the coordinator's municipality (§ 6: the citizen keeps the
/// card, the new municipality takes over the data). At the transfer time the old municipality's
/// period ends, keeping the record and card as they stood for it to read (see [`scope`]), and
/// the new one's begins; the citizen, the card and its history, employments and payouts are the
/// new municipality's from then on. The move is logged in both municipalities' logs, with the
/// reason.
///
/// Every attempt is logged. A CPR enrolled nowhere answers `not_enrolled`: that tells the caller
/// no more than an enrolment would (which succeeds for such a CPR), and a CPR that is enrolled
/// never answers without consequence: it is taken over, visibly to the old municipality.
pub fn transfer(
    conn: &mut DbConn,
    key: &DataKey,
    principal: &Principal,
    cmd: TransferCitizen,
) -> Result<Attempt<Citizen>, ServiceError> {
    let own = principal.coordinator()?.to_string();
    let Some(id) = citizens::find_id_by_cpr_hash(conn, &key.lookup_hash(cmd.cpr.digits()))? else {
        let error = ServiceError::rule(
            Code::NotEnrolled,
            "no citizen with this CPR is enrolled in any municipality; enrol them with POST /api/v1/citizens",
        );
        return refuse_transfer(conn, principal, &own, ("transfer", &new_id()), Code::NotEnrolled, error);
    };
    // Under the lock, so two municipalities taking over the same citizen go one after the other.
    citizens::lock(conn, &id)?;
    let (mut row, _) = citizens::find(conn, &id)?;
    if row.municipality == own {
        let error =
            ServiceError::conflict(Code::AlreadyResponsible, "the citizen is already enrolled in your municipality");
        return refuse_transfer(conn, principal, &own, ("citizen", &id), Code::AlreadyResponsible, error);
    }
    let at = now();
    let from = row.municipality.clone();
    let record = crate::services::common::json(&scope::RecordAtEnd::now(conn, row.clone())?)?;
    periods::close(conn, &id, at, &record).map_err(|e| match e {
        RepoError::NotFound => ServiceError::internal("a citizen without an open period of responsibility"),
        other => other.into(),
    })?;
    let period = PeriodRow {
        citizen_id: id.clone(),
        municipality: own.clone(),
        started_at: at,
        ended_at: None,
        reason: Some(cmd.reason.clone()),
        record_at_end: None,
    };
    periods::open(conn, &period)?;
    row.municipality = own.clone();
    row.updated_at = at;
    citizens::update(conn, &row)?;
    let transferred_at = chrono::TimeZone::from_utc_datetime(&chrono::Utc, &at);
    let details =
        serde_json::json!({ "from": from, "to": own, "reason": cmd.reason, "transferred_at": transferred_at });
    audit::append(
        conn,
        &[
            entry(principal, "citizen.transferred_out", "citizen", &id, Some(&from), Some(details.clone())),
            entry(principal, "citizen.transferred_in", "citizen", &id, Some(&own), Some(details)),
        ],
    )?;
    let (row, card) = citizens::find(conn, &id)?;
    Ok(Attempt::Done(read(row, card)?))
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

/// Logs a refused transfer in the caller's municipality's log and refuses it.
fn refuse_transfer(
    conn: &mut DbConn,
    principal: &Principal,
    own: &str,
    (target_type, target_id): (&str, &str),
    code: Code,
    error: ServiceError,
) -> Result<Attempt<Citizen>, ServiceError> {
    let details = serde_json::json!({ "code": code.as_str() });
    let logged = entry(principal, "citizen.transfer_refused", target_type, target_id, Some(own), Some(details));
    audit::append(conn, &[logged])?;
    Ok(Attempt::Refused(error))
}

/// One citizen of the coordinator's municipality, or, for a municipality the citizen has moved
/// away from, their record as it stood when they moved.
pub fn get(conn: &mut DbConn, principal: &Principal, id: &str) -> Result<Audited<Citizen>, ServiceError> {
    let own = principal.coordinator()?;
    match scope::citizen_record(conn, own, id)? {
        scope::CitizenRecord::Current(scoped) => {
            let logged = entry(principal, "citizen.read", "citizen", id, Some(&scoped.citizen.municipality), None);
            Ok(Audited::new(read(scoped.citizen, scoped.card)?, vec![logged]))
        }
        scope::CitizenRecord::Former { until, record } => {
            let card = record.card_summary();
            let mut citizen = read(record.citizen, card)?;
            citizen.responsible_until = Some(until);
            let details = serde_json::json!({ "as_of": chrono::TimeZone::from_utc_datetime(&chrono::Utc, &until) });
            let logged = entry(principal, "citizen.read", "citizen", id, Some(&own.to_string()), Some(details));
            Ok(Audited::new(citizen, vec![logged]))
        }
    }
}

/// Changes a citizen of the coordinator's municipality. A move to another municipality is not a
/// change but a [`transfer`], made by the new municipality.
pub fn update(conn: &mut DbConn, principal: &Principal, id: &str, cmd: UpdateCitizen) -> Result<Citizen, ServiceError> {
    let own = principal.coordinator()?;
    let scope::ScopedCitizen { citizen: mut row, card } = scope::citizen_for_change(conn, own, id)?;
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
        row.skills = skills_json(&s);
        changed.push("skills");
    }
    if let Some(a) = cmd.availability {
        row.availability = Json(a);
        changed.push("availability");
    }
    if let Some(home) = cmd.home {
        row.home_lat = home.point.map(|p| p.lat());
        row.home_lon = home.point.map(|p| p.lon());
        row.postcode = home.postcode.map(|p| p.to_string());
        changed.push("home");
    }
    if let Some(t) = cmd.transport_modes {
        row.transport_modes = Json(t);
        changed.push("transport_modes");
    }
    let mut entries = Vec::new();
    if !changed.is_empty() {
        let details = serde_json::json!({ "fields": changed });
        entries.push(entry(principal, "citizen.updated", "citizen", id, Some(&row.municipality), Some(details)));
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

fn skills_json(skills: &[Skill]) -> Json<Vec<String>> {
    Json(skills.iter().map(|s| s.as_str().to_owned()).collect())
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
