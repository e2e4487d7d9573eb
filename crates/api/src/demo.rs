//! `smaajob demo`: a small, realistic Randers data set. Idempotent: rows that exist are kept.

use chrono::{Datelike, NaiveDate};
use smaajob_domain::{
    CardEventKind, CardStatus, Cpr, Cvr, TransportMode, Verification, WeeklyAvailability, with_valid_checksum,
};
use smaajob_persistence::crypto::DataKey;
use smaajob_persistence::repo::citizens::{self, CitizenRow};
use smaajob_persistence::repo::companies::{self, CompanyRow};
use smaajob_persistence::repo::frikort::{self, CardEventRow, CardRow};
use smaajob_persistence::repo::{new_id, now};
use smaajob_persistence::types::Json;
use smaajob_persistence::{DbConn, RepoError, write_transaction};

/// What the demo loader created or found.
#[derive(Debug, Default)]
pub struct DemoSummary {
    /// (name, id) of each demo company.
    pub companies: Vec<(String, String)>,
    /// (name, id, card number and status) of each demo citizen.
    pub citizens: Vec<(String, String, Option<String>)>,
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
}

const CITIZENS: &[DemoCitizen] = &[
    DemoCitizen {
        cpr: "120398-1235",
        name: "Mads Kristensen",
        municipality: "730",
        skills: &["bageri", "rengøring"],
        card: Some(CardStatus::Active),
    },
    DemoCitizen {
        cpr: "030785-2346",
        name: "Lone Pedersen",
        municipality: "730",
        skills: &["lager", "truckcertifikat"],
        card: Some(CardStatus::Active),
    },
    DemoCitizen {
        cpr: "250661-1457",
        name: "Henrik Sørensen",
        municipality: "730",
        skills: &["havearbejde"],
        card: Some(CardStatus::Deactivated),
    },
    DemoCitizen {
        cpr: "090902-4568",
        name: "Sara Nielsen",
        municipality: "730",
        skills: &["kasse", "opfyldning"],
        card: None,
    },
    DemoCitizen {
        cpr: "171177-3679",
        name: "Jonas Holm",
        municipality: "751",
        skills: &["køkken"],
        card: Some(CardStatus::Active),
    },
];

const COMPANIES: &[(u32, &str, &str, &str)] = &[
    (3051804, "Bageriet på Torvet ApS", "Torvegade 4, 8900 Randers C", "Karen Bager"),
    (3218776, "Randers Genbrug og Lager I/S", "Industrivej 12, 8930 Randers NØ", "Peter Lund"),
    (2971133, "Café Gudenå", "Toldbodgade 2, 8900 Randers C", "Mette Åby"),
];

fn cvr_from(prefix: u32) -> Option<Cvr> {
    (prefix..prefix + 50).find_map(with_valid_checksum)
}

/// Loads the demo data set in one transaction.
pub fn load(conn: &mut DbConn, key: &DataKey) -> Result<DemoSummary, RepoError> {
    write_transaction(conn, |conn| {
        let mut summary = DemoSummary::default();
        let t = now();
        for (prefix, name, address, contact) in COMPANIES {
            let cvr = cvr_from(*prefix).ok_or_else(|| RepoError::Config("no valid demo CVR".into()))?.to_string();
            let id = match companies::find_by_cvr(conn, &cvr)? {
                Some(c) => c.id,
                None => {
                    let row = CompanyRow {
                        id: new_id(),
                        cvr,
                        name: (*name).into(),
                        address: Some((*address).into()),
                        postcode: address.split(", ").nth(1).map(|p| p[..4].to_owned()),
                        lat: Some(56.4607),
                        lon: Some(10.0364),
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
                    row.id
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
                    let row = CitizenRow {
                        cpr_hash: hash,
                        cpr_ciphertext: key.encrypt(&id, cpr.digits()),
                        birth_date: cpr.birth_date(),
                        name: c.name.into(),
                        phone: None,
                        municipality: c.municipality.into(),
                        skills: Json(c.skills.iter().map(|s| (*s).to_owned()).collect()),
                        availability: Json(WeeklyAvailability::default()),
                        home_lat: None,
                        home_lon: None,
                        postcode: Some(if c.municipality == "730" { "8900" } else { "8000" }.into()),
                        transport_modes: Json(vec![TransportMode::Bicycle, TransportMode::PublicTransport]),
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
                        id: new_id(),
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
        Ok(summary)
    })
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
    for (prefix, name, _, _) in COMPANIES {
        let cvr = cvr_from(*prefix).ok_or_else(|| RepoError::Config("no valid demo CVR".into()))?.to_string();
        if let Some(c) = companies::find_by_cvr(conn, &cvr)? {
            found.companies.push(((*name).into(), c.id));
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
