//! `smaajob demo`: a small, realistic Randers data set. Idempotent: rows that exist are kept.
//!
//! It makes the municipality's point about transport: citizens live in and around the city
//! centre, two production companies sit in industrial areas outside it, and a hand-written
//! timetable of three bus lines (`demo/gtfs/randers`) serves them. Line 3 reaches Randers NØ at
//! 06:24, after the packaging company's early shift starts at 06:00, so the transport-gap report
//! shows a real gap there, while line 1 brings people to Paderup in time for 07:00.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};
use smaajob_domain::matching::{CoarseHome, DanishPoint};
use smaajob_domain::{
    CardEventKind, CardStatus, CompanyId, Cpr, Cvr, Money, RANDERS, Schedule, TaskStatus, TransportMode, Verification,
    WeeklyAvailability, with_valid_checksum,
};
use smaajob_persistence::crypto::DataKey;
use smaajob_persistence::repo::citizens::{self, CitizenRow};
use smaajob_persistence::repo::companies::{self, CompanyRow};
use smaajob_persistence::repo::frikort::{self, CardEventRow, CardRow};
use smaajob_persistence::repo::tasks::{self, TaskRow, TaskScope};
use smaajob_persistence::repo::{Page, gtfs as feeds};
use smaajob_persistence::repo::{new_id, now};
use smaajob_persistence::types::{Json, new_record_id};
use smaajob_persistence::{DbConn, RepoError, write_transaction};

/// What the demo loader created or found.
#[derive(Debug, Default)]
pub struct DemoSummary {
    /// (name, id) of each demo company.
    pub companies: Vec<(String, String)>,
    /// (name, id, card number and status) of each demo citizen.
    pub citizens: Vec<(String, String, Option<String>)>,
    /// (title, id) of each demo task.
    pub tasks: Vec<(String, String)>,
    /// The id of Randers' timetable, and whether the demo imported it now.
    pub feed: Option<(String, bool)>,
    /// How many rows were new.
    pub created: usize,
}

struct DemoCitizen {
    cpr: &'static str,
    name: &'static str,
    municipality: &'static str,
    skills: &'static [&'static str],
    /// The card's status; its number is drawn at random like every issued card's, so it tells
    /// nothing about the municipality.
    card: Option<CardStatus>,
    /// Where they live (snapped to the home grid when stored).
    home: Option<(f64, f64)>,
    /// How they get about.
    modes: &'static [TransportMode],
}

use TransportMode::{Bicycle, PublicTransport as Bus, Walk};

const CITIZENS: &[DemoCitizen] = &[
    DemoCitizen {
        cpr: "120398-1235",
        name: "Mads Kristensen",
        municipality: "730",
        skills: &["bageri", "rengøring"],
        card: Some(CardStatus::Active),
        home: Some((56.4610, 10.0330)),
        modes: &[Bicycle, Bus],
    },
    DemoCitizen {
        cpr: "030785-2346",
        name: "Lone Pedersen",
        municipality: "730",
        skills: &["lager", "truckcertifikat"],
        card: Some(CardStatus::Active),
        home: Some((56.4655, 10.0415)),
        modes: &[Bus],
    },
    DemoCitizen {
        cpr: "250661-1457",
        name: "Henrik Sørensen",
        municipality: "730",
        skills: &["havearbejde"],
        card: Some(CardStatus::Deactivated),
        home: Some((56.4585, 10.0450)),
        modes: &[Bicycle, Bus],
    },
    DemoCitizen {
        cpr: "090902-4568",
        name: "Sara Nielsen",
        municipality: "730",
        skills: &["kasse", "opfyldning"],
        card: None,
        home: Some((56.4600, 10.0370)),
        modes: &[Walk, Bus],
    },
    DemoCitizen {
        cpr: "171177-3679",
        name: "Jonas Holm",
        municipality: "751",
        skills: &["køkken"],
        card: Some(CardStatus::Active),
        home: None,
        modes: &[Bicycle, Bus],
    },
    DemoCitizen {
        cpr: "140504-4121",
        name: "Ahmed Hussein",
        municipality: "730",
        skills: &["lager", "pakning"],
        card: Some(CardStatus::Active),
        home: Some((56.4625, 10.0300)),
        modes: &[Bus],
    },
    DemoCitizen {
        cpr: "020603-4232",
        name: "Emma Lauridsen",
        municipality: "730",
        skills: &["lager", "pakning"],
        card: Some(CardStatus::Active),
        home: Some((56.4590, 10.0400)),
        modes: &[Bus],
    },
    DemoCitizen {
        cpr: "230901-4343",
        name: "Oliver Madsen",
        municipality: "730",
        skills: &["lager", "montage"],
        card: Some(CardStatus::Active),
        home: Some((56.4490, 10.0060)),
        modes: &[Bicycle, Bus],
    },
    DemoCitizen {
        cpr: "110796-1454",
        name: "Freja Jakobsen",
        municipality: "730",
        skills: &["lager", "montage", "pakning"],
        card: None,
        home: Some((56.4670, 10.0430)),
        modes: &[Bicycle, Bus],
    },
    DemoCitizen {
        cpr: "300405-4565",
        name: "Noah Christiansen",
        municipality: "730",
        skills: &["lager", "montage"],
        card: Some(CardStatus::Active),
        home: Some((56.4500, 10.0750)),
        modes: &[Walk, Bus],
    },
];

