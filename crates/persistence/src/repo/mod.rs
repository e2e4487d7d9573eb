//! Repositories. Every function takes `&mut DbConn`; the caller owns the transaction
//! (see [`crate::db::write_transaction`]) so several steps and their audit entry commit together.

pub mod accounting;
pub mod atp_rates;
pub mod audit;
pub mod audit_chain;
pub mod caps;
pub mod citizens;
pub mod companies;
pub mod employer_totals;
pub mod employments;
pub mod frikort;
pub mod gtfs;
pub mod guesses;
pub mod idempotency;
pub mod matching;
pub mod outbox;
pub mod outside_income;
pub mod pay_runs;
pub mod periods;
pub mod placements;
pub mod register_entries;
pub mod shift_reports;
pub mod tasks;
pub mod webhooks;

/// The current time as stored: UTC, truncated to microseconds so SQLite (nanoseconds) and
/// PostgreSQL (microseconds) hold the same value.
pub fn now() -> chrono::NaiveDateTime {
    truncate_to_micros(chrono::Utc::now().naive_utc())
}

/// Truncates a timestamp to whole microseconds.
pub fn truncate_to_micros(t: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
    use chrono::Timelike;
    let nanos = t.nanosecond();
    t.with_nanosecond(nanos - nanos % 1_000).unwrap_or(t)
}

/// A new random row id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A page request: at most `limit` rows after skipping `offset`.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    /// How many rows at most.
    pub limit: i64,
    /// How many rows to skip.
    pub offset: i64,
}

/// Locks the row `$key_query` finds for the rest of the caller's write transaction, so the
/// read-modify-write that follows cannot interleave with another writer of the same row, and
/// evaluates to the key it selected as a `QueryResult` (a missing row is `NotFound` on both
/// backends).
///
/// PostgreSQL: `SELECT … FOR NO KEY UPDATE`, which blocks other writers and lockers of the row
/// but, unlike `FOR UPDATE`, still lets other transactions insert rows whose foreign keys refer
/// to it (a payout on a locked employment, a placement of a locked citizen). SQLite has no row
/// locks and needs none: [`crate::db::write_transaction`] starts with `BEGIN IMMEDIATE`, so
/// writers are serialized already and a plain read is enough.
///
/// The lock clause does not go through the multi-backend connection, so on PostgreSQL the query
/// runs on the inner connection. Select only the key here and read the row through `DbConn`
/// afterwards, so the row's own types need to be readable only through `DbConn`.
/// A macro, not a function, because diesel does not export the lock type a generic bound would
/// have to name.
macro_rules! lock_row {
    ($conn:expr, $key_query:expr) => {
        match $conn {
            $crate::db::DbConn::Pg(c) => $key_query.for_no_key_update().first(c),
            $crate::db::DbConn::Sqlite(c) => $key_query.first(c),
        }
    };
}
pub(crate) use lock_row;
