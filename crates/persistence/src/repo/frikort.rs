//! Frikort cards and their append-only history of decisions.

use diesel::prelude::*;
use smaajob_domain::{Attestations, CardEventKind, CardId, CardStatus};

use crate::db::{DbConn, MultiBackend};
use crate::error::RepoError;
use crate::schema::{citizens, frikort_cards, frikort_events};
use crate::types::{Code, IdText, Json, NullableJsonText};

/// A card's current state.
#[derive(
    Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset, serde::Serialize, serde::Deserialize,
)]
#[diesel(table_name = frikort_cards, check_for_backend(MultiBackend))]
#[diesel(treat_none_as_null = true)]
pub struct CardRow {
    /// Row id (UUID).
    #[diesel(serialize_as = IdText)]
    pub id: CardId,
    /// The card holder.
    pub citizen_id: String,
    /// 5-digit card number, unique.
    pub number: String,
    /// Whether the card is in force.
    #[diesel(serialize_as = Code)]
    pub status: CardStatus,
    /// The date the card is valid from.
    pub valid_from: chrono::NaiveDate,
    /// The date (Europe/Copenhagen) it was issued.
    pub issued_on: chrono::NaiveDate,
    /// The date of the latest control of the conditions, if any.
    pub last_control_on: Option<chrono::NaiveDate>,
    /// When the status last changed (the decision time, UTC).
    pub status_changed_at: chrono::NaiveDateTime,
    /// Created (UTC).
    pub created_at: chrono::NaiveDateTime,
    /// Last changed (UTC).
    pub updated_at: chrono::NaiveDateTime,
}

/// One decision in a card's history.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = frikort_events, check_for_backend(MultiBackend))]
pub struct CardEventRow {
    /// Row id (UUID).
    pub id: String,
    /// The card.
    #[diesel(serialize_as = IdText)]
    pub card_id: CardId,
    /// What was decided.
    #[diesel(serialize_as = Code)]
    pub kind: CardEventKind,
    /// When the decision takes effect (UTC).
    pub effective_at: chrono::NaiveDateTime,
    /// The originally recorded effective time, when it was later corrected.
    pub corrected_from: Option<chrono::NaiveDateTime>,
    /// The reason given.
    pub reason: Option<String>,
    /// The caseworker's attestations of the conditions (issue and control), stored as JSON.
    #[diesel(serialize_as = NullableJsonText)]
    #[serde(with = "crate::types::nullable_json_string")]
    pub attestations: Option<Json<Attestations>>,
    /// Who decided (subject).
    pub actor: String,
    /// The deciding municipality.
    pub municipality: String,
    /// When it was recorded (UTC).
    pub recorded_at: chrono::NaiveDateTime,
}

/// Inserts a new card.
pub fn insert(conn: &mut DbConn, card: &CardRow) -> Result<(), RepoError> {
    diesel::insert_into(frikort_cards::table).values(card.clone()).execute(conn)?;
    Ok(())
}

/// Saves a card's changed state.
pub fn update(conn: &mut DbConn, card: &CardRow) -> Result<(), RepoError> {
    let n = diesel::update(frikort_cards::table.find(card.id.as_str())).set(card.clone()).execute(conn)?;
    if n == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// Appends a decision to a card's history.
pub fn append_event(conn: &mut DbConn, event: &CardEventRow) -> Result<(), RepoError> {
    diesel::insert_into(frikort_events::table).values(event.clone()).execute(conn)?;
    Ok(())
}

/// The citizen's card, if they have one.
pub fn find_by_citizen(conn: &mut DbConn, citizen_id: &str) -> Result<Option<CardRow>, RepoError> {
    Ok(frikort_cards::table
        .filter(frikort_cards::citizen_id.eq(citizen_id))
        .select(CardRow::as_select())
        .first(conn)
        .optional()?)
}

/// Whether a card number is taken.
pub fn number_taken(conn: &mut DbConn, number: &str) -> Result<bool, RepoError> {
    let n: i64 = frikort_cards::table.filter(frikort_cards::number.eq(number)).count().get_result(conn)?;
    Ok(n > 0)
}

/// Corrects when a decision takes effect, keeping the first recorded time.
pub fn correct_event_time(
    conn: &mut DbConn,
    event: &CardEventRow,
    effective_at: chrono::NaiveDateTime,
) -> Result<(), RepoError> {
    let original = event.corrected_from.unwrap_or(event.effective_at);
    diesel::update(frikort_events::table.find(&event.id))
        .set((frikort_events::effective_at.eq(effective_at), frikort_events::corrected_from.eq(Some(original))))
        .execute(conn)?;
    Ok(())
}

/// A card's history in effective-time order.
pub fn events(conn: &mut DbConn, card_id: &CardId) -> Result<Vec<CardEventRow>, RepoError> {
    Ok(frikort_events::table
        .filter(frikort_events::card_id.eq(card_id.as_str()))
        .order((frikort_events::effective_at.asc(), frikort_events::recorded_at.asc()))
        .select(CardEventRow::as_select())
        .load(conn)?)
}

/// Active cards of a municipality's citizens with the holder's name, for the control list.
pub fn active_cards_in(conn: &mut DbConn, municipality: &str) -> Result<Vec<(CardRow, String)>, RepoError> {
    Ok(frikort_cards::table
        .inner_join(citizens::table)
        .filter(citizens::municipality.eq(municipality))
        .filter(frikort_cards::status.eq(Code::from(CardStatus::Active)))
        .order((frikort_cards::issued_on.asc(), frikort_cards::number.asc()))
        .select((CardRow::as_select(), citizens::name))
        .load(conn)?)
}