/// A demo company: CVR prefix, name, address, contact, and where it is (lat, lon).
type DemoCompany = (u32, &'static str, &'static str, &'static str, (f64, f64));

const COMPANIES: &[DemoCompany] = &[
    (3051804, "Bageriet på Torvet ApS", "Torvegade 4, 8900 Randers C", "Karen Bager", (56.4607, 10.0364)),
    (3218776, "Randers Genbrug og Lager I/S", "Industrivej 12, 8930 Randers NØ", "Peter Lund", (56.4730, 10.0900)),
    (2971133, "Café Gudenå", "Toldbodgade 2, 8900 Randers C", "Mette Åby", (56.4590, 10.0420)),
    (3340517, "Randers Emballage A/S", "Grenåvej 150, 8930 Randers NØ", "Birgitte Holst", (56.4748, 10.0955)),
    (3389204, "Paderup Montage ApS", "Paderupvej 20, 8920 Randers NV", "Ole Vestergaard", (56.4383, 9.9875)),
];

/// A demo task: the company (by name), title, description, required skills, shift times, and
/// paid minutes per shift.
struct DemoTask {
    company: &'static str,
    title: &'static str,
    description: &'static str,
    skills: &'static [&'static str],
    start: (u32, u32),
    end: (u32, u32),
    paid_minutes: i32,
}

const TASKS: &[DemoTask] = &[
    DemoTask {
        company: "Randers Emballage A/S",
        title: "Pakkeri, tidlig vagt",
        description: "Pak og stabl kasser ved pakkelinjen. Vagten starter kl. 6.",
        skills: &["lager"],
        start: (6, 0),
        end: (14, 0),
        paid_minutes: 450,
    },
    DemoTask {
        company: "Paderup Montage ApS",
        title: "Montage af reoler, dagvagt",
        description: "Saml reoler efter tegning sammen med en fast medarbejder.",
        skills: &["montage"],
        start: (7, 0),
        end: (15, 0),
        paid_minutes: 450,
    },
];

/// The demo timetable's files, zipped as an import reads them.
const FEED_FILES: &[(&str, &str)] = &[
    ("agency.txt", include_str!("../../../demo/gtfs/randers/agency.txt")),
    ("calendar.txt", include_str!("../../../demo/gtfs/randers/calendar.txt")),
    ("routes.txt", include_str!("../../../demo/gtfs/randers/routes.txt")),
    ("stop_times.txt", include_str!("../../../demo/gtfs/randers/stop_times.txt")),
    ("stops.txt", include_str!("../../../demo/gtfs/randers/stops.txt")),
    ("trips.txt", include_str!("../../../demo/gtfs/randers/trips.txt")),
];

/// The demo timetable as a GTFS zip.
pub fn randers_feed() -> Result<Vec<u8>, RepoError> {
    use std::io::Write;
    let fail = |e: &dyn std::fmt::Display| RepoError::Config(format!("cannot zip the demo timetable: {e}"));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in FEED_FILES {
        zip.start_file(*name, options).map_err(|e| fail(&e))?;
        zip.write_all(text.as_bytes()).map_err(|e| fail(&e))?;
    }
    Ok(zip.finish().map_err(|e| fail(&e))?.into_inner())
}

/// The Monday after `today`: the demo's weekly tasks run four weeks from then.
fn next_monday(today: NaiveDate) -> NaiveDate {
    today + Duration::days(7 - i64::from(today.weekday().num_days_from_monday()))
}

fn cvr_from(prefix: u32) -> Option<Cvr> {
    (prefix..prefix + 50).find_map(with_valid_checksum)
}

