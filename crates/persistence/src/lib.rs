//! Småjob persistence: diesel schema, repositories and embedded migrations. One code path for
//! SQLite (the embedded default) and PostgreSQL (production), chosen by the database URL.

pub mod crypto;
pub mod db;
pub mod error;
pub mod repo;
pub mod schema;
#[cfg(feature = "testing")]
pub mod testing;
pub mod types;

pub use db::{
    BackendKind, DatabaseUrl, DbConn, DbPool, MultiBackend, PooledConn, TransientError, WRITE_ATTEMPTS, connect,
    read_transaction, rolled_back, run_migrations, write_transaction,
};
pub use diesel::result::Error as DieselError;
pub use error::RepoError;
