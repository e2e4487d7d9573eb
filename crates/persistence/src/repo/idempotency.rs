//! Idempotency keys: the first response to a keyed write, kept per caller, replayed on retries.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::error::RepoError;
use crate::schema::idempotency_keys;

/// A stored first response.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRow {
    /// Who sent it (role, subject and scope).
    pub caller: String,
    /// The client's key.
    pub idempotency_key: String,
    /// Hash of method, path and canonical body: a different request with the same key is refused.
    pub request_hash: String,
    /// The first response's HTTP status.
    pub status: i32,
    /// The first response's JSON body.
    pub response: String,
    /// When (UTC).
    pub created_at: chrono::NaiveDateTime,
}

/// The stored response for a caller's key, if any.
pub fn find(conn: &mut DbConn, caller: &str, key: &str) -> Result<Option<IdempotencyRow>, RepoError> {
    Ok(idempotency_keys::table.find((caller, key)).select(IdempotencyRow::as_select()).first(conn).optional()?)
}

/// Stores a first response. A concurrent request with the same key makes this a `Conflict`.
pub fn insert(conn: &mut DbConn, row: &IdempotencyRow) -> Result<(), RepoError> {
    diesel::insert_into(idempotency_keys::table).values(row).execute(conn)?;
    Ok(())
}

/// Forgets a caller's key: an expired key is used again as a new request.
pub fn delete(conn: &mut DbConn, caller: &str, key: &str) -> Result<(), RepoError> {
    diesel::delete(idempotency_keys::table.find((caller, key))).execute(conn)?;
    Ok(())
}

/// Deletes every key stored before `cutoff` (UTC); returns how many went.
pub fn purge_created_before(conn: &mut DbConn, cutoff: chrono::NaiveDateTime) -> Result<usize, RepoError> {
    Ok(diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(cutoff))).execute(conn)?)
}
