//! The transactional outbox: messages written in the transaction of the change that caused them,
//! claimed by a dispatcher (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so two dispatchers never
//! hold the same message), and finished with a recorded attempt.

use diesel::prelude::*;
use smaajob_domain::notification::{Channel, EventType, MessageId, MessageState, RecipientKind, SubscriptionId};

use crate::db::{DbConn, MultiBackend};
use crate::error::RepoError;
use crate::repo::Page;
use crate::schema::{outbox, outbox_attempts};
use crate::types::{Code, IdText, NullableIdText};

/// One message: one recipient on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox, check_for_backend(MultiBackend))]
pub struct OutboxRow {
    /// The stable message id receivers deduplicate by.
    #[diesel(serialize_as = IdText)]
    pub id: MessageId,
    /// The event that caused it (shared by the event's messages).
    pub event_id: String,
    /// The kind of event.
    #[diesel(serialize_as = Code)]
    pub event_type: EventType,
    /// Set where an event is told once only.
    pub event_key: Option<String>,
    /// Who it is for.
    #[diesel(serialize_as = Code)]
    pub recipient_kind: RecipientKind,
    /// The citizen id, company id or municipality code.
    pub recipient: String,
    /// How it is sent.
    #[diesel(serialize_as = Code)]
    pub channel: Channel,
    /// The webhook subscription it goes to.
    #[diesel(serialize_as = NullableIdText)]
    pub subscription_id: Option<SubscriptionId>,
    /// The municipality whose coordinators answer for it.
    pub municipality: Option<String>,
    /// The text for people (e-mail, SMS, page).
    pub text: String,
    /// The JSON body for machines (webhooks).
    pub payload: String,
    /// Where its delivery stands.
    #[diesel(serialize_as = Code)]
    pub state: MessageState,
    /// Attempts ever made.
    pub attempts: i32,
    /// Failures since it was written or last sent again.
    pub failures: i32,
    /// Not sent before then (UTC).
    pub next_attempt_at: chrono::NaiveDateTime,
    /// Held by a dispatcher until then (UTC).
    pub claimed_until: Option<chrono::NaiveDateTime>,
    /// When it was written (UTC).
    pub created_at: chrono::NaiveDateTime,
    /// When it was delivered (UTC).
    pub delivered_at: Option<chrono::NaiveDateTime>,
    /// The last failure.
    pub last_error: Option<String>,
}

/// One attempt to send a message.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox_attempts, check_for_backend(MultiBackend))]
pub struct AttemptRow {
    /// The message.
    #[diesel(serialize_as = IdText)]
    pub message_id: MessageId,
    /// 1 for the first attempt.
    pub attempt: i32,
    /// When it ended (UTC).
    pub at: chrono::NaiveDateTime,
    /// Whether the receiver took it.
    pub succeeded: bool,
    /// Why not.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
}

/// What became of a claimed message after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    /// The receiver took it.
    Delivered,
    /// Try again then (UTC).
    RetryAt(chrono::NaiveDateTime),
    /// No attempts are left.
    Dead,
}

/// Writes messages; call it in the transaction of the change that caused them.
pub fn insert(conn: &mut DbConn, rows: &[OutboxRow]) -> Result<(), RepoError> {
    // One statement per row: a multi-row insert does not go through the multi-backend connection.
    for row in rows {
        diesel::insert_into(outbox::table).values(row.clone()).execute(conn)?;
    }
    Ok(())
}

/// Whether any message carries this event key (an event told once only).
pub fn key_exists(conn: &mut DbConn, key: &str) -> Result<bool, RepoError> {
    Ok(diesel::select(diesel::dsl::exists(outbox::table.filter(outbox::event_key.eq(key)))).get_result(conn)?)
}