/// Loads the demo data set in one transaction.
pub fn load(conn: &mut DbConn, key: &DataKey) -> Result<DemoSummary, RepoError> {
    write_transaction(conn, |conn| {
        let mut summary = DemoSummary::default();
        let t = now();
        for (prefix, name, address, contact, (lat, lon)) in COMPANIES {
            let cvr = cvr_from(*prefix).ok_or_else(|| RepoError::Config("no valid demo CVR".into()))?.to_string();
            let id = match companies::find_by_cvr(conn, &cvr)? {
                Some(c) => c.id.to_string(),
                None => {
                    let row = CompanyRow {
                        id: new_record_id(),
                        cvr,
                        name: (*name).into(),
                        address: Some((*address).into()),
                        postcode: address.split(", ").nth(1).map(|p| p[..4].to_owned()),
                        lat: Some(*lat),
                        lon: Some(*lon),
                        contact_name: (*contact).into(),
                        contact_phone: Some("+4586123456".into()),
                        contact_email: None,
                        verification: Verification::Verified,
                        verification_reason: None,
                        municipality: Some("730".into()),
                        created_at: t,
                        updated_at: t,
                    };
                    companies::insert(conn, &row)?;
                    summary.created += 1;
                    row.id.to_string()
                }
            };
            summary.companies.push(((*name).into(), id));
        }
        for c in CITIZENS {
            let cpr = Cpr::parse(c.cpr).map_err(|_| RepoError::Config("invalid demo CPR".into()))?;
            let hash = key.lookup_hash(cpr.digits());
            let id = match citizens::find_id_by_cpr_hash(conn, &hash)? {
                Some(id) => id,
                None => {
                    let id = new_id();
                    let home = match c.home {
                        Some((lat, lon)) => Some(CoarseHome::snap(
                            DanishPoint::parse(lat, lon)
                                .map_err(|e| RepoError::Config(format!("demo home outside Denmark: {e}")))?,
                        )),
                        None => None,
                    };
                    let row = CitizenRow {
                        cpr_hash: hash,
                        cpr_ciphertext: key.encrypt(&id, cpr.digits()),
                        birth_date: cpr.birth_date(),
                        name: c.name.into(),
                        phone: None,
                        municipality: c.municipality.into(),
                        skills: Json(c.skills.iter().map(|s| (*s).to_owned()).collect()),
                        availability: Json(WeeklyAvailability::default()),
                        home_lat: home.map(|h| h.point().lat()),
                        home_lon: home.map(|h| h.point().lon()),
                        postcode: Some(if c.municipality == "730" { "8900" } else { "8000" }.into()),
                        transport_modes: Json(c.modes.to_vec()),
                        created_at: t,
                        updated_at: t,
                        max_travel_minutes: 45,
                        id: id.clone(),
                    };
                    citizens::insert(conn, &row)?;
                    summary.created += 1;
                    id
                }
            };
            let mut status = None;
            if let Some(wanted) = c.card {
                let existing = frikort::find_by_citizen(conn, &id)?;
                if let Some(card) = &existing {
                    status = Some(format!("{}, {}", card.number, card.status));
                } else {
                    let number = crate::services::frikort::free_number(conn)
                        .map_err(|e| RepoError::Config(format!("no free demo card number: {e}")))?;
                    status = Some(format!("{number}, {wanted}"));
                    let year = t.year() - 1;
                    let issued = NaiveDate::from_ymd_opt(year, 2, 1).unwrap_or(t.date());
                    let card = CardRow {
                        id: new_record_id(),
                        citizen_id: id.clone(),
                        number: number.as_str().to_owned(),
                        status: wanted,
                        valid_from: issued,
                        issued_on: issued,
                        last_control_on: None,
                        status_changed_at: t,
                        created_at: t,
                        updated_at: t,
                    };
                    frikort::insert(conn, &card)?;
                    let mut events =
                        vec![(CardEventKind::Issued, issued.and_hms_opt(0, 0, 0).unwrap_or(t), Some("demo data"))];
                    if wanted == CardStatus::Deactivated {
                        events.push((CardEventKind::Deactivated, t, Some("demo: started SU-eligible education")));
                    }
                    for (kind, at, reason) in events {
                        frikort::append_event(
                            conn,
                            &CardEventRow {
                                id: new_id(),
                                card_id: card.id.clone(),
                                kind,
                                effective_at: at,
                                corrected_from: None,
                                reason: reason.map(Into::into),
                                attestations: None,
                                actor: "demo".into(),
                                municipality: c.municipality.into(),
                                recorded_at: t,
                            },
                        )?;
                    }
                    summary.created += 1;
                }
            }
            summary.citizens.push((c.name.into(), id, status));
        }
        load_tasks(conn, &mut summary)?;
        load_feed(conn, &mut summary)?;
        Ok(summary)
    })
}

