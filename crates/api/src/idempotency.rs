//! `Idempotency-Key` for writes money depends on: a retry with the same key and body gets the
//! first response again (same status, same ids) without a second write; the same key with a
//! different body is refused. Keys are stored per caller, in the write's own transaction, and
//! kept for the configured time (`SMAAJOB_IDEMPOTENCY_TTL`, 7 days by default): a retry after
//! that is a new request. [`purge_expired`] deletes expired keys; the server runs it periodically.

use std::future::{Ready, ready};

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload};
use serde::Serialize;
use sha2::{Digest, Sha256};
use smaajob_persistence::repo::idempotency::{self, IdempotencyRow};
use smaajob_persistence::{DbConn, RepoError};

use crate::error::ApiError;
use crate::services::error::Code;
use crate::services::principal::Principal;
use crate::state::AppState;

/// The request header.
pub const HEADER: &str = "Idempotency-Key";
/// Set on a replayed response.
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";

/// A client's idempotency key: 1–255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

/// The optional `Idempotency-Key` header. Absent is fine; present but malformed is a 400
/// (actix's `Option<T>` extractor would silently drop a malformed key).
#[derive(Debug, Clone)]
pub struct IdempotencyHeader(pub Option<IdempotencyKey>);

impl FromRequest for IdempotencyHeader {
    type Error = ApiError;
    type Future = Ready<Result<IdempotencyHeader, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let bad = || ApiError::BadRequest {
            code: Code::InvalidIdempotencyKey,
            detail: format!("{HEADER} must be 1–255 visible ASCII characters"),
        };
        let result = match req.headers().get(HEADER) {
            None => Ok(IdempotencyHeader(None)),
            Some(v) => v
                .to_str()
                .ok()
                .filter(|s| !s.is_empty() && s.len() <= 255 && s.bytes().all(|b| b.is_ascii_graphic()))
                .map(|s| IdempotencyHeader(Some(IdempotencyKey(s.to_owned()))))
                .ok_or_else(bad),
        };
        ready(result)
    }
}

/// A write's reply before it is sent (and stored under the key).
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// JSON body.
    pub body: serde_json::Value,
}

impl Reply {
    /// A reply with a serializable body.
    pub fn new(status: StatusCode, body: &impl Serialize) -> Result<Reply, ApiError> {
        Ok(Reply { status, body: serde_json::to_value(body).map_err(|e| ApiError::Internal(e.to_string()))? })
    }
}

/// What identifies a keyed request: the caller, the key, and a hash of what was asked.
#[derive(Debug, Clone)]
pub struct Idempotency {
    caller: String,
    key: Option<String>,
    hash: String,
}

impl Idempotency {
    /// For a request by `principal` with an optional key and its parsed body.
    pub fn new(principal: &Principal, key: IdempotencyHeader, req: &HttpRequest, body: &impl Serialize) -> Idempotency {
        // Re-serializing the parsed body makes the hash independent of whitespace and key order.
        let canonical = serde_json::to_value(body).map(|v| v.to_string()).unwrap_or_default();
        let mut h = Sha256::new();
        h.update(req.method().as_str().as_bytes());
        h.update(b" ");
        h.update(req.path().as_bytes());
        h.update(b"\n");
        h.update(canonical.as_bytes());
        let hash = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let caller = match principal {
            Principal::Operator { sub } => format!("operator:{sub}"),
            Principal::Coordinator { sub, municipality } => format!("coordinator:{municipality}:{sub}"),
            Principal::Company { sub, company_id } => format!("company:{company_id}:{sub}"),
            Principal::Citizen { sub, citizen_id } => format!("citizen:{citizen_id}:{sub}"),
            Principal::NewCompany { sub, cvr } => format!("company-cvr:{cvr}:{sub}"),
        };
        Idempotency { caller, key: key.0.map(|k| k.0), hash }
    }

