//! Connections and pools for SQLite (embedded default) and PostgreSQL (production), one code path.

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{CustomizeConnection, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::RepoError;

mod multi {
    // The derive generates undocumented public helper items (the multi-backend type).
    #![allow(missing_docs)]
    use diesel::prelude::*;

    /// One connection to either backend. Query code is written once against this type.
    #[derive(diesel::MultiConnection)]
    pub enum DbConn {
        /// PostgreSQL, the production backend.
        Pg(PgConnection),
        /// SQLite, the embedded default.
        Sqlite(SqliteConnection),
    }
}
pub use multi::{DbConn, MultiBackend};

/// Which backend a database URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// `postgres://` or `postgresql://`.
    Postgres,
    /// `sqlite://PATH`, `sqlite:PATH`, `file:PATH` or a plain path.
    Sqlite,
}

/// A parsed database location: the backend and what to hand to its driver.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    kind: BackendKind,
    target: String,
}

impl DatabaseUrl {
    /// Parses a URL: the scheme picks the backend. Anything without a known scheme is an SQLite path.
    pub fn parse(url: &str) -> Result<DatabaseUrl, RepoError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(RepoError::Config("the database URL is empty".into()));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl { kind: BackendKind::Postgres, target: url.to_owned() });
        }
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
        if path.is_empty() {
            return Err(RepoError::Config("the SQLite URL names no file".into()));
        }
        if let Some((scheme, _)) = path.split_once("://") {
            return Err(RepoError::Config(format!(
                "unsupported database scheme `{scheme}`: use postgres://… or sqlite://PATH"
            )));
        }
        Ok(DatabaseUrl { kind: BackendKind::Sqlite, target: path.to_owned() })
    }

    /// The backend this URL selects.
    pub fn kind(&self) -> BackendKind {
        self.kind
    }

    /// For SQLite, the database file's path.
    pub fn sqlite_path(&self) -> Option<&str> {
        (self.kind == BackendKind::Sqlite).then_some(self.target.as_str())
    }

    /// The URL with any password replaced by `***`, safe for logs.
    pub fn redacted(&self) -> String {
        match self.kind {
            BackendKind::Sqlite => format!("sqlite://{}", self.target),
            BackendKind::Postgres => redact_password(&self.target),
        }
    }

    fn establish(&self) -> ConnectionResult<DbConn> {
        match self.kind {
            BackendKind::Postgres => PgConnection::establish(&self.target).map(DbConn::Pg),
            BackendKind::Sqlite => SqliteConnection::establish(&self.target).map(DbConn::Sqlite),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            if userinfo.contains(':') {
                format!("{scheme}://{user}:***@{host}{tail}")
            } else {
                format!("{scheme}://{user}@{host}{tail}")
            }
        }
        None => url.to_owned(),
    }
}

/// Opens connections for r2d2, reporting the driver's own error (a wrong password, a refused
/// port) rather than diesel's generic "Invalid connection url" from trying every backend.
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
}

impl diesel::r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        self.url.establish().map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1").map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        std::thread::panicking() || <DbConn as Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}

impl DbConn {
    /// The backend of this connection.
    pub fn kind(&self) -> BackendKind {
        match self {
            DbConn::Pg(_) => BackendKind::Postgres,
            DbConn::Sqlite(_) => BackendKind::Sqlite,
        }
    }
}

