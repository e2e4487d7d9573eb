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
    if let Some(path) = url.sqlite_path() {
        restrict_sqlite_files(path)?;
    }
    // Connect once directly first: r2d2's own error after a timeout says only "timed out". On
    // SQLite this also switches a new file to WAL before the pool's connections open in the
    // background; several connections switching at once fail with "database is locked".
    let mut probe =
        url.establish().map_err(|e| RepoError::Connection(format!("cannot connect to {}: {e}", url.redacted())))?;
    SqlitePragmas.on_acquire(&mut probe).map_err(|e| RepoError::Connection(e.to_string()))?;
    drop(probe);
    if let Some(path) = url.sqlite_path() {
        // The WAL switch created -wal and -shm; SQLite gives them the main file's mode, but an
        // older file opened before this fix may have left them readable by others.
        restrict_sqlite_files(path)?;
    }
    Ok(Pool::builder()
        .max_size(max_size)
        .connection_timeout(Duration::from_secs(10))
        .connection_customizer(Box::new(SqlitePragmas))
        .build_unchecked(Manager { url: url.clone() }))
}

/// The files an SQLite database at `path` consists of in WAL mode.
fn sqlite_files(path: &str) -> Option<[std::path::PathBuf; 3]> {
    // `file:` URIs and in-memory databases name no plain file to protect.
    if path == ":memory:" || path.starts_with("file:") {
        return None;
    }
    Some([path.into(), format!("{path}-wal").into(), format!("{path}-shm").into()])
}

/// Makes the database file and its -wal and -shm readable by the owner only (0600), whatever
/// the umask: a new file is created empty with that mode before SQLite opens it (SQLite then
/// gives -wal and -shm the same mode), and existing files are tightened. The file holds
/// encrypted CPR numbers but also names, addresses and the audit log in the clear.
fn restrict_sqlite_files(path: &str) -> Result<(), RepoError> {
    let Some(files) = sqlite_files(path) else { return Ok(()) };
    let io = |file: &std::path::Path, e: std::io::Error| RepoError::Config(format!("{}: {e}", file.display()));
    let [main, ..] = &files;
    let mut create = std::fs::OpenOptions::new();
    create.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut create, 0o600);
    create.open(main).map_err(|e| io(main, e))?;
    #[cfg(unix)]
    for file in &files {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::metadata(file) {
            Ok(meta) if meta.permissions().mode() & 0o777 != 0o600 => {
                std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)).map_err(|e| io(file, e))?;
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(file, e)),
        }
    }
    Ok(())
}

/// Applies every pending migration of the connection's backend, then seals the audit entries
/// written before the audit chain (once); returns how many migrations ran.
pub fn run_migrations(conn: &mut DbConn) -> Result<usize, RepoError> {
    let migrations = match conn.kind() {
        BackendKind::Postgres => POSTGRES_MIGRATIONS,
        BackendKind::Sqlite => SQLITE_MIGRATIONS,
    };
    let applied = match conn {
        DbConn::Pg(c) => c.run_pending_migrations(migrations).map(|v| v.len()),
        DbConn::Sqlite(c) => c.run_pending_migrations(migrations).map(|v| v.len()),
    };
    let applied = applied.map_err(|e| RepoError::Migration(e.to_string()))?;
    // The audit entries from before the hash chains are hashed into them once, here, so that it
    // happens before this program appends any (see `repo::audit_chain`).
    let sealed = crate::repo::audit_chain::seal_legacy(conn)?;
    if sealed > 0 {
        tracing::info!(entries = sealed, "hashed the audit entries written before the audit chain into it");
    }
    Ok(applied)
}

/// How many times [`write_transaction`] runs a transaction that the database aborted for a
/// conflict with concurrent transactions before it reports the conflict.
pub const WRITE_ATTEMPTS: u32 = 5;

/// Errors that can tell whether the database aborted the transaction for a conflict with
/// concurrent transactions, which running the whole transaction again may resolve.
pub trait TransientError {
    /// True for a PostgreSQL serialization failure (SQLSTATE 40001) or deadlock (40P01), or
    /// SQLite's "database is locked" after the busy timeout.
    fn is_transient(&self) -> bool;
}