/// Opens the demo tasks (weekdays, four weeks from next Monday) unless the company has one of
/// the same title.
fn load_tasks(conn: &mut DbConn, summary: &mut DemoSummary) -> Result<(), RepoError> {
    let t = now();
    let from = next_monday(crate::services::common::today_copenhagen());
    let to = from + Duration::days(25);
    for d in TASKS {
        let Some((_, company_id)) = summary.companies.iter().find(|(n, _)| n == d.company) else {
            return Err(RepoError::Config(format!("no demo company {}", d.company)));
        };
        let Some(&(_, _, address, _, (lat, lon))) = COMPANIES.iter().find(|c| c.1 == d.company) else {
            return Err(RepoError::Config(format!("no demo company {}", d.company)));
        };
        let company_id = CompanyId::parse(company_id).map_err(|e| RepoError::Config(e.to_string()))?;
        let all = Page { limit: 1000, offset: 0 };
        let (own, _) = tasks::list(conn, &TaskScope::Company(company_id.clone()), None, all)?;
        if let Some(existing) = own.iter().find(|l| l.task.title == d.title) {
            summary.tasks.push((d.title.into(), existing.task.id.clone()));
            continue;
        }
        let time = |(h, m): (u32, u32)| {
            NaiveTime::from_hms_opt(h, m, 0).ok_or_else(|| RepoError::Config("invalid demo shift time".into()))
        };
        let weekdays = vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri];
        let schedule = Schedule::weekly(weekdays, time(d.start)?, time(d.end)?, from, to)
            .map_err(|e| RepoError::Config(format!("invalid demo schedule: {e}")))?;
        let row = TaskRow {
            id: new_id(),
            company_id: company_id.clone(),
            municipality: "730".into(),
            title: d.title.into(),
            description: d.description.into(),
            required_skills: Json(d.skills.iter().map(|s| (*s).to_owned()).collect()),
            address: Some(address.into()),
            lat: Some(lat),
            lon: Some(lon),
            first_date: schedule.first_date(),
            last_date: schedule.last_date(),
            schedule: Json(schedule),
            paid_minutes_per_shift: d.paid_minutes,
            hourly_wage: Money::from_ore(14_500),
            positions: 2,
            frikort_only: false,
            contact_name: "Demo Kontakt".into(),
            contact_phone: Some("+4586123456".into()),
            contact_email: None,
            status: TaskStatus::Open,
            opened_at: Some(t),
            filled_at: None,
            closed_at: None,
            close_reason: None,
            created_by: "demo".into(),
            created_at: t,
            updated_at: t,
        };
        tasks::insert(conn, &row)?;
        summary.created += 1;
        summary.tasks.push((d.title.into(), row.id));
    }
    Ok(())
}

/// Imports the demo timetable as Randers' feed unless Randers has one.
fn load_feed(conn: &mut DbConn, summary: &mut DemoSummary) -> Result<(), RepoError> {
    if let Some(feed) = feeds::current(conn, &RANDERS.to_string())? {
        summary.feed = Some((feed.id, false));
        return Ok(());
    }
    let bytes = randers_feed()?;
    let imported = crate::services::gtfs::import_for(conn, RANDERS, "demo", &bytes)
        .map_err(|e| RepoError::Config(format!("the demo timetable is refused: {e}")))?;
    summary.created += 1;
    summary.feed = Some((imported.feed.id, true));
    Ok(())
}

/// The municipalities of the demo data, whose coordinators the development sign-in offers.
pub const MUNICIPALITIES: &[(&str, &str)] = &[("730", "Randers"), ("751", "Aarhus")];

/// Who of the demo data set is in the database now: the people the development sign-in offers.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DemoUsers {
    /// (name, id) of each demo company found.
    pub companies: Vec<(String, String)>,
    /// (name, id) of each demo citizen found.
    pub citizens: Vec<(String, String)>,
}

/// Finds the demo companies (by CVR) and citizens (by the keyed hash of their CPR) that are in
/// the database; reads only, and finds nobody before `smaajob demo` ran.
pub fn users(conn: &mut DbConn, key: &DataKey) -> Result<DemoUsers, RepoError> {
    let mut found = DemoUsers::default();
    for (prefix, name, ..) in COMPANIES {
        let cvr = cvr_from(*prefix).ok_or_else(|| RepoError::Config("no valid demo CVR".into()))?.to_string();
        if let Some(c) = companies::find_by_cvr(conn, &cvr)? {
            found.companies.push(((*name).into(), c.id.into()));
        }
    }
    for c in CITIZENS {
        let cpr = Cpr::parse(c.cpr).map_err(|_| RepoError::Config("invalid demo CPR".into()))?;
        if let Some(id) = citizens::find_id_by_cpr_hash(conn, &key.lookup_hash(cpr.digits()))? {
            found.citizens.push((c.name.into(), id));
        }
    }
    Ok(found)
}
