//! Shared per-process state handed to handlers, and the one way handlers reach the database.

use actix_web::web;
use smaajob_domain::Money;
use smaajob_persistence::crypto::DataKey;
use smaajob_persistence::repo::audit::NewAuditEntry;
use smaajob_persistence::{DbConn, DbPool, read_transaction, write_transaction};

use crate::audit_writer::AuditWriter;
use crate::error::ApiError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database pool.
    pub pool: DbPool,
    /// The key protecting personal data.
    pub data_key: DataKey,
    /// The lowest hourly wage a task may offer.
    pub wage_floor: Money,
    /// Commits the audit entries of reads.
    pub audit: AuditWriter,
    /// How long an `Idempotency-Key` is remembered.
    pub idempotency_ttl: std::time::Duration,
    /// The limits on wrong guesses at a CPR number and card number.
    pub guess_limits: crate::services::guesses::GuessLimits,
    /// The bus profiles of tasks' shifts, kept until the feed or the task changes.
    pub transit: std::sync::Arc<crate::services::transit::TransitCache>,
    /// Where webhook subscriptions may point.
    pub webhook_urls: crate::services::webhooks::UrlPolicy,
}

impl AppState {
    /// Runs `f` in a write transaction on a blocking thread. Everything `f` writes, including
    /// its audit entries, commits together or not at all. When the database aborts the
    /// transaction for a conflict (serialization failure, deadlock), a fresh clone of `f` runs
    /// in a new transaction (see [`write_transaction`]); `Clone` rather than `FnMut` keeps
    /// handlers free to move their captured values.
    pub async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Clone + Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get().map_err(smaajob_persistence::RepoError::from)?;
            write_transaction(&mut conn, move |conn| f.clone()(conn))
        })
        .await
        .map_err(|e| ApiError::Internal(format!("blocking task failed: {e}")))?
    }

    /// Runs `f` in a read transaction and returns its value once the audit entries it produced
    /// are committed (group commit): reads of personal data run concurrently and are all logged.
    pub async fn read_audited<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<(T, Vec<NewAuditEntry>), ApiError> + Send + 'static,
    {
        let (value, entries) = self.read(f).await?;
        self.audit.record(entries).await?;
        Ok(value)
    }

    /// Runs `f` in a read-only transaction on a blocking thread.
    pub async fn read<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get().map_err(smaajob_persistence::RepoError::from)?;
            read_transaction(&mut conn, f)
        })
        .await
        .map_err(|e| ApiError::Internal(format!("blocking task failed: {e}")))?
    }
}