impl TransientError for diesel::result::Error {
    fn is_transient(&self) -> bool {
        use diesel::result::DatabaseErrorKind;
        match self {
            diesel::result::Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
            // diesel maps only 40001 to a kind; a deadlock (40P01) and SQLITE_BUSY arrive as
            // `Unknown` and are told by the server's message.
            diesel::result::Error::DatabaseError(DatabaseErrorKind::Unknown, info) => {
                let message = info.message();
                message.starts_with("deadlock detected") || message.starts_with("database is locked")
            }
            _ => false,
        }
    }
}

impl TransientError for RepoError {
    fn is_transient(&self) -> bool {
        matches!(self, RepoError::Database(e) if e.is_transient())
    }
}

/// Runs `f` in a write transaction. SQLite starts it with `BEGIN IMMEDIATE` so concurrent
/// writers queue on the write lock (a deferred transaction that reads then writes fails with
/// "database is locked" under load); PostgreSQL uses a normal transaction and callers lock the
/// rows they read-modify-write.
///
/// When the database aborts the transaction for a conflict ([`TransientError`]), the whole
/// transaction runs again, after a short jittered pause, up to [`WRITE_ATTEMPTS`] times in all;
/// so `f` must be safe to run more than once (it only touches the database and its own copies).
/// After the last attempt the conflict is returned.
pub fn write_transaction<T, E, F>(conn: &mut DbConn, mut f: F) -> Result<T, E>
where
    F: FnMut(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error> + TransientError,
{
    let mut attempt = 1;
    loop {
        match conn {
            DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
            DbConn::Pg(_) => <DbConn as Connection>::TransactionManager::begin_transaction(conn)?,
        }
        match finish_transaction(conn, &mut f) {
            Err(e) if e.is_transient() && attempt < WRITE_ATTEMPTS => {
                std::thread::sleep(retry_pause(attempt));
                attempt += 1;
            }
            Err(e) if e.is_transient() => {
                tracing::warn!(attempts = attempt, "a write transaction kept conflicting with concurrent writes");
                return Err(e);
            }
            other => return other,
        }
    }
}

/// 10 ms doubled per attempt, plus up to as much again at random so that transactions that
/// collided do not retry in step.
fn retry_pause(attempt: u32) -> Duration {
    let base = 10u64 << attempt.min(6);
    Duration::from_millis(base + rand::random_range(0..=base))
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

/// Runs `f` in a savepoint of the caller's transaction (a transaction of its own outside one) and
/// always rolls it back, returning what `f` returned: a dry run of writes that reports what they
/// would do, with the locks and constraints of the real run.
pub fn rolled_back<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    type Tm = <DbConn as Connection>::TransactionManager;
    Tm::begin_transaction(conn)?;
    let outcome = f(conn);
    let undone = Tm::rollback_transaction(conn);
    let value = outcome?;
    undone?;
    Ok(value)
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

    #[cfg(unix)]
    #[test]
    fn the_sqlite_file_and_its_wal_and_shm_are_private_to_the_owner() {
        use std::os::unix::fs::PermissionsExt;
        let db = crate::testing::TestDatabase::sqlite();
        let pool = connect(db.url(), 2).expect("connects");
        let mut conn = pool.get().expect("a connection");
        run_migrations(&mut conn).expect("migrates");
        let path = db.url().sqlite_path().expect("an SQLite path").to_owned();
        for file in [path.clone(), format!("{path}-wal"), format!("{path}-shm")] {
            let mode = std::fs::metadata(&file).expect("the file exists").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{file} has mode {mode:o}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn an_existing_world_readable_sqlite_file_is_tightened_on_connect() {
        use std::os::unix::fs::PermissionsExt;
        let db = crate::testing::TestDatabase::sqlite();
        let path = db.url().sqlite_path().expect("an SQLite path").to_owned();
        std::fs::write(&path, b"").expect("create");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        drop(connect(db.url(), 1).expect("connects"));
        assert_eq!(std::fs::metadata(&path).expect("exists").permissions().mode() & 0o777, 0o600);
    }

    /// A table with one counter, for provoking serialization failures.
    fn counter_database(test: &str) -> Option<(crate::testing::TestDatabase, DbPool)> {
        let db = crate::testing::TestDatabase::postgres(test)?;
        let pool = connect(db.url(), 2).expect("connects");
        pool.get()
            .expect("a connection")
            .batch_execute(
                "CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL); INSERT INTO counter VALUES (1, 0);",
            )
            .expect("create the counter");
        Some((db, pool))
    }

    fn counter(conn: &mut DbConn) -> i32 {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            n: i32,
        }
        diesel::sql_query("SELECT n FROM counter WHERE id = 1").get_result::<Row>(conn).expect("the counter").n
    }

    /// One SERIALIZABLE attempt: read the counter, let `other` commit an increment when asked,
    /// then add ten. Adding after the concurrent commit is a serialization failure (40001).
    fn add_ten(conn: &mut DbConn, other: &mut DbConn, interfere: bool) -> Result<(), RepoError> {
        conn.batch_execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")?;
        counter(conn);
        if interfere {
            other.batch_execute("UPDATE counter SET n = n + 1 WHERE id = 1").expect("the concurrent update commits");
        }
        conn.batch_execute("UPDATE counter SET n = n + 10 WHERE id = 1")?;
        Ok(())
    }

    #[test]
    fn a_serialization_failure_on_postgres_is_retried_and_the_retry_succeeds() {
        let Some((_db, pool)) = counter_database("a_serialization_failure_on_postgres_is_retried") else { return };
        let (mut conn, mut other) = (pool.get().expect("a connection"), pool.get().expect("another"));
        let mut attempts = 0;
        write_transaction(&mut conn, |c| {
            attempts += 1;
            add_ten(c, &mut other, attempts == 1)
        })
        .expect("the second attempt commits");
        assert_eq!(attempts, 2);
        assert_eq!(counter(&mut conn), 11, "the concurrent increment and this transaction's both count");
    }

    #[test]
    fn a_transaction_that_keeps_conflicting_is_reported_after_the_last_attempt() {
        let Some((_db, pool)) = counter_database("a_transaction_that_keeps_conflicting") else { return };
        let (mut conn, mut other) = (pool.get().expect("a connection"), pool.get().expect("another"));
        let mut attempts = 0;
        let err = write_transaction(&mut conn, |c| {
            attempts += 1;
            add_ten(c, &mut other, true)
        })
        .expect_err("every attempt conflicts");
        assert_eq!(attempts, WRITE_ATTEMPTS);
        assert!(err.is_transient(), "{err}");
        assert_eq!(counter(&mut conn), i32::try_from(WRITE_ATTEMPTS).expect("small"), "only the concurrent increments");
    }

    #[test]
    fn other_errors_are_not_retried() {
        let db = crate::testing::TestDatabase::sqlite();
        let pool = connect(db.url(), 1).expect("connects");
        let mut conn = pool.get().expect("a connection");
        let mut attempts = 0;
        let err = write_transaction(&mut conn, |c| {
            attempts += 1;
            c.batch_execute("SELECT * FROM no_such_table").map_err(RepoError::from)
        })
        .expect_err("fails");
        assert_eq!(attempts, 1);
        assert!(!err.is_transient());
    }

    /// Without the query planner stability guarantee, SQLite plans every statement with a bound
    /// `LIMIT` again on each execution (see the workspace's `.cargo/config.toml`).
    #[test]
    fn the_bundled_sqlite_keeps_plans_independent_of_bound_values() {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            n: i32,
        }
        let db = crate::testing::TestDatabase::sqlite();
        let pool = connect(db.url(), 1).expect("connects");
        let mut conn = pool.get().expect("a connection");
        let found =
            diesel::sql_query("SELECT COUNT(*) AS n FROM pragma_compile_options WHERE compile_options = 'ENABLE_QPSG'")
                .get_result::<Row>(&mut conn)
                .expect("the compile options");
        assert_eq!(found.n, 1, "SQLite is built without SQLITE_ENABLE_QPSG");
    }

    #[test]
    fn a_password_with_an_at_sign_is_still_hidden() {
        let url = DatabaseUrl::parse("postgresql://u:p@ss@h/db").expect("valid");
        assert_eq!(url.redacted(), "postgresql://u:***@h/db");
    }
}
