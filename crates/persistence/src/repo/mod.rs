//! Repositories. Every function takes `&mut DbConn`; the caller owns the transaction
//! (see [`crate::db::write_transaction`]) so several steps and their audit entry commit together.

pub mod accounting;
pub mod audit;
pub mod caps;
pub mod citizens;
pub mod companies;
pub mod employments;
pub mod frikort;
pub mod idempotency;
pub mod placements;
pub mod shift_reports;
pub mod tasks;

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