    fn replay(&self, stored: IdempotencyRow) -> Result<HttpResponse, ApiError> {
        if stored.request_hash != self.hash {
            return Err(ApiError::Unprocessable {
                code: Code::IdempotencyKeyReused,
                detail: format!("this {HEADER} was used for a different request; use a new key for a new request"),
            });
        }
        let status = u16::try_from(stored.status)
            .ok()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .ok_or_else(|| ApiError::Internal("stored status is invalid".into()))?;
        Ok(HttpResponse::build(status)
            .insert_header((REPLAYED_HEADER, "true"))
            .content_type("application/json")
            .body(stored.response))
    }
}

enum Outcome {
    Fresh(Reply),
    Replay(IdempotencyRow),
}

/// Runs a write once per key: `f` runs in a write transaction unless the key was seen, and its
/// reply is stored under the key in the same transaction.
pub async fn run<F>(state: &AppState, idem: Idempotency, f: F) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&mut DbConn) -> Result<Reply, ApiError> + Clone + Send + 'static,
{
    let inner = idem.clone();
    let ttl = state.idempotency_ttl;
    let outcome = state
        .write(move |conn| {
            if let Some(key) = &inner.key
                && let Some(stored) = idempotency::find(conn, &inner.caller, key)?
            {
                if stored.created_at >= expiry_cutoff(ttl) {
                    return Ok(Outcome::Replay(stored));
                }
                // Expired but not purged yet: the key starts afresh.
                idempotency::delete(conn, &inner.caller, key)?;
            }
            let reply = f(conn)?;
            if let Some(key) = &inner.key {
                let row = IdempotencyRow {
                    caller: inner.caller.clone(),
                    idempotency_key: key.clone(),
                    request_hash: inner.hash.clone(),
                    status: i32::from(reply.status.as_u16()),
                    response: reply.body.to_string(),
                    created_at: smaajob_persistence::repo::now(),
                };
                idempotency::insert(conn, &row).map_err(|e| match e {
                    // A concurrent request with the same key committed first; this one rolls back.
                    RepoError::Conflict { .. } => {
                        ApiError::Conflict { code: Code::IdempotencyRace, detail: String::new() }
                    }
                    other => other.into(),
                })?;
            }
            Ok(Outcome::Fresh(reply))
        })
        .await;
    match outcome {
        Ok(Outcome::Fresh(reply)) => Ok(HttpResponse::build(reply.status).json(reply.body)),
        Ok(Outcome::Replay(stored)) => idem.replay(stored),
        Err(ApiError::Conflict { code: Code::IdempotencyRace, .. }) => {
            let (caller, key) = (idem.caller.clone(), idem.key.clone().unwrap_or_default());
            let stored = state
                .read(move |conn| {
                    idempotency::find(conn, &caller, &key)?
                        .ok_or_else(|| ApiError::Internal("raced key vanished".into()))
                })
                .await?;
            idem.replay(stored)
        }
        Err(e) => Err(e),
    }
}

/// Keys stored before this instant have expired.
fn expiry_cutoff(ttl: std::time::Duration) -> chrono::NaiveDateTime {
    let now = smaajob_persistence::repo::now();
    chrono::Duration::from_std(ttl)
        .ok()
        .and_then(|ttl| now.checked_sub_signed(ttl))
        .unwrap_or(chrono::NaiveDateTime::MIN)
}

/// Deletes the keys older than `ttl`; returns how many went.
pub fn purge_expired(conn: &mut DbConn, ttl: std::time::Duration) -> Result<usize, ApiError> {
    let cutoff = expiry_cutoff(ttl);
    smaajob_persistence::write_transaction(conn, |conn| Ok(idempotency::purge_created_before(conn, cutoff)?))
}

/// How often the server purges: a quarter of the lifetime, between a second and an hour.
pub fn purge_interval(ttl: std::time::Duration) -> std::time::Duration {
    (ttl / 4).clamp(std::time::Duration::from_secs(1), std::time::Duration::from_secs(3600))
}
