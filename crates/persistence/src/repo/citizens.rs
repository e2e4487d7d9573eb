//! Citizens: the people the coordinator works with. CPR is stored only encrypted and hashed.

use diesel::prelude::*;
use smaajob_domain::{CardStatus, TransportMode, WeeklyAvailability};

use crate::db::{DbConn, MultiBackend};
use crate::error::RepoError;
use crate::repo::periods::{self, PeriodRow};
use crate::repo::{Page, lock_row};
use crate::schema::{citizens, frikort_cards};
use crate::types::{Code, Json, JsonText};

/// A citizen as stored. `skills`, `availability` and `transport_modes` are JSON.
///
/// Serialized (for the record a municipality keeps of its period, see [`crate::repo::periods`]),
/// it leaves out the CPR's hash and ciphertext: a copy never carries the CPR.
#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, serde::Serialize, serde::Deserialize,
)]
#[diesel(table_name = citizens, check_for_backend(MultiBackend))]
#[diesel(treat_none_as_null = true)]
pub struct CitizenRow {
    /// Row id (UUID).
    pub id: String,
    /// Keyed hash of the CPR digits, for lookups and uniqueness.
    #[serde(skip)]
    pub cpr_hash: String,
    /// The CPR digits, encrypted and bound to `id`.
    #[serde(skip)]
    pub cpr_ciphertext: String,
    /// Birth date from the CPR (needed for age checks and the masked form).
    pub birth_date: chrono::NaiveDate,
    /// Full name.
    pub name: String,
    /// Phone number, normalized.
    pub phone: Option<String>,
    /// Acting municipality (handlekommune) code.
    pub municipality: String,
    /// Skills, stored as a JSON array of strings.
    #[diesel(serialize_as = JsonText)]
    #[serde(with = "crate::types::json_string")]
    pub skills: Json<Vec<String>>,
    /// Weekly availability, stored as JSON.
    #[diesel(serialize_as = JsonText)]
    #[serde(with = "crate::types::json_string")]
    pub availability: Json<WeeklyAvailability>,
    /// Home latitude.
    pub home_lat: Option<f64>,
    /// Home longitude.
    pub home_lon: Option<f64>,
    /// Home postcode.
    pub postcode: Option<String>,
    /// Transport modes, stored as a JSON array of codes.
    #[diesel(serialize_as = JsonText)]
    #[serde(with = "crate::types::json_string")]
    pub transport_modes: Json<Vec<TransportMode>>,
    /// Created (UTC).
    pub created_at: chrono::NaiveDateTime,
    /// Last changed (UTC).
    pub updated_at: chrono::NaiveDateTime,
}

/// The card facts shown beside a citizen.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct CardSummary {
    /// The card's 5-digit number.
    pub number: String,
    /// Whether the card is in force.
    pub status: CardStatus,
}

/// A citizen with their card, if any.
pub type CitizenWithCard = (CitizenRow, Option<CardSummary>);

/// How to filter a citizen list by frikort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardFilter {
    /// Every citizen.
    Any,
    /// Citizens with a card in this status.
    Status(CardStatus),
    /// Citizens who have never had a card.
    NoCard,
}

/// Inserts a citizen and starts their municipality's period of responsibility, so every
/// citizen has one from the start.
pub fn insert(conn: &mut DbConn, row: &CitizenRow) -> Result<(), RepoError> {
    diesel::insert_into(citizens::table).values(row.clone()).execute(conn)?;
    let period = PeriodRow {
        citizen_id: row.id.clone(),
        municipality: row.municipality.clone(),
        started_at: row.created_at,
        ended_at: None,
        reason: None,
        record_at_end: None,
    };
    periods::open(conn, &period)
}

/// Replaces a citizen's stored fields.
pub fn update(conn: &mut DbConn, row: &CitizenRow) -> Result<(), RepoError> {
    let n = diesel::update(citizens::table.find(&row.id)).set(row.clone()).execute(conn)?;
    if n == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// A citizen and their card, if any.
pub fn find(conn: &mut DbConn, id: &str) -> Result<CitizenWithCard, RepoError> {
    Ok(citizens::table
        .left_join(frikort_cards::table)
        .filter(citizens::id.eq(id))
        .select((CitizenRow::as_select(), (frikort_cards::number, frikort_cards::status).nullable()))
        .first(conn)?)
}

/// Locks a citizen's row for the rest of the transaction (see `repo::lock_row!`), so decisions that
/// weigh all of a citizen's placements — overlaps, weekly hours, frikort headroom — are taken one
/// at a time.
pub fn lock(conn: &mut DbConn, id: &str) -> Result<(), RepoError> {
    let _: String = lock_row!(&mut *conn, citizens::table.find(id).select(citizens::id))?;
    Ok(())
}

/// The id of the citizen with this CPR hash, if any.
pub fn find_id_by_cpr_hash(conn: &mut DbConn, hash: &str) -> Result<Option<String>, RepoError> {
    Ok(citizens::table.filter(citizens::cpr_hash.eq(hash)).select(citizens::id).first(conn).optional()?)
}

/// The citizen with this CPR hash and their card, if any, in one query: naming a citizen by
/// CPR and card number costs the same whether the CPR number is known or not.
pub fn find_by_cpr_hash(conn: &mut DbConn, hash: &str) -> Result<Option<CitizenWithCard>, RepoError> {
    Ok(citizens::table
        .left_join(frikort_cards::table)
        .filter(citizens::cpr_hash.eq(hash))
        .select((CitizenRow::as_select(), (frikort_cards::number, frikort_cards::status).nullable()))
        .first(conn)
        .optional()?)
}

/// One page of a municipality's citizens ordered by name, and how many match in all.
pub fn list(
    conn: &mut DbConn,
    municipality: &str,
    filter: CardFilter,
    page: Page,
) -> Result<(Vec<CitizenWithCard>, i64), RepoError> {
    let base = || {
        let q = citizens::table
            .left_join(frikort_cards::table)
            .filter(citizens::municipality.eq(municipality.to_owned()))
            .into_boxed();
        match filter {
            CardFilter::Any => q,
            CardFilter::Status(s) => q.filter(frikort_cards::status.nullable().eq(Code::from(s))),
            CardFilter::NoCard => q.filter(frikort_cards::id.nullable().is_null()),
        }
    };
    let total: i64 = base().count().get_result(conn)?;
    let rows = base()
        .select((CitizenRow::as_select(), (frikort_cards::number, frikort_cards::status).nullable()))
        .order((citizens::name.asc(), citizens::id.asc()))
        .limit(page.limit)
        .offset(page.offset)
        .load(conn)?;
    Ok((rows, total))
}