/// Claims up to `limit` due messages until `lease_until` and returns them. Run it in a write
/// transaction of its own: on PostgreSQL the rows are locked `FOR UPDATE SKIP LOCKED`, so a
/// second dispatcher claiming at the same moment passes over them instead of waiting or taking
/// them too; on SQLite the write transaction (`BEGIN IMMEDIATE`) serializes claimers.
pub fn claim_due(
    conn: &mut DbConn,
    now: chrono::NaiveDateTime,
    lease_until: chrono::NaiveDateTime,
    limit: i64,
) -> Result<Vec<OutboxRow>, RepoError> {
    let due = outbox::table
        .filter(outbox::state.eq(MessageState::Pending.as_str()))
        .filter(outbox::next_attempt_at.le(now))
        .filter(outbox::claimed_until.is_null().or(outbox::claimed_until.lt(now)))
        .order((outbox::next_attempt_at.asc(), outbox::id.asc()))
        .limit(limit)
        .select(outbox::id);
    let ids: Vec<String> = match conn {
        DbConn::Pg(c) => due.for_update().skip_locked().load(c)?,
        DbConn::Sqlite(c) => due.load(c)?,
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
        .set(outbox::claimed_until.eq(Some(lease_until)))
        .execute(conn)?;
    Ok(outbox::table
        .filter(outbox::id.eq_any(&ids))
        .order((outbox::next_attempt_at.asc(), outbox::id.asc()))
        .select(OutboxRow::as_select())
        .load(conn)?)
}

/// Records the attempt a dispatcher made on a message it claimed (with `attempts` as it was
/// claimed) and what follows. Returns false, recording nothing, when another dispatcher recorded
/// an attempt meanwhile (its claim ran out during a slow send): the first record stands.
pub fn finish(conn: &mut DbConn, claimed: &OutboxRow, attempt: &AttemptRow, next: &Finish) -> Result<bool, RepoError> {
    let mine = outbox::table.find(claimed.id.as_str()).filter(outbox::attempts.eq(claimed.attempts));
    let failures = if attempt.succeeded { claimed.failures } else { claimed.failures + 1 };
    let (state, next_at, delivered_at) = match next {
        Finish::Delivered => (MessageState::Delivered, claimed.next_attempt_at, Some(attempt.at)),
        Finish::RetryAt(at) => (MessageState::Pending, *at, None),
        Finish::Dead => (MessageState::Dead, claimed.next_attempt_at, None),
    };
    let n = diesel::update(mine)
        .set((
            outbox::state.eq(Code::from(state)),
            outbox::attempts.eq(claimed.attempts + 1),
            outbox::failures.eq(failures),
            outbox::next_attempt_at.eq(next_at),
            outbox::claimed_until.eq(None::<chrono::NaiveDateTime>),
            outbox::delivered_at.eq(delivered_at),
            outbox::last_error.eq(attempt.error.as_deref().or(claimed.last_error.as_deref())),
        ))
        .execute(conn)?;
    if n == 0 {
        return Ok(false);
    }
    diesel::insert_into(outbox_attempts::table).values(attempt.clone()).execute(conn)?;
    Ok(true)
}

/// A message by id.
pub fn find(conn: &mut DbConn, id: &MessageId) -> Result<OutboxRow, RepoError> {
    Ok(outbox::table.find(id.as_str()).select(OutboxRow::as_select()).first(conn)?)
}

/// The attempts made on a message, first first.
pub fn attempts_of(conn: &mut DbConn, id: &MessageId) -> Result<Vec<AttemptRow>, RepoError> {
    Ok(outbox_attempts::table
        .filter(outbox_attempts::message_id.eq(id.as_str()))
        .order(outbox_attempts::attempt.asc())
        .select(AttemptRow::as_select())
        .load(conn)?)
}

/// Messages of one event type to one recipient, oldest first (for pages and tests).
pub fn of_recipient(conn: &mut DbConn, kind: RecipientKind, recipient: &str) -> Result<Vec<OutboxRow>, RepoError> {
    Ok(outbox::table
        .filter(outbox::recipient_kind.eq(Code::from(kind)))
        .filter(outbox::recipient.eq(recipient))
        .order((outbox::created_at.asc(), outbox::id.asc()))
        .select(OutboxRow::as_select())
        .load(conn)?)
}

/// One page of a municipality's dead letters, newest first, and how many there are.
pub fn dead_of_municipality(
    conn: &mut DbConn,
    municipality: &str,
    page: Page,
) -> Result<(Vec<OutboxRow>, i64), RepoError> {
    let dead = || {
        outbox::table
            .filter(outbox::municipality.eq(municipality))
            .filter(outbox::state.eq(Code::from(MessageState::Dead)))
    };
    let total = dead().count().get_result(conn)?;
    let rows = dead()
        .order((outbox::next_attempt_at.desc(), outbox::id.asc()))
        .limit(page.limit)
        .offset(page.offset)
        .select(OutboxRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// Puts a dead letter back in the queue, due now, with a fresh count of failures; returns false
/// when the message is not dead (any more).
pub fn send_again(conn: &mut DbConn, id: &MessageId, now: chrono::NaiveDateTime) -> Result<bool, RepoError> {
    let n = diesel::update(outbox::table.find(id.as_str()).filter(outbox::state.eq(Code::from(MessageState::Dead))))
        .set((
            outbox::state.eq(Code::from(MessageState::Pending)),
            outbox::failures.eq(0),
            outbox::next_attempt_at.eq(now),
            outbox::claimed_until.eq(None::<chrono::NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// How many messages are in each state, for tests and metrics.
pub fn count_in_state(conn: &mut DbConn, state: MessageState) -> Result<i64, RepoError> {
    Ok(outbox::table.filter(outbox::state.eq(Code::from(state))).count().get_result(conn)?)
}
