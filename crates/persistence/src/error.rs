//! The one mapping from database errors to what callers can act on.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// A persistence failure, classified once so the API maps it once.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; `constraint` names the table/column or constraint.
    #[error("conflict on {constraint}")]
    Conflict {
        /// The constraint or `table.column` the database reported.
        constraint: String,
    },
    /// A foreign key refused the write: the referenced row does not exist.
    #[error("reference to a missing row ({constraint})")]
    ForeignKey {
        /// The constraint or `table.column` the database reported.
        constraint: String,
    },
    /// A CHECK constraint refused the write.
    #[error("check constraint failed ({constraint})")]
    Check {
        /// The constraint the database reported.
        constraint: String,
    },
    /// The database could not be reached or a connection could not be checked out.
    #[error("{0}")]
    Connection(String),
    /// The configuration does not describe a usable database.
    #[error("{0}")]
    Config(String),
    /// Migrations failed to apply.
    #[error("migration failed: {0}")]
    Migration(String),
    /// Stored data could not be decoded: a value that does not read as its column's type (an
    /// unknown code, JSON that does not parse), or an encrypted field.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(DieselError),
}

impl From<DieselError> for RepoError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => RepoError::NotFound,
            DieselError::DatabaseError(kind, info) => {
                // PostgreSQL names the constraint; SQLite puts `table.column` in the message.
                let constraint = info
                    .constraint_name()
                    .map(str::to_owned)
                    .unwrap_or_else(|| info.message().rsplit(": ").next().unwrap_or("").to_owned());
                match kind {
                    DatabaseErrorKind::UniqueViolation => RepoError::Conflict { constraint },
                    DatabaseErrorKind::ForeignKeyViolation => RepoError::ForeignKey { constraint },
                    DatabaseErrorKind::CheckViolation => RepoError::Check { constraint },
                    other => RepoError::Database(DieselError::DatabaseError(other, info)),
                }
            }
            // A stored value that does not read as its type (see `crate::types`). Diesel's own
            // message names only the column; the reason is in the error's sources.
            DieselError::DeserializationError(e) => {
                let mut message = e.to_string();
                let mut source = e.source();
                while let Some(cause) = source {
                    message = format!("{message}: {cause}");
                    source = cause.source();
                }
                RepoError::Corrupt(message)
            }
            other => RepoError::Database(other),
        }
    }
}

impl From<r2d2::Error> for RepoError {
    fn from(e: r2d2::Error) -> Self {
        RepoError::Connection(format!("no database connection available: {e}"))
    }
}

impl RepoError {
    /// Whether a conflict concerns the given column (matches both backends' naming).
    pub fn is_conflict_on(&self, column: &str) -> bool {
        matches!(self, RepoError::Conflict { constraint } if constraint.contains(column))
    }
}