#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<DbConn, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), diesel::r2d2::Error> {
        if let DbConn::Sqlite(c) = conn {
            c.batch_execute(
                "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// A pool of connections to one database.
pub type DbPool = Pool<Manager>;
/// A connection checked out of a [`DbPool`].
pub type PooledConn = PooledConnection<Manager>;

/// The migrations for SQLite, embedded at build time.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
/// The migrations for PostgreSQL, embedded at build time.
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Builds a pool and proves it can connect, so a bad URL or password fails at start-up with the
/// driver's message instead of on the first request.
pub fn connect(url: &DatabaseUrl, max_size: u32) -> Result<DbPool, RepoError> {
    // Connect once directly first: r2d2's own error after a timeout says only "timed out". On
    // SQLite this also switches a new file to WAL before the pool's connections open in the
    // background; several connections switching at once fail with "database is locked".
    let mut probe =
        url.establish().map_err(|e| RepoError::Connection(format!("cannot connect to {}: {e}", url.redacted())))?;
    SqlitePragmas.on_acquire(&mut probe).map_err(|e| RepoError::Connection(e.to_string()))?;
    drop(probe);
    Ok(Pool::builder()
        .max_size(max_size)
        .connection_timeout(Duration::from_secs(10))
        .connection_customizer(Box::new(SqlitePragmas))
        .build_unchecked(Manager { url: url.clone() }))
}

/// Applies every pending migration of the connection's backend; returns how many ran.
pub fn run_migrations(conn: &mut DbConn) -> Result<usize, RepoError> {
    let migrations = match conn.kind() {
        BackendKind::Postgres => POSTGRES_MIGRATIONS,
        BackendKind::Sqlite => SQLITE_MIGRATIONS,
    };
    let applied = match conn {
        DbConn::Pg(c) => c.run_pending_migrations(migrations).map(|v| v.len()),
        DbConn::Sqlite(c) => c.run_pending_migrations(migrations).map(|v| v.len()),
    };
    applied.map_err(|e| RepoError::Migration(e.to_string()))
}

/// Runs `f` in a write transaction. SQLite starts it with `BEGIN IMMEDIATE` so concurrent
/// writers queue on the write lock (a deferred transaction that reads then writes fails with
/// "database is locked" under load); PostgreSQL uses a normal transaction and callers lock the
/// rows they read-modify-write.
pub fn write_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
        DbConn::Pg(_) => <DbConn as Connection>::TransactionManager::begin_transaction(conn)?,
    }
    finish_transaction(conn, f)
}

/// Runs `f` in a read transaction: one consistent snapshot, no write lock.
pub fn read_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    <DbConn as Connection>::TransactionManager::begin_transaction(conn)?;
    finish_transaction(conn, f)
}

// Mirrors diesel's `Connection::transaction` after the BEGIN.
fn finish_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    type Tm = <DbConn as Connection>::TransactionManager;
    match f(conn) {
        Ok(value) => match Tm::commit_transaction(conn) {
            Ok(()) => Ok(value),
            Err(commit_error) => match Tm::rollback_transaction(conn) {
                Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(commit_error.into()),
                Err(rollback_error) => Err(rollback_error.into()),
            },
        },
        Err(user_error) => match Tm::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(user_error),
            Err(rollback_error) => Err(rollback_error.into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_url_selects_postgres_and_hides_its_password() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/smaajob").expect("valid");
        assert_eq!(url.kind(), BackendKind::Postgres);
        assert_eq!(url.redacted(), "postgres://app:***@db:5432/smaajob");
        assert!(!format!("{url:?}").contains("s3cret"));
    }

    #[test]
    fn a_plain_path_or_sqlite_url_selects_sqlite() {
        for s in ["smaajob.sqlite3", "sqlite://data/x.db", "sqlite:x.db"] {
            let url = DatabaseUrl::parse(s).expect("valid");
            assert_eq!(url.kind(), BackendKind::Sqlite, "{s}");
        }
        assert_eq!(DatabaseUrl::parse("sqlite://data/x.db").expect("valid").sqlite_path(), Some("data/x.db"));
    }

    #[test]
    fn an_unknown_scheme_is_refused_with_its_name() {
        let err = DatabaseUrl::parse("mysql://root@localhost/db").expect_err("refused");
        assert!(err.to_string().contains("mysql"), "{err}");
    }

    #[test]
    fn a_password_with_an_at_sign_is_still_hidden() {
        let url = DatabaseUrl::parse("postgresql://u:p@ss@h/db").expect("valid");
        assert_eq!(url.redacted(), "postgresql://u:***@h/db");
    }
}
